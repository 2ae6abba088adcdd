"""Optional online linking: entities the offline knowledge base leaves NIL, looked up on Wikidata.

Off by default (``kg build --online``). For each NIL person, organization or place, its
name is searched with the Wikidata search API (``wbsearchentities``); the items found are
read from a SPARQL endpoint (:func:`kg.linking.endpoint.fetch_facts`: class, names,
statements) and become knowledge-base entries like a dump's. Both answers are cached on
disk, so the next run with the same names makes no request at all. The cached entries
form a small knowledge base of their own, layered over the offline one, and the NIL
entities are linked again by the same linker (:func:`kg.linking.linker.link`), with the
same types, coherence and threshold; entities linked offline are left as they are.
Requests follow :class:`kg.linking.endpoint.Polite` (User-Agent, rate limit, backoff).
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import urllib.parse
import urllib.request
from collections.abc import Collection
from dataclasses import astuple, replace
from pathlib import Path

from kg.errors import LinkingError
from kg.linking.endpoint import WDQS_URL, Polite, SparqlSource, fetch_facts, user_agent
from kg.linking.kb import KnowledgeBase, _from_json
from kg.linking.linker import DEFAULT_THRESHOLD, FAMILY, link
from kg.linking.sources import KBEntry
from kg.linking.wikidata import LANGUAGES, QID_RE, WikidataMap, default_map, facts_entry
from kg.records import Resolution

__all__ = ["WIKIDATA_API", "OnlineLinker"]

log = logging.getLogger(__name__)

#: The Wikidata action API (``wbsearchentities``).
WIKIDATA_API = "https://www.wikidata.org/w/api.php"
#: Entity families worth looking up (not positions or events).
_LOOKED_UP = frozenset({"Person", "Org", "Loc"})

_SCHEMA = """
CREATE TABLE IF NOT EXISTS searches(name TEXT PRIMARY KEY, qids TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS items(qid TEXT PRIMARY KEY, entry TEXT);
"""


class _Layered:
    """The offline knowledge base with the cached online entries over it: lookups see both."""

    def __init__(self, base, extra: KnowledgeBase):
        self.base, self.extra = base, extra

    def lookup(self, name: str, **kwargs):
        found = {c.qid: c for c in self.base.lookup(name, **kwargs)}
        for c in self.extra.lookup(name, **kwargs):
            found.setdefault(c.qid, c)
        return sorted(found.values(), key=lambda c: (-c.score, c.qid))

    def get(self, qid: str):
        return self.base.get(qid) or self.extra.get(qid)

    def ancestors(self, qid: str) -> tuple[str, ...]:
        own = self.base.ancestors(qid) or self.extra.ancestors(qid)
        more = [a for q in own for a in self.base.ancestors(q)]  # an online village in an offline region
        return tuple(dict.fromkeys([*own, *more]))


class OnlineLinker:
    """Links NIL entities through the Wikidata search API and a SPARQL endpoint, with an on-disk cache.

    Args:
        cache_dir: Folder of the cache (``online.sqlite``) and of the knowledge base compiled from it.
        api: The Wikidata action API URL (``wbsearchentities``).
        endpoint: The SPARQL endpoint the found items are read from.
        wmap: Class and property map (default: the shipped one).
        languages: Search language first, then the languages of the names kept.
        limit: Search results kept per name.
        polite: Rate limit and retries, shared by both services (default: one request per second).

    Use as a context manager, or call :meth:`close`.
    """

    def __init__(
        self,
        cache_dir: str | os.PathLike[str] = ".kg/online",
        *,
        api: str = WIKIDATA_API,
        endpoint: str = WDQS_URL,
        wmap: WikidataMap | None = None,
        languages: Collection[str] = LANGUAGES,
        limit: int = 7,
        polite: Polite | None = None,
    ) -> None:
        self.folder = Path(cache_dir)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.folder / "online.sqlite")
            self._db.executescript(_SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise LinkingError(f"cannot use the online cache in {self.folder}: {exc}; give a writable --online-cache") from None
        self.api, self.languages, self.limit = api, tuple(languages), limit
        self.wmap = wmap or default_map()
        self.polite = polite or Polite()
        self.sparql = SparqlSource(endpoint, polite=self.polite)
        self._kb: KnowledgeBase | None = None
        self._kb_size = -1

    def close(self) -> None:
        if self._kb is not None:
            self._kb.close()
        self._db.close()

    def __enter__(self) -> OnlineLinker:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def requests(self) -> int:
        """HTTP requests made so far (a run served from the cache makes none)."""
        return self.polite.requests

    # ------------------------------------------------------------------ cache

    def search(self, name: str) -> list[str]:
        """QIDs the search API finds for a name (cached)."""
        row = self._db.execute("SELECT qids FROM searches WHERE name = ?", (name,)).fetchone()
        if row is not None:
            return json.loads(row[0])
        query = urllib.parse.urlencode({"action": "wbsearchentities", "search": name, "language": self.languages[0],
                                        "uselang": self.languages[0], "type": "item", "limit": self.limit, "format": "json"})
        request = urllib.request.Request(f"{self.api}?{query}", headers={"User-Agent": user_agent()})

        def fetch() -> dict:
            with urllib.request.urlopen(request, timeout=30) as response:
                return json.load(response)

        try:
            data = self.polite.call(fetch, what=f"Wikidata search at {self.api}")
        except ValueError as exc:
            raise LinkingError(f"{self.api} did not answer JSON ({exc}); is it the Wikidata API?") from None
        qids = [hit["id"] for hit in data.get("search", []) if isinstance(hit, dict) and QID_RE.match(str(hit.get("id", "")))]
        self._db.execute("INSERT OR REPLACE INTO searches VALUES (?, ?)", (name, json.dumps(qids)))
        self._db.commit()
        return qids

    def entries(self, qids: Collection[str]) -> dict[str, KBEntry | None]:
        """Knowledge-base entries of some items (None for an item without a mapped class), fetching the uncached ones."""
        out: dict[str, KBEntry | None] = {}
        missing = []
        for q in qids:
            row = self._db.execute("SELECT entry FROM items WHERE qid = ?", (q,)).fetchone()
            if row is None:
                missing.append(q)
            else:
                out[q] = _entry(row[0])
        if missing:
            facts = fetch_facts(self.sparql, missing, self.wmap, languages=self.languages)
            for q in missing:
                entry = facts_entry(facts[q], self.wmap, languages=self.languages) if q in facts else None
                out[q] = entry
                self._db.execute("INSERT OR REPLACE INTO items VALUES (?, ?)", (q, json.dumps(astuple(entry)) if entry else None))
            self._db.commit()
        return out

    def _knowledge_base(self) -> KnowledgeBase | None:
        """The knowledge base of every cached entry, recompiled when the cache grew."""
        size = self._db.execute("SELECT count(*) FROM items WHERE entry IS NOT NULL").fetchone()[0]
        if size and size != self._kb_size:
            if self._kb is not None:
                self._kb.close()
            rows = self._db.execute("SELECT entry FROM items WHERE entry IS NOT NULL ORDER BY qid")
            path = self.folder / "online-kb.sqlite"
            KnowledgeBase.build(path, (e for (data,) in rows if (e := _entry(data)) is not None), sources=["wikidata online"],
                                notice="Wikidata (CC0).")
            self._kb, self._kb_size = KnowledgeBase.open(path), size
        return self._kb

    # ------------------------------------------------------------------ linking

    def link(self, resolution: Resolution, kb, *, threshold: float = DEFAULT_THRESHOLD) -> Resolution:
        """Link the NIL people, organizations and places of a linked resolution through Wikidata.

        Args:
            resolution: A resolution already linked offline (:func:`kg.linking.linker.link`).
            kb: The offline knowledge base it was linked with.
            threshold: Minimum confidence for a link.
        """
        nil = [e for e in resolution.entities if e.link.qid is None and FAMILY.get(e.type) in _LOOKED_UP]
        if not nil:
            return resolution
        found: dict[str, None] = {}
        for e in nil:
            for q in self.search(e.name):
                if kb.get(q) is None:
                    found.setdefault(q, None)
        if found:
            self.entries(list(found))
        online = self._knowledge_base()
        if online is None:
            return resolution
        relinked = {e.key: e for e in link(resolution, _Layered(kb, online), threshold=threshold).entities}
        keys = {e.key for e in nil}
        entities = tuple(relinked[e.key] if e.key in keys and relinked[e.key].link.qid else e for e in resolution.entities)
        linked = sum(1 for e in entities if e.key in keys and e.link.qid)
        log.info("online linking: %d of %d NIL entities linked (%d requests so far)", linked, len(nil), self.requests)
        return replace(resolution, entities=entities)


def _entry(data: str | None) -> KBEntry | None:
    return None if data is None else KBEntry(*_from_json(data))
