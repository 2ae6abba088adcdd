"""Streaming readers that turn the files in ``data/kb-sources`` into :class:`KBEntry` records.

One reader per source, each a generator; :func:`read_all` chains them in order of
authority and :func:`merge` folds the entries of one QID together. Every QID comes
from a source file: nothing here names an entity.

Names are compared through two keys, :func:`normalize` and :func:`translit_key`,
which :mod:`kg.linking.kb` stores for every name.
"""

from __future__ import annotations

import csv
import functools
import json
import logging
import math
import re
import unicodedata
from collections.abc import Container, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from kg.errors import LinkingError

log = logging.getLogger(__name__)

#: KB entity types (ontology class local names), most specific claim first when sources disagree.
KB_TYPES = (
    "Country",
    "Settlement",
    "AdministrativeArea",
    "Location",
    "Person",
    "Organization",
    "MilitaryUnit",
    "Position",
    "Event",
)

#: Source files read by :func:`read_all`, relative to the sources folder, in order of authority.
SOURCE_FILES = {
    "verified": "verified/entities.tsv",
    "t2wml": "t2wml/country_entities.json",
    "dr5hn_countries": "dr5hn_csc/countries.csv",
    "dr5hn_states": "dr5hn_csc/states.csv",
    "natural_earth": "natural_earth_v4/ne_10m_populated_places.slim.tsv",
    "econandrew": "econandrew_country_aliases/country_aliases.csv",
    "histwardb": "histwardb/crosswalk.csv",
}

#: Source name of entries read from Wikidata itself (a dump, an endpoint, online lookups).
WIKIDATA_SOURCE = "wikidata"

#: Languages kept from the country-alias list (the other ~330 only bloat the KB).
ALIAS_LANGUAGES = frozenset({"en", "fr", "de", "es", "ru", "uk"})


@dataclass(frozen=True, slots=True)
class KBEntry:
    """What one source says about one Wikidata item.

    ``country``, ``located_in`` and ``capital_of`` are QIDs; ``prior`` is in [0, 1].
    ``relations`` holds ``(property id, QID)`` pairs read from Wikidata (dump or endpoint).

    >>> KBEntry("Qx", "Somewhere", type="Location").aliases
    ()
    """

    qid: str
    label: str
    aliases: tuple[str, ...] = ()
    type: str = "Location"
    description: str = ""
    prior: float = 0.0
    country: str | None = None
    located_in: str | None = None
    capital_of: str | None = None
    demonyms: tuple[str, ...] = ()
    source: str = ""
    relations: tuple[tuple[str, str], ...] = ()


# --------------------------------------------------------------------------- name keys

_APOSTROPHES = str.maketrans({c: "'" for c in "\u2019\u2018\u02bc\u02b9\u0060\u00b4\u2032\u201b\uff07"})
_HYPHENS = str.maketrans({c: "-" for c in "\u2010\u2011\u2012\u2013\u2014\u2212\ufe63\uff0d"})
_TRANSLIT = (("kh", "h"), ("zh", "z"), ("x", "ks"), ("w", "v"), ("j", "y"), ("g", "h"), ("y", "i"))


@functools.lru_cache(maxsize=1 << 17)
def normalize(name: str) -> str:
    """Return the comparison key of a name: casefolded, accents folded, punctuation unified.

    Apostrophes and hyphens of every kind become ``'`` and ``-``, dots are dropped
    (``U.S.`` = ``US``), a leading "the " goes, and runs of spaces become one.

    >>> normalize("  The Hague")
    'hague'
    >>> normalize("U.S.")
    'us'
    >>> normalize("Kyiv\u2019s  Zaporizhzhia\u2013region")
    "kyiv's zaporizhzhia-region"
    >>> normalize("Liège") == normalize("LIEGE")
    True
    """
    text = unicodedata.normalize("NFKD", name)
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    text = text.translate(_APOSTROPHES).translate(_HYPHENS).replace(".", "")
    text = " ".join(text.split())
    return text[4:] if text.startswith("the ") else text


@functools.lru_cache(maxsize=1 << 17)
def translit_key(name: str) -> str:
    """Return a key that maps common romanizations of Ukrainian and Russian names together.

    On top of :func:`normalize`: apostrophes (soft signs) and hyphens go, ``kh``→``h``,
    ``zh``→``z``, ``x``→``ks``, ``w``→``v``, ``j``/``y``→``i``, ``g``→``h``, word-initial
    ``ye``→``e``, and doubled letters collapse (so ``-iy``/``-yy``/``-yi`` all end in ``i``).

    >>> translit_key("Zelenskiy") == translit_key("Zelenskyy") == translit_key("Zelensky")
    True
    >>> translit_key("Syrskyi") == translit_key("Syrskiy")
    True
    >>> translit_key("Zaporizhzhya") == translit_key("Zaporizhzhia")
    True
    >>> translit_key("Luhans'k"), translit_key("Lugansk")
    ('luhansk', 'luhansk')
    """
    text = normalize(name).replace("'", "").replace("-", " ")
    for old, new in _TRANSLIT:
        text = text.replace(old, new)
    text = re.sub(r"\bie", "e", text)
    return re.sub(r"(.)\1+", r"\1", text)


# --------------------------------------------------------------------------- helpers


def _rows(path: Path, delimiter: str = ",") -> Iterator[dict[str, str]]:
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            yield from csv.DictReader(handle, delimiter=delimiter)
    except OSError as exc:
        raise LinkingError(f"cannot read knowledge-base source {path}: {exc.strerror}; restore data/kb-sources") from exc


def _clean(name: str) -> str:
    return " ".join(name.strip().strip('"').split())


def _names(*names: str) -> tuple[str, ...]:
    """Distinct non-empty names with at least one letter, in order."""
    seen: dict[str, None] = {}
    for name in names:
        name = _clean(name)
        if len(name) > 1 and any(c.isalpha() for c in name):
            seen.setdefault(name, None)
    return tuple(seen)


def _is_cyrillic(text: str) -> bool:
    return any("\u0400" <= c <= "\u04ff" for c in text)


def _pop_prior(population: float, bonus: float = 0.0) -> float:
    """Prior from a population (log scale, 10^7.5 ≈ 1) plus a bonus for the place's rank."""
    base = math.log10(population) / 7.5 if population > 1 else 0.0
    return round(min(1.0, 0.7 * min(1.0, base) + bonus), 4)


def _float(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return 0.0


# --------------------------------------------------------------------------- geography shared by readers

#: dr5hn state types named "... region" in English, and the suffixes generated for them.
REGION_TYPES = frozenset(
    {"oblast", "region", "province", "administrative region", "administrative territory", "krai", "governorate"}
)
#: dr5hn types of first-level divisions (when the row has no parent): they get a higher prior.
FIRST_LEVEL_TYPES = REGION_TYPES | {
    "state", "republic", "autonomous republic", "autonomous region", "autonomous community", "autonomous district",
    "autonomous city", "autonomous province", "territory", "union territory", "federal district", "federal territory",
    "capital territory", "capital district", "capital city", "special administrative region", "prefecture",
    "department", "county", "canton", "land", "voivodship", "emirate", "division", "country", "overseas region",
}  # fmt: skip
_OBLAST_TYPES = frozenset({"oblast", "region", "administrative region"})
_KRAI_TYPES = frozenset({"administrative territory", "krai"})
_TYPE_WORDS = r"(?:autonomous |federal |special )?(?:republic|region|province|oblast|krai|state|territory|district|governorate|county|okrug|voivodeship)"
_PREFIX_RE = re.compile(rf"^{_TYPE_WORDS} of (?:the )?", re.I)
_SUFFIX_RE = re.compile(rf"\s+{_TYPE_WORDS}$", re.I)
_ADJECTIVAL_RE = re.compile(r"(?<=[a-z])[szc]ka$")  # Ukrainian adjectival region names: Donetska, Zaporizka
_CAPITAL_CLASSES = ("Admin-0 capital", "Admin-0 capital alt", "Admin-1 capital", "Admin-1 region capital")


def _base_name(name: str) -> str:
    """Strip generic type words: "Autonomous Republic of Crimea" → "Crimea", "Volgograd Oblast" → "Volgograd"."""
    return _SUFFIX_RE.sub("", _PREFIX_RE.sub("", name)).strip() or name


def _common_prefix(a: str, b: str) -> int:
    n = 0
    for x, y in zip(a, b):
        if x != y:
            break
        n += 1
    return n


def _prefix_match(a: str, b: str) -> int:
    """Length of the shared prefix of two keys if it plausibly names the same stem, else 0."""
    n = _common_prefix(a, b)
    return n if n >= 3 and n >= min(len(a), len(b)) - 3 else 0


@dataclass(slots=True)
class _Place:
    qid: str
    names: tuple[str, ...]
    featurecla: str
    adm1name: str


@dataclass(slots=True)
class _State:
    qid: str
    name: str
    type: str
    country: str  # ISO alpha-2
    parent: str | None  # QID
    native: str = ""
    country_name: str = ""
    stems: tuple[str, ...] = ()
    capital: str | None = None  # QID of the Natural Earth place reconciled as its capital


@dataclass(slots=True)
class _Geo:
    """Country codes and first-level divisions reconciled between dr5hn and Natural Earth."""

    country_qid: dict[str, str]  # ISO alpha-2 and alpha-3 → QID
    cyrillic: set[str]  # alpha-2 codes of countries whose native name is Cyrillic
    states: dict[str, list[_State]] = field(default_factory=dict)  # alpha-2 → states
    state_qids: set[str] = field(default_factory=set)
    capital_of: dict[str, str] = field(default_factory=dict)  # place QID → state QID
    _adm1: dict[tuple[str, str], str | None] = field(default_factory=dict)

    def admin1(self, country: str, adm1name: str) -> str | None:
        """The state QID that a Natural Earth ``adm1name`` names in a country, if unique."""
        key = (country, adm1name)
        if key not in self._adm1:
            target = translit_key(adm1name)
            scores: dict[str, int] = {}
            for state in self.states.get(country, ()):
                for name in (state.name, *state.stems):
                    k = translit_key(name)
                    score = 1000 if k == target else (_prefix_match(k, target) if _ADJECTIVAL_RE.search(state.name) else 0)
                    scores[state.qid] = max(scores.get(state.qid, 0), score)
            self._adm1[key] = _unique_best(scores)
        return self._adm1[key]


def _unique_best(scores: dict[str, int]) -> str | None:
    best = max(scores.values(), default=0)
    winners = [k for k, v in scores.items() if v == best]
    return winners[0] if best and len(winners) == 1 else None


def _place_names(row: dict[str, str], languages: bool = True, taken: Container[tuple[str, str]] = ()) -> tuple[str, ...]:
    """Names of a Natural Earth place, English first.

    ``namealt`` parts that merely name its region or country are dropped, and so are
    those in ``taken`` (``(iso_a2, translit key)`` of other places' main names).
    """
    skip = {row["adm1name"], row["adm0name"]}
    alts = [a for a in re.split(r"[|,]", row["namealt"]) if _clean(a) not in skip]
    alts = [a for a in alts if (row["iso_a2"], translit_key(a)) not in taken]
    langs = [row[k] for k in ("name_ru", "name_de", "name_fr", "name_es", "name_pt", "name_zh")] if languages else []
    return _names(row["name_en"], row["name"], row["nameascii"], *alts, *langs)


def _load_geo(root: Path) -> _Geo:
    countries = list(_rows(root / SOURCE_FILES["dr5hn_countries"]))
    geo = _Geo(
        country_qid={code: r["wikiDataId"] for r in countries for code in (r["iso2"], r["iso3"]) if r["wikiDataId"]},
        cyrillic={r["iso2"] for r in countries if _is_cyrillic(r["native"])},
    )
    rows = [r for r in _rows(root / SOURCE_FILES["dr5hn_states"]) if r["wikiDataId"].startswith("Q")]
    by_id = {r["id"]: r["wikiDataId"] for r in rows}
    for r in rows:
        state = _State(
            r["wikiDataId"], _clean(r["name"]), r["type"], r["country_code"], by_id.get(r["parent_id"]),
            r["native"], r["country_name"],
        )  # fmt: skip
        geo.states.setdefault(state.country, []).append(state)
        geo.state_qids.add(state.qid)

    capitals: dict[str, list[_Place]] = {}
    for r in _rows(root / SOURCE_FILES["natural_earth"], "\t"):
        if r["wikidataid"] and r["featurecla"] in _CAPITAL_CLASSES:
            place = _Place(r["wikidataid"], _place_names(r, languages=False), r["featurecla"], r["adm1name"])
            capitals.setdefault(r["iso_a2"], []).append(place)
    for country, states in geo.states.items():
        for state in states:
            _reconcile(state, capitals.get(country, ()), geo)
    log.debug("reconciled %d of %d divisions with a Natural Earth capital", len(geo.capital_of), len(geo.state_qids))
    return geo


def _reconcile(state: _State, capitals: Sequence[_Place], geo: _Geo) -> None:
    """Find a state's English stems and its capital among Natural Earth capitals of the same country.

    A Ukrainian adjectival name ("Donetska", "Kharkivska") is cut to candidate stems
    ("Donetsk", "Kharkiv"); a candidate that equals a capital's name (or an ``adm1name``)
    wins, else the capital sharing the longest plausible prefix ("Zaporizka" ~ "Zaporizhzhya").
    """
    base = _base_name(state.name)
    adjectival = bool(_ADJECTIVAL_RE.search(base))
    candidates = [base[:-1], base[:-3], base[:-2]] if adjectival else [base]
    keys = {translit_key(c): c for c in candidates if len(c) >= 3}
    match: tuple[str, _Place | None] | None = None
    for place in capitals:
        for name in place.names:
            if translit_key(name) in keys:
                match = (keys[translit_key(name)], place)
                break
        if match:
            break
    if match is None and adjectival:
        adm1 = {translit_key(p.adm1name): p.adm1name for p in capitals}
        hit = next((keys[k] for k in keys if k in adm1), None)
        if hit:
            match = (hit, None)
        else:
            scores = {
                place.qid: max(_prefix_match(k, translit_key(n)) for k in keys for n in place.names) for place in capitals
            }
            best = _unique_best(scores)
            place = next((p for p in capitals if p.qid == best), None)
            if place:
                match = ("", place)
    if match is None:
        state.stems = (base,)
        return
    stem, place = match
    names = [n for n in place.names if "'" not in n] if place else []
    state.stems = _names(stem, *names) if adjectival else _names(base)
    if place and place.qid not in geo.state_qids:  # Kyiv, Moscow: the city is a division of its own
        state.capital = place.qid
        geo.capital_of.setdefault(place.qid, state.qid)


def region_aliases(state_name: str, state_type: str, stems: Iterable[str], cyrillic: bool) -> tuple[str, ...]:
    """English names news text uses for a first-level division, generated from its stems.

    The bare base name is an alias only when it came from the division's own name
    ("Crimea" from "Autonomous Republic of Crimea"); stems borrowed from the capital
    city ("Donetsk" for "Donetska") only appear with a suffix, so they never name the city.

    >>> region_aliases("Belgorod", "administrative region", ["Belgorod"], cyrillic=True)
    ('Belgorod region', 'Belgorod Region', 'Belgorod province', 'Belgorod Province', 'Belgorod Oblast')
    >>> region_aliases("Autonomous Republic of Crimea", "republic", ["Crimea"], cyrillic=True)
    ('Crimea',)
    >>> region_aliases("Donetska", "region", ["Donetsk"], cyrillic=True)[-1]
    'Donetsk Oblast'
    """
    stems = tuple(stems)
    base = _base_name(state_name)
    out = [base] if base != state_name else []
    if state_type in REGION_TYPES:
        suffixes = ["region", "Region", "province", "Province"]
        if cyrillic and state_type in _OBLAST_TYPES:
            suffixes.append("Oblast")
        if cyrillic and state_type in _KRAI_TYPES:
            suffixes.append("Krai")
        if state_type == "governorate":
            suffixes.append("Governorate")
        out += [f"{stem} {suffix}" for stem in stems for suffix in suffixes]
    elif state_type in ("republic", "autonomous republic") and base == state_name:
        out += [f"{stem} Republic" for stem in stems] + [f"Republic of {stem}" for stem in stems]
    return _names(*out)


def region_label(state_name: str, state_type: str, stems: Sequence[str], cyrillic: bool) -> str:
    """The English label of a division: "Donetsk Oblast" for dr5hn's "Donetska", "Krasnodar Krai" for "Krasnodar".

    Only oblasts and krais of Cyrillic-named countries are relabeled, and only when
    the name carries no type word yet; the source name stays an alias.

    >>> region_label("Belgorod", "administrative region", ["Belgorod"], cyrillic=True)
    'Belgorod Oblast'
    >>> region_label("Volgograd Oblast", "administrative region", ["Volgograd"], cyrillic=True)
    'Volgograd Oblast'
    """
    if not (cyrillic and stems and _base_name(state_name) == state_name):
        return state_name
    if state_type in _OBLAST_TYPES:
        return f"{stems[0]} Oblast"
    return f"{stems[0]} Krai" if state_type in _KRAI_TYPES else state_name


# --------------------------------------------------------------------------- readers


def read_verified(root: Path) -> Iterator[KBEntry]:
    """Hand-checked news entities (``verified/entities.tsv``), with their own type column."""
    for r in _rows(root / SOURCE_FILES["verified"], "\t"):
        if r["type"] not in KB_TYPES:
            raise LinkingError(f"unknown type {r['type']!r} for {r['qid']} in verified/entities.tsv; use one of {KB_TYPES}")
        yield KBEntry(r["qid"], _clean(r["label"]), _names(*r["aliases"].split("|")), r["type"], r["description"], 0.9, source="verified")


def read_t2wml(root: Path, geo: _Geo | None = None) -> Iterator[KBEntry]:
    """Country labels and descriptions (``t2wml/country_entities.json``); a few regions and organizations too."""
    geo = geo or _load_geo(root)
    historical = {r["country_qid"] for r in _rows(root / SOURCE_FILES["histwardb"])}
    countries = set(geo.country_qid.values()) | historical
    path = root / SOURCE_FILES["t2wml"]
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise LinkingError(f"cannot read knowledge-base source {path}: {exc}; restore data/kb-sources") from exc
    for qid, item in data.items():
        desc = item.get("description", "")
        if qid in countries or re.search(r"\b(state|country)\b", desc):
            kind, prior = "Country", 0.5
        elif re.search(r"\b(organi[sz]ation|alliance|union)\b", desc):
            kind, prior = "Organization", 0.6
        else:
            kind, prior = "Location", 0.5
        yield KBEntry(qid, _clean(item.get("label", "")), (), kind, desc, prior, source="t2wml")


def read_countries(root: Path) -> Iterator[KBEntry]:
    """Countries and territories (dr5hn ``countries.csv``): ISO codes, demonyms, population."""
    for r in _rows(root / SOURCE_FILES["dr5hn_countries"]):
        if not r["wikiDataId"]:
            continue
        demonyms = _names(*re.split(r",| or |/", r["nationality"]))
        prior = round(0.8 + 0.2 * min(1.0, math.log10(max(_float(r["population"]), 1)) / 9), 4)
        yield KBEntry(
            r["wikiDataId"], _clean(r["name"]), _names(r["native"]), "Country",
            f"country in {r['subregion'] or r['region']}" if (r["subregion"] or r["region"]) else "country",
            prior, demonyms=demonyms, source="dr5hn_countries",
        )  # fmt: skip


def read_states(root: Path, geo: _Geo | None = None) -> Iterator[KBEntry]:
    """First-level divisions (dr5hn ``states.csv``), with generated English aliases ("Donetsk Oblast")."""
    geo = geo or _load_geo(root)
    for code, states in geo.states.items():
        for state in states:
            cyrillic = code in geo.cyrillic
            label = region_label(state.name, state.type, state.stems, cyrillic)
            aliases = (state.name, *region_aliases(state.name, state.type, state.stems, cyrillic))
            prior = 0.35 if state.parent else 0.55 if state.type in FIRST_LEVEL_TYPES else 0.45
            # dr5hn's native names are partly machine-translated junk ("Bitch" for Lubombo):
            # keep one only if it starts like the English name
            native = state.native if translit_key(state.native)[:3] == translit_key(state.name)[:3] else ""
            yield KBEntry(
                state.qid, label, tuple(n for n in _names(*aliases, native) if n != label), "AdministrativeArea",
                f"{state.type or 'division'} of {state.country_name}", prior,
                country=geo.country_qid.get(code), located_in=state.parent, source="dr5hn_states",
            )  # fmt: skip


@dataclass(frozen=True, slots=True)
class _Taken:
    """Keys that name some place other than ``qid``."""

    owners: dict[tuple[str, str], set[str]]
    qid: str

    def __contains__(self, key: object) -> bool:
        return any(owner != self.qid for owner in self.owners.get(key, ()))  # type: ignore[call-overload]


_FEATURE_BONUS = {
    "Admin-0 capital": 0.25,
    "Admin-0 capital alt": 0.15,
    "Admin-0 region capital": 0.1,
    "Admin-1 capital": 0.1,
    "Admin-1 region capital": 0.08,
}


def read_places(root: Path, geo: _Geo | None = None) -> Iterator[KBEntry]:
    """Populated places (Natural Earth): names in several languages, country, region, population prior."""
    geo = geo or _load_geo(root)
    path = root / SOURCE_FILES["natural_earth"]
    # an alternative name that is another place's main name in the same country is a data slip
    # (Lutsk's namealt "Kovel'"): keep it off
    main: dict[tuple[str, str], set[str]] = {}
    for r in _rows(path, "\t"):
        for name in {r["name"], r["name_en"]}:
            main.setdefault((r["iso_a2"], translit_key(name)), set()).add(r["wikidataid"])
    for r in _rows(path, "\t"):
        qid = r["wikidataid"]
        if not qid:
            continue
        iso2 = r["iso_a2"]
        country = geo.country_qid.get(iso2) or geo.country_qid.get(r["adm0_a3"])
        located_in = None
        if qid not in geo.state_qids:  # Kyiv, Moscow: the city is itself a first-level division
            located_in = geo.capital_of.get(qid) or geo.admin1(iso2, r["adm1name"])
        capital_of = country if r["featurecla"].startswith("Admin-0 capital") else geo.capital_of.get(qid)
        station = "station" in r["featurecla"].lower()
        names = _place_names(r, taken=_Taken(main, qid))
        yield KBEntry(
            qid, names[0], names[1:], "Location" if station else "Settlement",
            f"{r['featurecla'].lower()} in {r['adm0name']}",
            _pop_prior(_float(r["pop_max"]), _FEATURE_BONUS.get(r["featurecla"], 0.0)),
            country=country, located_in=located_in, capital_of=capital_of, source="natural_earth",
        )  # fmt: skip


def read_country_aliases(root: Path, geo: _Geo | None = None, languages: Iterable[str] = ALIAS_LANGUAGES) -> Iterator[KBEntry]:
    """Wikidata country labels and aliases (econandrew), joined to QIDs by ISO code; a few languages only."""
    geo = geo or _load_geo(root)
    languages = frozenset(languages)
    current: str | None = None
    names: list[str] = []
    codes: set[str] = set()

    def flush() -> Iterator[KBEntry]:
        # ISO codes ("UA", "ru", "UKR") read as codes, not names, unless spelled as one too ("US" = "U.S.")
        spelled = {normalize(n) for n in names if n.upper() not in codes}
        kept = [n for n in _names(*names) if n.upper() not in codes or normalize(n) in spelled]
        if current and kept:
            yield KBEntry(current, kept[0], tuple(kept[1:]), "Country", source="econandrew")

    for r in _rows(root / SOURCE_FILES["econandrew"]):
        if r["language"] not in languages:
            continue
        qid = geo.country_qid.get(r["iso3c"]) or geo.country_qid.get(r["iso2c"])
        if qid != current:
            yield from flush()
            current, names, codes = qid, [], {r["iso2c"], r["iso3c"]}
        if r["language"] == "en" and r["label_type"] == "official":
            names.insert(0, r["label"])
        else:
            names.append(r["label"])
    yield from flush()


def read_histwardb(root: Path) -> Iterator[KBEntry]:
    """Country names, historical states included (histwardb crosswalk)."""
    for r in _rows(root / SOURCE_FILES["histwardb"]):
        names = _names(r["country"])
        prior = 0.6 if r["cow_code"] else 0.3  # states with a Correlates-of-War code are the well-known ones
        yield KBEntry(r["country_qid"], names[0], names[1:], "Country", prior=prior, source="histwardb")


def read_all(root: Path) -> Iterator[KBEntry]:
    """Every entry of every source, in order of authority (verified first); not merged.

    Raises:
        LinkingError: if the folder or one of its files is missing.
    """
    root = Path(root)
    missing = [rel for rel in SOURCE_FILES.values() if not (root / rel).is_file()]
    if missing:
        raise LinkingError(f"knowledge-base sources missing in {root}: {', '.join(missing)}; restore data/kb-sources")
    geo = _load_geo(root)
    yield from read_verified(root)
    yield from read_t2wml(root, geo)
    yield from read_countries(root)
    yield from read_states(root, geo)
    yield from read_places(root, geo)
    yield from read_country_aliases(root, geo)
    yield from read_histwardb(root)


# --------------------------------------------------------------------------- merging

_TYPE_RANK = {t: i for i, t in enumerate(KB_TYPES)}


def merge(entries: Iterable[KBEntry]) -> KBEntry:
    """Fold the entries of one QID (given in order of authority) into one.

    The first non-empty label, description, country, region and capital win; aliases,
    demonyms and relations are unioned; the prior is the maximum, taken over the bundled sources
    when one of them has the item (a sitelink prior from Wikidata never reorders the names they
    resolve). The type is the verified one if any, else the most specific claim
    (Country > Settlement > AdministrativeArea > ...).

    >>> a = KBEntry("Qx", "Kyiv", ("Kiev",), "AdministrativeArea", prior=0.5, source="dr5hn_states")
    >>> b = KBEntry("Qx", "Kiev", ("Kyiv", "Kiew"), "Settlement", "capital", 0.9, source="natural_earth")
    >>> m = merge([a, b])
    >>> m.label, m.aliases, m.type, m.prior, m.source
    ('Kyiv', ('Kiev', 'Kiew'), 'Settlement', 0.9, 'dr5hn_states natural_earth')
    """
    entries = list(entries)
    if not entries or len({e.qid for e in entries}) != 1:
        raise ValueError("merge() needs entries of exactly one QID")

    qid = entries[0].qid

    def first(attr: str):  # first non-empty value; an item is never its own region or capital
        return next((v for e in entries if (v := getattr(e, attr)) and v != qid), None)

    label = first("label") or qid
    verified = [e.type for e in entries if e.source == "verified"]
    kind = verified[0] if verified else min((e.type for e in entries), key=lambda t: _TYPE_RANK.get(t, 99))
    aliases = tuple(n for n in _names(*(n for e in entries for n in (e.label, *e.aliases))) if n != label)
    country = first("country") if kind != "Country" else None
    bundled = [e.prior for e in entries if e.source != WIKIDATA_SOURCE]
    return KBEntry(
        qid, label, aliases, kind, first("description") or "", max(bundled or [e.prior for e in entries]),
        country, first("located_in"), first("capital_of"),
        _names(*(d for e in entries for d in e.demonyms)), " ".join(_names(*(e.source for e in entries))),
        tuple(dict.fromkeys(r for e in entries for r in e.relations)),
    )  # fmt: skip
