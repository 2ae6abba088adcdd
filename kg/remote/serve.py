"""``kg serve``: a guarded SPARQL 1.1 Protocol endpoint over the embedded store.

:func:`serve` answers the SPARQL 1.1 Protocol at ``/query`` and ``/update``
and the Graph Store Protocol at ``/store``, serves YASGUI at ``/`` for a
browser, and listens on 127.0.0.1 unless told otherwise. It guarantees:

- **Read-only by default.** It answers from a *snapshot* of the store, taken
  under the store's shared lock (its immutable table files hard-linked, the
  rest copied), given its VoID description and removed when the server stops;
  the store stays free for ``kg build``. Updates and Graph Store writes get
  HTTP 403. ``writable=True`` serves the store itself and accepts them, and kg
  holds the store's exclusive lock for as long as it serves.
- **Nothing fetched for a client.** A request whose ``SERVICE`` or ``LOAD``
  names an IRI not in ``allow_service`` gets 403 before it runs
  (:mod:`kg.remote.guard`).
- **Bounded answers, status first.** An answer is computed whole (evaluated and
  serialized) before its first byte is sent: one over ``max_results`` rows gets
  422, one not done within ``timeout`` seconds 503; never a 200 with a cut body.

Requests run in worker processes (:mod:`kg.remote.worker`): ``workers`` of them
on the snapshot, one on a writable store; a request waits for a free one, and
its time counts from its arrival. pyoxigraph cannot cancel a query, so a
request past its time is stopped by killing its worker, which frees its CPU at
once; a new worker takes its place. Queries see the union of the graphs, with
kg's prefixes predeclared, as local queries do.
"""

from __future__ import annotations

import http.server
import logging
import os
import queue
import shutil
import signal
import socket
import socketserver
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Collection, Mapping
from contextlib import ExitStack
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pyoxigraph as ox

from kg.errors import KGError, QueryError, StoreError
from kg.remote.guard import check_remote
from kg.remote.worker import Reply, error
from kg.store.store import Store, locked
from kg.store.void import write_void

log = logging.getLogger(__name__)

#: Files of a RocksDB folder that are never changed once written, so a snapshot can share them.
_IMMUTABLE = (".sst", ".blob")
_SKIPPED = ("LOCK", "LOG")
_PACKAGE_ROOT = str(Path(__file__).resolve().parents[2])  # where the workers import kg from
#: The largest request body read (a query, an update or a graph), in bytes.
MAX_BODY = 64 * 2**20

_PAGE = b"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>kg SPARQL endpoint</title>
<link href="https://cdn.jsdelivr.net/npm/@zazuko/yasgui@4/build/yasgui.min.css" rel="stylesheet">
<script src="https://cdn.jsdelivr.net/npm/@zazuko/yasgui@4/build/yasgui.min.js"></script>
</head>
<body>
<div id="yasgui"></div>
<script>
new Yasgui(document.getElementById("yasgui"), {requestConfig: {endpoint: location.origin + "/query"},
                                               copyEndpointOnNewTab: false});
</script>
</body>
</html>
"""


def snapshot(store: str | os.PathLike[str], target: str | os.PathLike[str], *, lock_timeout: float = 10.0) -> Path:
    """Copy the store in folder ``store`` to the new folder ``target``, consistently, under its shared lock.

    Table files are hard-linked where the file system allows (they never change), the rest copied.

    Raises:
        StoreError: No store there, or it stayed in use by a writer for ``lock_timeout`` seconds.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     Store.open(f"{tmp}/store").close()
    ...     with Store.open(snapshot(f"{tmp}/store", f"{tmp}/copy")) as copy:
    ...         len(copy)
    0
    """
    source, target = Path(store), Path(target)
    if not (source / "CURRENT").is_file():
        raise StoreError(f"no store at {source}; build one first (kg build ... --store {source})")
    with locked(source, exclusive=False, timeout=lock_timeout):
        target.mkdir(parents=True)
        for item in source.iterdir():
            if item.name.startswith(_SKIPPED) or not item.is_file():
                continue
            if item.suffix in _IMMUTABLE:
                try:
                    os.link(item, target / item.name)
                    continue
                except OSError:
                    pass
            shutil.copy2(item, target / item.name)
    return target


def wait_until_answers(url: str, *, process: subprocess.Popen | None = None, limit: float = 30.0) -> None:
    """Wait until a GET of ``url`` succeeds, e.g. until a server just started answers queries.

    Args:
        url: What to GET, e.g. ``http://127.0.0.1:7878/query?query=ASK%7B%7D``.
        process: The server's process, if it is one: its exit ends the wait at once.
        limit: Seconds to wait.

    Raises:
        StoreError: ``process`` stopped, or no success within ``limit`` seconds.

    >>> wait_until_answers("http://127.0.0.1:9/", limit=0.1)
    Traceback (most recent call last):
    ...
    kg.errors.StoreError: no answer from http://127.0.0.1:9/ within 0.1s
    """
    deadline = time.monotonic() + limit
    while True:
        if process is not None and process.poll() is not None:
            raise StoreError(f"the server stopped (exit status {process.returncode}) before {url} answered")
        try:
            urllib.request.urlopen(url, timeout=max(0.1, min(2.0, deadline - time.monotonic()))).close()
            return
        except OSError:
            if time.monotonic() >= deadline:
                raise StoreError(f"no answer from {url} within {limit:g}s") from None
            time.sleep(0.05)


def _address(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def serve(
    store: str | os.PathLike[str],
    *,
    host: str = "127.0.0.1",
    port: int = 7878,
    writable: bool = False,
    timeout: float = 30.0,
    max_results: int = 100_000,
    allow_service: Collection[str] = (),
    cors: bool = False,
    workers: int = 2,
    lock_timeout: float = 10.0,
    on_ready: Callable[[str], None] | None = None,
) -> int:
    """Serve the store in folder ``store`` over the SPARQL 1.1 Protocol until stopped; see the module docstring.

    Args:
        store: The kg store folder.
        host: The address to listen on; the default is reachable from this machine only.
        port: The port to listen on (0: any free port).
        writable: Serve the store itself and accept updates, instead of a read-only snapshot.
        timeout: Seconds a request may take, from its arrival to its answer; later, it gets HTTP 503.
        max_results: The most rows (solutions, or triples of a graph) an answer may hold; more gets HTTP 422.
        allow_service: The only IRIs a ``SERVICE`` (or, when writable, a ``LOAD``) may name, exactly.
        cors: Allow queries from web pages of other origins (e.g. YASGUI elsewhere).
        workers: Processes that run queries on the snapshot (a writable store has one).
        lock_timeout: Seconds to wait for another kg process to release the store.
        on_ready: Called with the query URL once the server answers.

    Returns:
        0, once stopped by SIGINT or SIGTERM.

    Raises:
        StoreError: No store, the store in use, the address taken, or a worker could not open the store.
        KGError: An ``allow_service`` entry that is not an http(s) URL.
    """
    path = Path(store)
    if not (path / "CURRENT").is_file():
        raise StoreError(f"no store at {path}; build one first (kg build ... --store {path})")
    for url in allow_service:
        if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).netloc:
            raise KGError(f"--allow-service {url!r} is not an http:// or https:// URL; give the endpoint's full URL")
    in_main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _interrupt) if in_main else None
    try:
        with ExitStack() as stack:
            httpd = _listen(host, port)
            stack.callback(httpd.server_close)
            url = f"http://{_address(host, httpd.server_address[1])}"
            if writable:
                with Store.open(path, lock_timeout=lock_timeout) as st:
                    write_void(st, endpoint=f"{url}/query")
                stack.enter_context(locked(path, exclusive=True, timeout=lock_timeout))
                location, size = path, 1
            else:
                try:
                    folder = Path(tempfile.mkdtemp(prefix=f".{path.name}.serve-", dir=path.parent))
                except OSError:
                    folder = Path(tempfile.mkdtemp(prefix="kg-serve-"))
                stack.callback(shutil.rmtree, folder, ignore_errors=True)
                location = snapshot(path, folder / "store", lock_timeout=lock_timeout)
                with Store.open(location) as st:
                    write_void(st, endpoint=f"{url}/query")
                size = max(1, workers)
            pool = stack.enter_context(_Pool(location, writable=writable, max_results=max_results, size=size))
            httpd.app = _App(pool, writable=writable, timeout=timeout, allowed=frozenset(allow_service), cors=cors)
            threading.Thread(target=httpd.serve_forever, name="kg-serve", daemon=True).start()
            stack.callback(httpd.shutdown)
            wait_until_answers(f"{url}/query?query=ASK%7B%7D", limit=30)
            log.info("serving %s at %s/query (%s, %d worker(s))", path, url, "writable" if writable else "read-only", size)
            if on_ready is not None:
                on_ready(f"{url}/query")
            pool.maintain()
    except KeyboardInterrupt:
        pass
    finally:
        if in_main:
            signal.signal(signal.SIGTERM, previous)
    return 0


def _interrupt(*_: object) -> None:
    raise KeyboardInterrupt


# --- workers ---------------------------------------------------------------------------------


@dataclass(eq=False)
class _Worker:
    process: subprocess.Popen
    connection: Connection


class _Pool:
    """Worker processes that run requests one at a time each; one that overruns is killed and replaced.

    Workers are started by the thread that calls :meth:`maintain` (the main thread): each dies with it.
    """

    def __init__(self, location: str | os.PathLike[str], *, writable: bool, max_results: int, size: int):
        self._args = [str(location), "writable" if writable else "read-only", str(max_results)]
        self._idle: queue.Queue[_Worker] = queue.Queue()
        self._lost: queue.Queue[None] = queue.Queue()
        self._workers: set[_Worker] = set()
        self._lock = threading.Lock()
        self.size = size

    def __enter__(self) -> _Pool:
        try:
            for _ in range(self.size):
                self._idle.put(self._start())
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _start(self) -> _Worker:
        ours, theirs = socket.socketpair()
        code = "from kg.remote.worker import main; main()"
        path = [_PACKAGE_ROOT, *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(path)}
        with ours, theirs:
            process = subprocess.Popen([sys.executable, "-c", code, str(theirs.fileno()), *self._args],
                                       pass_fds=(theirs.fileno(),), stdin=subprocess.DEVNULL,
                                       stdout=subprocess.DEVNULL, env=env)
            started = _Worker(process, Connection(ours.detach()))
        with self._lock:
            self._workers.add(started)
        hello = None
        try:
            if started.connection.poll(60):
                hello = started.connection.recv()
        except (EOFError, OSError):
            pass
        if not isinstance(hello, Reply) or hello.status != 200:
            self._kill(started)
            said = hello.body.decode().strip() if isinstance(hello, Reply) else "it stopped or did not answer"
            raise StoreError(f"a query worker could not start: {said}")
        return started

    def _kill(self, victim: _Worker) -> None:
        with self._lock:
            self._workers.discard(victim)
        if victim.process.poll() is None:
            victim.process.kill()
        victim.process.wait()
        victim.connection.close()

    def run(self, request: tuple[str, Mapping[str, object]], started: float, timeout: float) -> Reply:
        """Run ``request`` on a free worker; HTTP 503 if none is free or it has no answer ``timeout`` s after ``started``."""
        deadline = started + timeout
        try:
            chosen = self._idle.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            return error(503, f"every query worker stayed busy for {timeout:g}s (--timeout); try again later",
                         ("Retry-After", "5"))
        try:
            chosen.connection.send(request)
            if chosen.connection.poll(max(0.0, deadline - time.monotonic())):
                reply = chosen.connection.recv()
                self._idle.put(chosen)
                return reply
            failure = error(503, f"the request ran past this endpoint's {timeout:g}s limit (--timeout) and was "
                                 "stopped; add a LIMIT or narrow its patterns")
        except (EOFError, OSError):
            failure = error(500, "the query worker stopped while running the request")
        log.warning("stopping query worker %s: %s", chosen.process.pid, failure.body.decode().strip())
        self._kill(chosen)
        self._lost.put(None)
        return failure

    def maintain(self) -> None:
        """Replace the workers that were stopped, for ever (until KeyboardInterrupt)."""
        while True:
            try:
                self._lost.get(timeout=1.0)
            except queue.Empty:
                continue
            try:
                self._idle.put(self._start())
            except StoreError as exc:
                log.error("%s; retrying", exc)
                self._lost.put(None)
                time.sleep(1.0)

    def close(self) -> None:
        """Stop every worker: idle ones at once, busy ones after their request or 5 s."""
        with self._lock:
            workers, self._workers = list(self._workers), set()
        for each in workers:
            try:
                each.connection.send(None)
            except OSError:
                pass
        deadline = time.monotonic() + 5
        for each in workers:
            try:
                each.process.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
            self._kill(each)


# --- HTTP ----------------------------------------------------------------------------------------


class _App:
    """Routes a request to the worker pool, after the checks that need no store."""

    def __init__(self, pool: _Pool, *, writable: bool, timeout: float, allowed: frozenset[str], cors: bool):
        self.pool, self.writable, self.timeout, self.allowed, self.cors = pool, writable, timeout, allowed, cors

    def handle(self, method: str, target: str, headers: Mapping[str, str], body: bytes, started: float) -> Reply:
        url = urlsplit(target)
        try:
            params = parse_qs(url.query, keep_blank_values=True, errors="strict")
        except UnicodeDecodeError:
            return error(400, "the request URL is not UTF-8")
        allowed = _METHODS.get(url.path)
        if allowed is None:
            return error(404, f"nothing at {url.path}; this endpoint serves /query, /update, /store and / (YASGUI)")
        if method == "OPTIONS":
            return Reply(204, headers=(("Allow", allowed),))
        if method not in allowed.split(", "):
            return error(405, f"{method} is not allowed on {url.path}; use {allowed}", ("Allow", allowed))
        if url.path == "/":
            return Reply(200, _PAGE, "text/html; charset=utf-8")
        if url.path != "/query" and method not in ("GET", "HEAD") and not self.writable:
            what = "updates" if url.path == "/update" else "Graph Store writes"
            return error(403, f"this endpoint is read-only: {what} are refused (kg serve --writable accepts them)")
        if url.path == "/store":
            return self._graph(method, params, headers, body, started)
        field = url.path[1:]
        fields = _fields(method, params, headers, body, field)
        if isinstance(fields, Reply):
            return fields
        texts = fields.get(field, [])
        if len(texts) != 1:
            return error(400, f"give exactly one {field}: the parameter '{field}' (GET, or a form POST) "
                              f"or an application/sparql-{field} body (POST)")
        try:
            check_remote(texts[0], self.allowed)
        except QueryError as exc:
            return error(403, str(exc))
        if field == "update":
            if fields.get("using-graph-uri") or fields.get("using-named-graph-uri"):
                return error(400, "using-graph-uri and using-named-graph-uri are not supported; use USING in the update")
            return self.pool.run(("update", {"update": texts[0]}), started, self.timeout)
        graphs = {"default_graph": fields.get("default-graph-uri", []), "named_graphs": fields.get("named-graph-uri")}
        bad = _bad_iri([*graphs["default_graph"], *(graphs["named_graphs"] or [])])
        if bad is not None:
            return bad
        return self.pool.run(("query", {"query": texts[0], "accept": headers.get("Accept", ""), **graphs}),
                             started, self.timeout)

    def _graph(self, method: str, params: dict[str, list[str]], headers: Mapping[str, str], body: bytes,
               started: float) -> Reply:
        named = params.get("graph", [])
        if len(named) + ("default" in params) != 1:
            return error(400, "name one graph: /store?graph=IRI or /store?default")
        bad = _bad_iri(named)
        if bad is not None:
            return bad
        request = {"method": method, "graph": named[0] if named else None, "accept": headers.get("Accept", ""),
                   "content_type": headers.get("Content-Type", ""), "body": body}
        return self.pool.run(("graph", request), started, self.timeout)


_METHODS = {"/": "GET, HEAD", "/query": "GET, POST", "/update": "POST", "/store": "GET, HEAD, PUT, POST, DELETE"}


def _fields(method: str, params: dict[str, list[str]], headers: Mapping[str, str], body: bytes,
            field: str) -> dict[str, list[str]] | Reply:
    """A protocol request's parameters: from the URL, and a POST's form or direct body."""
    if method == "GET":
        return params
    kind = (headers.get("Content-Type") or "").split(";")[0].strip().lower()
    try:
        text = body.decode("utf-8")
        if kind == "application/x-www-form-urlencoded":
            form = parse_qs(text, keep_blank_values=True, errors="strict")
            return {k: params.get(k, []) + form.get(k, []) for k in {*params, *form}}
    except UnicodeDecodeError:
        return error(400, "the request body is not UTF-8")
    if kind == f"application/sparql-{field}":
        return {**params, field: params.get(field, []) + [text]}
    return error(415, f"send the {field} as application/x-www-form-urlencoded or application/sparql-{field}")


def _bad_iri(iris: list[str]) -> Reply | None:
    for iri in iris:
        try:
            ox.NamedNode(iri)
        except ValueError:
            return error(400, f"{iri!r} is not a valid graph IRI")
    return None


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    app: _App

    def server_bind(self) -> None:
        socketserver.TCPServer.server_bind(self)  # without HTTPServer's reverse DNS lookup of the address
        self.server_name, self.server_port = str(self.server_address[0]), int(self.server_address[1])

    def handle_error(self, request: object, client_address: object) -> None:
        log.warning("request from %s failed", client_address, exc_info=True)


class _Server6(_Server):
    address_family = socket.AF_INET6


def _listen(host: str, port: int) -> _Server:
    try:
        return (_Server6 if ":" in host else _Server)((host, port), _Handler)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise StoreError(f"cannot listen on {_address(host, port)}: {reason}; choose another --port or --bind") from None


class _Handler(http.server.BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    timeout = 120  # seconds a connection may stay idle or slow

    def version_string(self) -> str:
        return "kg-serve"

    def _handle(self) -> None:
        started = time.monotonic()
        length = self.headers.get("Content-Length")
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            self.close_connection = True
            reply = error(411, "send the request body with a Content-Length")
        elif length is not None and (not length.isdigit() or int(length) > MAX_BODY):
            self.close_connection = True
            reply = error(413, f"the request body is over {MAX_BODY // 2**20} MiB (or its Content-Length is invalid)")
        else:
            body = self.rfile.read(int(length)) if length else b""
            try:
                reply = self.server.app.handle(self.command, self.path, self.headers, body, started)
            except Exception:  # a bug: answer, and log it
                log.exception("cannot answer %s %s", self.command, self.path)
                reply = error(500, "internal error; see the server's log")
        self._send(reply)

    do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = do_OPTIONS = _handle

    def _send(self, reply: Reply) -> None:
        self.send_response(reply.status)
        headers = list(reply.headers)
        if self.server.app.cors:
            headers.append(("Access-Control-Allow-Origin", "*"))
            if self.command == "OPTIONS":
                headers += [("Access-Control-Allow-Methods", "GET, HEAD, POST, PUT, DELETE"),
                            ("Access-Control-Allow-Headers", "Accept, Content-Type"), ("Access-Control-Max-Age", "600")]
        if reply.status not in (204, 304):
            headers += [("Content-Type", reply.content_type), ("Content-Length", str(len(reply.body)))]
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD" and reply.status not in (204, 304):
            self.wfile.write(reply.body)

    def log_message(self, format: str, *args: object) -> None:
        log.info("%s %s", self.address_string(), format % args)
