"""Building in worker processes and on a Dask cluster gives the graph a single process gives, byte for byte."""

from __future__ import annotations

import json

import pyoxigraph as ox
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kg.scale import ClusterError, connect
from kg.store import Store

NEWS = [
    "Ukrainian President Volodymyr Zelenskiy visited Kharkiv on Tuesday and met the governor of Kharkiv Oblast.",
    "The Russian Defence Ministry said on Telegram that its troops had repelled an attack near Bakhmut.",
    "German Chancellor Olaf Scholz spoke by phone with French President Emmanuel Macron about aid to Ukraine.",
    "NATO Secretary-General Jens Stoltenberg told reporters in Brussels that the alliance would support Kyiv.",
    "Israeli strikes in the Gaza Strip killed at least 12 people, according to the Hamas-run health ministry.",
    "Polish Prime Minister Donald Tusk visited Washington, where he met U.S. President Joe Biden.",
]


@pytest.fixture()
def corpus(tmp_path):
    path = tmp_path / "news.jsonl"
    path.write_text("".join(json.dumps({"id": f"n{i}", "text": t, "date": "2024-03-0" + str(i + 1)}) + "\n"
                            for i, t in enumerate(NEWS)), encoding="utf-8")
    return path


def _build(pipeline, corpus, path, **kw) -> bytes:
    with Store.open(path) as st:
        report = pipeline.build([corpus], st, chunk=2, **kw)
        assert report.documents == len(NEWS)
        assert st.documents() == sorted(f"n{i}" for i in range(len(NEWS)))
        data = ox.serialize(st.quads(), format=ox.RdfFormat.N_QUADS)
    return b"".join(sorted(data.splitlines(keepends=True)))


@pytest.fixture()
def single(pipeline, corpus, tmp_path):
    return _build(pipeline, corpus, tmp_path / "single")


def test_scale_worker_processes_equal_single_process(pipeline, corpus, single, tmp_path):
    assert single.count(b"\n") > 100
    assert _build(pipeline, corpus, tmp_path / "jobs2", jobs=2) == single


@pytest.fixture(scope="module")
def cluster():
    """A local Dask cluster of two worker processes, one thread each."""
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as local:
        yield local


def test_scale_dask_cluster_equals_single_process(pipeline, corpus, single, tmp_path, cluster):
    assert _build(pipeline, corpus, tmp_path / "dask", dask=cluster.scheduler_address) == single


def test_scale_dask_spreads_chunks_over_workers(corpus, cluster):
    from kg.pipeline import Settings, _worker_pipeline
    from kg.reading import iter_documents
    from kg.scale import dask_graphs

    with connect(cluster.scheduler_address) as client:
        graphs = list(dask_graphs(iter_documents([corpus]), Settings(), client, chunk=1))
        built = client.run(lambda: _worker_pipeline.cache_info().currsize)
    assert [g.id for g in graphs] == [f"n{i}" for i in range(len(NEWS))]
    assert len(built) == 2 and all(n == 1 for n in built.values()), built


def test_scale_unreachable_scheduler_is_one_clear_error():
    with pytest.raises(ClusterError, match="cannot reach the Dask scheduler at 'tcp://127.0.0.1:9'"):
        with connect("tcp://127.0.0.1:9", timeout=2):
            pass


def test_scale_store_put_documents_fast_path_replace_and_bad_input(tmp_path):
    from kg.errors import StoreError
    from kg.iri import graph_iri

    def nt(*objects: str) -> bytes:
        return "".join(f'<http://example.org/s> <http://example.org/p> "{o}" .\n' for o in objects).encode()

    with Store.open(tmp_path / "store") as st:
        assert st.put_documents([("a", nt("1", "2")), ("b", nt("3"))]) == 2  # new documents: loaded straight in
        assert st.put_documents([("a", nt("4"))]) == 1  # a stored document is replaced, not added to
        graph = ox.NamedNode(str(graph_iri("a")))
        assert sorted(q.object.value for q in st.quads(graph)) == ["4"]
        with pytest.raises(StoreError, match="cannot write document 'c'"):
            st.put_documents([("c", b"<http://example.org/s> <http://example.org/p> .\n")])
        assert st.documents() == ["a", "b"] and len(st) == 2  # nothing of the bad document was written


@settings(max_examples=200, deadline=None)
@given(text=st.text(st.characters(blacklist_categories=("Cs",)), max_size=30), lang=st.sampled_from([None, "en"]))
def test_scale_term_lines_are_the_ntriples_serialization(text, lang):
    """A build joins the terms' own N-Triples forms into lines: the bytes pyoxigraph's serializer writes."""
    literal = ox.Literal(text, language=lang) if lang else ox.Literal(text)
    s, p = ox.NamedNode("https://w3id.org/kg/id/person/a"), ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label")
    assert f"{s} {p} {literal} .\n".encode() == ox.serialize([ox.Triple(s, p, literal)], format=ox.RdfFormat.N_TRIPLES)


def test_scale_graph_ntriples_equals_serialized_graph_quads(pipeline):
    from kg.export.graph import graph_ntriples, graph_quads
    from kg.records import Document

    for i, text in enumerate(NEWS):
        res = next(pipeline.resolutions([Document(f"n{i}", text, date="2024-03-01")]))
        lines = ox.serialize([q.triple for q in graph_quads(res)], format=ox.RdfFormat.N_TRIPLES).splitlines(keepends=True)
        assert graph_ntriples(res) == b"".join(sorted(lines))
