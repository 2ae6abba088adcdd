"""`kg serve`: the SPARQL 1.1 Protocol over the embedded store, answering SPARQLWrapper and plain HTTP.

The server runs as a user starts it (``python -m kg serve``); its guards against
hostile requests (SERVICE, timeouts, result limits) are in
``tests/reliability/test_endpoints.py``.
"""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pyoxigraph as ox
import pytest

from kg.errors import QueryError, StoreError
from kg.paths import QUERIES_DIR
from kg.query import load_query, run_query, with_prefixes
from kg.remote.guard import check_remote, remote_iris
from kg.store import Store
from kg.store.void import DATASET

COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"


class Served:
    """A running ``kg serve`` process."""

    def __init__(self, args: list[str], kg_command: list[str]):
        self.process = subprocess.Popen([*kg_command, "serve", *args], stdout=subprocess.DEVNULL,
                                        stderr=subprocess.PIPE, text=True)
        self.banner = self.process.stderr.readline()  # printed once the server answers
        if self.process.poll() is not None or "serving" not in self.banner:
            raise RuntimeError(f"kg serve did not start: {self.banner}{self.process.stderr.read()}")
        self.query_url = self.banner.split(" at ", 1)[1].split()[0]

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=30)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def start_serve():
    started: list[Served] = []

    def start(store: Path, *more: str) -> Served:
        served = Served(["--store", str(store), "--port", str(_free_port()), *more], [sys.executable, "-m", "kg"])
        started.append(served)
        return served

    yield start
    for served in started:
        served.stop()


@pytest.fixture(scope="module")
def served(start_serve, seed_store):
    return start_serve(seed_store)


def _post(url: str, field: str, text: str, accept: str = "application/sparql-results+json") -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=urllib.parse.urlencode({field: text}).encode(), headers={"Accept": accept})
    return _send(request)[:2]


def _send(request: urllib.request.Request) -> tuple[int, bytes, dict[str, str]]:
    """Status, body and headers (lower-case names) of a request, whatever its status."""
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read(), {k.lower(): v for k, v in response.headers.items()}
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(), {k.lower(): v for k, v in exc.headers.items()}


def test_serve_answers_sparqlwrapper(served, seed_store):
    from SPARQLWrapper import JSON, SPARQLWrapper

    text = load_query(QUERIES_DIR / "people-positions.rq")
    with Store.open(seed_store, read_only=True) as st:
        local = run_query(text, st)
    client = SPARQLWrapper(served.query_url)
    client.setQuery(with_prefixes(text))
    client.setReturnFormat(JSON)
    bindings = client.queryAndConvert()["results"]["bindings"]
    assert [row["name"]["value"] for row in bindings] == [row[1].value for row in local.rows]


def test_serve_answers_plain_http_json(served, seed_store):
    url = f"{served.query_url}?{urllib.parse.urlencode({'query': COUNT})}"
    request = urllib.request.Request(url, headers={"Accept": "application/sparql-results+json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.headers["Content-Type"].startswith("application/sparql-results+json")
        n = int(json.load(response)["results"]["bindings"][0]["n"]["value"])
    with Store.open(seed_store, read_only=True) as st:
        assert len(st) > 0
        local = int(run_query(COUNT, st).rows[0][0].value)
    void = _post(served.query_url, "query", f"SELECT ?n WHERE {{ {DATASET} <http://rdfs.org/ns/void#triples> ?n }}")
    assert int(json.loads(void[1])["results"]["bindings"][0]["n"]["value"]) == local
    assert n > local  # the union also holds the snapshot's VoID description


def test_serve_refuses_updates(served):
    before = _post(served.query_url, "query", COUNT)[1]
    status, body = _post(served.query_url.replace("/query", "/update"), "update", "DROP ALL")
    assert status == 403, body
    request = urllib.request.Request(served.query_url.replace("/query", "/store?default"), method="POST",
                                     data=b'<http://example.org/s> <http://example.org/p> "o" .',
                                     headers={"Content-Type": "application/n-triples"})
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(request, timeout=30)
    assert info.value.code == 403
    assert _post(served.query_url, "query", COUNT)[1] == before


def _listening(port: int) -> list[str]:
    """Local addresses with a listening TCP socket on ``port`` (from /proc/net/tcp and tcp6)."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        if not Path(table).exists():
            continue
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.split(":")
            if state == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                found.append(address)
    return found


def test_serve_listens_on_localhost_only_by_default(served):
    port = int(served.query_url.rsplit(":", 1)[1].split("/")[0])
    assert served.query_url.startswith("http://127.0.0.1:")
    assert _listening(port) == ["0100007F"]  # 127.0.0.1, and no wildcard or IPv6 socket


def test_serve_snapshot_leaves_store_writable(start_serve, seed_store, tmp_path):
    store = tmp_path / "store"
    shutil.copytree(seed_store, store)
    served = start_serve(store, "--cors", "--workers", "1")
    with Store.open(store, lock_timeout=1) as st:  # a writer can take the store while it is served
        st.replace_document("added", [])
    assert _post(served.query_url, "query", COUNT)[0] == 200
    headers = _send(urllib.request.Request(f"{served.query_url}?query=ASK%7B%7D"))[2]
    assert headers["access-control-allow-origin"] == "*"  # --cors
    status, _, headers = _send(urllib.request.Request(served.query_url, method="OPTIONS"))
    assert status == 204 and "POST" in headers["access-control-allow-methods"]
    folders = list(tmp_path.glob(".store.serve-*"))
    assert len(folders) == 1
    assert served.stop() == 0
    assert not folders[0].exists()  # the snapshot is removed


def test_serve_writable_takes_updates_and_holds_the_lock(start_serve, seed_store, tmp_path):
    store = tmp_path / "store"
    shutil.copytree(seed_store, store)
    served = start_serve(store, "--writable", "--timeout", "2")
    insert = 'INSERT DATA { GRAPH <http://example.org/g> { <http://example.org/s> <http://example.org/p> "o" } }'
    assert _post(served.query_url.replace("/query", "/update"), "update", insert)[0] == 204
    status, body = _post(served.query_url.replace("/query", "/update"), "update", "LOAD <http://127.0.0.1:9/x.ttl>")
    assert status == 403 and b"--allow-service" in body  # writable, yet it fetches nothing it was not told to
    with pytest.raises(StoreError, match="in use by another kg process"):
        Store.open(store, read_only=True, lock_timeout=0.2)
    graph = served.query_url.replace("/query", "/store?graph=http%3A%2F%2Fexample.org%2Fh")
    turtle = b'<http://example.org/a> <http://example.org/b> "one", "two" .'
    put = urllib.request.Request(graph, data=turtle, method="PUT", headers={"Content-Type": "text/turtle"})
    assert _send(put)[0] == 201
    status, body, headers = _send(urllib.request.Request(graph, headers={"Accept": "application/n-triples"}))
    assert status == 200 and headers["content-type"].startswith("application/n-triples")
    assert {t.object.value for t in ox.parse(body, format=ox.RdfFormat.N_TRIPLES)} == {"one", "two"}
    assert _send(urllib.request.Request(graph, method="DELETE"))[0] == 204
    assert _send(urllib.request.Request(graph))[0] == 404
    endless = ("INSERT { GRAPH <http://example.org/big> { ?a ?b ?f } } "
               "WHERE { GRAPH ?x { ?a ?b ?c } GRAPH ?y { ?d ?e ?f } GRAPH ?z { ?g ?h ?i } }")
    assert _post(served.query_url.replace("/query", "/update"), "update", endless)[0] == 503  # stopped
    assert served.stop() == 0
    with Store.open(store, read_only=True) as st:
        assert len(list(st.quads("http://example.org/g"))) == 1
        assert list(st.quads("http://example.org/h")) == []
        assert list(st.quads("http://example.org/big")) == []  # the stopped update left nothing


def test_serve_errors(kg, tmp_path, served):
    run = kg("serve", "--store", tmp_path / "missing")
    assert run.code == 2 and "no store at" in run.err
    port = served.query_url.rsplit(":", 1)[1].split("/")[0]
    run = kg("serve", "--store", served.banner.split("serving ", 1)[1].split(" (")[0], "--port", port)
    assert run.code == 2 and f"cannot listen on 127.0.0.1:{port}: Address already in use" in run.err


def test_serve_cli_warns_when_exposed_and_checks_allowed_services(kg, tmp_path):
    run = kg("serve", "--store", tmp_path / "missing", "--bind", "0.0.0.0")
    assert "warning: listening on 0.0.0.0: anyone who can reach this machine can query" in run.err
    assert run.code == 2 and "no store at" in run.err
    store = tmp_path / "store"
    Store.open(store).close()
    run = kg("serve", "--store", store, "--allow-service", "file:///etc/passwd")
    assert run.code == 2 and "--allow-service 'file:///etc/passwd' is not an http:// or https:// URL" in run.err


SELECT_LABELS = "SELECT ?e ?name WHERE { ?e a kg:Person ; rdfs:label ?name } ORDER BY ?e ?name"


@pytest.mark.parametrize("accept", ["application/sparql-results+json", "application/sparql-results+xml", "text/csv",
                                    "text/tab-separated-values", "application/json", "text/html;q=0.9, */*;q=0.1", ""])
def test_serve_negotiates_result_formats(served, seed_store, accept):
    """Each results format parses back to the rows of the same query run locally."""
    status, body, headers = _send(urllib.request.Request(
        served.query_url, data=urllib.parse.urlencode({"query": SELECT_LABELS}).encode(), headers={"Accept": accept}))
    assert status == 200, body
    fmt = ox.QueryResultsFormat.from_media_type(headers["content-type"].split(";")[0])
    assert fmt == (ox.QueryResultsFormat.from_media_type(accept) or ox.QueryResultsFormat.JSON)
    with Store.open(seed_store, read_only=True) as st:
        local = run_query(SELECT_LABELS, st).rows
    assert len(local) > 0
    if fmt == ox.QueryResultsFormat.CSV:  # values only, which pyoxigraph does not parse
        rows = list(csv.reader(io.StringIO(body.decode())))
        assert rows == [["e", "name"]] + [[t.value for t in row] for row in local]
    else:
        assert [tuple(s) for s in ox.parse_query_results(body, format=fmt)] == list(local)


@pytest.mark.parametrize("accept", ["text/turtle", "application/n-triples", "application/rdf+xml",
                                    "application/ld+json", "application/n-quads", "*/*"])
def test_serve_negotiates_graph_formats(served, seed_store, accept):
    query = "CONSTRUCT { ?e rdfs:label ?name } WHERE { ?e a kg:Location ; rdfs:label ?name }"
    status, body, headers = _send(urllib.request.Request(
        served.query_url, data=urllib.parse.urlencode({"query": query}).encode(), headers={"Accept": accept}))
    assert status == 200, body
    fmt = ox.RdfFormat.from_media_type(headers["content-type"].split(";")[0])
    assert fmt == (ox.RdfFormat.from_media_type(accept) or ox.RdfFormat.TURTLE)
    got = {(q.subject, q.predicate, q.object) for q in ox.parse(body, format=fmt)}
    with Store.open(seed_store, read_only=True) as st:
        local = set(run_query(query, st).rows)
    assert got == local and len(got) > 0


def test_serve_protocol(served, seed_store):
    """The SPARQL 1.1 Protocol's request forms, dataset parameters and errors, each with its status."""
    url = served.query_url
    with Store.open(seed_store, read_only=True) as st:
        graph = next(q.graph_name.value for q in st.quads())
    direct = urllib.request.Request(url, data=COUNT.encode(), headers={"Content-Type": "application/sparql-query"})
    assert _send(direct)[0] == 200
    only = f"{url}?{urllib.parse.urlencode({'query': COUNT, 'default-graph-uri': graph})}"
    n_graph = int(json.loads(_send(urllib.request.Request(only))[1])["results"]["bindings"][0]["n"]["value"])
    n_all = int(json.loads(_post(url, "query", COUNT)[1])["results"]["bindings"][0]["n"]["value"])
    assert 0 < n_graph < n_all
    status, body = _post(url, "query", "SELECT ?s WHERE {\n  ?s ?p\n}")
    assert status == 400 and re.match(rb"query:\d+:\d+: syntax error", body), body  # FILE:LINE:COL, as kg query
    checks = [
        (urllib.request.Request(url), 400, b"give exactly one query"),
        (urllib.request.Request(f"{url}?query=ASK%7B%7D&query=ASK%7B%7D"), 400, b"exactly one"),
        (urllib.request.Request(url, data=b"ASK {}", headers={"Content-Type": "text/plain"}), 415, b"application/sparql-query"),
        (urllib.request.Request(f"{url}?query=ASK%7B%7D", headers={"Accept": "image/png"}), 406, b"text/csv"),
        (urllib.request.Request(url, method="PUT", data=b""), 405, b"GET, POST"),
        (urllib.request.Request(url.replace("/query", "/admin")), 404, b"/update"),
        (urllib.request.Request(f"{url}?query=ASK%7B%7D&default-graph-uri=not%20an%20iri"), 400, b"not a valid graph IRI"),
    ]
    for request, status, needle in checks:
        got, body, _ = _send(request)
        assert (got, needle in body) == (status, True), (request.full_url, body)
    status, body, headers = _send(urllib.request.Request(url.removesuffix("query")))
    assert status == 200 and headers["content-type"].startswith("text/html") and b"Yasgui" in body
    assert "access-control-allow-origin" not in headers  # no --cors


@pytest.mark.parametrize(("text", "found"), [
    ("SELECT * { SERVICE <https://example.org/sparql> {} }", [("SERVICE", "https://example.org/sparql")]),
    ("PREFIX wd: <https://example.org/> SELECT * { SERVICE wd:sparql {} }", [("SERVICE", "https://example.org/sparql")]),
    ("SELECT * { SERVICE unknown:sparql {} }", [("SERVICE", None)]),
    ("BASE <https://example.org/> SELECT * { SERVICE <sparql> {} }", [("SERVICE", None)]),
    ("SELECT * { SERVICE SILENT $endpoint {} }", [("SERVICE", None)]),
    ("SELECT * { ?s ?p 'SERVICE <http://a/>' ; ?q <http://a/service> } # SERVICE <http://b/>", []),
    ("LOAD SILENT <https://example.org/data.ttl> INTO GRAPH <https://example.org/g>",
     [("LOAD", "https://example.org/data.ttl")]),
    ("SELECT * { ?s ?p ?o FILTER(?o = 'x'@service) }", []),
])
def test_serve_guard_reads_remote_iris(text, found):
    assert remote_iris(text) == found


def test_serve_guard_allows_exact_urls_only():
    check_remote("SELECT * { SERVICE <https://example.org/sparql> {} }", {"https://example.org/sparql"})
    for other in ("https://example.org/sparql/x", "https://example.org/", "http://example.org/sparql"):
        with pytest.raises(QueryError, match="refused"):
            check_remote(f"SELECT * {{ SERVICE <{other}> {{}} }}", {"https://example.org/sparql"})
