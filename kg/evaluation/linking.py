"""Calibrating the linker: candidate samples from gold annotations, a logistic fit, a reliability check.

Every compatible candidate the linker scores (:func:`kg.linking.linker.score_candidates`)
for an entity that matches a gold entity becomes a sample: label 1 when its QID is the
gold QID, 0 otherwise. Entities whose gold has no QID only give negatives, candidates that
are certainly wrong: the gold QID of another entity, or a place outside the country or
region the gold puts the entity in (Pokrovsk in Ukraine is no town of Russia); their other
candidates are unknown and left out. An entity with only such negatives is a NIL decision:
none of its candidates is right.

NIL samples: the gold says which item an entity with a QID is, so hiding that one item
from the knowledge base (:class:`Without`) turns the entity into a real mention of
something the knowledge base does not hold; every candidate the linker still finds for it
is a negative, scored as the linker would score it (its rivals, lead and coherence included).
They teach the calibration how confident a namesake looks when the right item is missing.
Only items the knowledge base might lack are hidden: persons, organizations, events, minor places.

A logistic fit of the labels on the candidates' scores (Platt scaling) gives
:data:`kg.linking.linker.CALIBRATION`, each candidate's odds against NIL; the candidates of
one entity share them in a softmax (:func:`kg.linking.linker.confidences`).
Leave-one-document-out predictions measure how well the confidences are calibrated (Brier
score, reliability bins) and what linking at the threshold would do (:func:`decisions`:
precision, recall, false links on NIL mentions).

Run ``python -m kg.evaluation.linking --gold tests/data/seed.gold.json --gold OTHER.json``
to print the fitted calibration and the cross-validated figures.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ..linking.linker import CALIBRATION, DEFAULT_THRESHOLD, FEATURES, MINOR_PRIOR, confidences, raw_score, score_candidates  # noqa: F401
from ..records import Resolution
from .score import normalize

__all__ = ["PARTLY_COVERED", "Sample", "Without", "cross_validate", "decisions", "fit", "predict", "reliability", "samples"]


#: Classes of which the knowledge base holds only a few items: hiding one of them simulates a real NIL mention.
PARTLY_COVERED = frozenset({"Person", "Organization", "MilitaryUnit", "Position", "Event"})


def _might_lack(candidate, kb) -> bool:
    """Whether the knowledge base might lack an item like this one, so that hiding it simulates a real NIL mention:
    a person, organization or event (it holds a few), a minor place (it holds every country and first-level
    region, and the major cities of the gazetteer: a mention of one of those it lacks does not happen)."""
    if candidate.type in PARTLY_COVERED:
        return True
    rec = kb.get(candidate.qid)
    return candidate.type in ("Settlement", "Location") and rec is not None and rec.prior < MINOR_PRIOR


@dataclass(frozen=True, slots=True)
class Sample:
    """One scored candidate of one entity, with its gold label (``entity`` names the decision it belongs to)."""

    doc: str
    entity: str
    qid: str
    features: tuple[float, ...]
    label: int


class Without:
    """A knowledge base with some items removed: they are never found, read or passed through.

    >>> from kg.linking import KnowledgeBase
    >>> with KnowledgeBase.open() as kb:
    ...     kyiv = kb.lookup("Kyiv")[0].qid
    ...     hidden = Without(kb, {kyiv})
    ...     kyiv not in [c.qid for c in hidden.lookup("Kyiv")] and hidden.get(kyiv) is None
    True
    """

    def __init__(self, kb, hidden: Iterable[str]):
        self.kb, self.hidden = kb, frozenset(hidden)

    def lookup(self, name: str, **kwargs):
        return [c for c in self.kb.lookup(name, **kwargs) if c.qid not in self.hidden]

    def get(self, qid: str):
        return None if qid in self.hidden else self.kb.get(qid)

    def ancestors(self, qid: str) -> tuple[str, ...]:
        return () if qid in self.hidden else tuple(q for q in self.kb.ancestors(qid) if q not in self.hidden)


def _gold_index(gold: dict) -> dict[str, dict]:
    index: dict[str, dict] = {}
    for g in gold.get("entities", []):
        if g.get("type") == "Position":
            continue
        for n in [g["name"], *g.get("aliases", [])]:
            index.setdefault(normalize(n), g)
    return index


def _placing(gold: dict) -> dict[str, set[str]]:
    """Gold entity key -> the QIDs of the places the gold puts it in (its country, P17, or region, P131)."""
    qids = {g["key"]: g["qid"] for g in gold.get("entities", []) if g.get("qid") and "key" in g}
    out: dict[str, set[str]] = {}
    for r in gold.get("relations", []):
        props = r.get("property", [])
        props = [props] if isinstance(props, str) else props
        if {"P17", "P131"} & set(props) and r.get("object") in qids:
            out.setdefault(r.get("subject"), set()).add(qids[r["object"]])
    return out


def _where(qid: str, kb) -> set[str]:
    rec = kb.get(qid)
    return set(kb.ancestors(qid)) | ({rec.country} if rec is not None and rec.country else set())


def samples(pairs: Iterable[tuple[dict, Resolution]], kb, *, nil: bool = True) -> list[Sample]:
    """Labelled candidate samples from gold documents and their (unlinked) resolutions.

    Args:
        pairs: each gold document with its resolution.
        kb: the knowledge base to link with.
        nil: also the NIL samples: each gold-QID entity scored again with its item hidden (module docstring).

    >>> from kg.records import Document, Extraction, Resolution
    >>> samples([({"entities": []}, Resolution(Extraction(Document("d", ""), (), ()), (), ()))], kb=None)
    []
    """
    out: list[Sample] = []
    for gold, res in pairs:
        index = _gold_index(gold)
        if not res.entities:
            continue
        gold_qids = {g["qid"] for g in gold.get("entities", []) if g.get("qid")}
        placing = _placing(gold)
        doc = str(gold.get("id", gold.get("document", res.extraction.document.id)))
        scored = score_candidates(res, kb)
        hide: dict[str, list[str]] = {}  # gold QID -> the entities it is the right item of
        for e in res.entities:
            g = next((index[k] for n in (e.name, *e.aliases) if (k := normalize(n)) in index), None)
            if g is None:
                continue
            placed = placing.get(g["key"], set()) if "key" in g else set()
            for s in scored.get(e.key, []):
                qid = s.candidate.qid
                if g.get("qid"):
                    out.append(Sample(doc, e.name, qid, s.features, int(qid == g["qid"])))
                elif qid in gold_qids or placed and not placed & _where(qid, kb):
                    out.append(Sample(doc, e.name, qid, s.features, 0))
            right = next((s.candidate for s in scored.get(e.key, []) if s.candidate.qid == g["qid"]), None) if g.get("qid") else None
            if right is not None and _might_lack(right, kb):
                hide.setdefault(right.qid, []).append(e.key)
        for qid, keys in sorted(hide.items()) if nil else ():
            without = score_candidates(res, Without(kb, {qid}))
            for e in res.entities:
                if e.key in keys:
                    out += [Sample(doc, f"{e.name} (without {qid})", s.candidate.qid, s.features, 0) for s in without.get(e.key, [])]
    return out


def fit(data: Sequence[Sample], *, l2: float = 0.01, iterations: int = 50) -> tuple[float, float]:
    """Platt scaling: the logistic fit of the labels on the candidates' scores (Newton's method, Platt's smoothed
    targets). ``σ(scale·score + offset)`` is then a candidate's odds against NIL, and the candidates of one
    entity share them in a softmax (:func:`~kg.linking.linker.confidences`).

    Returns:
        ``(scale, offset)`` for :data:`~kg.linking.linker.CALIBRATION`, rounded to 2 places.

    >>> def sample(entity, match, label):
    ...     return Sample("d", entity, "Q900000001", (match,) + (0.0,) * (len(FEATURES) - 1), label)
    >>> data = [sample(f"right{k}", 1.0, 1) for k in range(9)] + [sample(f"nil{k}", 0.3, 0) for k in range(9)]
    >>> data += [sample(f"mixed{k}", 0.7, k % 2) for k in range(4)]
    >>> scale, offset = fit(data)
    >>> scale > 0 and 0.4 < 1 / (1 + math.exp(-(scale * 2.1 + offset))) < 0.6
    True
    """
    xs = [raw_score(s.features) for s in data]
    positives = sum(s.label for s in data)
    negatives = len(data) - positives
    # Platt's targets: with few samples, 1 and 0 become (n+ + 1) / (n+ + 2) and 1 / (n- + 2), so that
    # nearly separable data gives a finite slope instead of a cliff
    ys = [(positives + 1) / (positives + 2) if s.label else 1 / (negatives + 2) for s in data]
    a = b = 0.0
    for _ in range(iterations):
        ps = [_sigmoid(a * x + b) for x in xs]
        ga = sum((p - y) * x for p, y, x in zip(ps, ys, xs)) + l2 * a
        gb = sum(p - y for p, y in zip(ps, ys))
        w = [p * (1 - p) for p in ps]
        haa = sum(wi * x * x for wi, x in zip(w, xs)) + l2 + 1e-9
        hab = sum(wi * x for wi, x in zip(w, xs))
        hbb = sum(w) + 1e-9
        det = haa * hbb - hab * hab
        da, db = (hbb * ga - hab * gb) / det, (haa * gb - hab * ga) / det
        a, b = a - da, b - db
        if max(abs(da), abs(db)) < 1e-9:
            break
    return round(a, 2), round(b, 2)


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z)) if z >= -500 else 0.0


def _groups(data: Sequence[Sample]) -> dict[tuple[str, str], list[int]]:
    groups: dict[tuple[str, str], list[int]] = {}
    for i, s in enumerate(data):
        groups.setdefault((s.doc, s.entity), []).append(i)
    return groups


def predict(data: Sequence[Sample], calibration: tuple[float, float] = CALIBRATION) -> list[float]:
    """The linker's confidences for samples under a calibration (candidates of one entity are exclusive)."""
    out = [0.0] * len(data)
    for rows in _groups(data).values():
        for i, p in zip(rows, confidences([data[i].features for i in rows], calibration)):
            out[i] = p
    return out


def decisions(data: Sequence[Sample], probabilities: Sequence[float], *, threshold: float = DEFAULT_THRESHOLD) -> dict[str, float]:
    """What linking at ``threshold`` does with these samples, one decision per entity (its best candidate).

    ``precision``: right links among links; ``recall``: right links among entities whose right item was a
    candidate; ``nil_linked``: entities without a right candidate (NIL) that were linked all the same.

    >>> data = [Sample("d", "a", "Q900000001", (), 1), Sample("d", "a", "Q900000002", (), 0), Sample("d", "b", "Q900000003", (), 0)]
    >>> decisions(data, [0.9, 0.1, 0.6])
    {'entities': 2, 'linked': 2, 'precision': 0.5, 'recall': 1.0, 'nil': 1, 'nil_linked': 1}
    """
    linked = right = positive = nil = nil_linked = 0
    groups = _groups(data)
    for rows in groups.values():
        best = max(rows, key=lambda i: probabilities[i])
        has_right = any(data[i].label for i in rows)
        positive += has_right
        nil += not has_right
        if probabilities[best] >= threshold:
            linked += 1
            right += data[best].label
            nil_linked += not has_right
    return {"entities": len(groups), "linked": linked, "precision": round(right / linked, 3) if linked else 1.0,
            "recall": round(right / positive, 3) if positive else 1.0, "nil": nil, "nil_linked": nil_linked}


def reliability(data: Sequence[Sample], probabilities: Sequence[float], *, bins: int = 5) -> list[dict[str, float]]:
    """Mean predicted probability against the observed share of right candidates, per probability bin.

    >>> reliability([Sample("d", "e", "Q900000001", (), 1), Sample("d", "e", "Q900000002", (), 0)], [0.9, 0.1], bins=2)
    [{'bin': 0.0, 'n': 1, 'predicted': 0.1, 'observed': 0.0}, {'bin': 0.5, 'n': 1, 'predicted': 0.9, 'observed': 1.0}]
    """
    out = []
    for k in range(bins):
        low, high = k / bins, (k + 1) / bins
        inside = [(p, s.label) for p, s in zip(probabilities, data) if low <= p and (p < high or k == bins - 1)]
        if inside:
            out.append({"bin": low, "n": len(inside), "predicted": round(sum(p for p, _ in inside) / len(inside), 3),
                        "observed": round(sum(y for _, y in inside) / len(inside), 3)})
    return out


def _brier(probabilities: Sequence[float], data: Sequence[Sample]) -> float:
    return round(sum((p - s.label) ** 2 for p, s in zip(probabilities, data)) / max(1, len(data)), 4)


def cross_validate(data: Sequence[Sample], *, l2: float = 0.01, threshold: float = DEFAULT_THRESHOLD) -> dict[str, object]:
    """Leave-one-document-out confidences: Brier score, reliability and decisions at ``threshold``, beside those
    of the shipped calibration."""
    docs = sorted({s.doc for s in data})
    held = [0.0] * len(data)
    for doc in docs:
        train = [s for s in data if s.doc != doc]
        test = [i for i, s in enumerate(data) if s.doc == doc]
        if not test or not train or len({s.label for s in train}) < 2:
            continue
        for i, p in zip(test, predict([data[i] for i in test], fit(train, l2=l2))):
            held[i] = p
    shipped = predict(data)
    return {
        "samples": len(data), "positives": sum(s.label for s in data), "documents": len(docs),
        "brier_cross_validated": _brier(held, data), "brier_shipped": _brier(shipped, data),
        "decisions_cross_validated": decisions(data, held, threshold=threshold),
        "decisions_shipped": decisions(data, shipped, threshold=threshold),
        "reliability_cross_validated": reliability(data, held), "reliability_shipped": reliability(data, shipped),
    }  # fmt: skip


def _collect(gold_paths: Sequence[str]) -> tuple[list[Sample], object]:
    from ..extraction import Extractor
    from ..linking import KnowledgeBase
    from ..paths import DEFAULT_KB
    from ..resolution import resolve
    from .gold import read_gold

    kb = KnowledgeBase.open(DEFAULT_KB)
    extractor = Extractor(kb=kb)
    pairs = []
    for path in gold_paths:
        docs = read_gold(path)
        for (gold, _), extraction in zip(docs, extractor([d for _, d in docs])):
            pairs.append((gold, resolve(extraction, kb)))
    return samples(pairs, kb), kb


def main(argv: Sequence[str] | None = None) -> None:
    """Fit the linker's calibration on gold files and print it with the cross-validated reliability and decisions."""
    parser = argparse.ArgumentParser(prog="python -m kg.evaluation.linking", description=main.__doc__)
    parser.add_argument("--gold", action="append", required=True, help="a gold file (repeatable)")
    parser.add_argument("--l2", type=float, default=0.01, help="L2 penalty on the scale")
    parser.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD, help="link threshold for the decisions")
    args = parser.parse_args(argv)
    data, kb = _collect(args.gold)
    print(f"CALIBRATION = {fit(data, l2=args.l2)}")
    for key, value in cross_validate(data, l2=args.l2, threshold=args.threshold).items():
        print(f"{key}: {value}")
    kb.close()


if __name__ == "__main__":
    main()
