"""Resolution across documents: a person named by surname alone joins the full name seen elsewhere.

Within a document, "Zaluzhniy" joins "Valeriy Zaluzhniy" (:mod:`.resolve`).
Across documents, names linked to Wikidata meet by QID and unlinked ones by
type and transliteration key (:func:`kg.iri.entity_iri`); what is left is a
surname in one article whose full name is in another. This pass runs over
the store after a build, so its result depends only on what the store holds,
not on the order or the process in which documents were built.

It reads the store's name index (:mod:`kg.store.names`) for the surname keys
the build touched only: the store was settled after the previous build, so no
other key can give a merge, and adding a document costs the same however large
the store is.
"""

from __future__ import annotations

import logging
from collections import defaultdict

import pyoxigraph as ox

from ..linking.sources import translit_key
from ..vocab import PREFIXES

log = logging.getLogger(__name__)
_PREFIXES = {k: PREFIXES[k] for k in ("rdfs", "skos", "kg", "itsrdf")}

_RENAME = """
DELETE {{ GRAPH ?g {{ <{old}> rdfs:label ?l }} }}
INSERT {{ GRAPH ?g {{ <{old}> skos:altLabel ?l }} }}
WHERE {{ GRAPH ?g {{ <{old}> rdfs:label ?l }} }} ;
DELETE {{ GRAPH ?g {{ <{old}> a ?t }} }}
INSERT {{ GRAPH ?g {{ <{new}> a kg:Person }} }}
WHERE {{ GRAPH ?g {{ <{old}> a ?t }} }} ;
DELETE {{ GRAPH ?g {{ ?m itsrdf:taClassRef ?t }} }}
INSERT {{ GRAPH ?g {{ ?m itsrdf:taClassRef kg:Person }} }}
WHERE {{ GRAPH ?g {{ ?m itsrdf:taIdentRef <{old}> ; itsrdf:taClassRef ?t }} }} ;
DELETE {{ GRAPH ?g {{ ?s ?p ?o }} }}
INSERT {{ GRAPH ?g {{ ?s2 ?p ?o2 . <{new}> rdfs:label {label} }} }}
WHERE {{
  {{ GRAPH ?g {{ <{old}> ?p ?o }} BIND(<{old}> AS ?s) }} UNION {{ GRAPH ?g {{ ?s ?p <{old}> }} BIND(<{old}> AS ?o) }}
  BIND(IF(?s = <{old}>, <{new}>, ?s) AS ?s2)
  BIND(IF(?o = <{old}>, <{new}>, ?o) AS ?o2)
}}"""


def surname_merges(persons: list[tuple[str, str]]) -> dict[str, tuple[str, str]]:
    """Which one-word person nodes join which full-name node: ``{old IRI: (new IRI, full name)}``.

    A surname (a one-word person, or a one-word organization the statistical
    model mistook a surname for) joins a full name only when exactly one full
    name of a person in the store ends with it.

    >>> surname_merges([("p:a", "Valeriy Zaluzhniy"), ("p:b", "Zaluzhnyi"), ("p:c", "Smith"), ("p:d", "Ann Smith"), ("p:e", "Bob Smith")])
    {'p:b': ('p:a', 'Valeriy Zaluzhniy')}
    """
    full: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for iri, label in persons:
        words = label.split()
        if len(words) >= 2:
            full[translit_key(words[-1])].add((iri, label))
    out = {}
    for iri, label in persons:
        if len(label.split()) == 1:
            targets = full.get(translit_key(label), set())
            if len(targets) == 1:
                target = next(iter(targets))
                if target[0] != iri:
                    out[iri] = target
    return dict(sorted(out.items()))


def merge_surnames(store) -> int:
    """Rewrite one-word person nodes of a :class:`~kg.store.Store` into their full-name nodes; returns how many.

    Only the keys the store's writes touched since the last pass are looked at (every key when the name
    index had to be rebuilt).
    """
    from ..errors import StoreError
    from ..store.names import graphs_of

    db, index = store.pyoxigraph, store.names
    if index is None:
        raise StoreError(f"store {store.path} was opened read-only; open it without read_only to write")
    if index.stale:
        index.rebuild(db)
    keys = index.touched
    merges = surname_merges(index.persons(keys)) if keys is None or keys else {}
    if merges:
        index.begin()
    for old, (new, label) in merges.items():
        graphs = list(graphs_of(db, ox.NamedNode(old)))
        db.update(_RENAME.format(old=old, new=new, label=ox.Literal(label)), prefixes=_PREFIXES)
        index.refresh(db, graphs)
    if merges:
        log.info("joined %d surname-only person nodes to full names seen in other documents", len(merges))
    index.settle()
    return len(merges)
