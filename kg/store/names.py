"""The store's name index: which person and organization nodes carry which labels, by surname key.

The cross-document surname pass (:mod:`kg.resolution.crossdoc`) needs, for a
surname, every full name of the store that ends with it. Reading every person of
the store after each build would make adding one document cost more the larger
the store; this index answers for the keys of the new documents only.

It is a SQLite file beside the store (``DIR.names``, like the lock file
``DIR.lock``), holding per named graph the person and organization nodes typed
there and their ``rdfs:label`` (with the transliteration key of the label's last
word). :class:`~kg.store.Store` keeps it in step with every document it writes
and records the keys each write touched.

Crash safety: the index is marked *dirty* on disk (a synchronous commit) before
a session's first write to the store, and *clean* only when the store is closed,
after RocksDB was flushed, with every write seen by a surname pass. An index
that is dirty, missing, of another version or of another store (RocksDB's
``IDENTITY``) is rebuilt from the store by the next pass, which then looks at
every key, as a pass without an index would. A kill at any moment therefore
costs at most one full pass, never a wrong answer. A program that writes the
store folder other than through :class:`~kg.store.Store` (``kg serve
--writable``) takes the lock with :func:`kg.store.store.locked`, which marks the
index dirty.

>>> name_key("Valeriy Zaluzhniy") == name_key("Zaluzhnyi")
True
"""

from __future__ import annotations

import logging
import os
import sqlite3
from collections.abc import Iterable, Iterator
from pathlib import Path

import pyoxigraph as ox

from kg.iri import ID
from kg.linking.sources import translit_key
from kg.vocab import KG

log = logging.getLogger(__name__)

#: Version of the index layout; an index of another version is rebuilt.
VERSION = "1"

_RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
_LABEL = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label")
_CLASSES = (ox.NamedNode(str(KG.Person)), ox.NamedNode(str(KG.Organization)))
_XSD_STRING = ox.NamedNode("http://www.w3.org/2001/XMLSchema#string")
_LANG_STRING = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#langString")
_PERSON, _ORGANIZATION = f"{ID}person/", f"{ID}organization/"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS typed(graph TEXT NOT NULL, iri TEXT NOT NULL, PRIMARY KEY (graph, iri)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS typed_iri ON typed(iri);
CREATE TABLE IF NOT EXISTS labels(
    graph TEXT NOT NULL, iri TEXT NOT NULL, label TEXT NOT NULL, key TEXT NOT NULL, PRIMARY KEY (graph, iri, label)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS labels_key ON labels(key);
"""


def name_key(label: str) -> str | None:
    """The key a label is filed under: the transliteration key of its last word (None for a blank label).

    A one-word label is a surname; it meets the full names whose last word has the same key.

    >>> name_key("Olaf Scholz"), name_key("Scholz"), name_key("  ")
    ('scholz', 'scholz', None)
    """
    words = label.split()
    if not words:
        return None
    return translit_key(label if len(words) == 1 else words[-1])


def scan(db: ox.Store, graph: ox.NamedNode | None = None) -> tuple[set[tuple[str, str]], set[tuple[str, str, str, str]]]:
    """What the index holds about one named graph of a pyoxigraph store (all graphs if None).

    Returns:
        ``(graph, iri)`` of the person and organization nodes typed ``kg:Person`` or ``kg:Organization``, and
        ``(graph, iri, label, key)`` of their ``rdfs:label``: every label of a person node, the one-word labels
        of an organization node (the statistical model takes some surnames for organizations).

    >>> db = ox.Store()
    >>> g, p = ox.NamedNode("https://w3id.org/kg/graph/doc/a"), ox.NamedNode(f"{_PERSON}olaf-scholz")
    >>> db.extend([ox.Quad(p, _RDF_TYPE, _CLASSES[0], g), ox.Quad(p, _LABEL, ox.Literal("Olaf Scholz"), g)])
    >>> scan(db, g)
    ({('https://w3id.org/kg/graph/doc/a', 'https://w3id.org/kg/id/person/olaf-scholz')}, \
{('https://w3id.org/kg/graph/doc/a', 'https://w3id.org/kg/id/person/olaf-scholz', 'Olaf Scholz', 'scholz')})
    """
    typed = {
        (q.graph_name.value, q.subject.value)
        for cls in _CLASSES
        for q in db.quads_for_pattern(None, _RDF_TYPE, cls, graph)
        if isinstance(q.subject, ox.NamedNode) and isinstance(q.graph_name, ox.NamedNode)
        and q.subject.value.startswith((_PERSON, _ORGANIZATION))
    }
    labels = set()
    for q in db.quads_for_pattern(None, _LABEL, None, graph):
        s, o = q.subject, q.object
        if not (isinstance(s, ox.NamedNode) and isinstance(q.graph_name, ox.NamedNode)):
            continue
        if s.value.startswith(_PERSON) or (
            s.value.startswith(_ORGANIZATION) and isinstance(o, ox.Literal) and o.datatype in (_XSD_STRING, _LANG_STRING)
            and " " not in o.value
        ):
            key = name_key(o.value)
            if key is not None:
                labels.add((q.graph_name.value, s.value, o.value, key))
    return typed, labels


class NameIndex:
    """The name index of one store (see the module's description). :class:`~kg.store.Store` opens and closes it.

    Whenever it is not known to match the store (missing beside a store that holds data, dirty, of another
    version or of another store), the index is :attr:`stale` and the next pass rebuilds it. On disk it is
    *clean* only between sessions: marked dirty before a session's first write, and clean again when the
    store is closed (and flushed) with every write seen by a pass.
    """

    def __init__(self, store_path: str | os.PathLike[str], *, empty: bool = False):
        self.path = index_path(store_path)
        self.identity = _identity(store_path)
        self._db: sqlite3.Connection | None = None
        self.stale = True  # not known to match the store: the next pass rebuilds it
        self._marked = False  # marked dirty on disk by this session
        self.pending = False  # written since the last pass
        #: Keys of the labels written since the last pass; None: every key (the index was rebuilt).
        self.touched: set[str] | None = set()
        if self.path.is_file() and empty:
            _remove(self.path)  # an index left beside a store that was removed
        if self.path.is_file():
            try:
                meta = dict(self._connect().execute("SELECT key, value FROM meta"))
                self.stale = (meta.get("version"), meta.get("identity"), meta.get("state")) != (VERSION, self.identity, "clean")
            except sqlite3.Error as exc:
                log.warning("name index %s is unreadable (%s); it will be rebuilt", self.path, exc)
                self.close(flushed=False)
                _remove(self.path)
        elif empty:
            self.stale = False  # an empty store has an empty index, created by the first write

    def _connect(self) -> sqlite3.Connection:
        if self._db is None:
            # the writer thread of a build updates it, the building thread runs the pass; never at once
            db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            db.executescript("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;" + _SCHEMA)
            db.executemany("INSERT OR IGNORE INTO meta VALUES (?, ?)", [("version", VERSION), ("identity", self.identity)])
            self._db = db
        return self._db

    def _set_state(self, state: str) -> None:
        db = self._connect()
        db.execute("PRAGMA synchronous=FULL")  # on disk before the store is written (dirty), or after it was flushed (clean)
        db.execute("INSERT OR REPLACE INTO meta VALUES ('state', ?)", (state,))
        db.execute("PRAGMA synchronous=NORMAL")

    def begin(self) -> None:
        """Before the store is written: mark the index dirty on disk (once a session)."""
        if not (self._marked or self.stale):
            self._set_state("dirty")
            self._marked = True

    def refresh(self, db: ox.Store, graphs: Iterable[ox.NamedNode]) -> None:
        """After ``graphs`` were written: read again what the index holds about them from the store.

        The keys of their labels, before and after, join :attr:`touched`.
        """
        self.pending = True
        if self.stale:
            return
        index = self._connect()
        index.execute("BEGIN")
        try:
            for graph in graphs:
                before = [k for (k,) in index.execute("SELECT key FROM labels WHERE graph = ?", (graph.value,))]
                index.execute("DELETE FROM typed WHERE graph = ?", (graph.value,))
                index.execute("DELETE FROM labels WHERE graph = ?", (graph.value,))
                typed, labels = scan(db, graph)
                index.executemany("INSERT INTO typed VALUES (?, ?)", typed)
                index.executemany("INSERT INTO labels VALUES (?, ?, ?, ?)", labels)
                if self.touched is not None:
                    self.touched.update(before, (row[3] for row in labels))
            index.execute("COMMIT")
        except BaseException:
            index.execute("ROLLBACK")
            raise

    def rebuild(self, db: ox.Store) -> None:
        """Fill the index from the whole store; every key is then to be looked at (:attr:`touched` is None)."""
        index = self._connect()
        typed, labels = scan(db)
        index.execute("BEGIN")
        try:
            index.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)",
                              [("state", "dirty"), ("version", VERSION), ("identity", self.identity)])
            index.execute("DELETE FROM typed")
            index.execute("DELETE FROM labels")
            index.executemany("INSERT INTO typed VALUES (?, ?)", typed)
            index.executemany("INSERT INTO labels VALUES (?, ?, ?, ?)", labels)
            index.execute("COMMIT")
        except BaseException:
            index.execute("ROLLBACK")
            raise
        self.stale, self._marked, self.pending, self.touched = False, True, True, None
        log.info("rebuilt name index %s: %d labels of %d nodes", self.path, len(labels), len({i for _, i in typed}))

    def persons(self, keys: Iterable[str] | None = None) -> list[tuple[str, str]]:
        """``(iri, label)`` of the typed person and organization nodes whose labels have one of ``keys`` (all if None), sorted.

        A node counts when it is typed in some graph and labelled in some graph, as in the union of the graphs.
        """
        index = self._connect()
        query = "SELECT DISTINCT l.iri, l.label FROM labels l WHERE EXISTS (SELECT 1 FROM typed t WHERE t.iri = l.iri)"
        if keys is None:
            return sorted(index.execute(query))
        out: set[tuple[str, str]] = set()
        keys = sorted(set(keys))
        for i in range(0, len(keys), 500):
            part = keys[i : i + 500]
            out.update(index.execute(query + f" AND l.key IN ({','.join('?' * len(part))})", part))
        return sorted(out)

    def settle(self) -> None:
        """After the surname pass: every write so far has been seen by it."""
        self.pending, self.touched = False, set()

    def close(self, *, flushed: bool) -> None:
        """Close the file; mark the index clean if it is settled and the store was ``flushed`` to disk."""
        if self._db is None:
            return
        try:
            if flushed and self._marked and not (self.pending or self.stale):
                self._set_state("clean")
        finally:
            self._db.close()
            self._db = None


def index_path(store_path: str | os.PathLike[str]) -> Path:
    """Where the name index of a store lives: beside the store folder.

    >>> index_path("/data/.kg/store")
    PosixPath('/data/.kg/store.names')
    """
    store = Path(store_path)
    return store.with_name(store.name + ".names")


def _identity(store_path: str | os.PathLike[str]) -> str:
    """The store's RocksDB identity (a UUID written when it was created), so an index never describes another store."""
    try:
        return (Path(store_path) / "IDENTITY").read_text(encoding="ascii", errors="replace").strip()
    except OSError:
        return ""


def invalidate(store_path: str | os.PathLike[str]) -> None:
    """Mark a store's name index dirty (if it has one), before something else than kg's writer changes the store."""
    path = index_path(store_path)
    if not path.is_file():
        return
    try:
        with sqlite3.connect(path, isolation_level=None) as db:
            db.execute("PRAGMA synchronous=FULL")
            db.execute("INSERT OR REPLACE INTO meta VALUES ('state', 'dirty')")
        db.close()
    except sqlite3.Error:
        _remove(path)  # a missing index is rebuilt too


def _remove(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        try:
            path.with_name(path.name + suffix).unlink(missing_ok=True)
        except OSError as exc:
            log.warning("cannot remove %s%s: %s", path, suffix, exc.strerror)


def graphs_of(db: ox.Store, node: ox.NamedNode) -> Iterator[ox.NamedNode]:
    """The named graphs in which ``node`` is a subject or an object."""
    seen = set()
    for pattern in ((node, None, None, None), (None, None, node, None)):
        for q in db.quads_for_pattern(*pattern):
            g = q.graph_name
            if isinstance(g, ox.NamedNode) and g not in seen:
                seen.add(g)
                yield g
