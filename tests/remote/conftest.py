"""Real servers for the remote tests: Oxigraph (the ``oxigraph`` CLI), a forwarding proxy, Virtuoso if installed.

One Oxigraph server, loaded once with the seed graph by ``kg load``, serves the
whole session; tests that kill a server start their own.
"""

from __future__ import annotations

import http.server
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from kg.remote.serve import wait_until_answers

KG = [sys.executable, "-m", "kg"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def oxigraph_binary() -> str:
    """The ``oxigraph`` server program installed beside this Python (the ``oxigraph`` package), else on PATH."""
    found = shutil.which("oxigraph", path=str(Path(sys.executable).parent)) or shutil.which("oxigraph")
    if found is None:
        pytest.skip("the oxigraph server is not installed (pip install oxigraph; make install does)")
    return found


class OxigraphServer:
    """``oxigraph serve`` on a free localhost port, over a store folder that survives restarts."""

    def __init__(self, location: Path):
        self.location, self.port, self.process = location, free_port(), None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> OxigraphServer:
        self.process = subprocess.Popen(
            [oxigraph_binary(), "serve", "--location", str(self.location), "--bind", f"127.0.0.1:{self.port}",
             "--union-default-graph"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until_answers(f"{self.url}/query?query=ASK%7B%7D", process=self.process, limit=60)
        return self

    def kill(self) -> None:
        """SIGKILL: no flush, no clean shutdown."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)

    def select(self, query: str) -> list[dict[str, str]]:
        """Run a SELECT with plain HTTP; rows as {variable: value}."""
        import json

        request = urllib.request.Request(f"{self.url}/query", data=urllib.parse.urlencode({"query": query}).encode(),
                                         headers={"Accept": "application/sparql-results+json"})
        with urllib.request.urlopen(request, timeout=30) as response:
            data = json.load(response)
        return [{k: v["value"] for k, v in row.items()} for row in data["results"]["bindings"]]

    def graph_counts(self) -> dict[str, int]:
        rows = self.select("SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g")
        return {row["g"]: int(row["n"]) for row in rows}

    def graph(self, iri: str) -> set[str]:
        """A graph's triples, as N-Triples lines, through the Graph Store Protocol."""
        url = f"{self.url}/store?{urllib.parse.urlencode({'graph': iri})}"
        request = urllib.request.Request(url, headers={"Accept": "application/n-triples"})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return set(response.read().decode().splitlines())
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                return set()
            raise


@pytest.fixture(scope="session")
def start_oxigraph(tmp_path_factory):
    """Start Oxigraph servers (each over a new store folder unless given one); all are stopped at the end."""
    servers: list[OxigraphServer] = []

    def start(location: Path | None = None) -> OxigraphServer:
        server = OxigraphServer(location or tmp_path_factory.mktemp("oxigraph") / "db")
        servers.append(server)
        return server.start()

    yield start
    for server in servers:
        server.stop()


@dataclass
class Run:
    code: int
    out: str
    err: str


@pytest.fixture(scope="session")
def kg() -> Callable[..., Run]:
    """Run the real ``kg`` command in its own process."""

    def run(*args: object, env: dict[str, str] | None = None, timeout: float = 120) -> Run:
        done = subprocess.run([*KG, *map(str, args)], capture_output=True, text=True, timeout=timeout,
                              env={**os.environ, "COLUMNS": "200", **(env or {})})
        return Run(done.returncode, done.stdout, done.stderr)

    return run


@pytest.fixture(scope="session")
def seed_dataset(seed_store, tmp_path_factory) -> Path:
    """The seed graph exported to an N-Quads file (one named graph per document)."""
    from kg.store import Store

    path = tmp_path_factory.mktemp("export") / "seed.nq"
    with Store.open(seed_store, read_only=True) as st:
        st.dump(path)
    return path


@pytest.fixture(scope="session")
def seed_counts(seed_store) -> dict[str, int]:
    """Quads per graph of the seed store."""
    from kg.store import Store

    with Store.open(seed_store, read_only=True) as st:
        counts: dict[str, int] = {}
        for q in st.quads():
            counts[q.graph_name.value] = counts.get(q.graph_name.value, 0) + 1
    return counts


@pytest.fixture(scope="session")
def loaded(start_oxigraph, seed_store, kg) -> OxigraphServer:
    """The session's Oxigraph server, holding the seed graph loaded by ``kg load`` from the store."""
    server = start_oxigraph()
    run = kg("load", seed_store, "--endpoint", server.url, "--batch-size", 500)
    assert run.code == 0, run.err
    return server


class Proxy:
    """A forwarding HTTP proxy on localhost; ``intercept(method, path, n)`` may answer instead (a status)."""

    def __init__(self, target: str, intercept: Callable[[str, str, int], int | None]):
        self.target, self.intercept, self.seen = target, intercept, []
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _forward(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                proxy.seen.append((self.command, self.path))
                status = proxy.intercept(self.command, self.path, len(proxy.seen))
                if status is None:
                    headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
                    request = urllib.request.Request(proxy.target + self.path, data=body or None, headers=headers,
                                                     method=self.command)
                    try:
                        with urllib.request.urlopen(request, timeout=30) as response:
                            status, reply, kind = response.status, response.read(), response.headers.get("Content-Type")
                    except urllib.error.HTTPError as exc:
                        status, reply, kind = exc.code, exc.read(), exc.headers.get("Content-Type")
                    except OSError:
                        status, reply, kind = 502, b"upstream unreachable", "text/plain"
                else:
                    reply, kind = b"intercepted", "text/plain"
                self.send_response(status)
                self.send_header("Content-Type", kind or "text/plain")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            do_GET = do_POST = do_PUT = do_HEAD = do_DELETE = _forward

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Proxy:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def proxy() -> type[Proxy]:
    return Proxy


# --- Virtuoso ---------------------------------------------------------------------------------

VIRTUOSO_INI = """
[Database]
DatabaseFile = {dir}/virtuoso.db
ErrorLogFile = {dir}/virtuoso.log
LockFile = {dir}/virtuoso.lck
TransactionFile = {dir}/virtuoso.trx
xa_persistent_file = {dir}/virtuoso.pxa
FileExtend = 200
Striping = 0
TempStorage = TempDatabase

[TempDatabase]
DatabaseFile = {dir}/virtuoso-temp.db
TransactionFile = {dir}/virtuoso-temp.trx
Striping = 0

[Parameters]
ServerPort = 127.0.0.1:{sql_port}
DisableUnixSocket = 1
NumberOfBuffers = 10000
MaxDirtyBuffers = 6000
DirsAllowed = ., {dir}
CheckpointInterval = 0

[HTTPServer]
ServerPort = 127.0.0.1:{http_port}
ServerRoot = {dir}
MaxClientConnections = 4
ServerThreads = 4

[SPARQL]
ResultSetMaxRows = 1000000
MaxQueryExecutionTime = 60
"""


@dataclass
class Virtuoso:
    url: str
    netrc: Path
    password: str


@pytest.fixture(scope="session")
def virtuoso(tmp_path_factory):
    """A Virtuoso server (Debian's virtuoso-opensource-7-bin) on free localhost ports, with a fresh dba password."""
    binary, isql = shutil.which("virtuoso-t"), shutil.which("isql-vt")
    if binary is None or isql is None:
        pytest.skip("Virtuoso is not installed (apt-get install virtuoso-opensource-7-bin; .ci/run does)")
    folder = tmp_path_factory.mktemp("virtuoso")
    sql_port, http_port = free_port(), free_port()
    (folder / "virtuoso.ini").write_text(VIRTUOSO_INI.format(dir=folder, sql_port=sql_port, http_port=http_port))
    process = subprocess.Popen([binary, "-c", str(folder / "virtuoso.ini"), "-f"], cwd=folder,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{http_port}"
        wait_until_answers(f"{url}/sparql?query=ASK%7B%7D", process=process, limit=120)
        password = "kg-" + os.urandom(6).hex()
        subprocess.run([isql, str(sql_port), "dba", "dba", f"exec=USER_SET_PASSWORD('dba', '{password}');"],
                       check=True, capture_output=True, timeout=60)
        netrc = folder / "netrc"
        netrc.write_text(f"machine 127.0.0.1 login dba password {password}\n")
        netrc.chmod(0o600)
        yield Virtuoso(url, netrc, password)
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
