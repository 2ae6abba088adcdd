"""Grouping a document's mentions into entities.

Within a document: the same normalized name is the same entity; a surname
alone ("Zelenskiy") is the person named in full elsewhere; an acronym is the
name it was defined for; transliteration variants share a key; a unit's
mentions that differ only by nationality or head noun ("Ukrainian marines",
"Marine Corps") are one unit. The type of an entity is the weighted vote of
its mentions' evidence.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from dataclasses import replace
from functools import lru_cache

from ..extraction import lexicon as lx
from ..linking.sources import translit_key
from ..records import Entity, Extraction, Resolution

#: Weight of a mention's type by what produced it.
SOURCE_WEIGHT = {"kb": 3.0, "context": 3.0, "title": 2.5, "rule": 2.0, "phrase": 2.0, "acronym": 2.0,
                 "demonym": 2.0, "ner": 1.0}
#: Confidence from which a mention's class is one the text names ("Kherson city", "the Kherson and Zaporizhzhia
#: regions"), not one it suggests ("including Enerhodar" after a region).
CLASS_NAMED = 0.9
_FAMILY = {"Person": "Person", "Organization": "Org", "MilitaryUnit": "Org", "Location": "Loc", "Country": "Loc",
           "AdministrativeArea": "Loc", "Settlement": "Loc", "Position": "Position"}
_UNIT_GENERIC = {"corps", "force", "forces", "troops", "unit", "units", "of", "the", "and"}
_ARTICLE = re.compile(r"^(the|The) ")  # dropped from a label and its aliases


@lru_cache(maxsize=1 << 16)
def name_key(name: str, translit=None) -> str:
    """A key under which spellings of one name meet.

    >>> name_key("The Russian Defense Ministry’s")
    'russian defense ministry'
    >>> name_key("U.S.")
    'us'
    """
    s = unicodedata.normalize("NFKD", name)
    s = "".join(c for c in s if not unicodedata.combining(c)).casefold()
    s = re.sub(r"['’`]s\b", "", s)
    s = s.replace(".", "")
    s = re.sub(r"[^\w]+", " ", s).strip()
    s = re.sub(r"^(the|a|an) ", "", s)
    if translit is not None:
        s = translit(s)
    return s


def _unit_key(name: str, is_demonym) -> str:
    words = [w for w in re.findall(r"[\w-]+", name.casefold()) if w not in _UNIT_GENERIC and not is_demonym(w)]
    return " ".join(w[:-1] if w.endswith("s") and len(w) > 4 else w for w in words)


def _initials(name: str) -> str:
    """ "36th Combined Arms Army" -> "36th CAA"; "United Nations" -> "UN"."""
    words = [w for w in re.findall(r"[\w'’-]+", name) if w.lower() not in {"of", "the", "and", "for"}]
    lead = [w for w in words if w[:1].isdigit()]
    rest = [w for w in words if not w[:1].isdigit()]
    return " ".join(lead + ["".join(w[0].upper() for w in rest)])


def _is_proper(text: str) -> bool:
    words = [w for w in text.split() if w[:1].isalpha() and w.lower() not in {"of", "the", "and", "for"}]
    return bool(words) and all(w[:1].isupper() for w in words)


def resolve(extraction: Extraction, kb=None, min_confidence: float = 0.0) -> Resolution:
    """Group the mentions of one document into entities.

    Args:
        extraction: what the extraction stage read from the document.
        kb: the knowledge base, for demonyms and gazetteer types (optional).
        min_confidence: relations, events and claims read with less confidence are dropped.
    """
    mentions = extraction.mentions
    is_demonym = (lambda w: kb.demonym(w.capitalize()) is not None) if kb is not None else (lambda w: False)

    parent = list(range(len(mentions)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def union(a: int, b: int) -> None:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)

    keys = [name_key(m.name) for m in mentions]  # each mention's name key, made once, and its transliteration key
    spelled = [name_key(m.name, translit_key) for m in mentions]
    # a name the text gives both as a town and as a region ("Kherson city" / "the Kherson and Zaporizhzhia
    # regions"): two places; a bare use of the name is the town
    classed: dict[str, set[str]] = defaultdict(set)
    for i, m in enumerate(mentions):
        if m.source == "context" and m.type in {"Settlement", "AdministrativeArea"} and m.confidence >= CLASS_NAMED:
            classed[keys[i]].add(m.type)
    by_key: dict[tuple[str, str], int] = {}
    for i, m in enumerate(mentions):
        fam = "Position" if m.type == "Position" else "Entity"
        if len(classed.get(keys[i], ())) == 2 and m.source == "context" and m.type == "AdministrativeArea":
            fam = "Region"
        for key in {keys[i], spelled[i]}:
            if not key:
                continue
            if (fam, key) in by_key:
                union(by_key[(fam, key)], i)
            else:
                by_key[(fam, key)] = i

    # "Belgorod" where the document also says "the Belgorod region": the region
    # (unless the text makes the name a city somewhere, "Kherson city", "the capital Kyiv", and not this
    # mention a region)
    cities = {keys[i] for i, m in enumerate(mentions) if m.source == "context" and m.type == "Settlement"}
    for i, m in enumerate(mentions):
        region = m.source == "context" and m.type == "AdministrativeArea"
        if _FAMILY.get(m.type) in {"Loc", "Org"} and m.type != "Country" and (keys[i] not in cities or region):
            key = keys[i]
            for noun in lx.AREA_NOUNS:
                j = by_key.get(("Entity", f"{key} {noun}"))
                if j is not None and _FAMILY.get(mentions[j].type) == "Loc":
                    union(j, i)
                    break

    # surnames: a one-word mention equal to the last word of a person's full name
    full_names: dict[str, set[int]] = defaultdict(set)
    for i, m in enumerate(mentions):
        words = keys[i].split()
        if m.type == "Person" and len(words) >= 2:
            full_names[words[-1]].add(find(i))
            full_names[translit_key(words[-1])].add(find(i))
    retype: dict[int, str] = {}
    for r in extraction.relations:  # whoever holds an office the text names is a person, whatever the model said
        if r.property == "positionHeld" and mentions[r.subject].source == "ner":
            retype[r.subject] = "Person"
    for i, m in enumerate(mentions):
        words = keys[i].split()
        if len(words) == 1 and m.type != "Position" and m.source != "demonym":
            roots = {find(r) for r in full_names.get(words[0], set()) | full_names.get(name_key(words[0], translit_key), set())}
            if len(roots) == 1:
                root = roots.pop()
                union(root, i)
                retype[i] = "Person"

    # acronyms used without a definition: "UN" for "United Nations", "36th CAA" for "36th Combined Arms Army"
    long_names: dict[str, int] = {}
    for i, m in enumerate(mentions):
        if _FAMILY.get(m.type) in {"Org", "Loc"} and len(m.name.split()) >= 2:
            long_names.setdefault(_initials(m.name), i)
            words = m.name.split()
            country = kb.demonym(words[0]) if kb is not None else None
            if country is not None:  # "Ukrainian Armed Forces" is also "Armed Forces of Ukraine": AFU
                long_names.setdefault(_initials(" ".join(words[1:] + ["of", country.label])), i)
    for i, m in enumerate(mentions):
        words = m.name.split()
        if _FAMILY.get(m.type) in {"Org", "Loc"} and words and words[-1].isupper() and len(words[-1]) >= 2:
            j = long_names.get(" ".join(words[:-1] + [words[-1].replace(".", "")]))
            if j is not None and j != i:
                union(j, i)

    # "Wagner" where the document also says "the Wagner Group": the group
    heads = lx.MILITARY_HEADS | lx.ORG_HEADS
    for i, m in enumerate(mentions):
        words = m.name.split()
        if _FAMILY.get(m.type) == "Org" and len(words) == 1:
            longer = {find(j) for j, o in enumerate(mentions) if _FAMILY.get(o.type) == "Org" and len(o.name.split()) == 2
                      and o.name.split()[0] == words[0] and o.name.split()[1].lower() in heads}
            if len(longer) == 1:
                union(longer.pop(), i)

    # a named place and its lowercase head, said more or less fully: "the Zaporizhzhia plant" /
    # "the Zaporizhzhia nuclear power plant"
    facilities: dict[tuple[str, str], int] = {}
    for i, m in enumerate(mentions):
        words = m.name.split()
        if _FAMILY.get(m.type) == "Loc" and len(words) >= 2 and words[-1] in lx.PLACE_HEADS:
            key = (" ".join(w for w in words[:-1] if w[:1].isupper()), words[-1])
            if key[0] and key in facilities:
                union(facilities[key], i)
            elif key[0]:
                facilities[key] = i

    # units that differ only by nationality or a generic head: "Ukrainian marines" / "Marine Corps"
    # (but never two nationalities: "the Nigerian Army" is not "the Guatemalan Army")
    units: dict[str, dict[str, int]] = defaultdict(dict)
    for i, m in enumerate(mentions):
        if m.type == "MilitaryUnit" or m.type == "Organization" and m.name.split()[-1].lower() in lx.MILITARY_HEADS:
            key = _unit_key(m.name, is_demonym)
            if key:
                nation = " ".join(sorted({w.casefold() for w in re.findall(r"[\w-]+", m.name) if is_demonym(w.casefold())}))
                same = units[key]
                if nation in same:
                    union(same[nation], i)
                else:
                    same[nation] = i
    for same in units.values():
        named = [i for nation, i in same.items() if nation]
        if "" in same and len(named) == 1:  # "the army" with two armies named: no guess
            union(named[0], same[""])

    if kb is not None:
        for i, m in enumerate(mentions):
            if m.type == "Person" and m.source == "ner" and len(m.name.split()) == 1 and i not in retype and find(i) == i:
                cands = kb.lookup(m.name, limit=3)
                if cands and cands[0].score >= 0.6 and _FAMILY.get(cands[0].type) == "Loc" and not any(
                    c.type == "Person" for c in cands
                ):
                    retype[i] = cands[0].type

    groups: dict[int, list[int]] = defaultdict(list)
    for i in range(len(mentions)):
        groups[find(i)].append(i)

    entities: list[Entity] = []
    mention_entity: list[str | None] = [None] * len(mentions)
    for n, (root, members) in enumerate(sorted(groups.items())):
        votes: dict[str, float] = defaultdict(float)
        best: dict[str, float] = defaultdict(float)  # the strongest single piece of evidence per type
        said: dict[str, bool] = defaultdict(bool)  # whether the context gives the type
        for i in members:
            t = retype.get(i, mentions[i].type)
            w = SOURCE_WEIGHT.get(mentions[i].source, 1.0) * (3.0 if i in retype else 1.0)
            votes[t] += w
            best[t] = max(best[t], w)
            said[t] |= mentions[i].source == "context"
        # on a tie, the class the text gives ("the city of Rafah") over the gazetteer's guess
        type_ = max(sorted(votes), key=lambda t: (votes[t], best[t], said[t]))
        # a more specific class of the same family wins over the generic one it refines
        if type_ == "Organization" and votes.get("MilitaryUnit", 0) >= 2.0:
            type_ = "MilitaryUnit"
        if type_ == "Location":
            specific = [t for t in ("Country", "AdministrativeArea", "Settlement") if votes.get(t)]
            if specific:
                type_ = max(specific, key=lambda t: votes[t])
        names = [mentions[i].name for i in members if mentions[i].source not in {"demonym", "coref"}]
        surfaces = [mentions[i].text for i in members if mentions[i].source not in {"demonym", "coref"}]
        if not names:  # only demonyms: the country they imply
            names = [mentions[members[0]].name]
        proper = [x for x in names if _is_proper(x) and not x.isupper()] or names
        label = max(proper, key=lambda x: (len(x.split()) if type_ == "Person" else 0, len(x), x))
        label = _ARTICLE.sub("", label)
        aliases = sorted({_ARTICLE.sub("", s) for s in surfaces + names} - {label})
        key = f"e{n}"
        entities.append(Entity(key=key, type=type_, name=label, aliases=tuple(aliases), mentions=tuple(members)))
        for i in members:
            mention_entity[i] = key
    types = {e.key: e.type for e in entities}
    relations = tuple(
        r for r in extraction.relations
        if fits(r.property, types.get(mention_entity[r.subject]), types.get(mention_entity[r.object]))
        and mention_entity[r.subject] != mention_entity[r.object]
    )
    if len(relations) != len(extraction.relations):
        extraction = replace(extraction, relations=relations)
    if min_confidence > 0:
        extraction = drop_below(extraction, min_confidence)
    return Resolution(extraction=extraction, entities=tuple(entities), mention_entity=tuple(mention_entity))


def drop_below(extraction: Extraction, min_confidence: float) -> Extraction:
    """The extraction without the relations, events and claims read with less confidence.

    The facts a dropped claim reports go with it; the rest keep their claim.

    >>> from kg.records import Claim, Document, Relation
    >>> ex = Extraction(Document("d", "x"), (), (), relations=(Relation(0, "country", 1, 0.9, 0, claim=1),
    ...     Relation(0, "country", 2, 0.4, 0)), claims=(Claim(0, "said", "asserts", 0, 0, 1, confidence=0.3),
    ...     Claim(0, "said", "asserts", 0, 0, 1, confidence=0.8)))
    >>> kept = drop_below(ex, 0.5)
    >>> [(r.object, r.claim) for r in kept.relations], len(kept.claims)
    ([(1, 0)], 1)
    """
    keep = [i for i, c in enumerate(extraction.claims) if c.confidence >= min_confidence]
    new_index = {old: new for new, old in enumerate(keep)}

    def kept(fact) -> bool:
        return fact.confidence >= min_confidence and (fact.claim is None or fact.claim in new_index)

    def moved(fact):
        return fact if fact.claim is None else replace(fact, claim=new_index[fact.claim])

    return replace(
        extraction,
        relations=tuple(moved(r) for r in extraction.relations if kept(r)),
        events=tuple(moved(e) for e in extraction.events if kept(e)),
        claims=tuple(extraction.claims[i] for i in keep),
    )


_LOC = {"Location", "Country", "AdministrativeArea", "Settlement"}
_ORG = {"Organization", "MilitaryUnit"}
#: What each relation may join, by the resolved classes of its ends (the ontology's domains and ranges).
SIGNATURES = {
    "positionHeld": ({"Person"}, {"Position"}),
    "jurisdiction": ({"Position"}, _LOC | _ORG),
    "citizenship": ({"Person"}, {"Country"}),
    "employer": ({"Person"}, _ORG | {"Country", "AdministrativeArea"}),
    "militaryBranch": ({"Person"}, _ORG),
    "memberOf": ({"Person", "Country"} | _ORG, _ORG),
    "country": (_LOC - {"Country"} | _ORG | {"Position"}, {"Country"}),
    "locatedIn": (_LOC - {"Country"} | _ORG, _LOC - {"Country"}),
    "partOf": (_ORG | _LOC, _ORG | _LOC),
    "headquarters": (_ORG, _LOC),
    "leader": (_ORG, {"Person"}),
    "capitalOf": (_LOC, _LOC),
}


def fits(prop: str, subject: str | None, obj: str | None) -> bool:
    """Whether a relation between entities of these classes is one the ontology allows.

    >>> fits("country", "Settlement", "Country"), fits("country", "Country", "Country")
    (True, False)
    """
    if subject is None or obj is None:
        return False
    domain, range_ = SIGNATURES.get(prop, (None, None))
    return (domain is None or subject in domain) and (range_ is None or obj in range_)
