"""`kg serve`: Oxigraph's server over the embedded store, answering SPARQLWrapper and plain HTTP."""

from __future__ import annotations

import json
import shutil
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from kg.errors import StoreError
from kg.paths import QUERIES_DIR
from kg.query import load_query, run_query, with_prefixes
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
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


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
    served = start_serve(store)
    with Store.open(store, lock_timeout=1) as st:  # a writer can take the store while it is served
        st.replace_document("added", [])
    assert _post(served.query_url, "query", COUNT)[0] == 200
    folders = list(tmp_path.glob(".store.serve-*"))
    assert len(folders) == 1
    assert served.stop() == 0
    assert not folders[0].exists()  # the snapshot is removed


def test_serve_writable_takes_updates_and_holds_the_lock(start_serve, seed_store, tmp_path):
    store = tmp_path / "store"
    shutil.copytree(seed_store, store)
    served = start_serve(store, "--writable")
    insert = 'INSERT DATA { GRAPH <http://example.org/g> { <http://example.org/s> <http://example.org/p> "o" } }'
    assert _post(served.query_url.replace("/query", "/update"), "update", insert)[0] == 204
    with pytest.raises(StoreError, match="in use by another kg process"):
        Store.open(store, read_only=True, lock_timeout=0.2)
    assert served.stop() == 0
    with Store.open(store, read_only=True) as st:
        assert len(list(st.quads("http://example.org/g"))) == 1


def test_serve_errors(kg, tmp_path, served):
    run = kg("serve", "--store", tmp_path / "missing")
    assert run.code == 2 and "no store at" in run.err
    port = served.query_url.rsplit(":", 1)[1].split("/")[0]
    run = kg("serve", "--store", served.banner.split("serving ", 1)[1].split(" (")[0], "--port", port)
    assert run.code == 2 and f"cannot listen on 127.0.0.1:{port}: Address already in use" in run.err
