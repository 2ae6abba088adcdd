"""Building the RDF of one document: entities, relations, events, claims, provenance.

The output is a list of :class:`pyoxigraph.Quad` in the document's named
graph, in the shape described in ``docs/data-model.md``. Everything here is
deterministic: the same resolution always gives the same quads.
"""

from __future__ import annotations

import re
from functools import lru_cache

from pyoxigraph import Literal, NamedNode, Quad

from .. import iri
from ..linking.sources import translit_key
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


# the terms the graph is made of, as pyoxigraph nodes, made once
ITSRDF_taClassRef = NamedNode(str(ITSRDF.taClassRef))
ITSRDF_taIdentRef = NamedNode(str(ITSRDF.taIdentRef))
KG_Candidate = NamedNode(str(KG.Candidate))
KG_Claim = NamedNode(str(KG.Claim))
KG_about = NamedNode(str(KG.about))
KG_asserts = NamedNode(str(KG.asserts))
KG_candidate = NamedNode(str(KG.candidate))
KG_candidateEntity = NamedNode(str(KG.candidateEntity))
KG_channel = NamedNode(str(KG.channel))
KG_claimant = NamedNode(str(KG.claimant))
KG_confidence = NamedNode(str(KG.confidence))
KG_content = NamedNode(str(KG.content))
KG_denies = NamedNode(str(KG.denies))
KG_documentDate = NamedNode(str(KG.documentDate))
KG_evidence = NamedNode(str(KG.evidence))
KG_extractedBy = NamedNode(str(KG.extractedBy))
KG_linkConfidence = NamedNode(str(KG.linkConfidence))
KG_location = NamedNode(str(KG.location))
KG_mentionCount = NamedNode(str(KG.mentionCount))
KG_participant = NamedNode(str(KG.participant))
KG_pointInTime = NamedNode(str(KG.pointInTime))
KG_reports = NamedNode(str(KG.reports))
KG_score = NamedNode(str(KG.score))
KG_stance = NamedNode(str(KG.stance))
NIF_Context = NamedNode(str(NIF.Context))
NIF_Phrase = NamedNode(str(NIF.Phrase))
NIF_Sentence = NamedNode(str(NIF.Sentence))
NIF_anchorOf = NamedNode(str(NIF.anchorOf))
NIF_beginIndex = NamedNode(str(NIF.beginIndex))
NIF_endIndex = NamedNode(str(NIF.endIndex))
NIF_isString = NamedNode(str(NIF.isString))
NIF_referenceContext = NamedNode(str(NIF.referenceContext))
NIF_sentence = NamedNode(str(NIF.sentence))
NIF_sourceUrl = NamedNode(str(NIF.sourceUrl))
PROV_wasDerivedFrom = NamedNode(str(PROV.wasDerivedFrom))
SCHEMA_headline = NamedNode(str(SCHEMA.headline))


@lru_cache(maxsize=None)
def _kg(name: str) -> NamedNode:
    """An ontology term by local name (a class or a property), checked by the closed namespace."""
    return NamedNode(str(KG[name]))


def _n(term) -> NamedNode:
    return NamedNode(str(term))


def _dec(value: float) -> Literal:
    return Literal(f"{value:.3f}", datatype=XSD_DECIMAL)


def _int(value: int) -> Literal:
    return Literal(str(value), datatype=XSD_NNI)


# What XML 1.0 cannot carry, even escaped: C0 controls but tab, LF and CR; U+FFFE, U+FFFF; lone surrogates.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def _clean(text: str) -> str:
    """Literal text every format carries unchanged: CR as LF (XML parsers turn a raw CR into LF),
    characters XML 1.0 cannot hold and lone surrogates as U+FFFD. One character for one, so offsets hold.

    >>> _clean("a\\r\\nb\\x01\\ud800")
    'a\\n\\nb\\ufffd\\ufffd'
    """
    if "\r" in text:
        text = text.replace("\r", "\n")
    return _NOT_XML.sub("\ufffd", text)


def entity_node(entity) -> NamedNode:
    """A person's unlinked node is keyed by the transliteration key of the name, so "Syrskiy" and "Syrskyi" meet."""
    key = translit_key(entity.name) if entity.type == "Person" and not entity.link.qid else None
    return _n(iri.entity_iri(entity.type, entity.name, entity.link.qid, key=key))


def document_quads(resolution: Resolution) -> list[Quad]:
    """All quads of one document, in its own named graph, sorted.

    >>> from kg.records import Document, Extraction, Resolution
    >>> doc = Document("d", "Hello.")
    >>> len(document_quads(Resolution(Extraction(doc, (), ()), (), ()))) > 0
    True
    """
    return sorted(graph_quads(resolution), key=str)


def graph_quads(resolution: Resolution) -> set[Quad]:
    """All quads of one document, in its own named graph, in no particular order (:func:`document_quads` sorts them).

    >>> from kg.records import Document, Extraction, Resolution
    >>> len(graph_quads(Resolution(Extraction(Document("d", "Hello."), (), ()), (), ())))
    5
    """
    g = _n(iri.graph_iri(resolution.extraction.document.id))
    return _statements(resolution, lambda s, p, o: Quad(s, p, o, g))


def graph_ntriples(resolution: Resolution) -> bytes:
    """The triples of one document's graph as N-Triples, one per line, lines sorted (and distinct).

    The same bytes as serializing :func:`graph_quads`' triples and sorting the lines, without making a
    quad object per triple (the terms' own N-Triples forms are joined): the fast path of a build.

    >>> from kg.records import Document, Extraction, Resolution
    >>> graph_ntriples(Resolution(Extraction(Document("d", "Hello."), (), ()), (), ())).count(b"\\n")
    5
    """
    return b"".join(sorted(_statements(resolution, lambda s, p, o: f"{s} {p} {o} .\n".encode())))


def _statements(resolution: Resolution, make) -> set:
    """``make(subject, predicate, object)`` of every triple of one document's graph, as a set."""
    ex = resolution.extraction
    doc = ex.document
    out: set = set()

    def add(s, p, o) -> None:
        out.add(make(s, p, o))

    text = _clean(doc.text)
    context = _n(iri.span_iri(doc.id, 0, len(doc.text)))
    add(context, RDF_TYPE, NIF_Context)
    add(context, NIF_isString, Literal(text))
    add(context, NIF_beginIndex, _int(0))
    add(context, NIF_endIndex, _int(len(doc.text)))
    add(context, PROV_wasDerivedFrom, _n(iri.document_iri(doc.id)))
    if doc.source:
        add(context, NIF_sourceUrl, Literal(_clean(doc.source)))
    if doc.title:
        add(context, SCHEMA_headline, Literal(_clean(doc.title)))
    if doc.date:
        add(context, KG_documentDate, Literal(doc.date, datatype=XSD_DATE))

    sentences: dict[int, NamedNode] = {}

    def sentence(k: int) -> NamedNode:
        if k in sentences:
            return sentences[k]
        s = ex.sentences[k]
        node = sentences[k] = _n(iri.span_iri(doc.id, s.start, s.end))
        add(node, RDF_TYPE, NIF_Sentence)
        add(node, NIF_anchorOf, Literal(_clean(doc.text[s.start : s.end])))
        add(node, NIF_beginIndex, _int(s.start))
        add(node, NIF_endIndex, _int(s.end))
        add(node, NIF_referenceContext, context)
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
        add(node, RDF_TYPE, NIF_Phrase)
        add(node, NIF_anchorOf, Literal(_clean(m.text)))
        add(node, NIF_beginIndex, _int(m.start))
        add(node, NIF_endIndex, _int(m.end))
        add(node, NIF_referenceContext, context)
        add(node, NIF_sentence, sentence(m.sentence))
        add(node, ITSRDF_taIdentRef, nodes[key])
        add(node, ITSRDF_taClassRef, _kg(e.type))
        add(node, KG_extractedBy, Literal(m.source))
        add(node, KG_confidence, _dec(m.confidence))
        counts[key] = counts.get(key, 0) + 1

    # a name one node bears as its label is no alias of another ("Kherson", the city, and "Kherson Oblast", which
    # the text also calls "Kherson"): a lookup by that name finds the node it names
    labels = {e.name.casefold() for e in resolution.entities}
    for e in resolution.entities:
        node = nodes[e.key]
        add(node, RDF_TYPE, _kg(e.type))
        add(node, RDFS_LABEL, Literal(_clean(e.name)))
        for alias in e.aliases:
            if alias.casefold() not in labels:
                add(node, SKOS_ALT, Literal(_clean(alias)))
        add(node, KG_mentionCount, _int(counts.get(e.key, 0)))
        if e.link.qid:
            add(node, OWL_SAME, _n(iri.wikidata_iri(e.link.qid)))
            add(node, KG_linkConfidence, _dec(e.link.confidence))
        for c in e.link.candidates:
            cand = _n(iri.hashed_iri("candidate", node.value, c.qid))
            add(node, KG_candidate, cand)
            add(cand, RDF_TYPE, KG_Candidate)
            add(cand, KG_candidateEntity, _n(iri.wikidata_iri(c.qid)))
            add(cand, KG_score, _dec(c.score))
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
        add(node, RDF_TYPE, KG_Claim)
        add(node, KG_claimant, claimant)
        add(node, KG_stance, KG_asserts if c.stance == "asserts" else KG_denies)
        add(node, KG_content, Literal(_clean(doc.text[c.content_start : c.content_end])))
        add(node, RDFS_LABEL, Literal(_clean(f"{c.cue}: {doc.text[c.content_start : c.content_end]}"[:200])))
        add(node, KG_evidence, sentence(c.sentence))
        add(node, KG_confidence, _dec(c.confidence))
        add(node, PROV_wasDerivedFrom, _n(iri.span_iri(doc.id, c.content_start, c.content_end)))
        if c.channel:
            add(node, KG_channel, Literal(_clean(c.channel)))
        if c.date:
            add(node, KG_pointInTime, Literal(c.date, datatype=XSD_DATE))
        for a in c.about:
            target = ent(a)
            if target is not None and target != claimant:
                add(node, KG_about, target)

    for r in ex.relations:
        s, o = ent(r.subject), ent(r.object)
        if s is None or o is None or s == o:
            continue
        prop = _kg(r.property)
        stmt = _n(iri.hashed_iri("stmt", s.value, prop.value, o.value, doc.id, r.sentence, r.claim))
        add(stmt, RDF_TYPE, RDF_STATEMENT)
        add(stmt, RDF_SUBJECT, s)
        add(stmt, RDF_PREDICATE, prop)
        add(stmt, RDF_OBJECT, o)
        add(stmt, KG_confidence, _dec(r.confidence))
        add(stmt, KG_evidence, sentence(r.sentence))
        for i in (r.subject, r.object):
            if i in mention_node:
                add(stmt, PROV_wasDerivedFrom, mention_node[i])
        if r.asserted:
            add(s, prop, o)
        if r.claim is not None:
            add(claim_nodes[r.claim], KG_reports, stmt)

    for ev in ex.events:
        node = _n(iri.hashed_iri("event", doc.id, ev.type, ev.trigger_start))
        add(node, RDF_TYPE, _kg(ev.type))
        add(node, RDFS_LABEL, Literal(_clean(ev.trigger)))
        add(node, KG_confidence, _dec(ev.confidence))
        add(node, KG_evidence, sentence(ev.sentence))
        add(node, PROV_wasDerivedFrom, _n(iri.span_iri(doc.id, ev.trigger_start, ev.trigger_end)))
        for p in ev.participants:
            target = ent(p)
            if target is not None:
                add(node, KG_participant, target)
        for p in ev.places:
            target = ent(p)
            if target is not None:
                add(node, KG_location, target)
        if ev.date:
            add(node, KG_pointInTime, Literal(ev.date, datatype=XSD_DATE))
        if ev.claim is not None and ev.claim < len(claim_nodes):
            add(claim_nodes[ev.claim], KG_reports, node)
    return out
