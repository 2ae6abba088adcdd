"""Writing and reading RDF files: formats, determinism, atomicity, safe parsing."""

from __future__ import annotations

import http.server
import os
import threading
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
from rdflib.compare import isomorphic

from kg.errors import ExportError
from kg.export import FORMATS, format_for, read_rdf, write_quads


def _canonical(quads) -> ox.Dataset:
    data = ox.Dataset(quads)
    data.canonicalize(ox.CanonicalizationAlgorithm.RDFC_1_0)
    return data


def _union(quads) -> list[ox.Quad]:
    return [ox.Quad(q.subject, q.predicate, q.object) for q in quads]


def _file(tmp_path: Path, name: str) -> Path:
    return tmp_path / f"graph{FORMATS[name].extensions[0]}"


@pytest.mark.parametrize("name", FORMATS)
def test_serialize_round_trip_with_pyoxigraph(tmp_path, sample_quads, name):
    path = _file(tmp_path, name)
    count = write_quads(sample_quads, path)
    parsed = list(ox.parse(path=str(path)))
    expected = sample_quads if FORMATS[name].rdf_format.supports_datasets else _union(sample_quads)
    assert _canonical(parsed) == _canonical(expected)
    assert count == len(_canonical(expected))


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # rdflib's own parsers use deprecated APIs
@pytest.mark.parametrize("name", FORMATS)
def test_serialize_round_trip_with_rdflib(tmp_path, sample_quads, name):
    """Other tools read the files too: rdflib sees a graph isomorphic to the union of the input."""
    path = _file(tmp_path, name)
    write_quads(sample_quads, path)
    dataset = rdflib.Dataset()
    dataset.parse(path, format={"ntriples": "nt", "rdfxml": "xml", "jsonld": "json-ld"}.get(name, name))
    parsed = rdflib.Graph()
    for s, p, o, _ in dataset.quads():
        parsed.add((s, p, o))
    union = ox.serialize([q.triple for q in sample_quads], format=ox.RdfFormat.N_TRIPLES)
    expected = rdflib.Graph().parse(data=union, format="nt")
    assert isomorphic(parsed, expected)


@pytest.mark.parametrize("name", FORMATS)
def test_serialize_deterministic(tmp_path, sample_quads, name):
    """Input order and blank node labels do not change a byte of the output."""
    renamed = {}

    def relabel(term):
        return renamed.setdefault(term, ox.BlankNode()) if isinstance(term, ox.BlankNode) else term

    shuffled = [ox.Quad(relabel(q.subject), q.predicate, relabel(q.object), q.graph_name) for q in reversed(sample_quads)]
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir(), second.mkdir()
    write_quads(sample_quads, _file(first, name))
    write_quads(shuffled + sample_quads[:5], _file(second, name))
    assert _file(first, name).read_bytes() == _file(second, name).read_bytes()


def test_serialize_ntriples_sorted_and_merged(tmp_path, sample_quads):
    path = tmp_path / "graph.nt"
    count = write_quads(sample_quads, path)
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines == sorted(lines) and len(lines) == count == len(set(lines))
    # a triple present in both document graphs is written once
    assert len(set(_union(sample_quads))) == count < len(sample_quads)


def test_serialize_turtle_uses_kg_prefixes(tmp_path, sample_quads):
    path = tmp_path / "graph.ttl"
    write_quads(sample_quads, path)
    text = path.read_text(encoding="utf-8")
    assert "@prefix kg: <https://w3id.org/kg/ontology#> ." in text
    assert "kgr:Q3874799 a kg:Person" in text


def test_serialize_format_for():
    assert format_for("x.TTL") == "turtle"
    assert format_for("x.ttl", "trig") == "trig"
    assert format_for("x", ".nq") == "nquads"
    assert [format_for(f"x{ext}") for ext in (".rdf", ".owl", ".xml")] == ["rdfxml"] * 3


@pytest.mark.parametrize(
    ("path", "fmt", "expected"),
    [
        ("graph.txt", None, ".ttl, .nt, .nq, .trig, .jsonld, .rdf, .owl, .xml"),
        ("graph", None, "turtle, ntriples, nquads, trig, jsonld, rdfxml"),
        ("graph.ttl", "yaml", "choose one of turtle, ntriples, nquads, trig, jsonld, rdfxml"),
    ],
)
def test_serialize_unknown_format(tmp_path, sample_quads, path, fmt, expected):
    with pytest.raises(ExportError, match="turtle") as info:
        write_quads(sample_quads, tmp_path / path, format=fmt)
    assert expected in str(info.value) and "\n" not in str(info.value)
    assert list(tmp_path.iterdir()) == []


def test_serialize_failure_leaves_old_file(tmp_path, sample_quads, monkeypatch):
    """A serializer failing halfway leaves neither a partial file nor a temporary one."""
    path = tmp_path / "graph.trig"
    path.write_text("old content")

    def failing(items, output, *args, **kwargs):
        output.write(b"@prefix partial")
        raise ValueError("boom\nsecond line")

    monkeypatch.setattr(ox, "serialize", failing)
    with pytest.raises(ExportError, match=r"^cannot write .*graph\.trig as trig: boom$"):
        write_quads(sample_quads, path)
    assert path.read_text() == "old content"
    assert [p.name for p in tmp_path.iterdir()] == ["graph.trig"]


def test_serialize_failing_input_writes_nothing(tmp_path, sample_quads):
    def quads():
        yield from sample_quads[:10]
        raise RuntimeError("extraction crashed")

    with pytest.raises(RuntimeError):
        write_quads(quads(), tmp_path / "graph.nq")
    assert list(tmp_path.iterdir()) == []


def test_serialize_missing_folder(tmp_path, sample_quads):
    with pytest.raises(ExportError, match=r"folder .*missing does not exist; create it first$"):
        write_quads(sample_quads, tmp_path / "missing" / "graph.ttl")


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes anywhere")
def test_serialize_unwritable_folder(tmp_path, sample_quads):
    folder = tmp_path / "ro"
    folder.mkdir(mode=0o555)
    with pytest.raises(ExportError, match="Permission denied"):
        write_quads(sample_quads, folder / "graph.ttl")


def test_serialize_target_is_folder(tmp_path, sample_quads):
    (tmp_path / "graph.ttl").mkdir()
    with pytest.raises(ExportError, match="graph.ttl"):
        write_quads(sample_quads, tmp_path / "graph.ttl")
    assert [p.name for p in tmp_path.iterdir()] == ["graph.ttl"]


def test_read_rdf_triples_go_to_default_graph(tmp_path, sample_quads):
    path = tmp_path / "graph.ttl"
    write_quads(sample_quads, path)
    store = read_rdf(path)
    assert list(store.named_graphs()) == []
    assert len(store) == len(set(_union(sample_quads)))


def test_read_rdf_keeps_named_graphs(tmp_path, sample_quads):
    path = tmp_path / "graph.trig"
    write_quads(sample_quads, path)
    assert len(list(read_rdf(path).named_graphs())) == 3


def test_read_rdf_syntax_error_position(tmp_path):
    path = tmp_path / "bad.ttl"
    path.write_text("<http://example.org/s> <http://example.org/p> <http://example.org/o> .\n<http://example.org/s> <http://example.org/p>\n")
    with pytest.raises(ExportError, match=rf"^{path}:3:1: "):
        read_rdf(path)


def test_read_rdf_missing_file(tmp_path):
    with pytest.raises(ExportError, match="no such file"):
        read_rdf(tmp_path / "missing.nt")


@pytest.fixture
def http_server():
    """A local HTTP server recording the paths it is asked for."""
    requests: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            requests.append(self.path)
            body = b'{"@context": {"name": "http://example.org/name"}}'
            self.send_response(200)
            self.send_header("Content-Type", "application/ld+json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}", requests
    server.shutdown()


def test_read_rdf_no_xml_external_entities(tmp_path, http_server):
    url, requests = http_server
    secret = tmp_path / "secret.txt"
    secret.write_text("SECRET")
    path = tmp_path / "evil.rdf"
    path.write_text(
        f'<?xml version="1.0"?>\n<!DOCTYPE rdf:RDF [ <!ENTITY file SYSTEM "{secret.as_uri()}"> '
        f'<!ENTITY web SYSTEM "{url}/entity"> ]>\n'
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:ex="http://example.org/">'
        '<rdf:Description rdf:about="http://example.org/s"><ex:p>&file;&web;</ex:p></rdf:Description></rdf:RDF>'
    )
    with pytest.raises(ExportError, match="evil.rdf"):
        read_rdf(path)
    assert requests == []


def test_read_rdf_no_remote_jsonld_context(tmp_path, http_server):
    url, requests = http_server
    path = tmp_path / "evil.jsonld"
    path.write_text(f'{{"@context": "{url}/context.jsonld", "@id": "http://example.org/s", "name": "x"}}')
    with pytest.raises(ExportError, match="evil.jsonld"):
        read_rdf(path)
    assert requests == []
