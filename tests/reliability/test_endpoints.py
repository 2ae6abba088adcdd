"""Exposed endpoints: ``kg serve`` lets nobody in; ``kg load`` keeps credentials secret and fails in one line.

``kg serve`` runs as a user starts it; remote hosts are local HTTP servers that
record what reaches them. ``kg load`` talks to one that misbehaves on purpose
(refuses, 401, 500, garbage, silence) and to a real Oxigraph server.
"""

from __future__ import annotations

import http.server
import json
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pyoxigraph as ox
import pytest

from kg.errors import StoreError
from kg.remote.guard import remote_iris
from kg.remote.serve import wait_until_answers
from kg.store import Store

from .helpers import ROOT, assert_one_line_error, run_kg

LABEL = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label")
USER, PASSWORD = "kg-user", "s3cr3t-Pa55-word"
REMOTE_ROW = b'{"head":{"vars":["x"]},"results":{"bindings":[{"x":{"type":"literal","value":"from afar"}}]}}'


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("endpoints") / "store"
    with Store.open(path) as st:
        st.replace_document("d", [ox.Quad(ox.NamedNode(f"https://example.org/e{i}"), LABEL, ox.Literal(f"e{i}"))
                                  for i in range(300)])
    return path


def snapshot(store: Path) -> set[ox.Quad]:
    with Store.open(store, read_only=True) as st:
        return set(st.quads())


class Recorder:
    """A local HTTP server standing for a remote host: records each request, answers as ``mode`` says."""

    def __init__(self, mode: str = "ok"):
        self.mode, self.requests = mode, []
        recorder = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _answer(self) -> None:
                recorder.requests.append((self.command, self.path, self.headers.get("Authorization")))
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                if recorder.mode == "silent":
                    time.sleep(5)
                    return
                status, body = {"401": (401, b"who are you?"), "500": (500, b"internal error"),
                                "garbage": (200, b"\x00\xff<html>not sparql"),
                                "results": (200, REMOTE_ROW)}.get(recorder.mode, (200, b""))
                self.send_response(status)
                if status == 401:
                    self.send_header("WWW-Authenticate", 'Basic realm="kg"')
                self.send_header("Content-Type", "application/sparql-results+json" if status == 200 else "text/plain")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PUT = do_DELETE = _answer

            def log_message(self, *args) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def recorder():
    rec = Recorder()
    yield rec
    rec.close()


# --- kg serve ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def allowed():
    """A remote SPARQL service that ``kg serve`` is told it may call; answers one row."""
    rec = Recorder("results")
    yield rec
    rec.close()


@pytest.fixture(scope="module")
def kg_serve(store, allowed):
    """``kg serve`` on the store: 2-second query timeout, 1,000-row limit, one allowed service; yields its base URL."""
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "kg", "serve", "--store", str(store), "--port", str(port),
                             "--timeout", "2", "--max-results", "1000", "--allow-service", f"{allowed.url}/sparql"],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_answers(f"{base}/query?query=ASK%7B%7D", process=proc, limit=120)
    except StoreError as exc:
        proc.kill()
        pytest.fail(f"kg serve did not start: {exc}: {proc.stderr.read().decode()[-1000:]}")
    proc.base = base
    yield proc
    proc.send_signal(signal.SIGINT)
    try:
        assert proc.wait(timeout=20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stderr.close()


@pytest.fixture(scope="module")
def server(kg_serve) -> str:
    """The base URL of ``kg serve``."""
    return kg_serve.base


def _post(url: str, field: str, text: str, timeout: float = 30) -> tuple[int, bytes]:
    data = urllib.parse.urlencode({field: text}).encode()
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data=data), timeout=timeout) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def test_endpoints_serve_refuses_updates_and_load(server, store, recorder):
    before = snapshot(store)
    for update in ("DROP ALL", "INSERT DATA { <http://e/s> <http://e/p> 1 }", f"LOAD <{recorder.url}/data.ttl>",
                   f"LOAD <{recorder.url}/data.ttl> INTO GRAPH <http://e/g>"):
        status, _ = _post(f"{server}/update", "update", update)
        assert status in (403, 405), update
    status, body = _post(f"{server}/query", "query", "DROP ALL")  # an update sent as a query is malformed
    assert status == 400, body
    status, body = _post(f"{server}/query", "query",
                         "SELECT (COUNT(*) AS ?n) WHERE { GRAPH <https://w3id.org/kg/graph/doc/d> { ?s ?p ?o } }")
    assert status == 200 and json.loads(body)["results"]["bindings"][0]["n"]["value"] == "300"
    assert recorder.requests == []
    assert snapshot(store) == before


@pytest.mark.parametrize("query", [
    "SELECT * WHERE {{ SERVICE <{url}/sparql> {{ ?s ?p ?o }} }}",
    "SELECT * WHERE {{ ?s ?p ?o . SERVICE SILENT <{url}/sparql> {{ ?s ?p ?o }} }}",
    "PREFIX r: <{url}/> SELECT * WHERE {{ service r:sparql {{ ?s ?p ?o }} }}",
    "SELECT * WHERE {{ BIND(1 AS ?x) FILTER EXISTS {{ SERVICE <{url}/\\u0073parql> {{ ?s ?p ?o }} }} }}",
    "SELECT * WHERE {{ VALUES ?e {{ <{url}/sparql> }} SERVICE ?e {{ ?s ?p ?o }} }}",
])
def test_endpoints_serve_refuses_service_to_arbitrary_hosts(server, recorder, query):
    status, body = _post(f"{server}/query", "query", query.format(url=recorder.url))
    assert status == 403 and b"--allow-service" in body, body
    assert recorder.requests == []


def test_endpoints_serve_calls_allowed_service(server, allowed):
    """A service given with --allow-service is called, by its exact URL only."""
    query = f"SELECT ?x WHERE {{ SERVICE <{allowed.url}/sparql> {{ ?x ?p ?o }} }}"
    status, body = _post(f"{server}/query", "query", query)
    assert status == 200, body
    assert [row["x"]["value"] for row in json.loads(body)["results"]["bindings"]] == ["from afar"]
    assert len(allowed.requests) == 1 and allowed.requests[0][1].startswith("/sparql")
    status, _ = _post(f"{server}/query", "query", query.replace("/sparql>", "/sparql/other>"))
    assert status == 403 and len(allowed.requests) == 1


@pytest.mark.parametrize(("query", "calls"), [
    ("SELECT * WHERE {{ SERVICE <{url}/sparql> {{ ?s ?p ?o }} }}", True),
    ("SELECT * WHERE {{ sErViCe SiLeNt <{url}/sparql> {{ ?s ?p ?o }} }}", True),
    ("SELECT * WHERE {{ ?s ?p ?o .SERVICE<{url}/sparql>{{ ?s ?p ?o }} }}", True),
    ("PREFIX r: <{url}/> SELECT * WHERE {{ SERVICE r:sp\\-arql {{ ?s ?p ?o }} }}", True),
    ("SELECT * WHERE {{ BIND(1 AS ?x) FILTER EXISTS {{ SERVICE <{url}/\\u0073parql> {{ ?s ?p ?o }} }} }}", True),
    ("ASK {{ OPTIONAL {{ SERVICE <{url}/sparql> {{ ?s ?p ?o }} }} }}", True),
    ("SELECT * WHERE {{ ?s ?p 'SERVICE <{url}/sparql> {{ ?s ?p ?o }}' }}", False),
    ('SELECT * WHERE {{ ?s ?p """x\n SERVICE <{url}/sparql> {{ }} "" """ }}', False),
    ("# SERVICE <{url}/sparql> {{ ?s ?p ?o }}\nSELECT * WHERE {{ ?service ?p <{url}/service> }}", False),
    ("PREFIX service: <{url}/> SELECT * WHERE {{ ?s service:sparql ?o FILTER(?o != 'x'@service) }}", False),
])
def test_endpoints_guard_reads_service_as_pyoxigraph_does(recorder, query, calls):
    """The guard names exactly the endpoints that pyoxigraph, the engine, really calls (and none when it calls none)."""
    text = query.format(url=recorder.url)
    recorder.mode = "results"
    engine = ox.Store()
    engine.add(ox.Quad(ox.NamedNode("https://example.org/s"), LABEL, ox.Literal("s")))
    result = engine.query(text)
    if not isinstance(result, ox.QueryBoolean):
        list(result)
    called = {f"{recorder.url}{urllib.parse.urlsplit(path).path}" for _, path, _ in recorder.requests}
    assert bool(called) == calls
    assert [iri for _, iri in remote_iris(text)] == sorted(called)


HOURS = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"  # 10^10 rows to count


def _children(pid: int) -> set[int]:
    """The live child processes of ``pid`` (from /proc/*/stat)."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] != "Z":  # state, parent; a zombie has stopped
            found.add(int(stat.parent.name))
    return found


def test_endpoints_serve_query_timeout(server, kg_serve):
    """A query that would run for hours is stopped, its process with it; the server answers the next query."""
    before = _children(kg_serve.pid)
    status, body = _post(f"{server}/query", "query", HOURS, timeout=60)
    assert status == 503 and b"--timeout" in body, body
    assert before - _children(kg_serve.pid), "no worker process was stopped: the abandoned query still runs"
    status, _ = _post(f"{server}/query", "query", "ASK { ?s ?p ?o }")
    assert status == 200


def test_endpoints_serve_timeout_is_an_http_error(server):
    status, _ = _post(f"{server}/query", "query", HOURS, timeout=60)
    assert status >= 400


def test_endpoints_serve_result_limit(server):
    status, body = _post(f"{server}/query", "query", "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f }")  # 90,000 rows
    assert status != 200 or len(json.loads(body)["results"]["bindings"]) < 90_000
    assert status == 422 and b"1000" in body and b"--max-results" in body, body
    status, body = _post(f"{server}/query", "query", "CONSTRUCT { ?a ?b ?f } WHERE { ?a ?b ?c . ?d ?e ?f }")
    assert status == 422
    status, body = _post(f"{server}/query", "query",
                         "SELECT * WHERE { GRAPH <https://w3id.org/kg/graph/doc/d> { ?s ?p ?o } }")  # 300 rows
    assert status == 200 and len(json.loads(body)["results"]["bindings"]) == 300


def test_endpoints_serve_loopback_only(server):
    """By default the server listens on 127.0.0.1: this machine's other addresses refuse the connection."""
    port = urllib.parse.urlsplit(server).port
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.connect(("192.0.2.1", 9))  # no packet is sent: this picks the address of the outgoing interface
        address = probe.getsockname()[0]
    if address.startswith("127."):
        pytest.skip("this machine has no non-loopback address")
    with pytest.raises(ConnectionRefusedError), socket.create_connection((address, port), timeout=5):
        pass


# --- kg load -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("mode", "needle"), [("refused", "refused"), ("401", "401"), ("500", "500"),
                                             ("garbage", ""), ("silent", "timed out")])
def test_endpoints_load_remote_errors(store, tmp_path, mode, needle):
    """Each failure of the remote side is one line naming the URL (and status); no credential is shown."""
    before = snapshot(store)
    if mode == "refused":
        url, rec = f"http://127.0.0.1:{_free_port()}", None
    else:
        rec = Recorder(mode)
        url = rec.url
    try:
        run = run_kg("-v", "load", "--store", store, "--endpoint", url, "--timeout", "1", "--retries", "0",
                     env={"KG_ENDPOINT_USER": USER, "KG_ENDPOINT_PASSWORD": PASSWORD}, timeout=120)
    finally:
        if rec is not None:
            rec.close()
    assert run.code != 0
    line = assert_one_line_error(run, "127.0.0.1", needle, code=run.code)
    assert PASSWORD not in run.stdout + run.stderr and "czNjcjN0" not in run.stdout + run.stderr  # nor its base64
    assert len(line) < 500
    assert snapshot(store) == before


def test_endpoints_load_url_with_password_refused(store):
    run = run_kg("load", "--store", store, "--endpoint", f"http://{USER}:{PASSWORD}@127.0.0.1:{_free_port()}")
    assert_one_line_error(run, "holds a user name or password", code=run.code)
    assert PASSWORD not in run.stdout + run.stderr


def test_endpoints_load_into_real_oxigraph_keeps_password_secret(store, tmp_path):
    """A successful load with credentials set, verbose: the password is never printed."""
    port = _free_port()
    oxigraph = Path(sys.executable).with_name("oxigraph")
    proc = subprocess.Popen([str(oxigraph), "serve", "--location", str(tmp_path / "remote"), "--bind",
                             f"127.0.0.1:{port}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until_answers(f"http://127.0.0.1:{port}/query?query=ASK%7B%7D", process=proc, limit=60)
        run = run_kg("-v", "load", "--store", store, "--endpoint", f"http://127.0.0.1:{port}",
                     env={"KG_ENDPOINT_USER": USER, "KG_ENDPOINT_PASSWORD": PASSWORD})
        assert run.code == 0, run.stderr
        assert PASSWORD not in run.stdout + run.stderr and "czNjcjN0" not in run.stdout + run.stderr
        status, body = _post(f"http://127.0.0.1:{port}/query", "query",
                             "SELECT (COUNT(*) AS ?n) WHERE { GRAPH <https://w3id.org/kg/graph/doc/d> { ?s ?p ?o } }")
        assert json.loads(body)["results"]["bindings"][0]["n"]["value"] == "300"
    finally:
        proc.terminate()
        proc.wait(timeout=20)
