"""Wikidata items as knowledge-base entries: the JSON dump reader and Wikidata-shaped RDF.

A Wikidata JSON dump (``latest-all.json.bz2``/``.gz``) is one JSON array with one entity
per line, each line ending in a comma; exports and API responses are often plain JSON
lines. :func:`read_dump` streams either in bounded memory, keeps the items of wanted
classes (P31 values) or QIDs, and turns each into a :class:`~kg.linking.sources.KBEntry`:
labels and aliases in a few languages, the English description, a popularity prior from
the sitelink count, the kg class derived from P31, and the statements useful for
disambiguation (country, located-in, part-of, member-of, position, headquarters,
capital, capital-of).

Which classes and properties are read comes from ``wikidata_map.tsv`` next to this
module (:class:`WikidataMap`); every identifier in it is backed by evidence that the
tests check. The endpoint reader (:mod:`kg.linking.endpoint`) fills the same
:class:`ItemFacts` from SPARQL results, so a dump slice and an endpoint holding the same
items compile to the same knowledge base.
"""

from __future__ import annotations

import bz2
import csv
import gzip
import io
import json
import logging
import math
import os
import re
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, Any

import pyoxigraph as ox

from kg.errors import LinkingError
from kg.linking.sources import KB_TYPES, WIKIDATA_SOURCE, KBEntry

__all__ = [
    "LANGUAGES",
    "MAP_FILE",
    "ItemFacts",
    "WikidataMap",
    "entity_rdf",
    "facts_entry",
    "iter_entities",
    "item_facts",
    "read_dump",
    "read_qids",
    "sitelinks_prior",
]

log = logging.getLogger(__name__)

MAP_FILE = Path(__file__).with_name("wikidata_map.tsv")
#: Languages whose labels and aliases are kept, in order of preference for the label ("mul" holds
#: the language-independent names newer dumps use for people and places).
LANGUAGES = ("en", "mul", "uk", "ru", "de", "fr", "es")
SOURCE = WIKIDATA_SOURCE

QID_RE = re.compile(r"^Q[1-9][0-9]*$")
_FIRST_ID = re.compile(r'"id": ?"([^"]*)"')
_PID_RE = re.compile(r"^P[1-9][0-9]*$")
_LANG_RE = re.compile(r"^[a-z]{2,3}(?:-[a-z0-9]+)*$")
_RANK_ORDER = {"preferred": 0, "normal": 1}
#: Roles of the properties in the map that are not relations kept in the knowledge base.
_NOT_RELATIONS = frozenset({"class", "endTime"})
_TYPE_RANK = {t: i for i, t in enumerate(KB_TYPES)}
#: Sitelink count that gives a prior of 1 (countries and world cities have 200-350).
_SITELINKS_FULL = 300

# Wikidata's RDF namespaces (https://www.mediawiki.org/wiki/Wikibase/Indexing/RDF_Dump_Format)
WD = "http://www.wikidata.org/entity/"
WDT = "http://www.wikidata.org/prop/direct/"
P = "http://www.wikidata.org/prop/"
PS = "http://www.wikidata.org/prop/statement/"
PQ = "http://www.wikidata.org/prop/qualifier/"
WDS = "http://www.wikidata.org/entity/statement/"
WIKIBASE = "http://wikiba.se/ontology#"
RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
SKOS_ALT = "http://www.w3.org/2004/02/skos/core#altLabel"
SCHEMA_DESCRIPTION = "http://schema.org/description"
XSD = "http://www.w3.org/2001/XMLSchema#"


# --------------------------------------------------------------------------- the map


@dataclass(frozen=True)
class WikidataMap:
    """Wikidata classes mapped to kg classes, and the properties the readers use.

    ``classes`` maps a class QID (a P31 value) to a kg class; ``properties`` maps a role
    (``class``, ``country``, ``locatedIn``, ``partOf``, ``memberOf``, ``positionHeld``,
    ``headquarters``, ``capital``, ``capitalOf``, ``endTime``) to a property id.

    >>> m = WikidataMap.load()
    >>> m.classes[m.example_class("Country")], m.pid("class") == "P" + m.pid("class")[1:]
    ('Country', True)
    """

    classes: Mapping[str, str]
    properties: Mapping[str, str]

    @classmethod
    def load(cls, path: str | os.PathLike[str] = MAP_FILE) -> WikidataMap:
        """Read a map file: tab-separated ``kind id kg evidence`` rows, ``#`` comments.

        Raises:
            LinkingError: if the file is missing or a row is malformed.
        """
        path = Path(path)
        classes: dict[str, str] = {}
        properties: dict[str, str] = {}
        try:
            lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line and not line.startswith("#")]
        except (OSError, UnicodeDecodeError) as exc:
            raise LinkingError(f"cannot read the Wikidata map {path}: {exc}; restore {MAP_FILE.name}") from exc
        for n, row in enumerate(csv.DictReader(lines, delimiter="\t"), start=2):
            kind, ident, kg = row.get("kind"), row.get("id") or "", row.get("kg") or ""
            if kind == "class" and QID_RE.match(ident) and kg in KB_TYPES:
                classes[ident] = kg
            elif kind == "property" and _PID_RE.match(ident) and kg:
                properties[kg] = ident
            else:
                raise LinkingError(f"{path}: row {n} ({kind} {ident} {kg}) is malformed; use class Q… <kg class> or property P… <role>")
        missing = {"class", "country", "locatedIn", "capitalOf", "endTime"} - set(properties)
        if missing:
            raise LinkingError(f"{path}: no property row for {', '.join(sorted(missing))}; add them")
        return cls(classes, properties)

    def pid(self, role: str) -> str:
        """The property id of a role (``"country"`` → its P-id)."""
        return self.properties[role]

    @property
    def relation_pids(self) -> tuple[str, ...]:
        """Property ids kept as relations, in map order."""
        return tuple(pid for role, pid in self.properties.items() if role not in _NOT_RELATIONS)

    @property
    def statement_pids(self) -> tuple[str, ...]:
        """Property ids whose statements the readers need: the class property and the relations."""
        return (self.pid("class"), *self.relation_pids)

    def kg_type(self, classes: Iterable[str]) -> str | None:
        """The most specific kg class of an item with these P31 values, or None if none is mapped.

        >>> m = WikidataMap({"Qa": "AdministrativeArea", "Qs": "Settlement"}, {})
        >>> m.kg_type(["Qa", "Qs", "Qx"]), m.kg_type(["Qx"])
        ('Settlement', None)
        """
        kinds = [self.classes[c] for c in classes if c in self.classes]
        return min(kinds, key=_TYPE_RANK.__getitem__) if kinds else None

    def example_class(self, kg_class: str) -> str:
        """The first class QID mapped to ``kg_class`` (for examples and tests)."""
        return next(q for q, k in self.classes.items() if k == kg_class)

    def select(self, specs: Iterable[str]) -> tuple[WikidataMap, frozenset[str]]:
        """The map extended by ``Q…=Class`` specs, and the set of classes the specs select.

        A bare ``Q…`` must already be in the map; ``Q…=Class`` adds or overrides a mapping.
        No spec selects every mapped class.

        >>> m = WikidataMap({"Q900000001": "Settlement"}, {})
        >>> m2, chosen = m.select(["Q900000001", "Q900000002=Person"])
        >>> sorted(chosen), m2.classes["Q900000002"]
        (['Q900000001', 'Q900000002'], 'Person')
        >>> m.select(["Q900000003"])
        Traceback (most recent call last):
        ...
        kg.errors.LinkingError: class Q900000003 is not in the Wikidata map; give its kg class as Q900000003=Settlement (one of Country, Settlement, AdministrativeArea, Location, Person, Organization, MilitaryUnit, Position, Event)
        """
        classes = dict(self.classes)
        chosen: set[str] = set()
        for spec in (s.strip() for item in specs for s in item.split(",")):
            if not spec:
                continue
            qid, _, kind = spec.partition("=")
            qid, kind = qid.strip(), kind.strip()
            if not QID_RE.match(qid):
                raise LinkingError(f"--classes {spec!r}: {qid!r} is not a Wikidata class QID; use Q… or Q…=Class")
            if kind:
                if kind not in KB_TYPES:
                    raise LinkingError(f"--classes {spec!r}: unknown kg class {kind!r}; use one of {', '.join(KB_TYPES)}")
                classes[qid] = kind
            elif qid not in classes:
                raise LinkingError(
                    f"class {qid} is not in the Wikidata map; give its kg class as {qid}=Settlement (one of {', '.join(KB_TYPES)})"
                )
            chosen.add(qid)
        return replace(self, classes=classes), frozenset(chosen or classes)


_DEFAULT_MAP: WikidataMap | None = None


def default_map() -> WikidataMap:
    """The shipped map (:data:`MAP_FILE`), read once."""
    global _DEFAULT_MAP
    if _DEFAULT_MAP is None:
        _DEFAULT_MAP = WikidataMap.load()
    return _DEFAULT_MAP


# --------------------------------------------------------------------------- one item


@dataclass
class ItemFacts:
    """What kg reads about one Wikidata item, whichever way it was fetched.

    ``statements`` maps a property id to ``(value QID, rank, ended)`` triples, ``ended``
    being whether the statement has an end-time qualifier.
    """

    qid: str
    labels: dict[str, str] = field(default_factory=dict)
    aliases: dict[str, list[str]] = field(default_factory=dict)
    descriptions: dict[str, str] = field(default_factory=dict)
    sitelinks: int = 0
    statements: dict[str, list[tuple[str, str, bool]]] = field(default_factory=dict)

    def truthy(self, pid: str) -> list[str]:
        """Values of a property's best-rank statements (preferred if any, else normal), as Wikidata's ``wdt:``."""
        stated = [(v, r) for v, r, _ in self.statements.get(pid, ()) if r in _RANK_ORDER]
        best = min((_RANK_ORDER[r] for _, r in stated), default=None)
        return sorted({v for v, r in stated if _RANK_ORDER[r] == best}, key=_qid_number)

    def current(self, pid: str) -> list[str]:
        """Best-rank values without an end time, lowest QID number first (a stable, usually prominent choice)."""
        stated = [(v, r, e) for v, r, e in self.statements.get(pid, ()) if r in _RANK_ORDER]
        best = min((_RANK_ORDER[r] for _, r, _ in stated), default=None)
        ended = {v for v, r, e in stated if _RANK_ORDER[r] == best and e}
        return [v for v in self.truthy(pid) if v not in ended]


def _qid_number(qid: str) -> int:
    return int(qid[1:]) if QID_RE.match(qid) else 1 << 62


def sitelinks_prior(count: int) -> float:
    """Popularity prior from an item's sitelink count, on a log scale (300 sitelinks or more give 1).

    >>> sitelinks_prior(0), sitelinks_prior(2), sitelinks_prior(300)
    (0.0, 0.1925, 1.0)
    """
    return round(min(1.0, math.log1p(max(count, 0)) / math.log1p(_SITELINKS_FULL)), 4)


def _snak_item(snak: Mapping[str, Any]) -> str | None:
    if snak.get("snaktype") != "value":
        return None
    value = (snak.get("datavalue") or {}).get("value")
    if not isinstance(value, dict) or value.get("entity-type", "item") != "item":
        return None
    qid = value.get("id") or (f"Q{value['numeric-id']}" if "numeric-id" in value else None)
    return qid if qid and QID_RE.match(qid) else None


def item_facts(entity: Mapping[str, Any], wmap: WikidataMap | None = None) -> ItemFacts | None:
    """The facts kg reads from one entity of the Wikidata JSON format, or None for a non-item.

    >>> facts = item_facts({"type": "item", "id": "Q900000001", "labels": {"en": {"language": "en", "value": "One"}},
    ...                     "sitelinks": {"enwiki": {}}, "claims": {}})
    >>> facts.labels, facts.sitelinks
    ({'en': 'One'}, 1)
    """
    qid = entity.get("id", "")
    if entity.get("type", "item") != "item" or not QID_RE.match(qid):
        return None
    wmap = wmap or default_map()
    end = wmap.pid("endTime")
    facts = ItemFacts(
        qid,
        labels={lang: v["value"] for lang, v in (entity.get("labels") or {}).items() if v.get("value")},
        aliases={lang: [a["value"] for a in vs if a.get("value")] for lang, vs in (entity.get("aliases") or {}).items()},
        descriptions={lang: v["value"] for lang, v in (entity.get("descriptions") or {}).items() if v.get("value")},
        sitelinks=len(entity.get("sitelinks") or {}),
    )
    claims = entity.get("claims") or {}
    for pid in wmap.statement_pids:
        for claim in claims.get(pid, ()):
            value = _snak_item(claim.get("mainsnak") or {})
            if value:
                ended = any(q.get("snaktype") in ("value", "somevalue") for q in (claim.get("qualifiers") or {}).get(end, ()))
                facts.statements.setdefault(pid, []).append((value, claim.get("rank", "normal"), ended))
    return facts


def facts_entry(
    facts: ItemFacts, wmap: WikidataMap | None = None, *, languages: Collection[str] = LANGUAGES, source: str = SOURCE
) -> KBEntry | None:
    """A knowledge-base entry for an item, or None when it has no mapped class or no name in ``languages``.

    The label is the first of ``languages`` that has one; other labels and all aliases in
    ``languages`` (sorted within a language) are aliases. The country, region and capital-of
    columns take the first current value (:meth:`ItemFacts.current`); every current value
    of a relation property is kept in ``relations``.

    >>> roles = {"class": "Pa", "country": "Pb", "locatedIn": "Pc", "capitalOf": "Pd", "endTime": "Pe"}
    >>> m = WikidataMap({"Qx": "Country"}, roles)
    >>> f = ItemFacts("Q900000001", {"en": "Utopia", "fr": "Utopie"}, {"en": ["Nowhere"]}, {"en": "a state"}, 12,
    ...               {"Pa": [("Qx", "normal", False)]})
    >>> e = facts_entry(f, m)
    >>> e.label, e.aliases, e.type, e.description, e.prior
    ('Utopia', ('Nowhere', 'Utopie'), 'Country', 'a state', 0.4494)
    """
    wmap = wmap or default_map()
    kind = wmap.kg_type(facts.truthy(wmap.pid("class")))
    names = [n for lang in languages for n in (facts.labels.get(lang), *sorted(facts.aliases.get(lang, ()))) if n]
    names = [" ".join(n.split()) for n in names]
    names = list(dict.fromkeys(n for n in names if len(n) > 1 and any(c.isalpha() for c in n)))
    if kind is None or not names:
        return None
    description = next((facts.descriptions[lang] for lang in languages if facts.descriptions.get(lang)), "")

    def first(role: str) -> str | None:
        values = [v for v in facts.current(wmap.pid(role)) if v != facts.qid]
        return values[0] if values else None

    relations = tuple((pid, v) for pid in wmap.relation_pids for v in facts.current(pid) if v != facts.qid)
    return KBEntry(
        facts.qid, names[0], tuple(names[1:]), kind, description, sitelinks_prior(facts.sitelinks),
        country=None if kind == "Country" else first("country"), located_in=first("locatedIn"),
        capital_of=first("capitalOf"), source=source, relations=relations,
    )  # fmt: skip


# --------------------------------------------------------------------------- dumps


def _open_text(path: Path) -> IO[str]:
    name = path.name.lower()
    try:
        if name.endswith(".bz2"):
            return io.TextIOWrapper(bz2.open(path, "rb"), encoding="utf-8")
        if name.endswith(".gz"):
            return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8")
        return path.open(encoding="utf-8")
    except OSError as exc:
        raise LinkingError(f"cannot read Wikidata dump {path}: {exc.strerror or exc}; check the path") from exc


def iter_entities(path: str | os.PathLike[str], *, prefilter: Callable[[str], object] | None = None) -> Iterator[dict[str, Any]]:
    """Entities of a Wikidata JSON dump, one at a time.

    Reads ``.json.bz2``, ``.json.gz`` or plain files, framed as the official dumps (a JSON
    array, one entity per line, lines ending in a comma) or as JSON lines.

    Args:
        path: The dump file.
        prefilter: Lines for which it returns a false value are skipped unparsed (parsing dominates the cost).

    Raises:
        LinkingError: if the file cannot be read or a line is not JSON (with its line number).
    """
    path = Path(path)
    with _open_text(path) as handle:
        try:
            for n, line in enumerate(handle, start=1):
                text = line.strip()
                if text in ("[", "]", "") or (prefilter is not None and not prefilter(text)):
                    continue
                try:
                    entity = json.loads(text[:-1] if text.endswith(",") else text)
                except ValueError as exc:
                    raise LinkingError(f"{path}:{n}: not a Wikidata entity line ({exc}); give a Wikidata JSON dump") from None
                if isinstance(entity, dict):
                    yield entity
        except (OSError, EOFError, UnicodeDecodeError) as exc:
            raise LinkingError(f"cannot read Wikidata dump {path}: {exc}; the file is damaged or not a dump") from None


def read_qids(path: str | os.PathLike[str]) -> frozenset[str]:
    """QIDs listed in a file: the first QID (or ``wd:``/entity IRI) of each line; ``#`` starts a comment.

    >>> import tempfile
    >>> with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
    ...     _ = f.write("# made-up items\\nQ900000001\\thttp://www.wikidata.org/entity/Q900000002\\nwd:Q900000003 Utopia\\n")
    >>> sorted(read_qids(f.name))
    ['Q900000001', 'Q900000003']
    """
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise LinkingError(f"cannot read the QID list {path}: {exc}; give a text file with one QID per line") from None
    found = set()
    for n, line in enumerate(text.splitlines(), start=1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        match = re.search(r"(?<![A-Za-z0-9])(Q[1-9][0-9]*)\b", line)
        if not match:
            raise LinkingError(f"{path}:{n}: no QID in {line[:40]!r}; write one QID (Q…) per line")
        found.add(match[1])
    return frozenset(found)


def read_dump(
    path: str | os.PathLike[str],
    *,
    wmap: WikidataMap | None = None,
    classes: Collection[str] | None = None,
    qids: Collection[str] | None = None,
    languages: Collection[str] = LANGUAGES,
) -> Iterator[KBEntry]:
    """Knowledge-base entries for the items of a Wikidata JSON dump, streamed.

    Args:
        path: The dump (``.json.bz2``, ``.json.gz``, ``.json``; dump framing or JSON lines).
        wmap: Class and property map (default: the shipped :data:`MAP_FILE`).
        classes: Keep items with one of these P31 values (default: every mapped class).
        qids: Keep only these items (their class must still be mapped).
        languages: Languages of the labels and aliases kept.

    Items without a mapped class or without a name in ``languages`` are skipped; counts are logged.

    >>> from kg.paths import ROOT
    >>> sample = ROOT / "tests/data/wikidata/sample_items.json.bz2"
    >>> [(e.label, e.type) for e in read_dump(sample, qids={"Q3329"})]
    [('Belgorod Oblast', 'AdministrativeArea')]
    """
    wmap = wmap or default_map()
    wanted = frozenset(classes) if classes is not None else frozenset(wmap.classes)
    keep = frozenset(qids) if qids is not None else None
    if not wanted or keep is not None and not keep:
        return
    if keep is not None:
        # the entity's own id is the first "id" key of its line in every dump layout (claims come after it)
        def prefilter(line: str) -> bool:
            match = _FIRST_ID.search(line)
            return match is None or match[1] in keep
    else:
        # a line can only hold a wanted class if its id appears in it (as "Q…" or, in old dumps, a numeric id)
        numbers = "|".join(sorted({q[1:] for q in wanted}, key=lambda n: (len(n), n)))
        prefilter = re.compile(rf'"Q(?:{numbers})"|"numeric-id": ?(?:{numbers})\b').search
    seen = kept = unmapped = 0
    for entity in iter_entities(path, prefilter=prefilter):
        facts = item_facts(entity, wmap)
        if facts is None or (keep is not None and facts.qid not in keep):
            continue
        seen += 1
        if qids is None or classes is not None:
            if not wanted.intersection(facts.truthy(wmap.pid("class"))):
                continue
        entry = facts_entry(facts, wmap, languages=languages)
        if entry is None:
            unmapped += 1
            continue
        kept += 1
        yield entry
    log.info("read %s: %d candidate items, %d kept, %d without a mapped class or name", path, seen, kept, unmapped)


# --------------------------------------------------------------------------- Wikidata-shaped RDF


def _time_literal(value: Any) -> ox.Literal:
    """A Wikidata time value as xsd:dateTime when it is a plain Gregorian date, else as a string."""
    text = value.get("time", "") if isinstance(value, dict) else str(value)
    match = re.fullmatch(r"\+(\d{4})-(\d\d)-(\d\d)T(\d\d:\d\d:\d\d)Z", text)
    if not match:
        return ox.Literal(text)
    year, month, day, clock = match.groups()
    return ox.Literal(f"{year}-{max(int(month), 1):02d}-{max(int(day), 1):02d}T{clock}Z", datatype=ox.NamedNode(XSD + "dateTime"))


def entity_rdf(entity: Mapping[str, Any], wmap: WikidataMap | None = None) -> list[ox.Triple]:
    """One entity of the Wikidata JSON format in the RDF shape of the Wikidata Query Service.

    Labels (``rdfs:label``), aliases (``skos:altLabel``), descriptions (``schema:description``),
    the sitelink count (``wikibase:sitelinks``), truthy ``wdt:`` triples of every item-valued
    property, and the full statements (``p:``/``ps:``/``wikibase:rank``, end-time ``pq:``) of the
    properties kg reads; enough to serve a dump slice from a local SPARQL endpoint.

    >>> triples = entity_rdf({"type": "item", "id": "Q900000001", "labels": {"en": {"language": "en", "value": "One"}}})
    >>> [(t.predicate.value.rsplit("#", 1)[-1], t.object.value) for t in triples]
    [('label', 'One'), ('sitelinks', '0')]
    """
    qid = entity.get("id", "")
    if entity.get("type", "item") != "item" or not QID_RE.match(qid):
        return []
    wmap = wmap or default_map()
    item = ox.NamedNode(WD + qid)
    out = [
        ox.Triple(item, ox.NamedNode(prop), ox.Literal(v["value"], language=lang))
        for key, prop in (("labels", RDFS_LABEL), ("descriptions", SCHEMA_DESCRIPTION))
        for lang, v in (entity.get(key) or {}).items()
        if v.get("value")
    ]
    out += [
        ox.Triple(item, ox.NamedNode(SKOS_ALT), ox.Literal(a["value"], language=lang))
        for lang, values in (entity.get("aliases") or {}).items()
        for a in values
        if a.get("value")
    ]
    count = len(entity.get("sitelinks") or {})
    out.append(ox.Triple(item, ox.NamedNode(WIKIBASE + "sitelinks"), ox.Literal(str(count), datatype=ox.NamedNode(XSD + "integer"))))
    kept, end = set(wmap.statement_pids), wmap.pid("endTime")
    for pid, claims in (entity.get("claims") or {}).items():
        ranks = [c.get("rank", "normal") for c in claims if _snak_item(c.get("mainsnak") or {})]
        best = "preferred" if "preferred" in ranks else "normal"
        for claim in claims:
            value = _snak_item(claim.get("mainsnak") or {})
            if value is None:
                continue
            rank = claim.get("rank", "normal")
            if rank == best:
                out.append(ox.Triple(item, ox.NamedNode(WDT + pid), ox.NamedNode(WD + value)))
            if pid not in kept:
                continue
            statement = ox.NamedNode(WDS + str(claim.get("id", f"{qid}-{pid}-{value}")).replace("$", "-"))
            out += [
                ox.Triple(item, ox.NamedNode(P + pid), statement),
                ox.Triple(statement, ox.NamedNode(PS + pid), ox.NamedNode(WD + value)),
                ox.Triple(statement, ox.NamedNode(WIKIBASE + "rank"), ox.NamedNode(WIKIBASE + rank.capitalize() + "Rank")),
            ]
            for qualifier in (claim.get("qualifiers") or {}).get(end, ()):
                if qualifier.get("snaktype") == "value":
                    out.append(ox.Triple(statement, ox.NamedNode(PQ + end), _time_literal(qualifier["datavalue"]["value"])))
                elif qualifier.get("snaktype") == "somevalue":
                    out.append(ox.Triple(statement, ox.NamedNode(PQ + end), ox.BlankNode()))
    return out
