"""The VoID description (kg/store/void.py), checked against counts made in Python from the same quads."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

import pyoxigraph as ox

from kg.iri import META_GRAPH
from kg.remote.query import query_endpoint
from kg.store import Store
from kg.store.void import DATASET, describe, write_void
from kg.vocab import VOID

RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
SAME_AS = "http://www.w3.org/2002/07/owl#sameAs"
CREATED = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)


def _values(void: list[ox.Quad], subject: ox.NamedNode, predicate: object) -> list[str]:
    return sorted(q.object.value for q in void if q.subject == subject and q.predicate.value == str(predicate))


def _partitions(void: list[ox.Quad], kind: str, count: object) -> dict[str, int]:
    """{class or property IRI: its count}, from the partitions of the dataset."""
    parts = {q.object for q in void if q.subject == DATASET and q.predicate.value == str(VOID[f"{kind}Partition"])}
    return {_values(void, p, VOID[kind])[0]: int(_values(void, p, count)[0]) for p in parts}


def test_void_counts_match_the_quads(sample_store, sample_quads):
    void = describe(sample_store, created=CREATED)
    data = [q for q in sample_quads if q.graph_name.value != str(META_GRAPH)]
    triples = {q.triple for q in ox.Dataset(data)}  # the store keeps values, the Dataset does too
    assert _values(void, DATASET, VOID.triples) == [str(len(triples))]
    per_property: dict[str, int] = defaultdict(int)
    for t in triples:
        per_property[t.predicate.value] += 1
    assert _partitions(void, "property", VOID.triples) == per_property
    per_class: dict[str, set] = defaultdict(set)
    for t in triples:
        if t.predicate.value == RDF_TYPE:
            per_class[t.object.value].add(t.subject)
    assert _partitions(void, "class", VOID.entities) == {c: len(e) for c, e in per_class.items()}
    links = {t for t in triples if t.predicate.value == SAME_AS and t.object.value.startswith("http://www.wikidata.org/entity/")}
    linkset = ox.NamedNode(str(META_GRAPH) + "#linkset/wikidata")
    assert _values(void, linkset, VOID.triples) == [str(len(links))] and links
    assert _values(void, linkset, VOID.linkPredicate) == [SAME_AS]
    graphs = {q.graph_name for q in data}
    assert _values(void, DATASET, VOID.documents) == [str(len(graphs))]
    for graph in graphs:
        assert _values(void, graph, VOID.triples) == [str(len({q.triple for q in ox.Dataset(data) if q.graph_name == graph}))]
    assert _values(void, DATASET, "http://purl.org/dc/terms/created") == ["2026-01-02T03:04:05Z"]
    assert all(q.graph_name.value == str(META_GRAPH) for q in void)


def test_void_written_to_the_meta_graph(tmp_path, sample_documents):
    with Store.open(tmp_path / "store") as store:
        for doc in sample_documents:
            store.replace_document(doc.id, doc.quads, metadata_quads=doc.metadata)
        size = len(list(store.quads()))
        n = write_void(store, created=CREATED)
        meta = list(store.quads(str(META_GRAPH)))
        assert len(meta) == n == len(set(describe(store, created=CREATED)))
        assert len(list(store.quads())) - size == n - len([q for d in sample_documents for q in d.metadata])
        assert write_void(store, created=CREATED) == n  # replaced, not added to


def test_void_same_over_an_endpoint(loaded, seed_store):
    """The queries name their graphs, so a remote store gives the same description as the embedded one."""
    with Store.open(seed_store, read_only=True) as st:
        local = describe(st, created=CREATED)
    remote = describe(lambda text: query_endpoint(text, f"{loaded.url}/query"), created=CREATED)
    assert set(remote) == set(local)
    assert _values(local, DATASET, VOID.documents) == ["1"]
    assert _values(local, DATASET, "http://purl.org/dc/terms/source")  # the document it was read from
