"""Knowledge-base facts about linked entities, kept in their own named graph (``kg build --enrich``).

For every item a document links to, the knowledge base says its class, its country and
the region it lies in. :func:`enrich_quads` writes those facts, and the label, class and
``owl:sameAs`` of every item they mention, in ``<https://w3id.org/kg/graph/wikidata>``
(:data:`kg.iri.KB_GRAPH`), never in a document graph. Each relation also gets an
``rdf:Statement`` whose ``prov:wasDerivedFrom`` is the Wikidata item it was read from, and
the graph describes itself: derived from Wikidata through the knowledge base's sources,
with the knowledge base's licence notice.

>>> from kg.linking import KnowledgeBase
>>> with KnowledgeBase.open() as kb:
...     quads = enrich_quads(["Q3874799"], kb)
>>> {q.graph_name.value for q in quads} == {str(KB_GRAPH)}
True
"""

from __future__ import annotations

from collections.abc import Iterable

import pyoxigraph as ox

from kg import iri
from kg.iri import KB_GRAPH
from kg.vocab import KG, PROV, VOID

__all__ = ["enrich_quads", "enrich_store", "linked_qids"]

_RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDF_TYPE = ox.NamedNode(_RDF + "type")
RDFS_LABEL = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label")
OWL_SAME = ox.NamedNode("http://www.w3.org/2002/07/owl#sameAs")
DCT = "http://purl.org/dc/terms/"
#: Where the facts come from, as a web resource (the items themselves are ``wd:`` IRIs).
WIKIDATA = ox.NamedNode("https://www.wikidata.org/")


def _n(term) -> ox.NamedNode:
    return ox.NamedNode(str(term))


def linked_qids(quads: Iterable[ox.Quad]) -> set[str]:
    """The QIDs that ``owl:sameAs wd:Q…`` links to in some quads, outside the knowledge-base graph.

    >>> s, wd = ox.NamedNode("https://w3id.org/kg/id/Q900000001"), ox.NamedNode("http://www.wikidata.org/entity/Q900000001")
    >>> linked_qids([ox.Quad(s, OWL_SAME, wd, ox.NamedNode("https://w3id.org/kg/graph/doc/a"))])
    {'Q900000001'}
    """
    prefix = str(iri.WD)
    out = set()
    for q in quads:
        if q.predicate == OWL_SAME and q.graph_name != _n(KB_GRAPH) and isinstance(q.object, ox.NamedNode):
            qid = q.object.value[len(prefix) :] if q.object.value.startswith(prefix) else ""
            if iri.QID_RE.match(qid):
                out.add(qid)
    return out


def enrich_quads(qids: Iterable[str], kb, *, graph: ox.NamedNode | None = None) -> list[ox.Quad]:
    """The knowledge base's facts about some items, as quads of the knowledge-base graph, sorted.

    Args:
        qids: Items linked from documents (unknown ones are skipped).
        kb: An open :class:`~kg.linking.kb.KnowledgeBase`.
        graph: The graph to write into (default :data:`kg.iri.KB_GRAPH`).
    """
    g = graph or _n(KB_GRAPH)
    out: set[ox.Quad] = set()
    described: set[str] = set()

    def add(s, p, o) -> None:
        out.add(ox.Quad(s, p, o, g))

    def node(qid: str):
        rec = kb.get(qid)
        if rec is None:
            return None
        subject = _n(iri.entity_iri(rec.type, rec.label, qid))
        if qid not in described:
            described.add(qid)
            add(subject, RDF_TYPE, _n(KG[rec.type]))
            add(subject, RDFS_LABEL, ox.Literal(rec.label))
            add(subject, OWL_SAME, _n(iri.wikidata_iri(qid)))
        return subject

    for qid in sorted(set(qids)):
        rec = kb.get(qid)
        subject = node(qid)
        if rec is None or subject is None:
            continue
        for prop, value in ((KG.country, rec.country), (KG.locatedIn, rec.located_in)):
            target = node(value) if value and value != qid else None
            if target is None:
                continue
            predicate = _n(prop)
            add(subject, predicate, target)
            stmt = _n(iri.hashed_iri("stmt", "wikidata", subject.value, predicate.value, target.value))
            add(stmt, RDF_TYPE, ox.NamedNode(_RDF + "Statement"))
            add(stmt, ox.NamedNode(_RDF + "subject"), subject)
            add(stmt, ox.NamedNode(_RDF + "predicate"), predicate)
            add(stmt, ox.NamedNode(_RDF + "object"), target)
            add(stmt, _n(PROV.wasDerivedFrom), _n(iri.wikidata_iri(qid)))
    if out:
        meta = kb.meta()
        add(g, RDF_TYPE, _n(VOID.Dataset))
        add(g, RDF_TYPE, _n(PROV.Entity))
        add(g, _n(PROV.wasDerivedFrom), WIKIDATA)
        add(g, ox.NamedNode(DCT + "title"), ox.Literal("Facts copied from Wikidata through the kg knowledge base"))
        for source in meta.get("sources", []):
            add(g, ox.NamedNode(DCT + "source"), ox.Literal(source))
        if meta.get("notice"):
            add(g, ox.NamedNode(DCT + "rights"), ox.Literal(meta["notice"]))
    return sorted(out, key=str)


def enrich_store(store, kb) -> int:
    """Replace the knowledge-base graph of a :class:`~kg.store.Store` with facts about every item its documents link to.

    The graph is dropped and rewritten in one SPARQL update (one transaction). Returns the number of quads written.
    """
    db = store.pyoxigraph
    qids = linked_qids(db.quads_for_pattern(None, OWL_SAME, None, None))
    quads = enrich_quads(qids, kb)
    g = _n(KB_GRAPH)
    body = ox.serialize([q.triple for q in quads], format=ox.RdfFormat.N_TRIPLES).decode("utf-8") if quads else ""
    update = f"DROP SILENT GRAPH {g}" + (f" ;\nINSERT DATA {{ GRAPH {g} {{\n{body}}} }}" if body else "")
    if getattr(store, "read_only", False):
        from kg.errors import StoreError

        raise StoreError(f"store {store.path} was opened read-only; open it without read_only to write")
    db.update(update)
    return len(quads)
