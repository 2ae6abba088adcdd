"""The on-disk store: document graphs replaced atomically, locking, queries, dump."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import pyoxigraph as ox
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kg.errors import StoreError
from kg.iri import META_GRAPH, graph_iri
from kg.store import Store
from kg.vocab import KG

PERSON = str(KG.Person)


@pytest.fixture
def store(tmp_path, sample_documents):
    with Store.open(tmp_path / "store") as store:
        for doc in sample_documents:
            store.replace_document(doc.id, doc.quads, metadata_quads=doc.metadata)
        yield store


def _graph_size(store: Store, doc_id: str) -> int:
    return sum(1 for _ in store.quads(graph_iri(doc_id)))


def test_store_replace_document_twice_same_size(store, sample_documents):
    before = len(store)
    doc = sample_documents[0]
    assert store.replace_document(doc.id, doc.quads, metadata_quads=doc.metadata) == len(set(doc.quads))
    assert len(store) == before
    assert sum(1 for _ in store.quads(META_GRAPH)) == sum(len(d.metadata) for d in sample_documents)


def test_store_replace_document_replaces(store, sample_documents):
    doc, other = sample_documents
    store.replace_document(doc.id, doc.quads[:10])
    assert _graph_size(store, doc.id) == 10
    assert _graph_size(store, other.id) == len(set(other.quads))
    # the old VoID description of the document is gone with no new one given
    assert not any(q.subject.value == str(graph_iri(doc.id)) for q in store.quads(META_GRAPH))


def test_store_replace_with_nothing_removes_document(store, sample_documents):
    doc = sample_documents[0]
    store.replace_document(doc.id, [])
    assert store.documents() == [sample_documents[1].id]
    assert not store.has_document(doc.id)


def test_store_documents(store, sample_documents):
    assert store.documents() == sorted(d.id for d in sample_documents)
    assert store.has_document(sample_documents[0].id) and not store.has_document("missing")


def test_store_default_graph_quads_go_to_document(tmp_path):
    q = ox.Quad(ox.NamedNode("http://example.org/s"), ox.NamedNode("http://example.org/p"), ox.Literal("o"))
    with Store.open(tmp_path / "store") as store:
        store.replace_document("doc with spaces/é", [q])
        assert store.documents() == ["doc with spaces/é"]
        assert [x.graph_name.value for x in store.quads()] == [str(graph_iri("doc with spaces/é"))]


def test_store_rejects_quad_in_other_graph(store, sample_documents):
    doc, other = sample_documents
    before = len(store)
    with pytest.raises(StoreError, match="expected <https://w3id.org/kg/graph/doc/2023-05-24-bakhmut>"):
        store.replace_document(doc.id, [*doc.quads, other.quads[0]])
    assert len(store) == before


def test_store_blank_nodes_of_documents_never_merge(tmp_path):
    b = ox.BlankNode("same-label")
    p = ox.NamedNode("http://example.org/p")
    with Store.open(tmp_path / "store") as store:
        store.replace_document("a", [ox.Quad(b, p, ox.Literal("a"))])
        store.replace_document("b", [ox.Quad(b, p, ox.Literal("b"))])
        assert len({q.subject for q in store.quads()}) == 2


@pytest.fixture(scope="module")
def scratch_store(tmp_path_factory):
    with Store.open(tmp_path_factory.mktemp("scratch") / "store") as store:
        yield store


@settings(max_examples=100, deadline=None)
@given(text=st.text(st.characters(blacklist_categories=("Cs",)), max_size=40), lang=st.sampled_from([None, "en", "uk"]))
def test_store_literals_survive_replace(scratch_store, text, lang):
    """Any text from an article is stored exactly (the update is built from N-Triples terms)."""
    literal = ox.Literal(text, language=lang) if lang else ox.Literal(text)
    q = ox.Quad(ox.NamedNode("http://example.org/s"), ox.NamedNode("http://example.org/p"), literal)
    scratch_store.replace_document("d", [q])
    assert [x.object for x in scratch_store.quads()] == [literal]


def test_store_query_over_union(store):
    result = store.query("SELECT DISTINCT ?p WHERE { ?p a kg:Person }")
    assert sorted(row[0].value for row in result.rows) == [
        "https://w3id.org/kg/id/Q3874799",
        "https://w3id.org/kg/id/person/vyacheslav-gladkov",
    ]


def test_store_find_entities_by_label(store):
    zelenskiy = "https://w3id.org/kg/id/Q3874799"
    assert store.find_entities_by_label("Volodymyr Zelenskiy") == [zelenskiy]
    assert store.find_entities_by_label("Zelenskiy", PERSON) == [zelenskiy]  # an alternative label
    assert store.find_entities_by_label("Zelenskiy", str(KG.Country)) == []
    assert store.find_entities_by_label("Belgorod") == ["https://w3id.org/kg/id/settlement/belgorod"]
    assert store.find_entities_by_label("belgorod") == []


def _as_stored(quads) -> list[ox.Quad]:
    """What pyoxigraph keeps of quads: it stores numeric and date values, not their lexical forms."""
    store = ox.Store()
    store.extend(quads)
    return list(store)


def test_store_keeps_values_not_integer_subtypes():
    """pyoxigraph 0.5 stores "7"^^xsd:nonNegativeInteger as "7"^^xsd:integer and "0.90" as "0.9" (same values)."""
    xsd = "http://www.w3.org/2001/XMLSchema#"
    s, p = ox.NamedNode("http://example.org/s"), ox.NamedNode("http://example.org/p")
    stored = _as_stored([ox.Quad(s, p, ox.Literal("7", datatype=ox.NamedNode(xsd + "nonNegativeInteger")))])
    assert stored[0].object == ox.Literal("7", datatype=ox.NamedNode(xsd + "integer"))


def test_store_dump_round_trip(store, tmp_path, sample_quads):
    count = store.dump(tmp_path / "dump.nq")
    dumped = ox.Dataset(ox.parse(path=str(tmp_path / "dump.nq")))
    expected = ox.Dataset(_as_stored(sample_quads))
    for data in (dumped, expected):
        data.canonicalize(ox.CanonicalizationAlgorithm.RDFC_1_0)
    assert dumped == expected and count == len(expected)


def test_store_dump_deterministic_across_rebuilds(tmp_path, sample_documents):
    """The store renames blank nodes on every write; dumps still compare byte for byte."""
    dumps = []
    for run in range(2):
        with Store.open(tmp_path / f"store{run}") as store:
            for doc in reversed(sample_documents) if run else sample_documents:
                store.replace_document(doc.id, doc.quads, metadata_quads=doc.metadata)
            store.dump(tmp_path / f"dump{run}.trig")
        dumps.append((tmp_path / f"dump{run}.trig").read_bytes())
    assert dumps[0] == dumps[1]


def test_store_read_only(store, tmp_path, sample_documents):
    size = len(store)
    store.close()
    with Store.open(tmp_path / "store", read_only=True) as reader, Store.open(tmp_path / "store", read_only=True) as other:
        assert len(reader) == len(other) == size
        with pytest.raises(StoreError, match="opened read-only"):
            reader.replace_document("x", [])


def test_store_read_only_missing(tmp_path):
    with pytest.raises(StoreError, match=r"no store at .*missing; build one first"):
        Store.open(tmp_path / "missing", read_only=True)
    assert not (tmp_path / "missing").exists()


def test_store_path_is_a_file(tmp_path):
    (tmp_path / "store").write_text("x")
    with pytest.raises(StoreError, match="is a file"):
        Store.open(tmp_path / "store")


def test_store_refuses_other_folder(tmp_path):
    (tmp_path / "notes.txt").write_text("not a store")
    with pytest.raises(StoreError, match="is a folder but not a kg store"):
        Store.open(tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


def test_store_closed(tmp_path):
    store = Store.open(tmp_path / "store")
    store.close()
    store.close()
    with pytest.raises(StoreError, match="is closed"):
        len(store)
    with Store.open(tmp_path / "store") as again:  # the database and the lock were released
        assert len(again) == 0


# --- two processes --------------------------------------------------------------------------

HOLDER = """
import sys
from kg.store import Store
store = Store.open(sys.argv[1], read_only=sys.argv[2] == "ro")
print("ready", flush=True)
sys.stdin.readline()
store.close()
"""


@pytest.fixture
def holder(tmp_path):
    """Start another process holding the store at tmp_path/store (``mode`` "rw" or "ro")."""
    procs = []

    def start(mode: str) -> subprocess.Popen:
        proc = subprocess.Popen(
            [sys.executable, "-c", HOLDER, str(tmp_path / "store"), mode],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )
        procs.append(proc)
        assert proc.stdout.readline().strip() == "ready"
        return proc

    yield start
    for proc in procs:
        if proc.poll() is None:
            proc.communicate("\n", timeout=30)


def test_store_second_writer_waits_then_fails(tmp_path, holder):
    Store.open(tmp_path / "store").close()
    proc = holder("rw")
    started = time.monotonic()
    with pytest.raises(StoreError) as info:
        Store.open(tmp_path / "store", lock_timeout=0.5)
    assert time.monotonic() - started >= 0.5
    assert str(info.value) == (
        f"store {tmp_path / 'store'} is in use by another kg process (pid {proc.pid}); wait or use another --store"
    )
    proc.communicate("\n", timeout=30)
    with Store.open(tmp_path / "store", lock_timeout=5) as store:
        assert len(store) == 0


def test_store_reader_waits_for_writer(tmp_path, holder):
    Store.open(tmp_path / "store").close()
    holder("rw")
    with pytest.raises(StoreError, match="in use by another kg process"):
        Store.open(tmp_path / "store", read_only=True, lock_timeout=0.2)


def test_store_readers_share(tmp_path, holder):
    Store.open(tmp_path / "store").close()
    holder("ro")
    with Store.open(tmp_path / "store", read_only=True, lock_timeout=0.2) as reader:
        assert len(reader) == 0
    with pytest.raises(StoreError, match="in use by another kg process; wait"):  # no writer pid to report
        Store.open(tmp_path / "store", lock_timeout=0.2)


WRITER = """
import sys
import pyoxigraph as ox
from kg.store import Store
p = ox.NamedNode("http://example.org/p")
versions = [[ox.Quad(ox.NamedNode(f"http://example.org/{v}/{i}"), p, ox.Literal(str(i))) for i in range(n)]
            for v, n in ((0, 3000), (1, 5000))]
with Store.open(sys.argv[1]) as store:
    store.replace_document("doc", versions[0])
    print("ready", flush=True)
    i = 1
    while True:
        store.replace_document("doc", versions[i % 2])
        i += 1
"""


def _kill_writer(script: str, store, delay: float) -> None:
    """Run a writing script on ``store``; once it is ready, let it write ``delay`` seconds, then SIGKILL it."""
    proc = subprocess.Popen([sys.executable, "-c", textwrap.dedent(script), str(store)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready"
    time.sleep(delay)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)


@pytest.mark.parametrize("delay", [0.05, 0.2, 0.45])
def test_store_killed_writer_leaves_old_or_new_graph(tmp_path, delay):
    _kill_writer(WRITER, tmp_path / "store", delay)
    with Store.open(tmp_path / "store", lock_timeout=5) as store:
        assert _graph_size(store, "doc") in (3000, 5000)
        assert len({q.subject.value.split("/")[3] for q in store.quads()}) == 1  # one version, not a mix


# --- bulk loads and their journal -----------------------------------------------------------


def _nt(doc: str, n: int) -> bytes:
    return "".join(f'<http://example.org/{doc}/{i}> <http://example.org/p> "{i}" .\n' for i in range(n)).encode()


def test_store_put_documents_bulk_loads_new_documents_in_order(tmp_path):
    docs = [(f"d{i}", _nt(f"d{i}", 5)) for i in range(12)]
    with Store.open(tmp_path / "store") as store:
        store.replace_document("d3", [ox.Quad(ox.NamedNode("http://example.org/old"), ox.NamedNode("http://example.org/p"),
                                              ox.Literal("x"))])
        assert store.put_documents([*docs, ("d5", _nt("d5", 2))]) == 13  # d3 is replaced, d5 twice: the last wins
        assert store.documents() == sorted(d for d, _ in docs)
        assert {d: _graph_size(store, d) for d in store.documents()} == {d: 2 if d == "d5" else 5 for d, _ in docs}
        assert not any(q.subject.value.endswith("/old") for q in store.quads())
    assert not (tmp_path / "store.pending").exists()


def test_store_bad_document_in_a_bulk_load_is_named_and_nothing_after_it_written(tmp_path):
    docs = [(f"d{i}", _nt(f"d{i}", 3)) for i in range(10)]
    docs[6] = ("d6", b'<http://example.org/s> <http://example.org/p> .\n')
    with Store.open(tmp_path / "store") as store:
        with pytest.raises(StoreError, match="cannot write document 'd6'"):
            store.put_documents(docs)
        assert store.documents() == [f"d{i}" for i in range(6)] and len(store) == 18
    assert not (tmp_path / "store.pending").exists()


def test_store_interrupted_bulk_load_is_undone_before_a_read(tmp_path):
    """A journal left by a killed writer: the graphs it lists go (here half loaded), the others stay whole."""
    with Store.open(tmp_path / "store") as store:
        store.put_documents([("kept", _nt("kept", 4))])
        half = ox.NamedNode(str(graph_iri("half")))
        store.pyoxigraph.load(_nt("half", 3), format=ox.RdfFormat.N_TRIPLES, to_graph=half)  # what a kill leaves
    (tmp_path / "store.pending").write_text(f"{half.value}\n{graph_iri('never')}\n")
    with Store.open(tmp_path / "store", read_only=True) as store:
        assert store.documents() == ["kept"] and len(store) == 4
    assert not (tmp_path / "store.pending").exists()


BULK_WRITER = """
import sys
from kg.store import Store
def nt(doc, n):
    return "".join(f'<http://example.org/{doc}/{i}> <http://example.org/p> "{i}" .\\n' for i in range(n)).encode()
with Store.open(sys.argv[1]) as store:
    print("ready", flush=True)
    batch = 0
    while True:
        store.put_documents((f"b{batch}-{i}", nt(f"b{batch}-{i}", 400)) for i in range(16))
        batch += 1
"""


@pytest.mark.parametrize("delay", [0.1, 0.3, 0.7])
def test_store_killed_bulk_loader_leaves_whole_documents(tmp_path, delay):
    _kill_writer(BULK_WRITER, tmp_path / "store", delay)
    with Store.open(tmp_path / "store", read_only=True, lock_timeout=5) as store:
        sizes = {d: _graph_size(store, d) for d in store.documents()}
    assert sizes and set(sizes.values()) == {400}
    assert not (tmp_path / "store.pending").exists()


def test_a_build_writes_the_store_in_batches_of_triples_or_of_time(tmp_path, monkeypatch):
    from kg import pipeline

    graphs = [pipeline.DocumentGraph(f"d{i}", b"".join(b'<http://example.org/d%d> <http://example.org/p> "%d" .\n' % (i, k)
                                                       for k in range(10)), 1, 1, 10) for i in range(25)]
    monkeypatch.setattr(pipeline, "WRITE_QUADS", 100)
    assert [len(b) for b in pipeline._batches(graphs)] == [10, 10, 5]  # 100 triples a write, the rest at the end
    monkeypatch.setattr(pipeline, "WRITE_SECONDS", 0.0)  # a batch as old as that is written as it stands
    assert [len(b) for b in pipeline._batches(graphs)] == [1] * 25
    seen = []
    with Store.open(tmp_path / "store") as store:
        pipeline.write_graphs(graphs, store, on_document=lambda g: seen.append(g.id))
        assert store.documents() == sorted(g.id for g in graphs) and len(store) == 250
    assert seen == [g.id for g in graphs]  # each document reported as it is built
