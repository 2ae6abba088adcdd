"""Parsing untrusted RDF: ``kg query FILE`` and ``kg validate FILE`` read no local file and fetch nothing.

A local HTTP server stands for the network: it must receive no request. A
secret file stands for the local disk: it must not appear in any output.
"""

from __future__ import annotations

import http.server
import resource
import socket
import threading
from pathlib import Path

import pytest

from .helpers import assert_one_line_error, run_kg

SECRET = "kg-secret-7f3a9c"
RDF_XML = """<?xml version="1.0"?>
<!DOCTYPE rdf:RDF [
{decl}
]>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:rdfs="http://www.w3.org/2000/01/rdf-schema#">
  <rdf:Description rdf:about="http://example.org/s"><rdfs:label>{use}</rdfs:label></rdf:Description>
</rdf:RDF>
"""


@pytest.fixture
def server():
    """A local HTTP server that records every request and answers with the secret."""
    requests: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            requests.append(self.path)
            body = f'{{"@context": {{"label": "http://www.w3.org/2000/01/rdf-schema#label"}}, "x": "{SECRET}"}}'.encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/ld+json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", requests
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def secret(tmp_path) -> Path:
    path = tmp_path / "secret.txt"
    path.write_text(SECRET)
    return path


@pytest.fixture
def select_all(tmp_path) -> Path:
    rq = tmp_path / "all.rq"
    rq.write_text("SELECT * WHERE { ?s ?p ?o }")
    return rq


def _hostile_files(tmp_path: Path, url: str, secret: Path) -> dict[str, Path]:
    files = {
        "xxe-file.rdf": RDF_XML.format(decl=f'<!ENTITY s SYSTEM "{secret.as_uri()}">', use="&s;"),
        "xxe-http.rdf": RDF_XML.format(decl=f'<!ENTITY s SYSTEM "{url}/entity">', use="&s;"),
        "xxe-public.rdf": RDF_XML.format(decl=f'<!ENTITY s PUBLIC "-//x//y" "{url}/public">', use="&s;"),
        "xxe-parameter.rdf": RDF_XML.format(decl=f'<!ENTITY % p SYSTEM "{url}/dtd"> %p;', use="x"),
        "laughs.rdf": RDF_XML.format(
            decl="\n".join(['<!ENTITY l0 "lollollollol">']
                           + [f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10)]),
            use="&l9;",
        ),
        "context-url.jsonld": f'{{"@context": "{url}/context", "@id": "http://example.org/s", "label": "x"}}',
        "context-file.jsonld": f'{{"@context": "{secret.as_uri()}", "@id": "http://example.org/s", "label": "x"}}',
        "context-list.jsonld": f'{{"@context": [{{"a": "http://example.org/"}}, "{url}/c2"], "@id": "http://example.org/s"}}',
        "context-import.jsonld": f'{{"@context": {{"@version": 1.1, "@import": "{url}/c3"}}, "@id": "http://example.org/s"}}',
    }
    out = {}
    for name, text in files.items():
        out[name] = tmp_path / name
        out[name].write_text(text)
    return out


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))  # an entity bomb must not take the machine


@pytest.mark.parametrize("command", ["query", "validate"])
def test_untrusted_rdf_reads_and_fetches_nothing(tmp_path, server, secret, select_all, command):
    url, requests = server
    for name, path in _hostile_files(tmp_path, url, secret).items():
        args = (select_all, path) if command == "query" else (path,)
        run = run_kg(command, *args, preexec_fn=_limit_memory, timeout=120)
        assert_one_line_error(run, str(path))
        assert SECRET not in run.stdout + run.stderr, name
    assert requests == []


def test_untrusted_rdf_load_checks_xml_before_connecting(tmp_path, server, secret):
    """``kg load FILE.rdf`` refuses the same RDF/XML before it contacts the endpoint (here, a closed port)."""
    url, requests = server
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    for name, path in _hostile_files(tmp_path, url, secret).items():
        if path.suffix == ".rdf":
            run = run_kg("load", path, "--endpoint", f"http://127.0.0.1:{closed}", "--retries", "0",
                         preexec_fn=_limit_memory, timeout=120)
            assert_one_line_error(run, str(path), "entit")
            assert SECRET not in run.stdout + run.stderr, name
    assert requests == []


def test_untrusted_rdf_internal_entities_still_read(tmp_path, select_all):
    """Plain internal entities, as ontology editors write them, are expanded as XML says."""
    path = tmp_path / "onto.rdf"
    path.write_text(RDF_XML.format(decl='<!ENTITY ex "http://example.org/">', use="&ex;label"))
    run = run_kg("query", select_all, path, "--format", "csv")
    assert run.code == 0, run.stderr
    assert "http://example.org/label" in run.stdout
