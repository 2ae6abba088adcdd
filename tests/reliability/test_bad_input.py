"""Bad input through the CLI: one line naming the file (and line), a non-zero exit, nothing half-written.

Every case runs ``python -m kg`` against one small store and checks that the
store holds exactly what it held before and that no output file (nor a
temporary one) appeared. Inputs are read in full before the store is opened,
so most cases fail without loading the spaCy model.
"""

from __future__ import annotations

import json
import os
import resource
import tracemalloc
from pathlib import Path

import pyoxigraph as ox
import pytest

from kg.errors import ReadError
from kg.iri import graph_iri
from kg.reading import MAX_CHARS, iter_documents, scan
from kg.store import Store

from .helpers import assert_one_line_error, run_kg

P = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label")


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Path:
    """A store with two small documents, written directly (no spaCy)."""
    path = tmp_path_factory.mktemp("bad-input") / "store"
    with Store.open(path) as st:
        for doc in ("a", "b"):
            st.replace_document(doc, [ox.Quad(ox.NamedNode(f"https://example.org/{doc}"), P, ox.Literal(doc))])
    return path


def snapshot(store: Path) -> set[ox.Quad]:
    with Store.open(store, read_only=True) as st:
        return set(st.quads())


@pytest.fixture
def untouched(store, tmp_path):
    """Check, after the test, that the store is unchanged and the test's folder holds no partial or temporary file."""
    before = snapshot(store)
    yield
    assert snapshot(store) == before
    leftovers = [p.name for p in tmp_path.rglob("*") if p.is_file() and (p.name.startswith(".") or p.suffix in {".tmp", ".ttl", ".nt"})]
    assert leftovers == []


def build(store: Path, *args: object, **kw):
    return run_kg("build", *args, "--store", store, "--quiet", **kw)


# --- files kg refuses ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "needle"),
    [
        ("empty.txt", b"", "empty document"),
        ("blank.md", b" \n\t\r\n  \n", "empty document"),
        ("binary.txt", b"PK\x03\x04\x00\x00\x08\x00binary", "binary file (contains NUL bytes)"),
        ("empty.jsonl", b"", "empty file (no JSONL records)"),
        ("notext.jsonl", b'{"id": "x", "text": "Kyiv."}\n{"id": "y", "title": "no text"}\n', ":2: bad JSONL record (no 'text'"),
        ("bad.jsonl", b'{"text": "Kyiv."}\n{"text": "unterminated\n', ":2: bad JSONL record (Unterminated string"),
        ("array.jsonl", b'["text", "Kyiv."]\n', ":1: bad JSONL record (not a JSON object)"),
        ("deep.jsonl", b"[" * 100_000 + b"]" * 100_000 + b"\n", ":1: bad JSONL record (JSON nested too deeply)"),
        ("date.jsonl", b'{"text": "Kyiv.", "date": "May 5"}\n', ":1: bad JSONL record ('date' 'May 5' does not start"),
        ("id.jsonl", b'{"text": "Kyiv.", "id": {"a": 1}}\n', ":1: bad JSONL record ('id' must be a string or a number"),
        ("notes.pdf", b"%PDF-1.4", "unknown file type '.pdf'"),
    ],
)
def test_bad_input_file_refused(store, untouched, tmp_path, name, content, needle):
    path = tmp_path / name
    path.write_bytes(content)
    line = assert_one_line_error(build(store, path, "-o", tmp_path / "out.ttl"), str(path), needle)
    assert len(line) < 400


def test_bad_input_invalid_utf8_refused_with_strict(store, untouched, tmp_path):
    path = tmp_path / "latin1.txt"
    path.write_bytes("Zelenskiy visited Kyiv — and Kramatorsk.".encode("cp1252"))
    assert_one_line_error(build(store, path, "--strict"), str(path), "not valid UTF-8 at byte 23")


def test_bad_input_jsonl_line_invalid_utf8_named_by_line(store, untouched, tmp_path):
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(b'{"text": "Kyiv."}\n{"text": "Caf\xe9"}\n')
    assert_one_line_error(build(store, path, "--strict"), f"{path}:2", "not valid UTF-8")


def test_bad_input_20mb_single_line(store, untouched, tmp_path):
    txt = tmp_path / "huge.txt"
    txt.write_bytes(b"Kyiv " * (4 * 1024 * 1024))
    assert_one_line_error(build(store, txt), str(txt), "too long", f"at most {MAX_CHARS:,} characters")
    jsonl = tmp_path / "huge.jsonl"
    jsonl.write_bytes(b'{"text": "' + b"Kyiv " * (4 * 1024 * 1024) + b'"}\n')
    assert_one_line_error(build(store, jsonl), f"{jsonl}:1", "line too long")


def test_bad_input_fifo_in_folder_does_not_hang(store, untouched, tmp_path):
    """A FIFO named like a text file would block a reader forever: it is refused, not read."""
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "a.txt").write_text("Zelenskiy visited Kyiv.")
    os.mkfifo(folder / "b.txt")
    assert_one_line_error(build(store, folder, timeout=60), str(folder / "b.txt"), "not a regular file")


def test_bad_input_symlink_loop(store, untouched, tmp_path):
    loop = tmp_path / "loop.txt"
    loop.symlink_to(loop)
    assert_one_line_error(build(store, loop), str(loop), "symbolic link loop")
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "a.txt").write_text("Zelenskiy visited Kyiv.")
    (folder / "b.txt").symlink_to(folder / "c.txt")
    (folder / "c.txt").symlink_to(folder / "b.txt")
    assert_one_line_error(build(store, folder), "symbolic link loop")


def test_bad_input_missing_input_and_output_folder(store, untouched, tmp_path):
    assert_one_line_error(build(store, tmp_path / "nope.txt"), str(tmp_path / "nope.txt"), "no such file")
    doc = tmp_path / "a.txt"
    doc.write_text("Zelenskiy visited Kyiv.")
    out = tmp_path / "missing" / "out.ttl"
    assert_one_line_error(build(store, doc, "-o", out), str(out), "does not exist")
    (tmp_path / "folder.ttl").mkdir()
    assert_one_line_error(build(store, doc, "-o", tmp_path / "folder.ttl"), "folder.ttl", "it is a folder")
    assert_one_line_error(build(store, doc, "-o", tmp_path / "out.docx"), "out.docx", "cannot tell the RDF format")


def test_bad_input_store_that_is_not_a_store(tmp_path):
    doc = tmp_path / "a.txt"
    doc.write_text("Zelenskiy visited Kyiv.")
    (tmp_path / "photos").mkdir()
    (tmp_path / "photos" / "cat.jpg").write_bytes(b"\xff\xd8")
    assert_one_line_error(build(tmp_path / "photos", doc), "photos", "not a kg store")
    assert sorted(p.name for p in (tmp_path / "photos").iterdir()) == ["cat.jpg"]


def test_bad_input_full_disk_on_export(store, untouched, tmp_path):
    """A file size limit (as a full disk) stops the export with one line; no partial or temporary file remains."""

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (64, 64))

    out = tmp_path / "out.nt"
    run = run_kg("export", "-o", out, "--store", store, preexec_fn=limit)
    assert_one_line_error(run, str(out), "File too large")
    assert not out.exists()


def test_bad_input_full_disk_on_build(store, tmp_path):
    """The store refuses the write; it still opens, holding exactly what it held."""
    before = snapshot(store)
    doc = tmp_path / "big.txt"
    doc.write_text(" ".join(f"Vyacheslav Gladkov, the governor of Belgorod Oblast, said drones hit Belgorod on May {d}."
                            for d in list(range(1, 29)) * 12))

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (100_000, 100_000))

    run = build(store, doc, preexec_fn=limit)
    assert_one_line_error(run, str(store), "File too large")
    assert snapshot(store) == before


# --- queries ------------------------------------------------------------------------------


def test_bad_input_malformed_query(store, untouched, tmp_path):
    rq = tmp_path / "broken.rq"
    rq.write_text("SELECT ?s\nWHERE { ?s a kg:Person ")
    assert_one_line_error(run_kg("query", rq, "--store", store), f"{rq}:2:")
    rq.write_text("SELECT ?s WHERE {\n  ?s a foo:Bar }")
    assert_one_line_error(run_kg("query", rq, "--store", store), f"{rq}:2:8", "undeclared prefix 'foo:'")


def test_bad_input_query_past_timeout(tmp_path):
    """A query that would run for hours stops at --timeout with one line."""
    store = tmp_path / "store"
    with Store.open(store) as st:
        st.replace_document("n", [ox.Quad(ox.NamedNode(f"https://example.org/{i}"), P, ox.Literal(str(i))) for i in range(400)])
    rq = tmp_path / "slow.rq"
    rq.write_text("SELECT (COUNT(*) AS ?n) WHERE { ?a ?p ?b . ?c ?q ?d . ?e ?r ?f . ?g ?s ?h }")  # 400^4 rows
    assert_one_line_error(run_kg("query", rq, "--store", store, "--timeout", "1", timeout=120), "slow.rq", "timed out after 1s")


# --- what is read, and what is skipped -------------------------------------------------------


def test_bad_input_skipped_and_repaired_in_one_build(tmp_path):
    """``--skip-bad`` skips and counts malformed lines; invalid UTF-8 is read with U+FFFD and a warning naming the file."""
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "latin1.txt").write_bytes("Zelenskiy visited Kyiv — and Kramatorsk.".encode("cp1252"))
    lines = [json.dumps({"id": "good-1", "text": "Vyacheslav Gladkov is the governor of Belgorod Oblast."}), "{not json",
             json.dumps({"id": "no-text"}), json.dumps({"id": "good-2", "text": "Ctrl\x01chars and\r\nCRLF\u2028in\x85text."},
                                                       ensure_ascii=False), "[1, 2]", ""]
    (folder / "news.jsonl").write_text("\n".join(lines), encoding="utf-8")
    store = tmp_path / "store"
    run = run_kg("build", folder, "--store", store, "--skip-bad")
    assert run.code == 0, run.stderr
    assert "latin1.txt: invalid UTF-8 at byte 23, decoded with replacement characters" in run.stderr
    assert f"{folder / 'news.jsonl'}:2: bad JSONL record" in run.stderr
    assert "skipped 3 bad record(s)" in run.stderr
    with Store.open(store, read_only=True) as st:
        assert st.documents() == ["good-1", "good-2", "latin1.txt"]
        texts = {q.object.value for q in st.quads() if q.predicate.value.endswith("#isString")}
    assert "Zelenskiy visited Kyiv \ufffd and Kramatorsk." in texts
    assert "Ctrl\ufffdchars and\nCRLF\u2028in\x85text." in texts  # a JSONL line is split on \n only


def test_bad_input_reader_50000_tiny_documents(tmp_path):
    """50,000 one-line documents stream through the reader in little memory; the pre-build scan counts them."""
    path = tmp_path / "many.jsonl"
    with path.open("w", encoding="utf-8") as f:
        for i in range(50_000):
            f.write(json.dumps({"id": f"d{i}", "text": f"Document {i} is about Kyiv."}) + "\n")
    assert scan([path]).documents == 50_000
    tracemalloc.start()
    ids = [doc.id for doc in iter_documents([path])]
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert len(ids) == len(set(ids)) == 50_000 and ids[-1] == "d49999"
    assert peak < path.stat().st_size + 12_000_000  # the ids kept here, not the whole file twice


def test_bad_input_unreadable_file_in_folder(tmp_path, monkeypatch):
    """Root reads any file, so a refused read is simulated: the error names the file."""
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "a.txt").write_text("Kyiv.")
    (folder / "secret.txt").write_text("Kyiv.")
    real = Path.read_bytes

    def read_bytes(self: Path) -> bytes:
        if self.name == "secret.txt":
            raise PermissionError(13, "Permission denied", str(self))
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    with pytest.raises(ReadError, match=r"secret\.txt: cannot read \(Permission denied\)$"):
        list(iter_documents([folder]))


def test_bad_input_unreadable_subfolder(tmp_path, monkeypatch):
    folder = tmp_path / "corpus"
    (folder / "locked").mkdir(parents=True)
    (folder / "locked" / "a.txt").write_text("Kyiv.")
    real = os.scandir

    def scandir(path):
        if str(path).endswith("locked"):
            raise PermissionError(13, "Permission denied", str(path))
        return real(path)

    monkeypatch.setattr(os, "scandir", scandir)
    with pytest.raises(ReadError, match=r"locked: cannot read \(Permission denied\)$"):
        list(iter_documents([folder]))


def test_bad_input_folder_cycle_read_once(tmp_path):
    folder = tmp_path / "corpus"
    (folder / "sub").mkdir(parents=True)
    (folder / "sub" / "a.txt").write_text("Kyiv.")
    (folder / "sub" / "back").symlink_to(folder)
    assert [d.id for d in iter_documents([folder])] == ["sub/a.txt"]


def test_bad_input_document_graph_id_round_trip(tmp_path):
    """Ids from JSONL reach the store unchanged, whatever they contain."""
    ids = ["../x", "a b#c?d", "Зеленський/1", "<x> . <y>", "%41", "\u202eevil"]
    path = tmp_path / "ids.jsonl"
    path.write_text("\n".join(json.dumps({"id": i, "text": "Kyiv."}) for i in ids), encoding="utf-8")
    docs = list(iter_documents([path]))
    assert [d.id for d in docs] == ids
    with Store.open(tmp_path / "store") as st:
        for d in docs:
            st.replace_document(d.id, [ox.Quad(ox.NamedNode("https://example.org/s"), P, ox.Literal(d.text))])
        assert st.documents() == sorted(ids)
        assert all(st.has_document(i) and str(graph_iri(i)).isascii() for i in ids)
