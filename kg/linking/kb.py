"""The offline knowledge base: one SQLite file of Wikidata items, their names and priors.

Built once from ``data/kb-sources`` (:func:`build_default`, ``kg kb build``) and opened
read-only by the linker (:meth:`KnowledgeBase.open`). Every name is stored with two
keys, :func:`normalize` and :func:`translit_key`; the distinct normalized keys (table
``grams``) serve a bounded fuzzy fallback, searched in memory by pieces of the keys. See
``docs/decisions/2026-11-25-knowledge-base-sqlite.md`` and
``docs/decisions/2026-11-25-fuzzy-lookup-in-memory.md``.
"""

from __future__ import annotations

import itertools
import json
import logging
import os
import re
import sqlite3
import time
from collections.abc import Collection, Iterable, Iterator
from dataclasses import astuple, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from kg.errors import LinkingError
from kg.linking.sources import KB_TYPES, SOURCE_FILES, KBEntry, merge, normalize, read_all, translit_key
from kg.paths import DEFAULT_KB, KB_SOURCES_DIR
from kg.records import Candidate

__all__ = ["KBRecord", "KnowledgeBase", "build_default", "normalize", "translit_key"]

log = logging.getLogger(__name__)

SCHEMA_VERSION = 2
#: Attribution recorded in the default KB (a derived database of dr5hn's, ODbL 1.0).
NOTICE = (
    "Contains information from countries-states-cities-database (dr5hn), made available under the "
    "Open Database License (ODbL) 1.0; Natural Earth (public domain); Wikidata (CC0). See data/kb-sources/README.md."
)
_BATCH = 5000
_FIX = "run `kg kb build`"

_SCHEMA = """
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE entities(
    qid TEXT PRIMARY KEY, label TEXT NOT NULL, type TEXT NOT NULL, description TEXT NOT NULL,
    prior REAL NOT NULL, country TEXT, located_in TEXT, capital_of TEXT, sources TEXT NOT NULL
) WITHOUT ROWID;
-- one row per (name, item, kind); kind is label, alias or demonym; rank orders names of one item
CREATE TABLE names(
    name TEXT NOT NULL, norm TEXT NOT NULL, translit TEXT NOT NULL,
    qid TEXT NOT NULL, kind TEXT NOT NULL, rank INTEGER NOT NULL
);
-- Wikidata statements kept for disambiguation and enrichment: (item, property id, item)
CREATE TABLE relations(qid TEXT NOT NULL, property TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (qid, property, value)) WITHOUT ROWID;
CREATE VIRTUAL TABLE grams USING fts5(norm, tokenize='trigram');
"""
_INDEXES = """
CREATE INDEX names_name ON names(name);
CREATE INDEX names_norm ON names(norm);
CREATE INDEX names_translit ON names(translit);
CREATE INDEX names_qid ON names(qid, kind, rank);
INSERT INTO grams(norm) SELECT DISTINCT norm FROM names WHERE kind != 'demonym' AND length(norm) >= 3;
"""

#: Weight of a name match by how it matched and the kind of name; multiplied by the prior term.
_WEIGHTS = {
    ("exact", "label"): 1.0,
    ("exact", "alias"): 0.95,
    ("norm", "label"): 0.9,
    ("norm", "alias"): 0.85,
    ("translit", "label"): 0.72,
    ("translit", "alias"): 0.7,
}
_FUZZY_WEIGHT = 0.6
#: Fuzzy searches remembered per knowledge-base handle (the same name is often looked up with other types).
_FUZZY_KEPT = 4096
#: Items read per query when scoring candidates.
_BATCH_QIDS = 500
#: Most names :meth:`KnowledgeBase.gazetteer` gives the EntityRuler.
GAZETTEER_LIMIT = 100_000
#: Ontology superclasses a ``types`` filter expands to.
_SUBTYPES = {"Location": ("Country", "AdministrativeArea", "Settlement"), "Organization": ("MilitaryUnit",)}

#: Single words that name places but are mostly ordinary English words (or first names) in news text.
GAZETTEER_STOPWORDS = frozenset(
    """man nice reading mobile bath split police march may june april august most best
    hope unity union liberty independence enterprise progress victory freedom peace
    mission paradise welcome normal surprise orange marathon opportunity friendship
    republic federation states state kingdom empire capital free city centre center
    university college north south east west central eastern western northern southern
    middle upper lower interior coast coastal delta plateau lakes rivers highlands
    mount port bay lake river island islands valley beach springs spring falls park
    hill hills ridge rock rocks cape point harbour harbor temple church camp market
    station junction crossing corner cross bridge mill mills deal said salt pool mesa
    karma chic down mary david jackson nelson lincoln regina isabel victoria""".split()
)


@dataclass(frozen=True, slots=True)
class KBRecord:
    """Everything the knowledge base knows about one item."""

    qid: str
    label: str
    type: str
    description: str
    prior: float
    country: str | None
    located_in: str | None
    capital_of: str | None
    aliases: tuple[str, ...]
    demonyms: tuple[str, ...] = ()
    relations: tuple[tuple[str, str], ...] = ()


def _score(weight: float, prior: float) -> float:
    return round(weight * (0.6 + 0.4 * prior), 4)


def _demonym_forms(entry: KBEntry) -> tuple[str, ...]:
    """Demonyms of a country from its source data plus simple derivations: "Russia" → "Russian", plurals."""
    forms = list(entry.demonyms)
    if entry.type == "Country" and entry.label.endswith("ia") and " " not in entry.label:
        forms.append(entry.label + "n")
    forms += [f + "s" for f in forms if f[-1:] in ("n", "i") and " " not in f]
    return tuple(dict.fromkeys(forms))


def _name_rows(entry: KBEntry) -> Iterator[tuple[str, str, str, str, str, int]]:
    seen: set[tuple[str, str]] = set()
    named = [("label", entry.label), *(("alias", a) for a in entry.aliases)]
    named += [("demonym", d) for d in _demonym_forms(entry)]
    for rank, (kind, name) in enumerate(named):
        if (name, kind) not in seen and normalize(name):
            seen.add((name, kind))
            yield name, normalize(name), translit_key(name), entry.qid, kind, rank


def _cuts(length: int) -> tuple[tuple[int, int], ...]:
    """Where a key of this length is cut into three pieces, ``(start, end)``; the last takes the rest.

    >>> _cuts(10)
    ((0, 3), (3, 6), (6, 10))
    """
    size = length // 3
    return (0, size), (size, 2 * size), (2 * size, length)


def _batched(items: Iterable[Any], size: int = _BATCH) -> Iterator[list[Any]]:
    iterator = iter(items)
    while batch := list(itertools.islice(iterator, size)):
        yield batch


class KnowledgeBase:
    """Read-only access to a compiled knowledge base.

    Open with :meth:`open` (a context manager); build with :meth:`build` or
    :func:`build_default`. Not safe to share across threads.
    """

    def __init__(self, connection: sqlite3.Connection, path: Path) -> None:
        self._db = connection
        self.path = path
        self._demonyms: dict[str, Candidate] | None = None  # read whole on first use: a few hundred names
        self._fuzzy_found: dict[str, dict[str, float]] = {}  # the last fuzzy searches, by normalized name
        self._keys: set[str] | None = None  # every name and key of a name (:meth:`_known`), read on first use
        self._pieces: dict[tuple[int, int], dict[str, list[str]]] | None = None  # fuzzy keys by piece (:meth:`_near`)

    # ------------------------------------------------------------------ building

    @classmethod
    def build(
        cls, path: str | os.PathLike[str], entries: Iterable[KBEntry], *, sources: Iterable[str] = (), notice: str = ""
    ) -> dict[str, Any]:
        """Compile entries into a knowledge-base file, atomically.

        Entries of one QID are merged (:func:`kg.linking.sources.merge`, in the order
        given). The file is written next to ``path`` and renamed over it only when
        complete, so a failing build leaves an existing knowledge base untouched.
        Memory stays bounded: entries are staged in a temporary table in batches.

        Args:
            path: Where to write the SQLite file.
            entries: KB entries, any order; several per QID allowed.
            sources: Source names recorded in the ``meta`` table.
            notice: Attribution/licence notice recorded in the ``meta`` table.

        Returns:
            Statistics: ``entities``, ``names``, ``types`` (count per type), ``bytes``, ``seconds``.

        Raises:
            LinkingError: if an entry has a malformed QID or an unknown type.
        """
        start = time.perf_counter()
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.unlink(missing_ok=True)
        db = sqlite3.connect(tmp)
        try:
            db.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA temp_store=FILE;" + _SCHEMA)
            db.execute("CREATE TEMP TABLE stage(seq INTEGER PRIMARY KEY, qid TEXT NOT NULL, data TEXT NOT NULL)")
            for batch in _batched(entries):
                db.executemany("INSERT INTO stage(qid, data) VALUES (?, ?)", [(e.qid, json.dumps(astuple(e))) for e in batch])
            types: dict[str, int] = {}
            names = 0
            staged = db.execute("SELECT qid, data FROM stage ORDER BY qid, seq")
            groups = itertools.groupby(staged, key=lambda row: row[0])
            merged = (merge(KBEntry(*_from_json(data)) for _, data in group) for _, group in groups)
            for batch in _batched(merged):
                for entry in batch:
                    _check(entry)
                    types[entry.type] = types.get(entry.type, 0) + 1
                db.executemany(
                    "INSERT INTO entities VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [(e.qid, e.label, e.type, e.description, e.prior, e.country, e.located_in, e.capital_of, e.source) for e in batch],
                )
                rows = [row for e in batch for row in _name_rows(e)]
                db.executemany("INSERT INTO names VALUES (?, ?, ?, ?, ?, ?)", rows)
                names += len(rows)
                facts = [(e.qid, prop, value) for e in batch for prop, value in e.relations if value != e.qid]
                db.executemany("INSERT OR IGNORE INTO relations VALUES (?, ?, ?)", facts)
            db.execute("DROP TABLE stage")
            db.executescript(_INDEXES)
            stats: dict[str, Any] = {"entities": sum(types.values()), "names": names, "types": dict(sorted(types.items()))}
            meta = {
                "schema_version": SCHEMA_VERSION,
                "built": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                "sources": sorted(set(sources)),
                "notice": notice,
                **stats,
            }
            db.executemany("INSERT INTO meta VALUES (?, ?)", [(k, json.dumps(v)) for k, v in meta.items()])
            db.commit()
            db.execute("PRAGMA optimize")
            db.close()
            with tmp.open("rb+") as handle:
                os.fsync(handle.fileno())
            os.replace(tmp, path)
        except BaseException:
            db.close()
            tmp.unlink(missing_ok=True)
            raise
        stats |= {"bytes": path.stat().st_size, "seconds": round(time.perf_counter() - start, 2)}
        log.info("built knowledge base %s: %s", path, stats)
        return stats

    # ------------------------------------------------------------------ opening

    @classmethod
    def open(cls, path: str | os.PathLike[str] = DEFAULT_KB) -> KnowledgeBase:
        """Open a compiled knowledge base read-only.

        Raises:
            LinkingError: if the file is missing, not a knowledge base, or of an older schema.
        """
        path = Path(path)
        if not path.is_file():
            raise LinkingError(f"knowledge base {path} not found; {_FIX}")
        db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        db.execute("PRAGMA temp_store=MEMORY")  # sorts never need disk space (a full disk fails nothing)
        try:
            row = db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        except sqlite3.DatabaseError as exc:
            db.close()
            raise LinkingError(f"knowledge base {path} is unreadable ({exc}); {_FIX}") from exc
        if row is None or json.loads(row[0]) != SCHEMA_VERSION:
            db.close()
            raise LinkingError(f"knowledge base {path} has schema {row and row[0]}, expected {SCHEMA_VERSION}; {_FIX}")
        return cls(db, path)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> KnowledgeBase:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<KnowledgeBase path={str(self.path)!r}>"

    def meta(self) -> dict[str, Any]:
        """The build metadata: schema version, build date, sources, licence notice, counts."""
        return {k: json.loads(v) for k, v in self._db.execute("SELECT key, value FROM meta")}

    # ------------------------------------------------------------------ queries

    def lookup(self, name: str, *, types: Collection[str] | None = None, limit: int = 10) -> list[Candidate]:
        """Candidate items for a name, best first.

        Exact names score highest, then normalized and transliteration keys (for keys
        of 4+ characters); when nothing matches, names of 6+ characters fall back to a fuzzy search (edit
        distance 1, or 2 from 9 characters) with lower scores. Scores combine how
        the name matched with the item's prior; ties are broken by QID.

        Args:
            name: Surface text.
            types: Keep only these types (``Location`` includes its subclasses).
            limit: Maximum number of candidates.
        """
        norm, translit = normalize(name), translit_key(name)
        if not norm:
            return []
        short = len(translit) < 4  # short keys collide ("EE.UU." ~ "EU"): exact and normalized only
        best: dict[str, float] = {}
        if self._known(name, norm, translit):  # most names in a text are no item's: those skip the query
            rows = self._db.execute(
                "SELECT qid, kind, name = ?, norm = ? FROM names WHERE (name = ? OR norm = ? OR translit = ?) AND kind != 'demonym'",
                (name, norm, name, norm, None if short else translit),
            )
            for qid, kind, exact, normal in rows:
                weight = _WEIGHTS["exact" if exact else "norm" if normal else "translit", kind]
                best[qid] = max(best.get(qid, 0.0), weight)
        candidates = self._candidates(best, types)
        if not candidates and len(norm) >= 6:
            candidates = self._candidates(self._fuzzy(norm), types)
        return candidates[:limit]

    def _known(self, *keys: str) -> bool:
        """Whether one of these is a name, normalized key or transliteration key of some item (demonyms aside)."""
        if self._keys is None:
            self._keys = {k for row in self._db.execute("SELECT name, norm, translit FROM names WHERE kind != 'demonym'") for k in row}
        return any(k in self._keys for k in keys)

    def _fuzzy(self, norm: str) -> dict[str, float]:
        found = self._fuzzy_found.get(norm)
        if found is None:
            if len(self._fuzzy_found) >= _FUZZY_KEPT:
                self._fuzzy_found.clear()
            found = self._fuzzy_found[norm] = self._fuzzy_search(norm)
        return dict(found)

    def _fuzzy_search(self, norm: str) -> dict[str, float]:
        bound = 1 if len(norm) < 9 else 2
        keys = self._near(norm, bound)
        close = {keys[i]: d for _, d, i in process.extract(norm, keys, scorer=Levenshtein.distance, score_cutoff=bound, limit=None)}
        best: dict[str, float] = {}
        for key, distance in close.items():
            for (qid,) in self._db.execute("SELECT qid FROM names WHERE norm = ? AND kind != 'demonym'", (key,)):
                best[qid] = max(best.get(qid, 0.0), _FUZZY_WEIGHT - 0.1 * distance)
        return best

    def _near(self, norm: str, bound: int) -> list[str]:
        """The fuzzy keys that may lie within ``bound`` (at most 2) edits of ``norm``: every one that does, and a few more.

        Each key is cut into three pieces (:func:`_cuts`); two edits leave one of them whole, shifted by at most
        two characters. So a key within ``bound`` edits has a piece that reappears in ``norm`` near its own place.
        """
        if self._pieces is None:  # read on first use: the keys by length and piece number, then by piece
            self._pieces = {}
            for (key,) in self._db.execute("SELECT norm FROM grams"):
                for i, (start, end) in enumerate(_cuts(len(key))):
                    self._pieces.setdefault((len(key), i), {}).setdefault(key[start:end], []).append(key)
        found: list[str] = []
        for length in range(len(norm) - bound, len(norm) + bound + 1):
            # a whole piece moves by what the edits before it add; the edits after it make up the rest of the change
            shifts = [s for s in range(-bound, bound + 1) if abs(s) + abs(len(norm) - length - s) <= bound]
            for i, (start, end) in enumerate(_cuts(length)):
                pieces = self._pieces.get((length, i), {})
                for s in shifts:
                    if start + s >= 0:
                        found += pieces.get(norm[start + s : end + s], ())
        return list(dict.fromkeys(found))

    def _candidates(self, weights: dict[str, float], types: Collection[str] | None) -> list[Candidate]:
        allowed = None if types is None else {s for t in types for s in (t, *_SUBTYPES.get(t, ()))}
        out = []
        qids = list(weights)
        for i in range(0, len(qids), _BATCH_QIDS):
            part = qids[i : i + _BATCH_QIDS]
            rows = self._db.execute(
                f"SELECT qid, label, type, description, prior FROM entities WHERE qid IN ({','.join('?' * len(part))})", part
            )
            for qid, label, kind, description, prior in rows:
                if allowed is None or kind in allowed:
                    out.append(Candidate(qid, label, kind, _score(weights[qid], prior), description))
        return sorted(out, key=lambda c: (-c.score, c.qid))

    def demonym(self, word: str) -> Candidate | None:
        """The country a demonym refers to ("Ukrainian", "Russians"), or None.

        Demonyms come from the sources (dr5hn ``nationality``) plus simple derivations
        (``-ia`` → ``-ian``, plurals); a word shared by several countries goes to the one
        that lists it first, then to the higher prior.
        """
        if self._demonyms is None:
            rows = self._db.execute(
                "SELECT n.norm, n.qid, n.rank = (SELECT min(rank) FROM names m WHERE m.qid = n.qid AND m.kind = 'demonym'), "
                "e.label, e.type, e.description, e.prior FROM names n JOIN entities e USING (qid) WHERE n.kind = 'demonym'"
            )
            best: dict[str, Candidate] = {}
            for norm, qid, first, label, kind, desc, prior in rows:
                c = Candidate(qid, label, kind, _score(1.0 if first else 0.9, prior), desc)
                if norm not in best or (-c.score, c.qid) < (-best[norm].score, best[norm].qid):
                    best[norm] = c
            self._demonyms = best
        return self._demonyms.get(normalize(word))

    def get(self, qid: str) -> KBRecord | None:
        """Everything known about one item, or None if it is not in the knowledge base."""
        row = self._db.execute(
            "SELECT qid, label, type, description, prior, country, located_in, capital_of FROM entities WHERE qid = ?", (qid,)
        ).fetchone()
        if row is None:
            return None
        names = self._db.execute("SELECT kind, name FROM names WHERE qid = ? AND kind != 'label' ORDER BY rank", (qid,)).fetchall()
        aliases = tuple(n for k, n in names if k == "alias")
        demonyms = tuple(n for k, n in names if k == "demonym")
        relations = tuple(self._db.execute("SELECT property, value FROM relations WHERE qid = ? ORDER BY property, value", (qid,)))
        return KBRecord(*row, aliases=aliases, demonyms=demonyms, relations=relations)

    def contains(self, outer: str, inner: str) -> bool:
        """Whether ``inner`` lies in ``outer``: its country, capital-of, or up its located-in chain."""
        node: str | None = inner
        for _ in range(8):  # division chains are shallow; the bound guards against cycles
            row = self._db.execute("SELECT country, located_in, capital_of FROM entities WHERE qid = ?", (node,)).fetchone()
            if row is None:
                return False
            if outer in row:
                return True
            node = row[1]
        return False

    def ancestors(self, qid: str) -> tuple[str, ...]:
        """The items ``qid`` lies in, nearest first: up its located-in chain, with each level's country
        (and, for the item itself, what it is the capital of). Empty for an unknown item.
        """
        out: dict[str, None] = {}
        node: str | None = qid
        for depth in range(8):  # division chains are shallow; the bound guards against cycles
            row = self._db.execute("SELECT country, located_in, capital_of FROM entities WHERE qid = ?", (node,)).fetchone()
            if row is None:
                break
            country, located_in, capital_of = row
            for q in (located_in, capital_of if depth == 0 else None, country):
                if q and q != qid:
                    out.setdefault(q, None)
            node = located_in
        return tuple(out)

    def gazetteer(
        self, types: Collection[str] | None = None, min_prior: float = 0.5, limit: int = GAZETTEER_LIMIT
    ) -> Iterator[tuple[str, str, str]]:
        """Surface names for a spaCy EntityRuler: ``(name, type, qid)``, sorted by name.

        Labels and aliases of items with ``prior >= min_prior``: countries, first-level
        divisions with their "X region"/"X Oblast" forms, cities of 250,000+ people,
        regional capitals of 25,000+, national capitals, and verified entities. Names
        are filtered for English text: Latin script and capitalized, aliases in plain
        ASCII; no single ordinary word (:data:`GAZETTEER_STOPWORDS`, "-ish"/"-ese"
        adjectives) nor single word under 4 letters; a 2-letter code only if dotted
        ("US" for "U.S.") or the initials of the label ("UK"). Case variants are kept
        ("X region", "X Region") for case-sensitive matching; a name shared by several
        items goes to the one with the highest prior. At most ``limit`` names are kept, those of
        the highest priors, so a knowledge base grown from a large dump still gives a ruler of
        bounded size.
        """
        allowed = None if types is None else {s for t in types for s in (t, *_SUBTYPES.get(t, ()))}
        rows = self._db.execute(
            "SELECT n.name, n.norm, e.type, e.qid, e.prior, e.label FROM names n JOIN entities e USING (qid) "
            "WHERE n.kind != 'demonym' AND (e.prior >= ? OR e.sources LIKE '%verified%') ORDER BY e.qid, n.rank",
            (min_prior,),
        )
        best: dict[str, tuple[float, str, str]] = {}
        for qid, group in itertools.groupby(rows, key=lambda row: row[3]):
            names = list(group)
            # a 2-letter code is a name only if spelled with dots or the initials of the label ("UK")
            codes = {norm for name, norm, *_ in names if "." in name} | {"".join(w[0] for w in names[0][5].split()).casefold()}
            for name, norm, kind, _, prior, label in names:
                if (allowed is not None and kind not in allowed) or not _gazetteer_name(name):
                    continue
                if name != label and not name.isascii():  # foreign spellings ("Jersón"): the label is enough
                    continue
                if len(name) <= 2 and norm not in codes:
                    continue
                if name not in best or (-prior, qid) < (-best[name][0], best[name][2]):
                    best[name] = (prior, kind, qid)
        kept = sorted(best, key=lambda n: (-best[n][0], n))[:limit] if len(best) > limit else best
        for name in sorted(kept):
            yield name, best[name][1], best[name][2]


_LATIN_NAME = re.compile(r"^[A-Z0-9À-Þ][A-Za-z0-9À-ɏ'’.\- ]*$")


def _gazetteer_name(name: str) -> bool:
    """A name worth matching in English text: Latin script, capitalized, not an ordinary word."""
    if not _LATIN_NAME.match(name):
        return False
    if " " in name or name.isupper():
        return True
    return len(name) >= 4 and name.casefold() not in GAZETTEER_STOPWORDS and not re.search(r"(ish|ese)$", name)


def _from_json(data: str) -> list[Any]:
    values = json.loads(data)
    values[2], values[9] = tuple(values[2]), tuple(values[9])  # aliases, demonyms
    values[11] = tuple(tuple(r) for r in values[11])  # relations
    return values


_QID = re.compile(r"^Q[1-9][0-9]*$")


def _check(entry: KBEntry) -> None:
    if not _QID.match(entry.qid):
        raise LinkingError(f"malformed QID {entry.qid!r} from source {entry.source}; fix the source file")
    if entry.type not in KB_TYPES:
        raise LinkingError(f"unknown type {entry.type!r} for {entry.qid} from {entry.source}; use one of {KB_TYPES}")


def build_default(
    path: str | os.PathLike[str] = DEFAULT_KB,
    sources_dir: str | os.PathLike[str] = KB_SOURCES_DIR,
    *,
    extra: Iterable[KBEntry] = (),
    extra_sources: Iterable[str] = (),
    bundled: bool = True,
) -> dict[str, Any]:
    """Build the default knowledge base from ``data/kb-sources`` (what ``kg kb build`` runs).

    Args:
        path: Where to write the knowledge base.
        sources_dir: The bundled sources folder.
        extra: More entries (a Wikidata dump or endpoint, :mod:`kg.linking.wikidata`), merged after the bundled ones.
        extra_sources: Names of those sources, recorded in the ``meta`` table.
        bundled: Whether to read the bundled sources at all (False: ``extra`` only).

    Raises:
        LinkingError: if a source file is missing or malformed.
    """
    entries = itertools.chain(read_all(Path(sources_dir)) if bundled else (), extra)
    sources = [*(SOURCE_FILES.values() if bundled else ()), *extra_sources]
    notice = NOTICE if bundled else "Wikidata (CC0)."
    return KnowledgeBase.build(path, entries, sources=sources, notice=notice)
