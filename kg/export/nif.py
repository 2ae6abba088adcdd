"""Mentions and their links as NIF 2.0 for entity-linking evaluation tools (GERBIL and the like).

One ``nif:Context`` per document (its full text, ``nif:isString``) and one ``nif:Phrase``
per mention of a person, organization or place, with its offsets, ``nif:anchorOf``,
``nif:referenceContext`` and ``itsrdf:taIdentRef``: the Wikidata item (``wd:Q…``) when
the entity is linked, else kg's own IRI of the entity (outside any knowledge base, which
evaluation tools read as NIL / an emerging entity). Offsets are Unicode code points, as in
the store; ``itsrdf:taClassRef`` keeps kg's class.

Everything else of the graph (statements, events, claims, the knowledge-base graph) is left out.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

import pyoxigraph as ox

from kg.iri import GRAPH
from kg.vocab import ITSRDF, KG, NIF

from .serialize import write_quads

__all__ = ["nif_triples", "write_nif"]

RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
OWL_SAME = ox.NamedNode("http://www.w3.org/2002/07/owl#sameAs")
_WD = "http://www.wikidata.org/entity/"
#: Classes whose mentions are entity mentions (not titles, events or claims).
LINKED_CLASSES = frozenset(str(KG[c]) for c in
                           ("Person", "Organization", "MilitaryUnit", "Location", "Country", "AdministrativeArea", "Settlement"))


def _n(term) -> ox.NamedNode:
    return ox.NamedNode(str(term))


def _one(db: ox.Store, s, p, g):
    return next((q.object for q in db.quads_for_pattern(s, p, None, g)), None)


def nif_triples(source: ox.Store | Iterable[ox.Quad]) -> list[ox.Triple]:
    """The NIF view of a store's (or some quads') document graphs, sorted.

    >>> g, doc = ox.NamedNode("https://w3id.org/kg/graph/doc/d"), "https://w3id.org/kg/doc/d#char="
    >>> ctx, phrase, ent = ox.NamedNode(doc + "0,4"), ox.NamedNode(doc + "0,4"), ox.NamedNode("https://w3id.org/kg/id/x")
    >>> quads = [ox.Quad(ctx, RDF_TYPE, _n(NIF.Context), g), ox.Quad(ctx, _n(NIF.isString), ox.Literal("Kyiv"), g),
    ...          ox.Quad(phrase, RDF_TYPE, _n(NIF.Phrase), g), ox.Quad(phrase, _n(NIF.anchorOf), ox.Literal("Kyiv"), g),
    ...          ox.Quad(phrase, _n(NIF.referenceContext), ctx, g), ox.Quad(phrase, _n(ITSRDF.taIdentRef), ent, g),
    ...          ox.Quad(phrase, _n(ITSRDF.taClassRef), _n(KG.Settlement), g),
    ...          ox.Quad(ent, OWL_SAME, ox.NamedNode("http://www.wikidata.org/entity/Q900000001"), g)]
    >>> [t.object.value for t in nif_triples(quads) if t.predicate == _n(ITSRDF.taIdentRef)]
    ['http://www.wikidata.org/entity/Q900000001']
    """
    db = source if isinstance(source, ox.Store) else ox.Store()
    if db is not source:
        db.extend(source)
    out: set[ox.Triple] = set()
    documents = str(GRAPH) + "doc/"
    for q in db.quads_for_pattern(None, RDF_TYPE, _n(NIF.Context), None):
        if not isinstance(q.graph_name, ox.NamedNode) or not q.graph_name.value.startswith(documents):
            continue
        for cls in (NIF.Context, NIF.String, NIF.RFC5147String):
            out.add(ox.Triple(q.subject, RDF_TYPE, _n(cls)))
        for p in (NIF.isString, NIF.beginIndex, NIF.endIndex, NIF.sourceUrl):
            value = _one(db, q.subject, _n(p), q.graph_name)
            if value is not None:
                out.add(ox.Triple(q.subject, _n(p), value))
    for q in db.quads_for_pattern(None, RDF_TYPE, _n(NIF.Phrase), None):
        g, phrase = q.graph_name, q.subject
        if not isinstance(g, ox.NamedNode) or not g.value.startswith(documents):
            continue
        entity, cls = _one(db, phrase, _n(ITSRDF.taIdentRef), g), _one(db, phrase, _n(ITSRDF.taClassRef), g)
        if entity is None or cls is None or cls.value not in LINKED_CLASSES:
            continue
        same = [o.object for o in db.quads_for_pattern(entity, OWL_SAME, None, g) if o.object.value.startswith(_WD)]
        for c in (NIF.Phrase, NIF.String, NIF.RFC5147String):
            out.add(ox.Triple(phrase, RDF_TYPE, _n(c)))
        for p in (NIF.anchorOf, NIF.beginIndex, NIF.endIndex, NIF.referenceContext):
            value = _one(db, phrase, _n(p), g)
            if value is not None:
                out.add(ox.Triple(phrase, _n(p), value))
        out.add(ox.Triple(phrase, _n(ITSRDF.taIdentRef), min(same, key=str) if same else entity))
        out.add(ox.Triple(phrase, _n(ITSRDF.taClassRef), cls))
    return sorted(out, key=str)


def write_nif(source: ox.Store | Iterable[ox.Quad], path: str | os.PathLike[str], *, format: str | None = None) -> int:
    """Write :func:`nif_triples` to a file atomically (Turtle by default for ``.ttl``); return the triple count."""
    return write_quads(nif_triples(source), path, format=format)
