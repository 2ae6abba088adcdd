"""Building the RDF of one document: entities, relations, events, claims, provenance.

The output is a list of :class:`pyoxigraph.Quad` in the document's named
graph, in the shape described in ``docs/data-model.md``. Everything here is
deterministic: the same resolution always gives the same quads.
"""

from __future__ import annotations

from pyoxigraph import Literal, NamedNode, Quad

from .. import iri
from ..records import Resolution
from ..vocab import ITSRDF, KG, NIF, PROV, SCHEMA

RDF_TYPE = NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
RDF_STATEMENT = NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#Statement")
RDF_SUBJECT = NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#subject")
RDF_PREDICATE = NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#predicate")
RDF_OBJECT = NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#object")
RDFS_LABEL = NamedNode("http://www.w3.org/2000/01/rdf-schema#label")
SKOS_ALT = NamedNode("http://www.w3.org/2004/02/skos/core#altLabel")
OWL_SAME = NamedNode("http://www.w3.org/2002/07/owl#sameAs")
XSD = "http://www.w3.org/2001/XMLSchema#"
XSD_DATE = NamedNode(XSD + "date")
XSD_DECIMAL = NamedNode(XSD + "decimal")
XSD_NNI = NamedNode(XSD + "nonNegativeInteger")


def _n(term) -> NamedNode:
    return NamedNode(str(term))


def _dec(value: float) -> Literal:
    return Literal(f"{value:.3f}", datatype=XSD_DECIMAL)


def _int(value: int) -> Literal:
    return Literal(str(value), datatype=XSD_NNI)


def _clean(text: str) -> str:
    """Literal text with lone surrogates replaced, so every serializer can write it."""
    return text.encode("utf-8", "replace").decode("utf-8") if any("\ud800" <= c <= "\udfff" for c in text) else text


def entity_node(entity) -> NamedNode:
    return _n(iri.entity_iri(entity.type, entity.name, entity.link.qid))


def document_quads(resolution: Resolution) -> list[Quad]:
    """All quads of one document, in its own named graph, sorted.

    >>> from kg.records import Document, Extraction, Resolution
    >>> doc = Document("d", "Hello.")
    >>> len(document_quads(Resolution(Extraction(doc, (), ()), (), ()))) > 0
    True
    """
    ex = resolution.extraction
    doc = ex.document
    g = _n(iri.graph_iri(doc.id))
    out: set[Quad] = set()

    def add(s, p, o) -> None:
        out.add(Quad(s, _n(p) if not isinstance(p, NamedNode) else p, o, g))

    text = _clean(doc.text)
    context = _n(iri.span_iri(doc.id, 0, len(doc.text)))
    add(context, RDF_TYPE, _n(NIF.Context))
    add(context, _n(NIF.isString), Literal(text))
    add(context, _n(NIF.beginIndex), _int(0))
    add(context, _n(NIF.endIndex), _int(len(doc.text)))
    add(context, _n(PROV.wasDerivedFrom), _n(iri.document_iri(doc.id)))
    if doc.source:
        add(context, _n(NIF.sourceUrl), Literal(_clean(doc.source)))
    if doc.title:
        add(context, _n(SCHEMA.headline), Literal(_clean(doc.title)))
    if doc.date:
        add(context, _n(KG.documentDate), Literal(doc.date, datatype=XSD_DATE))

    def sentence(k: int) -> NamedNode:
        s = ex.sentences[k]
        node = _n(iri.span_iri(doc.id, s.start, s.end))
        add(node, RDF_TYPE, _n(NIF.Sentence))
        add(node, _n(NIF.anchorOf), Literal(_clean(doc.text[s.start : s.end])))
        add(node, _n(NIF.beginIndex), _int(s.start))
        add(node, _n(NIF.endIndex), _int(s.end))
        add(node, _n(NIF.referenceContext), context)
        return node

    entities = {e.key: e for e in resolution.entities}
    nodes = {e.key: entity_node(e) for e in resolution.entities}
    mention_node: dict[int, NamedNode] = {}
    counts: dict[str, int] = {}

    for i, m in enumerate(ex.mentions):
        key = resolution.mention_entity[i]
        if key is None:
            continue
        e = entities[key]
        node = _n(iri.span_iri(doc.id, m.start, m.end))
        mention_node[i] = node
        add(node, RDF_TYPE, _n(NIF.Phrase))
        add(node, _n(NIF.anchorOf), Literal(_clean(m.text)))
        add(node, _n(NIF.beginIndex), _int(m.start))
        add(node, _n(NIF.endIndex), _int(m.end))
        add(node, _n(NIF.referenceContext), context)
        add(node, _n(NIF.sentence), sentence(m.sentence))
        add(node, _n(ITSRDF.taIdentRef), nodes[key])
        add(node, _n(ITSRDF.taClassRef), _n(KG[e.type]))
        add(node, _n(KG.extractedBy), Literal(m.source))
        add(node, _n(KG.confidence), _dec(m.confidence))
        counts[key] = counts.get(key, 0) + 1

    for e in resolution.entities:
        node = nodes[e.key]
        add(node, RDF_TYPE, _n(KG[e.type]))
        add(node, RDFS_LABEL, Literal(_clean(e.name)))
        for alias in e.aliases:
            add(node, SKOS_ALT, Literal(_clean(alias)))
        add(node, _n(KG.mentionCount), _int(counts.get(e.key, 0)))
        if e.link.qid:
            add(node, OWL_SAME, _n(iri.wikidata_iri(e.link.qid)))
            add(node, _n(KG.linkConfidence), _dec(e.link.confidence))
        for c in e.link.candidates:
            cand = _n(iri.hashed_iri("candidate", node.value, c.qid))
            add(node, _n(KG.candidate), cand)
            add(cand, RDF_TYPE, _n(KG.Candidate))
            add(cand, _n(KG.candidateEntity), _n(iri.wikidata_iri(c.qid)))
            add(cand, _n(KG.score), _dec(c.score))
            add(cand, RDFS_LABEL, Literal(_clean(c.label)))

    def ent(i: int) -> NamedNode | None:
        key = resolution.mention_entity[i]
        return nodes.get(key) if key is not None else None

    claim_nodes = []
    for k, c in enumerate(ex.claims):
        node = _n(iri.hashed_iri("claim", doc.id, c.claimant, c.sentence, c.content_start, c.content_end, c.stance))
        claim_nodes.append(node)
        claimant = ent(c.claimant)
        if claimant is None:
            continue
        add(node, RDF_TYPE, _n(KG.Claim))
        add(node, _n(KG.claimant), claimant)
        add(node, _n(KG.stance), _n(KG.asserts if c.stance == "asserts" else KG.denies))
        add(node, _n(KG.content), Literal(_clean(doc.text[c.content_start : c.content_end])))
        add(node, RDFS_LABEL, Literal(_clean(f"{c.cue}: {doc.text[c.content_start : c.content_end]}"[:200])))
        add(node, _n(KG.evidence), sentence(c.sentence))
        add(node, _n(KG.confidence), _dec(c.confidence))
        add(node, _n(PROV.wasDerivedFrom), _n(iri.span_iri(doc.id, c.content_start, c.content_end)))
        if c.channel:
            add(node, _n(KG.channel), Literal(_clean(c.channel)))
        if c.date:
            add(node, _n(KG.pointInTime), Literal(c.date, datatype=XSD_DATE))
        for a in c.about:
            target = ent(a)
            if target is not None and target != claimant:
                add(node, _n(KG.about), target)

    for r in ex.relations:
        s, o = ent(r.subject), ent(r.object)
        if s is None or o is None or s == o:
            continue
        prop = _n(KG[r.property])
        stmt = _n(iri.hashed_iri("stmt", s.value, prop.value, o.value, doc.id, r.sentence, r.claim))
        add(stmt, RDF_TYPE, RDF_STATEMENT)
        add(stmt, RDF_SUBJECT, s)
        add(stmt, RDF_PREDICATE, prop)
        add(stmt, RDF_OBJECT, o)
        add(stmt, _n(KG.confidence), _dec(r.confidence))
        add(stmt, _n(KG.evidence), sentence(r.sentence))
        for i in (r.subject, r.object):
            if i in mention_node:
                add(stmt, _n(PROV.wasDerivedFrom), mention_node[i])
        if r.claim is None:
            add(s, prop, o)
        else:
            add(claim_nodes[r.claim], _n(KG.reports), stmt)

    for ev in ex.events:
        node = _n(iri.hashed_iri("event", doc.id, ev.type, ev.trigger_start))
        add(node, RDF_TYPE, _n(KG[ev.type]))
        add(node, RDFS_LABEL, Literal(_clean(ev.trigger)))
        add(node, _n(KG.confidence), _dec(ev.confidence))
        add(node, _n(KG.evidence), sentence(ev.sentence))
        add(node, _n(PROV.wasDerivedFrom), _n(iri.span_iri(doc.id, ev.trigger_start, ev.trigger_end)))
        for p in ev.participants:
            target = ent(p)
            if target is not None:
                add(node, _n(KG.participant), target)
        for p in ev.places:
            target = ent(p)
            if target is not None:
                add(node, _n(KG.location), target)
        if ev.date:
            add(node, _n(KG.pointInTime), Literal(ev.date, datatype=XSD_DATE))
        if ev.claim is not None and ev.claim < len(claim_nodes):
            add(claim_nodes[ev.claim], _n(KG.reports), node)
    return sorted(out, key=str)
