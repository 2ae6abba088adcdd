"""The VoID description of a kg dataset, computed by SPARQL over the store that holds it.

The description lives in the meta graph (:data:`kg.iri.META_GRAPH`), which it
owns whole; its resources are fragments of that graph's IRI, as in a VoID file
(``<…/graph/meta#dataset>``). It states the dataset's size (distinct triples,
entities, classes, properties), entities per class, triples per property, the
linkset to Wikidata (``owl:sameAs`` links), the creation date, and one subset
per document graph with its triple count and the document it was read from.

The queries name their graphs (``GRAPH ?g``), so they give the same answer on
any SPARQL 1.1 store, whether or not its default graph is the union of its
graphs: :func:`describe` runs on the embedded store and, through
:mod:`kg.remote`, on the triplestore a dataset was loaded into.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING
from urllib.parse import quote

import pyoxigraph as ox
from rdflib.namespace import DCTERMS, FOAF

from kg.iri import GRAPH, META_GRAPH, graph_iri
from kg.vocab import NIF, PREFIXES, PROV, VOID, WD

if TYPE_CHECKING:
    from kg.query.run import QueryResult

__all__ = ["DATASET", "describe", "write_void"]

_META = str(META_GRAPH)
#: The dataset's node in the meta graph.
DATASET = ox.NamedNode(_META + "#dataset")
_LINKSET = ox.NamedNode(_META + "#linkset/wikidata")
_WIKIDATA = ox.NamedNode(_META + "#wikidata")
_WIKIDATA_ENDPOINT = ox.NamedNode("https://query.wikidata.org/sparql")
_WIKIDATA_HOME = ox.NamedNode("https://www.wikidata.org/")
_ONTOLOGY = ox.NamedNode(PREFIXES["kg"].rstrip("#"))
_XSD = "http://www.w3.org/2001/XMLSchema#"
_A = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
_SAME_AS = ox.NamedNode("http://www.w3.org/2002/07/owl#sameAs")
_BY_NAMESPACE_LENGTH = sorted(PREFIXES.items(), key=lambda item: -len(item[1]))

# the dataset: every kg graph but the meta graph
_SCOPE = f'FILTER(STRSTARTS(STR(?g), "{GRAPH}") && ?g != <{_META}>)'
_TRIPLES = "SELECT DISTINCT ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } " + _SCOPE + " }"
QUERIES = {
    "properties": f"SELECT ?p (COUNT(*) AS ?n) WHERE {{ {_TRIPLES} }} GROUP BY ?p",
    "classes": f"SELECT ?class (COUNT(DISTINCT ?e) AS ?n) WHERE {{ GRAPH ?g {{ ?e a ?class }} {_SCOPE} }} GROUP BY ?class",
    "entities": (f"SELECT (COUNT(DISTINCT ?e) AS ?n) WHERE {{ GRAPH ?g {{ ?e a ?class }} {_SCOPE} "
                 f'FILTER(STRSTARTS(STR(?e), "{PREFIXES["kgr"]}")) }}'),
    "links": (f"SELECT (COUNT(*) AS ?n) WHERE {{ SELECT DISTINCT ?e ?item WHERE {{ GRAPH ?g {{ ?e <{_SAME_AS.value}> ?item }} "
              f'{_SCOPE} FILTER(STRSTARTS(STR(?item), "{WD}")) }} }}'),
    "graphs": f"SELECT ?g (COUNT(*) AS ?n) WHERE {{ GRAPH ?g {{ ?s ?p ?o }} {_SCOPE} }} GROUP BY ?g",
    "documents": (f"SELECT DISTINCT ?g ?doc WHERE {{ GRAPH ?g {{ ?context a <{NIF.Context}> ; <{PROV.wasDerivedFrom}> ?doc }} "
                  f'FILTER(STRSTARTS(STR(?g), "{graph_iri("")}")) }}'),
}
_DOC_GRAPHS = str(graph_iri(""))

Select = Callable[[str], "QueryResult"]


def _int(n: int) -> ox.Literal:
    return ox.Literal(str(n), datatype=ox.NamedNode(_XSD + "integer"))


def _part(kind: str, term: ox.NamedNode) -> ox.NamedNode:
    """A class or property partition's node: ``meta#class/kg:Person``, or the IRI escaped when no prefix fits."""
    for prefix, namespace in _BY_NAMESPACE_LENGTH:
        if term.value.startswith(namespace) and len(term.value) > len(namespace):
            return ox.NamedNode(f"{_META}#{kind}/{prefix}:{quote(term.value[len(namespace):], safe='')}")
    return ox.NamedNode(f"{_META}#{kind}/{quote(term.value, safe='')}")


def _selector(source: object) -> Select:
    if callable(source):
        return source  # type: ignore[return-value]
    from kg.query.run import run_query  # the query stage sits above the store

    return lambda text: run_query(text, source)  # type: ignore[arg-type]


def describe(
    source: object, *, created: dt.datetime | None = None, endpoint: str | None = None
) -> list[ox.Quad]:
    """The VoID description of the kg dataset in ``source``, as quads in the meta graph.

    Args:
        source: A kg :class:`~kg.store.store.Store`, a pyoxigraph ``Store``, or a function that runs
            a SELECT query and returns a :class:`~kg.query.run.QueryResult` (e.g. against an endpoint).
        created: The creation date to state (default: now, UTC, to the second).
        endpoint: A SPARQL endpoint URL serving the dataset, stated as ``void:sparqlEndpoint``.

    >>> from kg.iri import graph_iri
    >>> db = ox.Store()
    >>> g = ox.NamedNode(str(graph_iri("a")))
    >>> db.add(ox.Quad(ox.NamedNode("https://w3id.org/kg/id/Q212"), _A, ox.NamedNode(PREFIXES["kg"] + "Country"), g))
    >>> void = describe(db)
    >>> [q.object.value for q in void if q.subject == DATASET and q.predicate.value == str(VOID.triples)]
    ['1']
    >>> [q.subject.value for q in void if q.predicate.value == str(VOID["class"])]
    ['https://w3id.org/kg/graph/meta#class/kg:Country']
    """
    select = _selector(source)
    rows = {name: select(text).rows for name, text in QUERIES.items()}
    created = created or dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    quads: list[ox.Quad] = []

    def add(s: ox.NamedNode, p: object, o: ox.NamedNode | ox.Literal) -> None:
        quads.append(ox.Quad(s, p if isinstance(p, ox.NamedNode) else ox.NamedNode(str(p)), o, ox.NamedNode(_META)))

    triples = 0
    for prop, n in rows["properties"]:
        part = _part("property", prop)
        add(DATASET, VOID.propertyPartition, part)
        add(part, VOID.property, prop)
        add(part, VOID.triples, _int(int(n.value)))
        triples += int(n.value)
    for cls, n in rows["classes"]:
        if isinstance(cls, ox.NamedNode):
            part = _part("class", cls)
            add(DATASET, VOID.classPartition, part)
            add(part, VOID["class"], cls)
            add(part, VOID.entities, _int(int(n.value)))
    add(DATASET, _A, ox.NamedNode(str(VOID.Dataset)))
    add(DATASET, DCTERMS.title, ox.Literal("kg: a knowledge graph of news articles, linked to Wikidata"))
    add(DATASET, DCTERMS.created, ox.Literal(created.isoformat().replace("+00:00", "Z"), datatype=ox.NamedNode(_XSD + "dateTime")))
    add(DATASET, VOID.triples, _int(triples))
    add(DATASET, VOID.entities, _int(int(rows["entities"][0][0].value)))
    add(DATASET, VOID.properties, _int(len(rows["properties"])))
    add(DATASET, VOID.classes, _int(len(rows["classes"])))
    add(DATASET, VOID.uriSpace, ox.Literal(PREFIXES["kgr"]))
    add(DATASET, VOID.vocabulary, _ONTOLOGY)
    if endpoint:
        add(DATASET, VOID.sparqlEndpoint, ox.NamedNode(endpoint))

    add(DATASET, VOID.subset, _LINKSET)
    add(_LINKSET, _A, ox.NamedNode(str(VOID.Linkset)))
    add(_LINKSET, VOID.linkPredicate, _SAME_AS)
    add(_LINKSET, VOID.subjectsTarget, DATASET)
    add(_LINKSET, VOID.objectsTarget, _WIKIDATA)
    add(_LINKSET, VOID.triples, _int(int(rows["links"][0][0].value)))
    add(_WIKIDATA, _A, ox.NamedNode(str(VOID.Dataset)))
    add(_WIKIDATA, DCTERMS.title, ox.Literal("Wikidata"))
    add(_WIKIDATA, FOAF.homepage, _WIKIDATA_HOME)
    add(_WIKIDATA, VOID.uriSpace, ox.Literal(str(WD)))
    add(_WIKIDATA, VOID.sparqlEndpoint, _WIKIDATA_ENDPOINT)

    sources = {g: doc for g, doc in rows["documents"]}
    for g, n in rows["graphs"]:
        add(DATASET, VOID.subset, g)
        add(g, _A, ox.NamedNode(str(VOID.Dataset)))
        add(g, VOID.triples, _int(int(n.value)))
        if g in sources:
            add(g, PROV.wasDerivedFrom, sources[g])
            add(DATASET, DCTERMS.source, sources[g])
    documents = sum(1 for g, _ in rows["graphs"] if g.value.startswith(_DOC_GRAPHS))
    add(DATASET, VOID.documents, _int(documents))
    return quads


def write_void(store: object, **options: object) -> int:
    """Compute the VoID description of a kg :class:`~kg.store.store.Store` and make it its meta graph.

    Args:
        store: A kg store opened for writing.
        options: Passed to :func:`describe` (``created``, ``endpoint``).

    Returns:
        The number of triples in the new meta graph.

    >>> import tempfile
    >>> from kg.store import Store
    >>> with tempfile.TemporaryDirectory() as tmp, Store.open(f"{tmp}/store") as store:
    ...     write_void(store) > 10
    True
    """
    return store.replace_metadata(describe(store, **options))  # type: ignore[attr-defined]
