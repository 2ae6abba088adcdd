"""Building on a Dask cluster: documents sharded over workers, graphs merged here in input order.

The calling process reads the documents and cuts them into chunks (:func:`kg.pipeline.chunks`, the spaCy batch of
every build); each chunk is a Dask task, :func:`kg.pipeline.build_chunk`, run by a worker that sets up the
pipeline once and returns each document's graph as N-Triples. Results are taken in input order and written to the
store by the caller, so the store ends up identical (sorted N-Quads, byte for byte) to a single-process build of
the same input. At most a few chunks per worker are in flight, so memory stays flat on both sides.

Workers need kg, its spaCy model and the knowledge base at the same path (``Settings.kb_path``) as the caller.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from ..errors import KGError
from ..pipeline import CHUNK, BuildReport, DocumentGraph, Settings, build_chunk, chunks
from ..records import Document

log = logging.getLogger(__name__)

#: Chunks in flight per worker thread at most (taken in order, as soon as each is done).
IN_FLIGHT = 2


class ClusterError(KGError):
    """The Dask cluster could not be reached or set up."""


@contextmanager
def connect(address: str, *, workers: int = 2, processes: bool = True, timeout: float = 30.0) -> Iterator:
    """A Dask ``Client`` for a scheduler address, or for a new local cluster when ``address`` is ``"local"``.

    Args:
        address: ``tcp://host:8786`` (any address ``distributed.Client`` takes), or ``"local"``.
        workers: Workers of a local cluster (one thread each).
        processes: Local workers as processes (True) or as threads of this process.
        timeout: Seconds to wait for the scheduler.

    Raises:
        ClusterError: Dask is not installed, or the scheduler cannot be reached.

    >>> with connect("local", workers=1, processes=False) as client:
    ...     client.submit(sum, [1, 2]).result()
    3
    """
    try:
        from distributed import Client, LocalCluster
    except ImportError:  # pragma: no cover - dask is a dependency
        raise ClusterError("Dask is not installed; pip install 'dask[distributed]'") from None
    cluster = None
    try:
        if address == "local":
            cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=processes, dashboard_address=":0")
            client = Client(cluster, timeout=timeout)
        else:
            client = Client(address, timeout=timeout)
    except (OSError, TimeoutError, ValueError) as exc:
        if cluster is not None:
            cluster.close()
        raise ClusterError(f"cannot reach the Dask scheduler at {address!r} ({exc}); "
                           "start one (dask scheduler) or use --dask local") from None
    try:
        yield client
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def dask_graphs(documents: Iterable[Document], settings: Settings, client, *, report: BuildReport | None = None,
                chunk: int = CHUNK) -> Iterator[DocumentGraph]:
    """Documents' graphs built by the workers of ``client``, yielded in input order.

    Args:
        documents: The documents, streamed; they are sent to the workers ``chunk`` at a time.
        settings: The model, knowledge base (a path the workers can open) and threshold.
        client: A ``distributed.Client`` (see :func:`connect`).
        report: Receives each chunk's counts and stage times.
        chunk: Documents per task and per spaCy batch (the same as a single-process build's, for the same graph).
    """
    report = report if report is not None else BuildReport()
    threads = sum(client.nthreads().values()) or 1
    pending: deque = deque()
    try:
        for part in chunks(documents, chunk):
            pending.append(client.submit(build_chunk, settings, part, pure=False))
            while pending and (pending[0].done() or len(pending) >= IN_FLIGHT * threads):
                yield from _take(pending.popleft(), report)
        while pending:
            yield from _take(pending.popleft(), report)
    finally:
        for future in pending:
            future.cancel()


def _take(future, report: BuildReport) -> list[DocumentGraph]:
    graphs, done = future.result()
    report.add(done)
    return graphs
