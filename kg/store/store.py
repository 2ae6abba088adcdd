"""kg's embedded RDF store: one named graph per document, on a pyoxigraph (RocksDB) store.

Rebuilding a document replaces its named graph in one SPARQL update, which
pyoxigraph applies as a single transaction: after a crash the store holds
either the old graph or the new one, never a mix.

A lock file beside the store (``DIR.lock``, taken with ``fcntl.flock``) keeps
processes apart: a writer holds it exclusively, read-only opens share it.
pyoxigraph 0.5 has no secondary (follow-the-writer) mode, and opening a store
read-only while another process writes it is undefined behaviour, so readers
wait for a writer to finish (and a writer for the readers) up to
``lock_timeout`` seconds. The lock is released when the process dies.

A batch of documents new to the store is bulk-loaded (pyoxigraph writes its
index files directly, without a transaction per document): the batch's graphs are
first listed in a journal beside the store (``DIR.pending``), which is removed
once the load has returned. A store opened with a journal left by a killed
writer drops the graphs it lists before anything else reads it, so they are
absent, as after a crash in a transaction: whole documents or none.

A writable store keeps its name index (``DIR.names``, :mod:`kg.store.names`)
in step with every document it writes, for the cross-document surname pass.
"""

from __future__ import annotations

import fcntl
import logging
import os
import sqlite3
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote

import pyoxigraph as ox

from kg.errors import StoreError
from kg.export.serialize import write_quads
from kg.iri import META_GRAPH, graph_iri
from kg.store.names import NameIndex, invalidate

if TYPE_CHECKING:
    from kg.query.run import QueryResult

log = logging.getLogger(__name__)

#: New documents in one put, at least, for them to be bulk-loaded together (fewer go one transaction each).
BULK_MIN = 8

_META = ox.NamedNode(str(META_GRAPH))
_DOC_GRAPH_PREFIX = str(graph_iri(""))
_RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
_LABELS = (
    ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label"),
    ox.NamedNode("http://www.w3.org/2004/02/skos/core#altLabel"),
)


class Store:
    """A kg store on disk. Use :meth:`open`, preferably as a context manager.

    >>> import tempfile
    >>> doc = ox.NamedNode(str(graph_iri("a")))
    >>> q = ox.Quad(ox.NamedNode("http://example.org/s"), ox.NamedNode("http://example.org/p"), ox.Literal("o"), doc)
    >>> with tempfile.TemporaryDirectory() as tmp, Store.open(f"{tmp}/store") as store:
    ...     store.replace_document("a", [q]), store.documents(), len(store)
    (1, ['a'], 1)
    """

    def __init__(self, path: str | os.PathLike[str], *, read_only: bool = False, lock_timeout: float = 10.0):
        self.path = Path(path)
        self.read_only = read_only
        if self.path.exists() and not self.path.is_dir():
            raise StoreError(f"cannot open store {self.path}: it is a file, not a store folder; use another --store")
        if read_only and not self.path.is_dir():
            raise StoreError(f"no store at {self.path}; build one first (kg build ... --store {self.path})")
        if self.path.is_dir() and any(self.path.iterdir()) and not (self.path / "CURRENT").is_file():
            raise StoreError(f"{self.path} is a folder but not a kg store; use a new or empty folder for --store")
        if read_only:
            recover(self.path, lock_timeout=lock_timeout)  # a writer's interrupted bulk load is undone first
        self._lock_fd = _lock(self.path, exclusive=not read_only, timeout=lock_timeout)
        try:
            self._db: ox.Store | None = ox.Store.read_only(str(self.path)) if read_only else ox.Store(str(self.path))
            if not read_only and self._drop_pending():
                invalidate(self.path)  # in case the name index holds rows of the dropped graphs
        except (OSError, RuntimeError) as exc:
            self._db = None
            _unlock(self._lock_fd, exclusive=not read_only)
            raise StoreError(f"cannot open store {self.path}: {str(exc).splitlines()[0]}") from None
        #: The name index kept beside a writable store (:mod:`kg.store.names`); None when read-only.
        self.names: NameIndex | None = None
        if not read_only:
            db = self._db
            empty = next(db.quads_for_pattern(None, None, None, None), None) is None and next(db.named_graphs(), None) is None
            try:
                self.names = NameIndex(self.path, empty=empty)
            except (OSError, sqlite3.Error) as exc:
                self._db = None
                _unlock(self._lock_fd, exclusive=True)
                raise StoreError(f"cannot open the name index of store {self.path}: {exc}") from None
        log.debug("opened store %s%s", self.path, " read-only" if read_only else "")

    @classmethod
    def open(cls, path: str | os.PathLike[str], *, read_only: bool = False, lock_timeout: float = 10.0) -> Store:
        """Open (creating it if needed, unless ``read_only``) the store in folder ``path``.

        Args:
            path: The store folder; its lock file is ``path`` + ``.lock`` beside it.
            read_only: Open without writing; the store must exist. Read-only opens share the lock.
            lock_timeout: Seconds to wait for another kg process to release the store.

        Raises:
            StoreError: The store is missing (read-only), invalid, or still in use after ``lock_timeout``.
        """
        return cls(path, read_only=read_only, lock_timeout=lock_timeout)

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._db is None else "read-only" if self.read_only else "read-write"
        return f"<kg Store {str(self.path)!r} {state}>"

    def close(self) -> None:
        """Flush, close the database and release the lock. Closing twice is harmless."""
        if self._db is None:
            return
        failure = None
        if not self.read_only:
            try:
                self._db.flush()
            except OSError as exc:  # a full disk: what was committed is in the write-ahead log
                failure = f"cannot flush store {self.path}: {str(exc).splitlines()[0]}"
        self._db = None  # drops the last reference: RocksDB closes before the lock is released
        if self.names is not None:
            try:
                self.names.close(flushed=failure is None)
            except sqlite3.Error as exc:
                failure = failure or f"cannot write name index {self.names.path}: {exc}"
        _unlock(self._lock_fd, exclusive=not self.read_only)
        log.debug("closed store %s", self.path)
        if failure is not None:
            raise StoreError(failure)

    @property
    def pyoxigraph(self) -> ox.Store:
        """The underlying pyoxigraph store (do not keep it beyond :meth:`close`)."""
        if self._db is None:
            raise StoreError(f"store {self.path} is closed; open it again")
        return self._db

    def _writable(self) -> ox.Store:
        if self.read_only:
            raise StoreError(f"store {self.path} was opened read-only; open it without read_only to write")
        return self.pyoxigraph

    def replace_document(
        self, doc_id: str, quads: Iterable[ox.Quad], *, metadata_quads: Iterable[ox.Quad] = ()
    ) -> int:
        """Replace document ``doc_id``'s named graph with ``quads``, in one transaction.

        Quads in the default graph are put in the document graph. Metadata quads
        go to the meta graph, replacing every earlier meta triple whose subject is
        the document graph (its VoID description). Replacing with no quads
        removes the document. Blank nodes are renamed, so ones from different
        calls never merge.

        Args:
            doc_id: The document's id (its graph is :func:`kg.iri.graph_iri` of it).
            quads: The document's quads, in its graph (or the default graph).
            metadata_quads: Quads about the document graph, in the meta graph (or the default graph).

        Returns:
            The number of distinct triples now in the document graph.

        Raises:
            StoreError: A quad names another graph, the store is read-only, or the write failed.
        """
        graph = ox.NamedNode(str(graph_iri(doc_id)))
        body = _triples(quads, graph, f"document {doc_id!r}")
        meta = _triples(metadata_quads, _META, f"the metadata of document {doc_id!r}")
        update = [f"DROP SILENT GRAPH {graph}", f"DELETE WHERE {{ GRAPH {_META} {{ {graph} ?p ?o }} }}"]
        blocks = [f"GRAPH {g} {{\n{chr(10).join(lines)}\n}}" for g, lines in ((graph, body), (_META, meta)) if lines]
        if blocks:
            update.append("INSERT DATA {\n" + "\n".join(blocks) + "\n}")
        db = self._writable()
        self._begin()
        try:
            db.update(" ;\n".join(update))
        except (OSError, RuntimeError, SyntaxError) as exc:
            raise StoreError(f"cannot write document {doc_id!r} to {self.path}: {str(exc).splitlines()[0]}") from None
        finally:
            self._refresh([graph])
        log.debug("replaced document %r: %d triples", doc_id, len(body))
        return len(body)

    def replace_metadata(self, quads: Iterable[ox.Quad]) -> int:
        """Replace the whole meta graph (the dataset's VoID description, see :mod:`kg.store.void`) in one transaction.

        Args:
            quads: Quads in the meta graph (or the default graph).

        Returns:
            The number of distinct triples now in the meta graph.

        Raises:
            StoreError: A quad names another graph, the store is read-only, or the write failed.
        """
        body = _triples(quads, _META, "the meta graph")
        update = [f"DROP SILENT GRAPH {_META}"]
        if body:
            update.append(f"INSERT DATA {{ GRAPH {_META} {{\n{chr(10).join(body)}\n}} }}")
        try:
            self._writable().update(" ;\n".join(update))
        except (OSError, RuntimeError, SyntaxError) as exc:
            raise StoreError(f"cannot write the meta graph to {self.path}: {str(exc).splitlines()[0]}") from None
        return len(body)

    def flush(self) -> None:
        """Write what RocksDB holds in memory to disk, so a long build's memory stays flat.

        Raises:
            StoreError: The store is read-only or the write failed (a full disk).
        """
        try:
            self._writable().flush()
        except OSError as exc:
            raise StoreError(f"cannot flush store {self.path}: {str(exc).splitlines()[0]}") from None

    def put_documents(self, documents: Iterable[tuple[str, bytes]]) -> int:
        """Store documents' graphs given as N-Triples, each replacing any earlier graph of its document.

        Documents new to the store go straight to pyoxigraph's loader, without SPARQL: :data:`BULK_MIN` or
        more of them are bulk-loaded together under the store's journal (the common case of a build, and
        its fast path), fewer are loaded one transaction each. A document already stored (or with blank
        nodes, or repeated in ``documents``) goes through :meth:`replace_document`. Either way a document's
        graph is written whole or not at all, in the order given.

        Args:
            documents: ``(doc_id, n_triples)`` pairs: the triples of each document's graph.

        Returns:
            The number of documents written.

        Raises:
            StoreError: The N-Triples are malformed, the store is read-only, or the write failed.

        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as tmp, Store.open(f"{tmp}/store") as store:
        ...     store.put_documents([("a", b'<http://example.org/s> <http://example.org/p> "o" .\\n')]), len(store)
        (1, 1)
        """
        self._writable()
        self._begin()
        written: list[ox.NamedNode] = []  # loaded straight in: their index rows are read after the loop
        new: dict[ox.NamedNode, tuple[str, bytes]] = {}  # waiting to be loaded, in order
        n = 0

        def load_new() -> None:
            if len(new) >= BULK_MIN and self._bulk_load(new):
                written.extend(new)
            else:
                for graph, (doc_id, data) in new.items():
                    self._load(graph, doc_id, data)
                    written.append(graph)
            new.clear()

        try:
            for doc_id, data in documents:
                graph = ox.NamedNode(str(graph_iri(doc_id)))
                if graph in new or b"_:" in data or self._stored(graph):
                    load_new()
                    try:
                        self.replace_document(doc_id, ox.parse(data, format=ox.RdfFormat.N_TRIPLES))
                    except (SyntaxError, ValueError) as exc:
                        raise StoreError(f"cannot write document {doc_id!r} to {self.path}: {str(exc).splitlines()[0]}") from None
                else:
                    new[graph] = (doc_id, data)
                n += 1
            load_new()
        finally:
            self._refresh(written)
        return n

    def _stored(self, graph: ox.NamedNode) -> bool:
        db = self.pyoxigraph
        return db.contains_named_graph(graph) or next(db.quads_for_pattern(graph, None, None, _META), None) is not None

    def _load(self, graph: ox.NamedNode, doc_id: str, data: bytes) -> None:
        """Load one new document's N-Triples into its graph, in one transaction."""
        try:
            self.pyoxigraph.load(data, format=ox.RdfFormat.N_TRIPLES, to_graph=graph)
        except (OSError, SyntaxError, ValueError) as exc:
            raise StoreError(f"cannot write document {doc_id!r} to {self.path}: {str(exc).splitlines()[0]}") from None

    def _bulk_load(self, documents: dict[ox.NamedNode, tuple[str, bytes]]) -> bool:
        """Bulk-load new documents as one N-Quads input under the journal; False (nothing written) if they cannot be.

        A graph's N-Triples become N-Quads by naming the graph before each line's final `` .``, which is
        exact when every line ends so. A line short of its object would become a triple of the default
        graph, which a kg store leaves empty: such a load is undone too. Other input (and input the loader
        rejects) is left to one transaction per document, which says which document is bad.
        """
        db, default = self.pyoxigraph, ox.DefaultGraph()
        if next(db.quads_for_pattern(None, None, None, default), None) is not None:
            return False
        parts = []
        for graph, (_, data) in documents.items():
            if data and (not data.endswith(b"\n") or data.count(b" .\n") != data.count(b"\n")):
                return False
            parts.append(data.replace(b" .\n", f" {graph} .\n".encode()))
        journal = pending_path(self.path)
        _write_synced(journal, "".join(f"{g.value}\n" for g in documents).encode())
        try:
            db.bulk_load(b"".join(parts), format=ox.RdfFormat.N_QUADS)
            if next(db.quads_for_pattern(None, None, None, default), None) is not None:
                db.clear_graph(default)
                raise ValueError("a line is not a whole triple")
        except (OSError, SyntaxError, ValueError) as exc:
            log.debug("bulk load of %d documents failed (%s); loading them one by one", len(documents), exc)
            self._drop_pending()  # what it wrote, before the journal goes
            return False
        journal.unlink()
        return True

    def _drop_pending(self) -> int:
        """Drop the graphs listed in the journal (a bulk load that did not return), then the journal; how many."""
        journal = pending_path(self.path)
        if not journal.exists():
            return 0
        graphs = [ox.NamedNode(line) for line in journal.read_text(encoding="utf-8").split()]
        if graphs:
            self.pyoxigraph.update(" ;\n".join(f"DROP SILENT GRAPH {g}" for g in graphs))
            self.pyoxigraph.flush()
        journal.unlink()
        return len(graphs)

    def _begin(self) -> None:
        """Before a write: mark the name index dirty, so a kill before it is settled makes the next pass rebuild it."""
        if self.names is not None:
            try:
                self.names.begin()
            except sqlite3.Error as exc:
                raise StoreError(f"cannot write name index {self.names.path}: {exc}; check the folder's permissions") from None

    def _refresh(self, graphs: list[ox.NamedNode]) -> None:
        """After a write: bring the name index up to date with ``graphs``."""
        if self.names is not None and graphs:
            try:
                self.names.refresh(self.pyoxigraph, graphs)
            except sqlite3.Error as exc:
                raise StoreError(f"cannot write name index {self.names.path}: {exc}; check the folder's permissions") from None

    def documents(self) -> list[str]:
        """The ids of the documents in the store, sorted."""
        return sorted(
            unquote(g.value[len(_DOC_GRAPH_PREFIX) :], errors="surrogatepass")
            for g in self.pyoxigraph.named_graphs()
            if isinstance(g, ox.NamedNode) and g.value.startswith(_DOC_GRAPH_PREFIX)
        )

    def has_document(self, doc_id: str) -> bool:
        """Whether document ``doc_id`` has a graph in the store."""
        return self.pyoxigraph.contains_named_graph(ox.NamedNode(str(graph_iri(doc_id))))

    def quads(self, graph: str | ox.NamedNode | ox.DefaultGraph | None = None) -> Iterator[ox.Quad]:
        """The quads of one graph (an IRI, e.g. ``graph_iri(doc_id)``), or of all graphs."""
        if graph is not None and not isinstance(graph, (ox.NamedNode, ox.DefaultGraph)):
            graph = ox.NamedNode(str(graph))
        return self.pyoxigraph.quads_for_pattern(None, None, None, graph)

    def __len__(self) -> int:
        return len(self.pyoxigraph)

    def query(
        self,
        sparql: str,
        *,
        substitutions: dict[str, str | ox.NamedNode | ox.Literal] | None = None,
        timeout: float | None = None,
    ) -> QueryResult:
        """Run a SPARQL query over the union of all graphs; see :func:`kg.query.run.run_query`."""
        from kg.query.run import run_query  # the query stage sits above the store

        return run_query(sparql, self, substitutions=substitutions, timeout=timeout)

    def dump(self, path: str | os.PathLike[str], *, format: str | None = None) -> int:
        """Write the whole store to an RDF file; see :func:`kg.export.serialize.write_quads`."""
        return write_quads(self.pyoxigraph, path, format=format)

    def find_entities_by_label(self, label: str, type_iri: str | None = None) -> list[str]:
        """IRIs of the entities whose ``rdfs:label`` or ``skos:altLabel`` is exactly ``label``, sorted.

        Uses the store's predicate-object index, so it stays fast on a large store.

        Args:
            label: The name, matched exactly (a plain string literal).
            type_iri: Keep only entities with this ``rdf:type`` (e.g. ``str(KG.Person)``).
        """
        db = self.pyoxigraph
        found = {
            q.subject
            for predicate in _LABELS
            for q in db.quads_for_pattern(None, predicate, ox.Literal(label), None)
            if isinstance(q.subject, ox.NamedNode)
        }
        if type_iri is not None:
            cls = ox.NamedNode(str(type_iri))
            found = {s for s in found if next(db.quads_for_pattern(s, _RDF_TYPE, cls, None), None)}
        return sorted(s.value for s in found)


def pending_path(store_path: str | os.PathLike[str]) -> Path:
    """Where the journal of a store's bulk load in progress lives: beside the store folder.

    >>> pending_path("/data/.kg/store")
    PosixPath('/data/.kg/store.pending')
    """
    store = Path(store_path)
    return store.with_name(store.name + ".pending")


def recover(path: str | os.PathLike[str], *, lock_timeout: float = 10.0) -> None:
    """Before reading a store: if a killed writer left a journal, open the store once for writing, which drops its graphs.

    Raises:
        StoreError: The store cannot be opened for writing (still in use, or a read-only folder).
    """
    if pending_path(path).exists():
        try:
            Store(path, lock_timeout=lock_timeout).close()
        except StoreError as exc:
            raise StoreError(f"{exc} (store {path} holds an interrupted write to undo first)") from None


def _write_synced(path: Path, data: bytes) -> None:
    """Write a small file whole and on disk (written beside, synced, renamed) before going on."""
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def _triples(quads: Iterable[ox.Quad], graph: ox.NamedNode, what: str) -> list[str]:
    """Distinct triples of ``quads`` (all in ``graph`` or the default graph) as SPARQL lines."""
    lines: dict[str, None] = {}
    for q in quads:
        if not isinstance(q.graph_name, ox.DefaultGraph) and q.graph_name != graph:
            raise StoreError(f"a quad for {what} is in graph {q.graph_name}, expected {graph}; fix the graph builder")
        lines[f"{q.subject} {q.predicate} {q.object} ."] = None
    return list(lines)


@contextmanager
def locked(path: str | os.PathLike[str], *, exclusive: bool, timeout: float = 10.0) -> Iterator[int | None]:
    """Hold a store's lock without opening it, e.g. while another program (an Oxigraph server) uses the folder.

    Yields the lock file's descriptor (None when a reader could not create the lock file), to pass on
    to a child process that should keep the lock as long as it lives.

    Raises:
        StoreError: The store is still in use after ``timeout`` seconds.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp, locked(f"{tmp}/store", exclusive=True) as fd:
    ...     Store.open(f"{tmp}/store", lock_timeout=0)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    kg.errors.StoreError: store .../store is in use by another kg process (pid ...); wait or use another --store
    """
    recover(path, lock_timeout=timeout)
    fd = _lock(Path(path), exclusive=exclusive, timeout=timeout)
    if exclusive:
        invalidate(path)  # the holder may write the store behind the name index's back
    try:
        yield fd
    finally:
        _unlock(fd, exclusive=exclusive)


def _lock(store: Path, *, exclusive: bool, timeout: float) -> int | None:
    """Take the store's lock file (exclusive for a writer, shared for readers); return its descriptor."""
    lock_path = store.with_name(store.name + ".lock")
    try:
        if exclusive:
            lock_path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(lock_path, (os.O_RDWR if exclusive else os.O_RDONLY) | os.O_CREAT, 0o644)
    except OSError as exc:
        if exclusive:
            raise StoreError(f"cannot create lock file {lock_path}: {exc.strerror}; use another --store") from None
        log.warning("cannot create lock file %s (%s); reading the store without a lock", lock_path, exc.strerror)
        return None
    deadline = time.monotonic() + timeout
    waited = False
    while True:
        try:
            fcntl.flock(fd, (fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH) | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            if time.monotonic() >= deadline:
                pid = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
                os.close(fd)
                holder = f" (pid {pid})" if pid.isdigit() else ""
                raise StoreError(
                    f"store {store} is in use by another kg process{holder}; wait or use another --store"
                ) from None
            if not waited:
                log.info("store %s is in use by another kg process; waiting up to %gs", store, timeout)
                waited = True
            time.sleep(0.05)
    if exclusive:  # record the writer, for the message another process gets
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    return fd


def _unlock(fd: int | None, *, exclusive: bool) -> None:
    if fd is None:
        return
    if exclusive:
        os.ftruncate(fd, 0)
    fcntl.flock(fd, fcntl.LOCK_UN)
    os.close(fd)
