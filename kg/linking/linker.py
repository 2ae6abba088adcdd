"""Linking resolved entities to Wikidata through the offline knowledge base.

Candidates come from every name of the entity (and the QID the gazetteer
matched in the text); they are filtered by type compatibility and ranked by
the knowledge base's score plus coherence with the document's other linked
places (a city in a country the document is about beats a namesake
elsewhere). Below the threshold an entity stays NIL, with its candidates kept
for review.
"""

from __future__ import annotations

from dataclasses import replace

from ..records import Candidate, Entity, Link, Resolution

FAMILY = {"Person": "Person", "Organization": "Org", "MilitaryUnit": "Org", "Location": "Loc", "Country": "Loc",
          "AdministrativeArea": "Loc", "Settlement": "Loc", "Position": "Position", "Event": "Event"}
DEFAULT_THRESHOLD = 0.5


def _candidates(entity: Entity, resolution: Resolution, kb) -> dict[str, Candidate]:
    mentions = resolution.extraction.mentions
    counts: dict[str, int] = {}
    for i in entity.mentions:
        if mentions[i].qid:
            counts[mentions[i].qid] = counts.get(mentions[i].qid, 0) + 1
    # the QID the gazetteer matched most often ("the Belgorod region" twice beats a bare "Belgorod" once)
    hints = {q for q, n in counts.items() if n == max(counts.values())}
    names = dict.fromkeys([entity.name, *entity.aliases])
    found: dict[str, Candidate] = {}
    for name in names:
        for c in kb.lookup(name, limit=8):
            if c.qid not in found or c.score > found[c.qid].score:
                found[c.qid] = c
    for qid in hints:
        rec = found.get(qid)
        if rec is not None:
            found[qid] = replace(rec, score=min(1.0, rec.score + 0.2))
    return found


def _score(entity: Entity, cand: Candidate, countries: set[str], kb) -> float | None:
    ef, cf = FAMILY.get(entity.type), FAMILY.get(cand.type)
    score = cand.score
    if ef != cf:
        # a place the NER called an organization ("Moscow said ...") may still be the place
        if not (ef == "Org" and cf == "Loc"):
            return None
        score -= 0.15
    if cf == "Loc" and cand.type != "Country" and countries:
        rec = kb.get(cand.qid)
        if rec is not None and rec.country in countries:
            score += 0.1
    return score


def link(resolution: Resolution, kb, *, threshold: float = DEFAULT_THRESHOLD) -> Resolution:
    """Attach a :class:`~kg.records.Link` to every entity of a resolution.

    Args:
        resolution: the entities of one document.
        kb: an open knowledge base.
        threshold: minimum confidence for a link; below it the entity is NIL.
    """
    cands = {e.key: _candidates(e, resolution, kb) for e in resolution.entities}
    # countries the document names, for coherence
    countries = set()
    for e in resolution.entities:
        best = max(cands.get(e.key, {}).values(), key=lambda c: c.score, default=None)
        if best is not None and best.type == "Country" and FAMILY.get(e.type) == "Loc":
            countries.add(best.qid)
    out = []
    for e in resolution.entities:
        found = cands.get(e.key)
        if not found:
            out.append(e)
            continue
        scored = []
        for c in found.values():
            s = _score(e, c, countries, kb)
            if s is not None:
                scored.append(replace(c, score=round(max(0.0, min(1.0, s)), 3)))
        scored.sort(key=lambda c: (-c.score, c.qid))
        alternatives = tuple(scored[:5])
        if scored and scored[0].score >= threshold:
            best = scored[0]
            type_ = e.type
            if FAMILY.get(best.type) == "Loc" or best.type == "Person" or FAMILY.get(e.type) != FAMILY.get(best.type):
                type_ = best.type if best.type != "Location" or FAMILY.get(e.type) != "Loc" else e.type
            # one label per linked node in every document: the knowledge base's; surface forms become aliases
            aliases = tuple(sorted((set(e.aliases) | {e.name}) - {best.label}))
            out.append(replace(e, type=type_, name=best.label, aliases=aliases, link=Link(best.qid, best.score, alternatives)))
        else:
            out.append(replace(e, link=Link(None, 0.0, alternatives)))
    return replace(resolution, entities=tuple(out))
