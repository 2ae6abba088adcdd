"""Linking resolved entities to Wikidata through the offline knowledge base.

Candidates come from every proper name of an entity (exact, normalized, transliterated and
fuzzy keys of :meth:`~kg.linking.kb.KnowledgeBase.lookup`); names without a capital letter
("the city council") or made of one generic word ("North", "Capital") name no particular
item and are not looked up. Candidates of an incompatible family are dropped (a person is
never linked to a place, nor a military unit to a town); each remaining one is described by
a few features (:data:`FEATURES`): how well a name matched, the item's prior, whether the
gazetteer spotted this name in the text (its choice among namesakes that match as well is
no evidence: the prior already says which is likelier), agreement with the class the text
itself gives the entity ("the Belgorod region", "Kano State", "the city of X"; a class guessed
by the gazetteer or the statistical model is no evidence), coherence with the document (its
country is one the document names, or that of a place the document names unambiguously; it
contains or lies in another place of the document, through
:meth:`~kg.linking.kb.KnowledgeBase.ancestors`), context words shared with the item's
description, its lead over the other candidates, whether the name is only ever part of a
person's name ("President (Vladimir) Putin" is no city), whether the item lies where the text
says the entity lies ("Pokrovsk in eastern Ukraine", read by extraction as a
``country``/``locatedIn`` relation, is no town of another country), and whether a bare name
shared by a town and the region named after it goes to the region (it rarely does: "in Qom").

NIL, a mention of something the knowledge base does not hold, is modelled three ways. The
knowledge base holds every country and first-level region but few of the world's towns, and
a handful of people and organizations: ``foreign`` marks a minor town of a country the
document never names while it names others (a namesake outside the knowledge base is the
likelier reading); ``unsupported`` marks a weak match the document does not corroborate (a
fuzzy spelling of a town, a transliteration with no country, containment or gazetteer
support, a person's surname under another first name with no context words from the item's
description), which is never confident enough to link (:data:`WEAK_CAP`); and the
candidates of one entity share their probability with NIL in a softmax (:func:`confidences`).

The features are combined by fixed weights (:data:`WEIGHTS`: their signs and relative
sizes encode what each piece of evidence is worth) into a score, and the score is mapped
to a calibrated confidence, the probability that the candidate is the right item, by a
logistic (Platt) scaling fitted on gold annotations (:data:`CALIBRATION`,
:mod:`kg.evaluation.linking`; see ``docs/decisions/2026-11-25-linker-precision-and-nil.md``).
The best candidate is linked when its confidence reaches the threshold; otherwise the entity
stays NIL. Either way the best candidates are kept, with their confidences, for review
(``kg:candidate``).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache

from ..records import Candidate, Entity, Link, Mention, Resolution

FAMILY = {"Person": "Person", "Organization": "Org", "MilitaryUnit": "Org", "Location": "Loc", "Country": "Loc",
          "AdministrativeArea": "Loc", "Settlement": "Loc", "Position": "Position", "Event": "Event"}
DEFAULT_THRESHOLD = 0.5
#: Candidates looked up per name, and alternatives kept on a link.
LOOKUP_LIMIT, KEPT_CANDIDATES = 8, 5

#: The features of a candidate, in the order of :data:`WEIGHTS`.
FEATURES = ("match", "prior", "hint", "same_class", "other_class", "org_as_place", "country_in_doc", "containment",
            "description", "lead", "part_of_person", "text_agrees", "text_contradicts", "named_elsewhere", "bare_region",
            "foreign", "unsupported", "full_name")
#: Weights of :data:`FEATURES` in a candidate's score.
WEIGHTS = (3.0, 1.5, 1.5, 1.0, -1.5, -1.0, 0.7, 2.0, 0.5, 1.0, -4.0, 1.0, -5.0, 1.5, -1.0, -1.0, -2.0, 1.0)
#: Platt scaling of the score to a probability, ``(scale, offset)``: fitted by ``python -m kg.evaluation.linking``
#: on the project's gold annotations (the decision record gives the data and the reliability check).
CALIBRATION = (1.67, -8.53)
#: Most an unsupported candidate (a weak match the document does not corroborate) can score: below the default threshold.
WEAK_CAP = 0.4
#: Places below this prior are minor: not in the gazetteer (:meth:`~kg.linking.kb.KnowledgeBase.gazetteer`).
MINOR_PRIOR = 0.5

_WORD = re.compile(r"[^\W\d_]{4,}")
#: Relations by which the text places an entity in another.
_PLACING = frozenset({"country", "locatedIn", "partOf", "capitalOf"})
_REGION_WORD = re.compile(r"\b(region|oblast|province|krai|governorate|republic|state|county|district)\b", re.I)
#: Class words that make a mention say what kind of place it names ("the Belgorod region", "Kherson city").
_CLASS_WORDS = ((re.compile(r"\b(region|oblast|province|krai|governorate|county|district|prefecture|department|state|"
                            r"territory|emirate|canton)\b", re.I),
                 "AdministrativeArea"), (re.compile(r"\b(city|town|village)\b", re.I), "Settlement"))
#: Mention sources whose class the text itself gives (class nouns, "X region", lists, demonyms); a class from the
#: gazetteer ("kb") or the statistical model ("ner") may be a guess (:func:`_guessed`), an antecedent's ("coref") is one.
_TEXT_SOURCES = frozenset({"context", "rule", "phrase", "demonym"})
#: Match weight of a region found through a name the text implies ("Donetsk" said of a region → "Donetsk region").
_DERIVED = 0.9
#: Lookup weights (before the prior) from which a match is a name, a transliteration, or fuzzy (kg.linking.kb).
_NAME_WEIGHT, _TRANSLIT_WEIGHT = 0.8, 0.65
#: One-word names that say what kind of place something is, or where, rather than which place it is.
_GENERIC = frozenset("""north south east west central eastern western northern southern middle upper lower interior
    capital republic federation kingdom empire union state states city centre center region province district county
    coast""".split())
#: Description words that say nothing about an item's identity.
_BLAND = frozenset("""populated place admin capital region country state city town with from that this which
    located part former other main also into upon their there where""".split())


@dataclass(frozen=True, slots=True)
class Scored:
    """One candidate of an entity with its features and confidence."""

    candidate: Candidate
    features: tuple[float, ...]
    confidence: float


@dataclass(frozen=True, slots=True)
class _Found:
    """A candidate as the entity's names found it."""

    candidate: Candidate
    prior: float
    match: float  # how well a name matched, the prior's share taken out (derived names discounted)
    kind: str  # "name" (exact or normalized), "translit" or "fuzzy"
    hinted: bool  # the gazetteer's match in the text names this item (it, or a namesake matching as well)
    full_name: bool  # found through a name of two or more words


def raw_score(features: Iterable[float], weights: tuple[float, ...] = WEIGHTS) -> float:
    """A candidate's score: its features weighted by :data:`WEIGHTS`.

    >>> raw_score([1.0] + [0.0] * (len(FEATURES) - 1))
    3.0
    """
    return sum(w * f for w, f in zip(weights, features))


def confidences(rows: Sequence[tuple[float, ...]], calibration: tuple[float, float] = CALIBRATION) -> list[float]:
    """The calibrated probability of each candidate of one entity being the right item; the rest is NIL.

    A softmax over the candidates' scaled scores and NIL, whose score is ``-offset``: a lone candidate gets
    ``σ(scale·score + offset)``; rivals share what they take from NIL by their score difference, so a
    clear favourite stays confident and two namesakes with the same evidence get half each. An
    unsupported candidate (a weak match the document does not corroborate) gets at most :data:`WEAK_CAP`.

    >>> f = dict.fromkeys(FEATURES, 0.0)
    >>> strong = tuple({**f, "match": 1.0, "prior": 0.9, "hint": 1.0, "lead": 1.0}.values())
    >>> weak = tuple({**f, "match": 0.5, "prior": 0.5, "unsupported": 1.0}.values())
    >>> [round(p, 2) for p in confidences([strong, weak])], [round(p, 2) for p in confidences([strong, strong])]
    ([0.95, 0.0], [0.49, 0.49])
    """
    scale, offset = calibration
    z = [scale * raw_score(f) for f in rows]
    top = max([*z, -offset])
    weights = [math.exp(x - top) for x in z]
    total = math.exp(-offset - top) + sum(weights)
    cap = FEATURES.index("unsupported")
    return [min(w / total, WEAK_CAP) if f[cap] else w / total for w, f in zip(weights, rows)]


def confidence(features: tuple[float, ...], calibration: tuple[float, float] = CALIBRATION) -> float:
    """The calibrated probability that a candidate with these features, alone, is the right item.

    >>> f = dict.fromkeys(FEATURES, 0.0)
    >>> exact = confidence(tuple({**f, "match": 1.0, "prior": 0.8, "hint": 1.0, "lead": 1.0}.values()))
    >>> weak = confidence(tuple({**f, "match": 1.0, "prior": 0.8, "hint": 1.0, "lead": 1.0, "unsupported": 1.0}.values()))
    >>> exact > 0.9 > DEFAULT_THRESHOLD > WEAK_CAP >= weak
    True
    """
    return confidences([features], calibration)[0]


def _words(text: str) -> set[str]:
    return {w.casefold() for w in _WORD.findall(text)}


@lru_cache(maxsize=4096)
def _described(description: str) -> frozenset[str]:
    """The words of an item's description that say something of its identity (items recur across documents)."""
    return frozenset(_words(description) - _BLAND)


def proper_names(names: Iterable[str]) -> list[str]:
    """The names worth looking up: with a capital letter, and not one generic word.

    >>> proper_names(["the city council", "North", "Kyiv City Council", "US", "Kyiv"])
    ['Kyiv City Council', 'US', 'Kyiv']
    """
    return [n for n in dict.fromkeys(names)
            if any(map(str.isupper, n)) and not (len(n.split()) == 1 and n.casefold() in _GENERIC)]


def _guessed(m: Mention, kb_type) -> bool:
    """Whether a mention's class is a guess: the statistical model's default for a place name ("GPE" is read as a
    settlement), or the class of the item the gazetteer matched, unless the text retyped the mention."""
    if m.source in _TEXT_SOURCES:
        return False
    if m.source == "ner":
        return m.type in ("Settlement", "Location")
    return not (m.qid and kb_type(m.qid) not in (None, m.type))


def _text_class(mentions: Iterable[Mention], kb_type) -> str | None:
    """The place class the text itself gives an entity, if any: by a class word in a mention ("Belgorod region",
    "Kherson city", "Kano State") or a mention typed by the text (a class noun, a list of like places, a demonym,
    a gazetteer match the text retyped). None unless the mentions that give it outnumber those that give none
    (a bare "Kyiv" says nothing of its class; a class word settles a tie), or when the classes given tie."""
    votes: Counter[str] = Counter()
    worded: Counter[str] = Counter()
    bare = 0
    for m in mentions:
        if FAMILY.get(m.type) != "Loc" or m.source == "coref":
            continue
        # a class word beside a name; not a country's own name ("Czech Republic", "Vatican City"), nor a name alone
        word = m.type != "Country" and len(m.text.split()) > 1 and next((c for w, c in _CLASS_WORDS if w.search(m.text)), None)
        if word:
            votes[word] += 1
            worded[word] += 1
        elif m.type != "Location" and not _guessed(m, kb_type):
            votes[m.type] += 1
            if m.source in _TEXT_SOURCES:
                worded[m.type] += 1
        else:
            bare += 1
    ranked = votes.most_common(2)
    if not ranked or len(ranked) == 2 and ranked[0][1] == ranked[1][1]:
        return None
    top, n = ranked[0]
    return top if n > bare or n == bare and worded[top] else None


class _Document:
    """What linking needs to know about one document: its entities' candidates, places and context words."""

    def __init__(self, resolution: Resolution, kb):
        self.kb = kb
        ex = resolution.extraction
        self.entities = resolution.entities
        self._ancestors: dict[str, frozenset[str]] = {}
        self._found: dict[str, dict[str, tuple[float, Candidate]]] = {}
        self.candidates: dict[str, list[_Found]] = {e.key: self._lookup(e, ex.mentions) for e in self.entities}
        # each entity's most likely item before disambiguation: the anchors coherence is measured against
        self.anchors: dict[str, _Found] = {}
        for e in self.entities:
            plausible = [f for f in self.candidates[e.key] if _compatible(e.type, f.candidate.type) is not None]
            if plausible:
                self.anchors[e.key] = max(plausible, key=lambda f: (f.hinted, f.candidate.score, f.candidate.qid))
        # what only the features of an entity's own candidates read (:meth:`features`): for the entities that have some
        scored = [e for e in self.entities if e.key in self.anchors]
        self.text_class = {e.key: _text_class((ex.mentions[i] for i in e.mentions), self._type) for e in scored}
        # the document's countries, and which entities name them: the countries it names, and those of the places
        # it names unambiguously ("Minneapolis", "England": the only item of that name)
        self.country_of: dict[str, set[str]] = {}
        for key, f in self.anchors.items():
            if f.candidate.type == "Country":
                country = f.candidate.qid
            else:
                named = [g for g in self.candidates[key] if g.kind == "name" and FAMILY.get(g.candidate.type) == "Loc"]
                sure = FAMILY.get(f.candidate.type) == "Loc" and f.kind == "name" and len(named) == 1
                rec = self.kb.get(f.candidate.qid) if sure else None
                country = rec.country if rec is not None else None
            if country:
                self.country_of.setdefault(country, set()).add(key)
        self.countries = set(self.country_of)
        # the places each entity may be (its best few candidates), for containment in both directions
        self.places: dict[str, set[str]] = {}
        for e in self.entities:
            ranked = sorted((f.candidate for f in self.candidates[e.key]
                             if _compatible(e.type, f.candidate.type) and FAMILY.get(f.candidate.type) == "Loc"),
                            key=lambda c: (-c.score, c.qid))
            self.places[e.key] = {c.qid for c in ranked[:3]}
        # words of the document's multi-word person names ("Vladimir" of "Vladimir Putin"), and entities
        # only ever written right before a person's name ("President (Vladimir) Putin")
        self.person_words = {w.casefold() for e in self.entities if e.type == "Person"
                             for n in (e.name, *e.aliases) if " " in n for w in n.split()}
        # where the text itself places an entity: its country / located-in / part-of / capital-of relations
        self.said_in: dict[str, set[str]] = {}
        for r in ex.relations:
            subject, target = resolution.mention_entity[r.subject], resolution.mention_entity[r.object]
            if r.property in _PLACING and subject and target and subject != target:
                self.said_in.setdefault(subject, set()).add(target)
        starts = {m.start for m in ex.mentions if m.type == "Person"}
        self.before_person = {
            e.key for e in scored
            if all(any(ex.mentions[i].end + k in starts and not ex.document.text[ex.mentions[i].end : ex.mentions[i].end + k].strip(" ()")
                       for k in (1, 2)) for i in e.mentions)
        }  # fmt: skip
        text = ex.document.text
        self.context: dict[str, set[str]] = {}
        said: dict[int, set[str]] = {}  # each sentence's words, read once
        for e in scored:
            sentences = {ex.mentions[i].sentence for i in e.mentions}
            words: set[str] = set()
            for s in sentences:
                if 0 <= s < len(ex.sentences):
                    if s not in said:
                        said[s] = _words(text[ex.sentences[s].start : ex.sentences[s].end])
                    words |= said[s]
            self.context[e.key] = words - {w for n in (e.name, *e.aliases) for w in _words(n)}

    def _type(self, qid: str) -> str | None:
        rec = self.kb.get(qid)
        return rec.type if rec is not None else None

    def _prior(self, qid: str) -> float:
        rec = self.kb.get(qid)
        return rec.prior if rec is not None else 0.0

    def _matches(self, name: str, types: tuple[str, ...] | None = None, limit: int = LOOKUP_LIMIT) -> dict[str, tuple[float, Candidate]]:
        """A name's candidates: QID -> (how well the name matched, the prior's share of the lookup score taken out;
        the candidate)."""
        key = f"{name}\t{types}\t{limit}"
        if key not in self._found:
            self._found[key] = {c.qid: (min(1.0, c.score / (0.6 + 0.4 * self._prior(c.qid))), c)
                                for c in self.kb.lookup(name, types=types, limit=limit)}
        return self._found[key]

    def _spotted(self, entity: Entity, qid: str, surfaces: Iterable[str]) -> set[str]:
        """The items the gazetteer's match of ``qid`` on these surfaces names: ``qid`` and every namesake that
        matches them as well. The gazetteer proposes the likeliest of those (the prior says that already), so
        the choice among them is no evidence; a surface that only one item matches ("Belgorod region") is."""
        out = {qid}
        for surface in surfaces:
            found = self._matches(surface)
            if qid in found:
                out |= {q for q, (w, c) in found.items() if w >= found[qid][0] - 1e-3 and _compatible(entity.type, c.type) is not None}
        return out

    def _lookup(self, entity: Entity, mentions) -> list[_Found]:
        counts: Counter[str] = Counter(mentions[i].qid for i in entity.mentions if mentions[i].qid)
        # the QID the gazetteer matched most often ("the Belgorod region" twice beats a bare "Belgorod" once)
        hints = {q for q, n in counts.items() if n == max(counts.values())}
        names = proper_names([entity.name, *entity.aliases])
        best: dict[str, tuple[float, float, bool, Candidate]] = {}  # qid -> (match, lookup weight, full name, candidate)
        variants = []
        if entity.type == "AdministrativeArea":
            # the text calls a bare name a region ("the regions of Luhansk and Donetsk"): the region's own names
            variants = [(v, _DERIVED) for n in names if not _REGION_WORD.search(n) for v in (f"{n} region", f"{n} Oblast")]
        for name, discount in [(n, 1.0) for n in names] + variants:
            found = self._matches(name) if discount == 1.0 else self._matches(name, ("AdministrativeArea",), 2)
            for weight, c in found.values():
                full = " " in name.strip() and discount == 1.0 and weight >= _TRANSLIT_WEIGHT
                old = best.get(c.qid)
                if old is None or discount * weight > old[0]:
                    best[c.qid] = (discount * weight, weight, full or (old is not None and old[2]), c)
                elif full:
                    best[c.qid] = (*old[:2], True, old[3])
        spotted = {q for h in sorted(hints) for q in self._spotted(
            entity, h, dict.fromkeys(s for i in entity.mentions if mentions[i].qid == h for s in (mentions[i].text, mentions[i].name)))}
        out = []
        for qid, (match, weight, full, c) in best.items():
            kind = "name" if weight >= _NAME_WEIGHT else "translit" if weight >= _TRANSLIT_WEIGHT else "fuzzy"
            out.append(_Found(c, self._prior(qid), match, kind, qid in spotted, full))
        return out

    def ancestors(self, qid: str) -> frozenset[str]:
        if qid not in self._ancestors:
            self._ancestors[qid] = frozenset(self.kb.ancestors(qid))
        return self._ancestors[qid]

    def _town_regions(self, cands: list[_Found]) -> set[str]:
        """The regions among these candidates that hold a town of the same name that is also a candidate: by the
        knowledge base's containment, or by label and country when it does not know the town's region."""
        towns = [self.kb.get(f.candidate.qid) for f in cands if f.candidate.type == "Settlement" and f.kind == "name"]
        out = {q for t in towns if t is not None for q in self.ancestors(t.qid)}
        for f in cands:
            rec = self.kb.get(f.candidate.qid) if f.candidate.type == "AdministrativeArea" else None
            if rec is not None and any(t is not None and t.located_in is None and t.country == rec.country
                                       and t.label.casefold() == rec.label.casefold() for t in towns):
                out.add(rec.qid)
        return out

    def features(self, entity: Entity) -> list[tuple[Candidate, tuple[float, ...]]]:
        """The compatible candidates of an entity with their features (:data:`FEATURES`)."""
        cands = [f for f in self.candidates.get(entity.key, ()) if _compatible(entity.type, f.candidate.type) is not None]
        if not cands:
            return []
        own = {f.candidate.qid for f in cands}
        # items the document names elsewhere by one of their own names (a misspelling may be one of them)
        elsewhere = {f.candidate.qid for k, f in self.anchors.items() if k != entity.key and f.kind == "name"}
        around = {q for k, qs in self.places.items() if k != entity.key for q in qs} - own
        text_class = self.text_class.get(entity.key)
        countries = {q for q, keys in self.country_of.items() if keys - {entity.key}}  # named by the other entities
        town_regions = self._town_regions(cands)
        full_names = entity.type == "Person" and any(" " in n for n in proper_names([entity.name, *entity.aliases]))
        out = []
        for f in cands:
            c = f.candidate
            rec = self.kb.get(c.qid)
            place = FAMILY.get(c.type) == "Loc"
            specific = place and text_class is not None and c.type != "Location"
            same, other = specific and c.type == text_class, specific and c.type != text_class
            country = place and c.type != "Country" and rec is not None and bool(self.country_of.get(rec.country, set()) - {entity.key})
            # containment below the country level, with what the document's other place names may be:
            # a city in a region of the document, a region holding one of its cities
            inside = place and bool(self.ancestors(c.qid) & (around - self.countries))
            contains = place and any(c.qid in self.ancestors(q) for q in around)
            described = _described(c.description)
            shared = min(1.0, len(described & self.context.get(entity.key, set())) / len(described)) if described else 0.0
            rival = max((o.candidate.score for o in cands if o.candidate.qid != c.qid), default=0.0)
            agrees = contradicts = False
            if place and entity.key in self.said_in:
                where = set(self.ancestors(c.qid)) | ({rec.country} if rec is not None and rec.country else set())
                named = {q for k in self.said_in[entity.key]
                         for q in (self.places.get(k, set()) | ({self.anchors[k].candidate.qid} if k in self.anchors else set()))}
                agrees = bool(where & named)
                contradicts = bool(where and named and not agrees)
            # NIL: a minor town (not in the gazetteer) of a country the document never names, while it names others
            # (the knowledge base holds every country and first-level region, but few of the world's towns)
            foreign = (1.0 - f.prior) * float(
                c.type == "Settlement" and f.prior < MINOR_PRIOR and bool(countries) and rec is not None and rec.country is not None
                and rec.country not in countries and not (inside or contains or agrees))
            # a bare name shared by a town and the region named after it is the town ("in Qom"); the text
            # says so when it means the region ("Qom province")
            bare_region = c.type == "AdministrativeArea" and text_class is None and c.qid in town_regions
            near = f.kind != "name" and c.qid in elsewhere  # a misspelling of a name the document uses
            if f.kind == "fuzzy":
                # a misspelling of a name the document uses; or of a region of a country the document is about
                # (few regions per country), never of a town (the world's towns the knowledge base lacks are many)
                supported = near or c.type in ("Country", "AdministrativeArea") and (country or inside or contains or agrees)
            elif f.kind == "translit":
                supported = near or f.hinted or country or inside or contains or agrees
            elif full_names and c.type == "Person" and not f.full_name:
                supported = shared >= 0.5  # a shared surname under another first name: only if the context says who
            else:
                supported = True
            out.append((c, (
                f.match, f.prior, float(f.hinted and not other), float(same), float(other),
                float(_compatible(entity.type, c.type) == "org_as_place"), float(country), float(inside or contains),
                shared, max(-1.0, min(1.0, (c.score - rival) * 4)),
                float(entity.type != "Person" and c.type != "Person"
                      and (entity.name.casefold() in self.person_words or entity.key in self.before_person)),
                float(agrees), float(contradicts), float(near), float(bare_region), foreign, float(not supported),
                float(c.type == "Person" and f.full_name),
            )))  # fmt: skip
        return out


def _compatible(entity_type: str, cand_type: str) -> str | None:
    """``"same"`` when the families agree, ``"org_as_place"`` for a place the text calls an organization
    ("Moscow said ..."), None when the candidate cannot be the entity (a military unit is never a place).

    >>> [_compatible(e, "Settlement") for e in ("AdministrativeArea", "Organization", "MilitaryUnit")]
    ['same', 'org_as_place', None]
    """
    ef, cf = FAMILY.get(entity_type), FAMILY.get(cand_type)
    if ef == cf:
        return "same"
    return "org_as_place" if entity_type == "Organization" and cf == "Loc" else None


def score_candidates(resolution: Resolution, kb) -> dict[str, list[Scored]]:
    """Every entity's compatible candidates, scored and sorted by confidence (best first).

    Used by :func:`link` and by the calibration in :mod:`kg.evaluation.linking`.
    """
    doc = _Document(resolution, kb)
    out: dict[str, list[Scored]] = {}
    for e in resolution.entities:
        rows = doc.features(e)
        probabilities = confidences([f for _, f in rows])
        scored = [Scored(c, f, p) for (c, f), p in zip(rows, probabilities)]
        scored.sort(key=lambda s: (-s.confidence, s.candidate.qid))
        out[e.key] = scored
    return out


def link(resolution: Resolution, kb, *, threshold: float = DEFAULT_THRESHOLD) -> Resolution:
    """Attach a :class:`~kg.records.Link` to every entity of a resolution.

    Args:
        resolution: the entities of one document.
        kb: an open knowledge base.
        threshold: minimum confidence for a link; below it the entity is NIL (its candidates are kept).
    """
    scored = score_candidates(resolution, kb)
    out = []
    for e in resolution.entities:
        ranked = scored.get(e.key, [])
        if not ranked:
            out.append(e)
            continue
        alternatives = tuple(replace(s.candidate, score=round(s.confidence, 3)) for s in ranked[:KEPT_CANDIDATES])
        best = alternatives[0]
        if best.score >= threshold:
            out.append(_linked(e, best, alternatives))
        else:
            out.append(replace(e, link=Link(None, 0.0, alternatives)))
    return replace(resolution, entities=tuple(out))


def _linked(e: Entity, best: Candidate, alternatives: tuple[Candidate, ...]) -> Entity:
    type_ = e.type
    if FAMILY.get(best.type) == "Loc" or best.type == "Person" or FAMILY.get(e.type) != FAMILY.get(best.type):
        type_ = best.type if best.type != "Location" or FAMILY.get(e.type) != "Loc" else e.type
    # one label per linked node in every document: the knowledge base's; surface forms become aliases
    aliases = tuple(sorted((set(e.aliases) | {e.name}) - {best.label}))
    return replace(e, type=type_, name=best.label, aliases=aliases, link=Link(best.qid, best.score, alternatives))


def feature_table(scored: Mapping[str, list[Scored]]) -> list[dict[str, object]]:
    """Scored candidates as plain rows (entity key, QID, features by name, confidence), for inspection.

    >>> feature_table({"e": [Scored(Candidate("Q900000001", "Utopia", "Country", 0.9), (1.0,) * len(FEATURES), 0.9)]})[0]["match"]
    1.0
    """
    return [
        {"entity": key, "qid": s.candidate.qid, **dict(zip(FEATURES, s.features)), "confidence": round(s.confidence, 3)}
        for key, rows in scored.items()
        for s in rows
    ]
