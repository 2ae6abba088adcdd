"""Knowledge-base entries from a SPARQL endpoint holding Wikidata-shaped RDF.

By default the public Wikidata Query Service, read politely as Wikimedia asks: a
User-Agent that names kg and a contact (:func:`user_agent`, set ``KG_CONTACT``), one
request at a time at most every ``min_interval`` seconds, and retries with exponential
backoff (honouring ``Retry-After``) on 429 and 5xx answers. The queries are the files in
``queries/kb/``; their empty ``VALUES`` blocks are filled with checked identifiers
(:func:`fill`), never with free text.

:func:`read_endpoint` fetches the items of some classes (or a QID list) in batches and
turns their names and statements into the same :class:`~kg.linking.wikidata.ItemFacts`
the dump reader fills, so both compile to the same knowledge base.
"""

from __future__ import annotations

import json
import logging
import os
import re
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from typing import Any, TypeVar

from kg.errors import LinkingError
from kg.linking.sources import KBEntry
from kg.linking.wikidata import (
    LANGUAGES,
    P,
    PQ,
    PS,
    QID_RE,
    RDFS_LABEL,
    SCHEMA_DESCRIPTION,
    SKOS_ALT,
    WD,
    WDT,
    WIKIBASE,
    ItemFacts,
    WikidataMap,
    default_map,
    facts_entry,
)
from kg.paths import KB_QUERIES_DIR

__all__ = ["WDQS_URL", "Polite", "SparqlSource", "fetch_facts", "fill", "read_endpoint", "user_agent"]

log = logging.getLogger(__name__)

#: The public Wikidata Query Service.
WDQS_URL = "https://query.wikidata.org/sparql"
#: Where Wikimedia can reach whoever runs kg; deployments set ``KG_CONTACT`` to their own URL or e-mail.
CONTACT = "https://w3id.org/kg"

T = TypeVar("T")
_VALUES = re.compile(r"VALUES\s+(\?\w+|\((?:\s*\?\w+)+\s*\))\s*\{\s*\}")
_LANG = re.compile(r"^[a-z]{2,3}(?:-[a-z0-9]+)*$")
_PID = re.compile(r"^P[1-9][0-9]*$")
_RANKS = {WIKIBASE + "PreferredRank": "preferred", WIKIBASE + "NormalRank": "normal", WIKIBASE + "DeprecatedRank": "deprecated"}


def user_agent(tool: str = "") -> str:
    """The User-Agent kg sends, per the Wikimedia User-Agent policy: client/version (contact) library/version.

    >>> user_agent().startswith("kg/")
    True
    """
    from importlib.metadata import PackageNotFoundError, version

    try:
        release = version("kg")
    except PackageNotFoundError:
        release = "dev"
    contact = os.environ.get("KG_CONTACT", CONTACT)
    return f"kg/{release} ({contact}){' ' + tool if tool else ''}"


# --------------------------------------------------------------------------- politeness


class Polite:
    """One request at a time, at most every ``min_interval`` seconds, retried with backoff on 429/5xx.

    Args:
        min_interval: Seconds between the starts of two requests.
        retries: Retries after the first attempt.
        backoff: First retry delay in seconds, doubled at each retry (a ``Retry-After`` header wins).
        max_delay: Longest single wait.
        sleep: The sleeping function (tests pass a recorder).

    >>> calls = []
    >>> Polite(min_interval=0).call(lambda: calls.append(1) or "ok", what="a test")
    'ok'
    """

    def __init__(
        self, *, min_interval: float = 1.0, retries: int = 5, backoff: float = 2.0, max_delay: float = 120.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:  # fmt: skip
        self.min_interval, self.retries, self.backoff, self.max_delay = min_interval, retries, backoff, max_delay
        self._sleep = sleep
        self._last = float("-inf")
        self.requests = 0

    def call(self, fn: Callable[[], T], *, what: str) -> T:
        """Run ``fn`` (one HTTP request), waiting and retrying as needed.

        Raises:
            LinkingError: on a non-retryable HTTP error, an unreachable host, or when retries run out.
        """
        for attempt in range(self.retries + 1):
            wait = self._last + self.min_interval - time.monotonic()
            if wait > 0:
                self._sleep(wait)
            self._last = time.monotonic()
            self.requests += 1
            try:
                return fn()
            except urllib.error.HTTPError as exc:
                status, retry_after = exc.code, _retry_after(exc.headers.get("Retry-After") if exc.headers else None)
                if status != 429 and status < 500:
                    raise LinkingError(f"{what} failed: HTTP {status} {exc.reason}; check the URL and the query") from None
                problem = f"HTTP {status}"
            except (TimeoutError, socket.timeout, ConnectionResetError) as exc:
                retry_after, problem = None, type(exc).__name__
            except urllib.error.URLError as exc:
                if not isinstance(exc.reason, (TimeoutError, socket.timeout, ConnectionResetError)):
                    raise LinkingError(f"{what} failed: cannot connect ({exc.reason}); check the URL or the network") from None
                retry_after, problem = None, str(exc.reason)
            if attempt == self.retries:
                raise LinkingError(f"{what} failed: {problem} after {attempt + 1} attempts; try again later") from None
            delay = min(self.max_delay, retry_after if retry_after is not None else self.backoff * 2**attempt)
            log.warning("%s: %s, retrying in %.1f s", what, problem, delay)
            self._sleep(delay)
        raise AssertionError("unreachable")


def _retry_after(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None  # an HTTP date: fall back to the backoff


# --------------------------------------------------------------------------- queries


def load_kb_query(name: str) -> str:
    """The text of ``queries/kb/{name}.rq``."""
    path = KB_QUERIES_DIR / f"{name}.rq"
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise LinkingError(f"cannot read {path}: {exc.strerror}; restore queries/kb") from None


def iri(value: str) -> str:
    """An IRI as a SPARQL term, refusing anything that could escape it.

    >>> iri(WD + "Q900000001")
    '<http://www.wikidata.org/entity/Q900000001>'
    """
    if not re.fullmatch(r"https?://[^\s<>\"{}|\\^`]+", value):
        raise ValueError(f"not a plain IRI: {value!r}")
    return f"<{value}>"


def literal(value: str) -> str:
    """A language code or property id as a SPARQL string literal (only those shapes are allowed).

    >>> literal("en"), literal("P900000001")
    ('"en"', '"P900000001"')
    """
    if not (_LANG.match(value) or _PID.match(value)):
        raise ValueError(f"not a language code or property id: {value!r}")
    return f'"{value}"'


def fill(query: str, **values: Sequence[str | tuple[str, ...]]) -> str:
    """Fill the empty ``VALUES ?name { }`` (or ``VALUES (?a ?b) { }``) blocks of a query with SPARQL terms.

    Each keyword names the (first) variable of a block; its values are terms already
    rendered by :func:`iri` or :func:`literal` (tuples for a multi-variable block).

    >>> fill("SELECT * { VALUES ?x { } VALUES (?a ?b) { } }", x=["<http://a>"], a=[('"en"', "<http://b>")])
    'SELECT * { VALUES ?x { <http://a> } VALUES (?a ?b) { ("en" <http://b>) } }'
    """
    missing = set(values)

    def block(match: re.Match[str]) -> str:
        names = re.findall(r"\?(\w+)", match[1])
        if names[0] not in values:
            raise LinkingError(f"no values given for VALUES ?{names[0]} in a queries/kb query")
        missing.discard(names[0])
        rows = values[names[0]]
        body = " ".join(f"({' '.join(r)})" if isinstance(r, tuple) else r for r in rows)
        return f"VALUES {match[1]} {{ {body} }}"

    out = _VALUES.sub(block, query)
    if missing:
        raise LinkingError(f"the query has no empty VALUES block for {', '.join(sorted(missing))}")
    return out


class SparqlSource:
    """A SPARQL endpoint read through SPARQLWrapper, politely (:class:`Polite`).

    Args:
        url: The endpoint (default: the Wikidata Query Service).
        agent: The User-Agent (default: :func:`user_agent`).
        timeout: Seconds to wait for one answer.
        polite: Rate limit and retry policy (default: one request per second, 5 retries).
    """

    def __init__(self, url: str = WDQS_URL, *, agent: str | None = None, timeout: float = 60.0, polite: Polite | None = None):
        if not re.match(r"^https?://", url):
            raise LinkingError(f"endpoint {url!r} is not an http(s) URL; give e.g. {WDQS_URL}")
        import SPARQLWrapper

        self.url = url
        self.agent = agent or user_agent(f"SPARQLWrapper/{SPARQLWrapper.__version__}")
        self.timeout = timeout
        self.polite = polite or Polite()

    def __repr__(self) -> str:
        return f"<SparqlSource {self.url}>"

    def select(self, query: str) -> list[dict[str, dict[str, str]]]:
        """The bindings of a SELECT query (SPARQL 1.1 JSON results), one dict per row."""
        from SPARQLWrapper import JSON, POST, SPARQLWrapper
        from SPARQLWrapper.SPARQLExceptions import EndPointInternalError, SPARQLWrapperException

        client = SPARQLWrapper(self.url, agent=self.agent)
        client.setQuery(query)
        client.setReturnFormat(JSON)
        client.setTimeout(int(self.timeout))
        if len(query) > 1500:  # long VALUES blocks do not fit in a URL
            client.setMethod(POST)

        def run() -> Any:
            try:
                return client.queryAndConvert()
            except EndPointInternalError as exc:  # SPARQLWrapper turns HTTP 500 into its own error
                raise urllib.error.HTTPError(self.url, 500, str(exc).splitlines()[0], None, None) from None  # type: ignore[arg-type]

        try:
            data = self.polite.call(run, what=f"SPARQL query to {self.url}")
        except SPARQLWrapperException as exc:
            raise LinkingError(f"SPARQL query to {self.url} failed: {str(exc).splitlines()[0]}") from None
        except ValueError as exc:
            raise LinkingError(f"{self.url} did not answer SPARQL JSON ({exc}); is it a SPARQL endpoint?") from None
        if not isinstance(data, dict) or "results" not in data:
            raise LinkingError(f"{self.url} did not answer SPARQL JSON results; is it a SPARQL endpoint?")
        return data["results"]["bindings"]


# --------------------------------------------------------------------------- reading items


def _qid_of(binding: Mapping[str, str] | None) -> str | None:
    value = (binding or {}).get("value", "")
    qid = value[len(WD) :] if value.startswith(WD) else ""
    return qid if QID_RE.match(qid) else None


def class_items(source: SparqlSource, classes: Iterable[str], wmap: WikidataMap, *, page: int = 10_000) -> Iterator[str]:
    """QIDs of the items whose ``wdt:P31`` is one of ``classes``, page by page."""
    text = fill(
        load_kb_query("items"),
        instanceOf=[iri(WDT + wmap.pid("class"))],
        **{"class": [iri(WD + q) for q in sorted(classes)]},
    )
    offset = 0
    while True:
        rows = source.select(f"{text}\nLIMIT {int(page)} OFFSET {int(offset)}")
        yield from (q for row in rows if (q := _qid_of(row.get("item"))))
        if len(rows) < page:
            return
        offset += page


def fetch_facts(
    source: SparqlSource, qids: Sequence[str], wmap: WikidataMap | None = None, *, languages: Collection[str] = LANGUAGES
) -> dict[str, ItemFacts]:
    """Names and statements of some items (two queries), as :class:`~kg.linking.wikidata.ItemFacts`."""
    wmap = wmap or default_map()
    for q in qids:
        if not QID_RE.match(q):
            raise LinkingError(f"not a Wikidata item id: {q!r}; give QIDs such as those in the dump")
    facts = {q: ItemFacts(q) for q in qids}
    items = [iri(WD + q) for q in qids]
    names = fill(load_kb_query("names"), item=items, lang=[literal(lang) for lang in languages if _LANG.match(lang)])
    for row in source.select(names):
        item, prop, value = _qid_of(row.get("item")), row.get("property", {}).get("value"), row.get("value", {})
        if item not in facts:
            continue
        lang = value.get("xml:lang", "")
        if prop == RDFS_LABEL:
            facts[item].labels[lang] = value["value"]
        elif prop == SKOS_ALT:
            facts[item].aliases.setdefault(lang, []).append(value["value"])
        elif prop == SCHEMA_DESCRIPTION:
            facts[item].descriptions[lang] = value["value"]
        elif prop == WIKIBASE + "sitelinks":
            facts[item].sitelinks = int(float(value["value"]))
    props = [(literal(pid), iri(P + pid), iri(PS + pid)) for pid in wmap.statement_pids]
    statements = fill(load_kb_query("statements"), item=items, pid=props, endTime=[iri(PQ + wmap.pid("endTime"))])
    seen: dict[tuple[str, str, str], list[Any]] = {}
    for row in source.select(statements):
        item, value = _qid_of(row.get("item")), _qid_of(row.get("value"))
        pid, rank = row.get("pid", {}).get("value", ""), _RANKS.get(row.get("rank", {}).get("value", ""), "")
        statement = row.get("statement", {}).get("value") or json.dumps([item, pid, value, rank])
        if item in facts and value and rank:
            key = (item, pid, statement)
            ended = "end" in row
            if key in seen:  # one row per end-time qualifier: the statement has ended if any row says so
                seen[key][2] = seen[key][2] or ended
            else:
                seen[key] = [value, rank, ended]
    for (item, pid, _), (value, rank, ended) in sorted(seen.items()):
        facts[item].statements.setdefault(pid, []).append((value, rank, ended))
    return facts


def read_endpoint(
    source: SparqlSource | str = WDQS_URL,
    *,
    wmap: WikidataMap | None = None,
    classes: Collection[str] | None = None,
    qids: Collection[str] | None = None,
    languages: Collection[str] = LANGUAGES,
    batch: int = 200,
) -> Iterator[KBEntry]:
    """Knowledge-base entries for the items of some classes (or a QID list) held by a SPARQL endpoint.

    Args:
        source: An endpoint URL or a :class:`SparqlSource`.
        wmap: Class and property map (default: the shipped one).
        classes: Items whose ``wdt:P31`` is one of these (default: every mapped class).
        qids: These items instead (their class must still be mapped).
        languages: Languages of the labels and aliases kept.
        batch: Items per names/statements query.

    Raises:
        LinkingError: if the endpoint cannot be queried (after retries).
    """
    source = source if isinstance(source, SparqlSource) else SparqlSource(source)
    wmap = wmap or default_map()
    if qids is not None:
        items: Iterable[str] = sorted(qids, key=lambda q: (len(q), q))
    else:
        items = class_items(source, frozenset(classes) if classes is not None else frozenset(wmap.classes), wmap)
    wanted = frozenset(classes) if classes is not None else None
    chunk: list[str] = []
    kept = 0

    def flush() -> Iterator[KBEntry]:
        nonlocal kept
        for facts in fetch_facts(source, chunk, wmap, languages=languages).values():
            if wanted is not None and not wanted.intersection(facts.truthy(wmap.pid("class"))):
                continue
            entry = facts_entry(facts, wmap, languages=languages)
            if entry is not None:
                kept += 1
                yield entry
        chunk.clear()

    for qid in items:
        chunk.append(qid)
        if len(chunk) >= batch:
            yield from flush()
    if chunk:
        yield from flush()
    log.info("read %s: %d items kept, %d requests", source.url, kept, source.polite.requests)
