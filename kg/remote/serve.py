"""``kg serve``: a SPARQL 1.1 Protocol endpoint over the embedded store, by Oxigraph's own server.

Queries see the union of the graphs (``--union-default-graph``), as local
queries do, and give up after ``timeout`` seconds. The server also serves
YASGUI at its root, for a browser.

Read-only (the default), the server answers from a *snapshot* of the store:
taken under the store's shared lock (its immutable table files hard-linked,
the rest copied, so it is quick and small), given its VoID description, and
served by ``oxigraph serve-read-only``, which refuses updates (HTTP 403). The
store itself stays free: ``kg build`` can write it meanwhile, and a restart of
the server shows its new state. Writable (``writable=True``), the server opens
the store itself and kg holds the store's exclusive lock for as long as the
server runs (the server inherits it), so no other kg process opens it meanwhile.
"""

from __future__ import annotations

import ctypes
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

from kg.errors import StoreError
from kg.store.store import Store, locked
from kg.store.void import write_void

log = logging.getLogger(__name__)

#: Files of a RocksDB folder that are never changed once written, so a snapshot can share them.
_IMMUTABLE = (".sst", ".blob")
_SKIPPED = ("LOCK", "LOG")


def oxigraph_binary() -> str:
    """The ``oxigraph`` server program: the one installed beside this Python, else the first on PATH.

    Raises:
        StoreError: It is not installed.

    >>> Path(oxigraph_binary()).name
    'oxigraph'
    """
    found = shutil.which("oxigraph", path=str(Path(sys.executable).parent)) or shutil.which("oxigraph")
    if found is None:
        raise StoreError("the oxigraph server is not installed; run `pip install oxigraph` (make install does)")
    return found


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


def _die_with_parent() -> None:  # pragma: no cover - runs in the child, between fork and exec
    """Have the kernel stop the server if kg dies (Linux), so no server outlives its snapshot or lock."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _address(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def serve(
    store: str | os.PathLike[str],
    *,
    host: str = "127.0.0.1",
    port: int = 7878,
    writable: bool = False,
    timeout: float = 30.0,
    cors: bool = False,
    lock_timeout: float = 10.0,
    on_ready: Callable[[str], None] | None = None,
) -> int:
    """Serve the store in folder ``store`` over the SPARQL 1.1 Protocol until stopped; see the module docstring.

    Args:
        store: The kg store folder.
        host: The address to listen on; the default is reachable from this machine only.
        port: The port to listen on.
        writable: Serve the store itself and accept updates, instead of a read-only snapshot.
        timeout: Seconds after which the server abandons a query.
        cors: Allow queries from web pages of other origins (e.g. YASGUI elsewhere).
        lock_timeout: Seconds to wait for another kg process to release the store.
        on_ready: Called with the query URL once the server answers.

    Returns:
        The server's exit status (0 when stopped by SIGINT or SIGTERM).

    Raises:
        StoreError: No store, the store in use, no server program, or the server did not start.
    """
    binary = oxigraph_binary()
    path = Path(store)
    if not (path / "CURRENT").is_file():
        raise StoreError(f"no store at {path}; build one first (kg build ... --store {path})")
    _check_free(host, port)
    url = f"http://{_address(host, port)}"
    with ExitStack() as stack:
        if writable:
            with Store.open(path, lock_timeout=lock_timeout) as st:
                write_void(st, endpoint=f"{url}/query")
            lock = stack.enter_context(locked(path, exclusive=True, timeout=lock_timeout))
            location, command, keep = path, "serve", (lock,) if lock is not None else ()
        else:
            try:
                folder = Path(tempfile.mkdtemp(prefix=f".{path.name}.serve-", dir=path.parent))
            except OSError:
                folder = Path(tempfile.mkdtemp(prefix="kg-serve-"))
            stack.callback(shutil.rmtree, folder, ignore_errors=True)
            location = snapshot(path, folder / "store", lock_timeout=lock_timeout)
            with Store.open(location) as st:
                write_void(st, endpoint=f"{url}/query")
            command, keep = "serve-read-only", ()
        args = [binary, command, "--location", str(location), "--bind", _address(host, port),
                "--union-default-graph", "--timeout-s", str(max(1, round(timeout)))] + (["--cors"] if cors else [])
        errors = stack.enter_context(tempfile.TemporaryFile())
        server = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=errors,
                                  pass_fds=keep, preexec_fn=_die_with_parent)
        stack.callback(_stop, server)
        log.info("started %s (pid %d)", " ".join(args), server.pid)
        _wait_until_ready(server, f"{url}/query", errors)
        if on_ready is not None:
            on_ready(f"{url}/query")
        previous = signal.signal(signal.SIGTERM, lambda *_: server.terminate())  # wait() below returns
        stack.callback(signal.signal, signal.SIGTERM, previous)
        try:
            code = server.wait()
        except KeyboardInterrupt:
            _stop(server)
            code = 0
        return 0 if code in (0, -signal.SIGTERM, -signal.SIGINT) else code
    raise AssertionError("unreachable")


def _check_free(host: str, port: int) -> None:
    """Fail early, and clearly, when another program listens there (readiness checks would reach it)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        with socket.socket(family) as probe:
            probe.bind((host, port))
    except OSError as exc:
        raise StoreError(f"cannot listen on {_address(host, port)}: {exc.strerror}; choose another --port or --bind") from None


def _wait_until_ready(server: subprocess.Popen, query_url: str, errors: object, limit: float = 30.0) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if server.poll() is not None:
            errors.seek(0)  # type: ignore[attr-defined]
            said = " ".join(errors.read().decode("utf-8", "replace").split())  # type: ignore[attr-defined]
            raise StoreError(f"the oxigraph server stopped at once: {said[-300:] or f'exit status {server.returncode}'}")
        try:
            urllib.request.urlopen(f"{query_url}?query=ASK%7B%7D", timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise StoreError(f"the oxigraph server did not answer at {query_url} within {limit:g}s")


def _stop(server: subprocess.Popen) -> None:
    if server.poll() is None:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
