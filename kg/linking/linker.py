"""Linking resolved entities to Wikidata through the offline knowledge base.

Candidates come from every name of an entity (exact, normalized, transliterated and
fuzzy keys of :meth:`~kg.linking.kb.KnowledgeBase.lookup`). Candidates of an
incompatible family are dropped (a person is never linked to a place); each remaining
one is described by a few features (:data:`FEATURES`): how well a name matched, the
item's prior, whether the gazetteer matched this very item in the text, agreement with
the class the text gives the entity, coherence with the document (its country is a
country of the document, or it contains or lies in another place of the document,
through :meth:`~kg.linking.kb.KnowledgeBase.ancestors`), context words shared with the
item's description, its lead over the other candidates, whether the name is only part
of a person's name in the document ("President (Vladimir) Putin" is no city), and whether
the item lies where the text says the entity lies ("Pokrovsk in eastern Ukraine", read by
extraction as a ``country``/``locatedIn`` relation, is no town of another country).

The features are combined by fixed weights (:data:`WEIGHTS`: their signs and relative
sizes encode what each piece of evidence is worth) into a score, and the score is mapped
to a calibrated confidence, the probability that the candidate is the right item, by a
logistic (Platt) scaling fitted on gold annotations (:data:`CALIBRATION`,
:mod:`kg.evaluation.linking`; see ``docs/decisions/2026-11-25-wikidata-linking.md``). A
candidate found only by fuzzy matching, with nothing in the document to support it, is
never confident enough to link. The best candidate is linked when its confidence reaches
the threshold; otherwise the entity stays NIL. Either way the best candidates are kept,
with their confidences, for review (``kg:candidate``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from ..records import Candidate, Entity, Link, Resolution

FAMILY = {"Person": "Person", "Organization": "Org", "MilitaryUnit": "Org", "Location": "Loc", "Country": "Loc",
          "AdministrativeArea": "Loc", "Settlement": "Loc", "Position": "Position", "Event": "Event"}
DEFAULT_THRESHOLD = 0.5
#: Candidates looked up per name, and alternatives kept on a link.
LOOKUP_LIMIT, KEPT_CANDIDATES = 8, 5

#: The features of a candidate, in the order of :data:`WEIGHTS`.
FEATURES = ("match", "prior", "hint", "same_class", "other_class", "org_as_place", "country_in_doc", "containment",
            "description", "lead", "part_of_person", "text_agrees", "text_contradicts")
#: Weights of :data:`FEATURES` in a candidate's score.
WEIGHTS = (3.0, 1.5, 1.5, 1.0, -1.5, -1.0, 0.7, 2.0, 0.5, 1.0, -4.0, 1.0, -5.0)
#: Platt scaling of the score to a probability, ``(scale, offset)``: fitted by ``python -m kg.evaluation.linking``
#: on the project's gold annotations (the decision record gives the data and the reliability check).
CALIBRATION = (1.17, -5.64)
#: Most a fuzzy-only candidate without support in the document can score (below the default threshold).
FUZZY_CAP = 0.4
_FUZZY = 0.65

_WORD = re.compile(r"[^\W\d_]{4,}")
#: Relations by which the text places an entity in another.
_PLACING = frozenset({"country", "locatedIn", "partOf", "capitalOf"})
_REGION_WORD = re.compile(r"\b(region|oblast|province|krai|governorate|republic|state|county|district)\b", re.I)
#: Match weight of a region found through a name the text implies ("Donetsk" said of a region → "Donetsk region").
_DERIVED = 0.9
#: Description words that say nothing about an item's identity.
_BLAND = frozenset("""populated place admin capital region country state city town with from that this which
    located part former other main also into upon their there where""".split())


@dataclass(frozen=True, slots=True)
class Scored:
    """One candidate of an entity with its features and confidence."""

    candidate: Candidate
    features: tuple[float, ...]
    confidence: float


def raw_score(features: Iterable[float], weights: tuple[float, ...] = WEIGHTS) -> float:
    """A candidate's score: its features weighted by :data:`WEIGHTS`.

    >>> raw_score([1.0] + [0.0] * (len(FEATURES) - 1))
    3.0
    """
    return sum(w * f for w, f in zip(weights, features))


def confidence(features: tuple[float, ...], calibration: tuple[float, float] = CALIBRATION) -> float:
    """The calibrated probability that a candidate with these features is the right item.

    >>> f = dict.fromkeys(FEATURES, 0.0)
    >>> exact = confidence(tuple({**f, "match": 1.0, "prior": 0.8, "hint": 1.0, "lead": 1.0}.values()))
    >>> fuzzy = confidence(tuple({**f, "match": 0.5, "prior": 0.8, "lead": 1.0}.values()))
    >>> exact > 0.9 > DEFAULT_THRESHOLD > FUZZY_CAP >= fuzzy
    True
    """
    scale, offset = calibration
    p = 1.0 / (1.0 + math.exp(-(scale * raw_score(features) + offset)))
    named = dict(zip(FEATURES, features))
    if named["match"] < _FUZZY and not (named["hint"] or named["containment"] or named["country_in_doc"]):
        p = min(p, FUZZY_CAP)
    return p


def _words(text: str) -> set[str]:
    return {w.casefold() for w in _WORD.findall(text)}


class _Document:
    """What linking needs to know about one document: its entities' candidates, places and context words."""

    def __init__(self, resolution: Resolution, kb):
        self.kb = kb
        ex = resolution.extraction
        self.entities = resolution.entities
        self._ancestors: dict[str, frozenset[str]] = {}
        self.candidates: dict[str, list[tuple[Candidate, float, bool]]] = {}  # key -> (candidate, match weight, hinted)
        for e in self.entities:
            self.candidates[e.key] = self._lookup(e, ex.mentions)
        # each entity's most likely item before disambiguation: the anchors coherence is measured against
        self.anchors: dict[str, str] = {}
        for e in self.entities:
            plausible = [(c, m, h) for c, m, h in self.candidates[e.key] if _compatible(e.type, c.type) is not None]
            if plausible:
                best = max(plausible, key=lambda t: (t[2], t[0].score, t[0].qid))
                self.anchors[e.key] = best[0].qid
        self.countries = {q for k, q in self.anchors.items() if self._type_of(k) == "Country"}
        # the places each entity may be (its best few candidates), for containment in both directions
        self.places: dict[str, set[str]] = {}
        for e in self.entities:
            ranked = sorted((c for c, _, _ in self.candidates[e.key] if _compatible(e.type, c.type) and FAMILY.get(c.type) == "Loc"),
                            key=lambda c: (-c.score, c.qid))
            self.places[e.key] = {c.qid for c in ranked[:3]}
        # words of the document's multi-word person names ("Vladimir" of "Vladimir Putin"), and entities
        # written right before a person's name ("President (Vladimir) Putin")
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
            e.key for e in self.entities
            if any(ex.mentions[i].end + k in starts and not ex.document.text[ex.mentions[i].end : ex.mentions[i].end + k].strip(" ()")
                   for i in e.mentions for k in (1, 2))
        }  # fmt: skip
        text = ex.document.text
        self.context: dict[str, set[str]] = {}
        for e in self.entities:
            sentences = {ex.mentions[i].sentence for i in e.mentions}
            words: set[str] = set()
            for s in sentences:
                if 0 <= s < len(ex.sentences):
                    words |= _words(text[ex.sentences[s].start : ex.sentences[s].end])
            self.context[e.key] = words - {w for n in (e.name, *e.aliases) for w in _words(n)}

    def _type_of(self, key: str) -> str | None:
        qid = self.anchors.get(key)
        return next((c.type for c, _, _ in self.candidates.get(key, ()) if c.qid == qid), None)

    def _lookup(self, entity: Entity, mentions) -> list[tuple[Candidate, float, bool]]:
        counts: dict[str, int] = {}
        for i in entity.mentions:
            if mentions[i].qid:
                counts[mentions[i].qid] = counts.get(mentions[i].qid, 0) + 1
        # the QID the gazetteer matched most often ("the Belgorod region" twice beats a bare "Belgorod" once)
        hints = {q for q, n in counts.items() if n == max(counts.values())}
        names = list(dict.fromkeys([entity.name, *entity.aliases]))
        found: dict[str, tuple[Candidate, float]] = {}
        for name in names:
            for c in self.kb.lookup(name, limit=LOOKUP_LIMIT):
                if c.qid not in found or c.score > found[c.qid][0].score:
                    found[c.qid] = (c, 1.0)
        if entity.type == "AdministrativeArea":
            # the text calls a bare name a region ("the regions of Luhansk and Donetsk"): the region's own names
            for name in names:
                if not _REGION_WORD.search(name):
                    for variant in (f"{name} region", f"{name} Oblast"):
                        for c in self.kb.lookup(variant, types=("AdministrativeArea",), limit=2):
                            found.setdefault(c.qid, (c, _DERIVED))
        out = []
        for c, discount in found.values():
            rec = self.kb.get(c.qid)
            prior = rec.prior if rec is not None else 0.0
            match = discount * min(1.0, c.score / (0.6 + 0.4 * prior))  # undo the knowledge base's prior mix
            out.append((c, match, c.qid in hints))
        return out

    def ancestors(self, qid: str) -> frozenset[str]:
        if qid not in self._ancestors:
            self._ancestors[qid] = frozenset(self.kb.ancestors(qid))
        return self._ancestors[qid]

    def features(self, entity: Entity) -> list[tuple[Candidate, tuple[float, ...]]]:
        """The compatible candidates of an entity with their features (:data:`FEATURES`)."""
        cands = [(c, m, h) for c, m, h in self.candidates.get(entity.key, ()) if _compatible(entity.type, c.type) is not None]
        if not cands:
            return []
        others = {q for k, q in self.anchors.items() if k != entity.key}
        around = {q for k, qs in self.places.items() if k != entity.key for q in qs} - {c.qid for c, _, _ in cands}
        out = []
        for c, match, hinted in cands:
            rec = self.kb.get(c.qid)
            prior = rec.prior if rec is not None else 0.0
            specific = FAMILY.get(entity.type) == "Loc" and entity.type != "Location" and c.type != "Location"
            place = FAMILY.get(c.type) == "Loc"
            country = float(place and c.type != "Country" and rec is not None and rec.country in (self.countries - {c.qid}))
            # containment below the country level, with what the document's other place names may be:
            # a city in a region of the document, a region holding a city of it
            inside = place and bool(self.ancestors(c.qid) & (around - self.countries))
            contains = place and any(c.qid in self.ancestors(q) for q in around)
            described = _words(c.description) - _BLAND
            shared = len(described & self.context.get(entity.key, set())) / len(described) if described else 0.0
            rival = max((o.score for o, _, _ in cands if o.qid != c.qid), default=0.0)
            agrees = contradicts = False
            if place and entity.key in self.said_in:
                where = set(self.ancestors(c.qid)) | ({rec.country} if rec is not None and rec.country else set())
                named = {q for k in self.said_in[entity.key] for q in (self.places.get(k, set()) | {self.anchors.get(k)}) if q}
                agrees = bool(where & named)
                contradicts = bool(where and named and not agrees)
            # the gazetteer proposes one item per name; when the text says the name is of another class
            # ("the regions of Luhansk and Donetsk"), its proposal is no evidence
            hinted = hinted and not (specific and c.type != entity.type)
            out.append((c, (
                match, prior, float(hinted),
                float(specific and c.type == entity.type), float(specific and c.type != entity.type),
                float(_compatible(entity.type, c.type) == "org_as_place"), country, float(inside or contains),
                min(1.0, shared), max(-1.0, min(1.0, (c.score - rival) * 4)),
                float(entity.type != "Person" and c.type != "Person"
                      and (entity.name.casefold() in self.person_words or entity.key in self.before_person)),
                float(agrees), float(contradicts),
            )))  # fmt: skip
        return out


def _compatible(entity_type: str, cand_type: str) -> str | None:
    """``"same"`` when the families agree, ``"org_as_place"`` for a place the text calls an organization
    ("Moscow said ..."), None when the candidate cannot be the entity."""
    ef, cf = FAMILY.get(entity_type), FAMILY.get(cand_type)
    if ef == cf:
        return "same"
    return "org_as_place" if ef == "Org" and cf == "Loc" else None


def score_candidates(resolution: Resolution, kb) -> dict[str, list[Scored]]:
    """Every entity's compatible candidates, scored and sorted by confidence (best first).

    Used by :func:`link` and by the calibration in :mod:`kg.evaluation.linking`.
    """
    doc = _Document(resolution, kb)
    out: dict[str, list[Scored]] = {}
    for e in resolution.entities:
        rows = doc.features(e)
        probabilities = exclusive([confidence(f) for _, f in rows])
        scored = [Scored(c, f, p) for (c, f), p in zip(rows, probabilities)]
        scored.sort(key=lambda s: (-s.confidence, s.candidate.qid))
        out[e.key] = scored
    return out


def exclusive(probabilities: list[float]) -> list[float]:
    """At most one candidate of an entity is right: when their probabilities add up to more than 1, scale them down.

    >>> exclusive([0.9, 0.05]), [round(p, 2) for p in exclusive([0.66, 0.64])]
    ([0.9, 0.05], [0.51, 0.49])
    """
    total = sum(probabilities)
    return [p / total for p in probabilities] if total > 1 else probabilities


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
