"""Crash safety: ``kg build`` killed with SIGKILL at random points loses nothing it committed.

A reference build of a small corpus gives each document's graph. Then a build
of the same corpus into another store is killed several times at random
moments; after each kill the store must open and hold only whole documents
(each graph identical to the reference), and the output file must be whole or
absent. A last uninterrupted run completes the store: exactly the reference,
no duplicates. Two builds on one store wait for each other or stop with a
clear message.
"""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyoxigraph as ox
import pytest

from kg.iri import graph_iri
from kg.paths import SEEDS_DIR
from kg.store import Store

from .helpers import ROOT, assert_one_line_error, run_kg

DOCUMENTS = 96  # more than two of a build's writes to the store (kg.pipeline.WRITE_QUADS)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    """A JSONL corpus: the seed article under many ids.

    Each document holds every name it uses in full, so the cross-document pass at
    the end of a build changes nothing: a document's graph is the same whether
    the build that wrote it finished or was killed.
    """
    text = "\n\n".join(f.read_text() for f in sorted(SEEDS_DIR.glob("*.txt")))
    path = tmp_path_factory.mktemp("crash") / "corpus.jsonl"
    with path.open("w", encoding="utf-8") as f:
        for i in range(DOCUMENTS):
            f.write(json.dumps({"id": f"doc-{i:03d}", "text": text, "date": "2023-05-24"}) + "\n")
    return path


def graphs(store: Path) -> dict[str, set[ox.Quad]]:
    """Each document's graph, as stored."""
    with Store.open(store, read_only=True) as st:
        return {doc: set(st.quads(graph_iri(doc))) for doc in st.documents()}


@pytest.fixture(scope="module")
def reference(corpus, tmp_path_factory) -> tuple[dict[str, set[ox.Quad]], float]:
    """The graphs of an uninterrupted build, and how long that build took."""
    store = tmp_path_factory.mktemp("reference") / "store"
    start = time.monotonic()
    run = run_kg("build", corpus, "--store", store, "--quiet")
    assert run.code == 0, run.stderr
    return graphs(store), time.monotonic() - start


def _kg(*args: object) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "kg", *map(str, args)], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _writing(store: Path, proc: subprocess.Popen, timeout: float = 300) -> bool:
    """Wait until ``proc`` has begun writing documents (the store's files grow); False if it ended first."""
    lock, deadline = store.with_name(store.name + ".lock"), time.monotonic() + timeout
    while not (lock.exists() and lock.read_text().strip() == str(proc.pid)):  # the store is open
        if proc.poll() is not None or time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    baseline = _size(store)
    while _size(store) <= baseline:
        if proc.poll() is not None or time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def _size(store: Path) -> int:
    """Bytes in the store's data files: its write-ahead log (``*.log``), and the tables (``*.sst``) a bulk load
    adds; not the files opening a store makes."""
    total = 0
    if not store.is_dir():  # the lock is taken before the store's directory is made
        return total
    for p in store.iterdir():
        if p.suffix not in {".log", ".sst"}:
            continue
        try:
            total += p.stat().st_size
        except FileNotFoundError:  # removed by a compaction meanwhile
            pass
    return total


def test_crash_sigkill_at_random_points(corpus, reference, tmp_path):
    expected, _ = reference
    assert len(expected) == DOCUMENTS
    store, output = tmp_path / "store", tmp_path / "out.nq"
    rng = random.Random(2026)
    seen = []
    # once while spaCy loads, then at random moments after the first document was written
    for delay in (rng.uniform(0.5, 3.0), *(rng.uniform(0.0, 4.0) for _ in range(3))):
        proc = _kg("build", corpus, "--store", store, "-o", output, "--quiet")
        if seen and not _writing(store, proc):
            pytest.fail(f"the build ended before writing: {proc.stderr.read().decode()[-500:]}")
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
        proc.stderr.close()
        if not store.exists():  # killed before the store was created
            seen.append(0)
            continue
        stored = graphs(store)  # the store opens
        assert set(stored) <= set(expected)
        for doc, quads in stored.items():
            assert quads == expected[doc], f"document {doc} is not whole after a kill"
        seen.append(len(stored))
        if output.exists():  # written after the build: whole, or not at all
            parsed = {q.triple for q in ox.parse(path=str(output))}
            assert parsed == {q.triple for quads in expected.values() for q in quads} | _meta_triples(store)
    assert any(0 < n < DOCUMENTS for n in seen), f"no kill landed mid-build: {seen}"
    run = run_kg("build", corpus, "--store", store, "-o", output, "--quiet")  # the re-run completes the store
    assert run.code == 0, run.stderr
    assert graphs(store) == expected
    with Store.open(store, read_only=True) as st:
        assert len(st) == len(set(st.quads()))  # no duplicates
    written = {q for q in ox.parse(path=str(output))}
    assert written >= {q for quads in expected.values() for q in quads}
    assert not list(tmp_path.glob(".out.nq.*"))  # no temporary file left by the finished run


def _meta_triples(store: Path) -> set[ox.Triple]:
    """Triples outside the document graphs (the VoID description of the dataset)."""
    with Store.open(store, read_only=True) as st:
        docs = {ox.NamedNode(str(graph_iri(d))) for d in st.documents()}
        return {q.triple for q in st.quads() if q.graph_name not in docs}


def test_crash_second_build_waits_or_stops_clearly(corpus, reference, tmp_path):
    """Two builds of one corpus on one store: the second waits for the lock or stops with one line."""
    expected, _ = reference
    store = tmp_path / "store"
    first = _kg("build", corpus, "--store", store, "--quiet")
    lock = store.with_name("store.lock")
    deadline = time.monotonic() + 120
    while not (lock.exists() and lock.read_text().strip()) and time.monotonic() < deadline:
        time.sleep(0.1)  # the first build holds the store
    second = run_kg("build", corpus, "--store", store, "--quiet")
    assert first.wait(timeout=600) == 0, first.stderr.read().decode()
    first.stderr.close()
    if second.code != 0:
        assert_one_line_error(second, str(store), "in use by another kg process", f"(pid {first.pid})")
    assert graphs(store) == expected


def test_crash_build_stops_when_the_store_stays_locked(corpus, tmp_path):
    """A store held by another process (here, this test) is never written: the build stops after its wait."""
    store = tmp_path / "store"
    with Store.open(store) as held:
        held.replace_document("kept", [ox.Quad(ox.NamedNode("https://example.org/s"),
                                               ox.NamedNode("https://example.org/p"), ox.Literal("o"))])
        run = run_kg("build", corpus, "--store", store, "--quiet")
    assert_one_line_error(run, str(store), "in use by another kg process")
    assert list(graphs(store)) == ["kept"]
