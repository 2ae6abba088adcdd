"""Calibrating the linker: candidate samples from gold annotations, a logistic fit, a reliability check.

Every compatible candidate the linker scores (:func:`kg.linking.linker.score_candidates`)
for an entity that matches a gold entity becomes a sample: label 1 when its QID is the
gold QID, 0 otherwise. Entities whose gold has no QID only give negatives: candidates
whose QID is the gold QID of another entity (certainly wrong); their other candidates
are unknown and left out. A logistic fit of the labels on the candidates'
scores (Platt scaling) gives :data:`kg.linking.linker.CALIBRATION`; leave-one-document-out
predictions measure how well the confidences are calibrated (Brier score, reliability bins).

Run ``python -m kg.evaluation.linking --gold tests/data/seed.gold.json --gold OTHER.json``
to print the fitted calibration and the cross-validated reliability table.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass


from ..linking.linker import CALIBRATION, FEATURES, confidence, exclusive, raw_score, score_candidates
from ..records import Resolution
from .score import normalize

__all__ = ["Sample", "cross_validate", "fit", "predict", "reliability", "samples"]


@dataclass(frozen=True, slots=True)
class Sample:
    """One scored candidate of one entity, with its gold label."""

    doc: str
    entity: str
    qid: str
    features: tuple[float, ...]
    label: int


def _gold_index(gold: dict) -> dict[str, dict]:
    index: dict[str, dict] = {}
    for g in gold.get("entities", []):
        if g.get("type") == "Position":
            continue
        for n in [g["name"], *g.get("aliases", [])]:
            index.setdefault(normalize(n), g)
    return index


def samples(pairs: Iterable[tuple[dict, Resolution]], kb) -> list[Sample]:
    """Labelled candidate samples from gold documents and their (unlinked) resolutions.

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
        doc = str(gold.get("id", gold.get("document", res.extraction.document.id)))
        scored = score_candidates(res, kb)
        for e in res.entities:
            g = next((index[k] for n in (e.name, *e.aliases) if (k := normalize(n)) in index), None)
            if g is None:
                continue
            for s in scored.get(e.key, []):
                qid = s.candidate.qid
                if g.get("qid"):
                    out.append(Sample(doc, e.name, qid, s.features, int(qid == g["qid"])))
                elif qid in gold_qids:
                    out.append(Sample(doc, e.name, qid, s.features, 0))
    return out


def fit(data: Sequence[Sample], *, l2: float = 0.01, iterations: int = 50) -> tuple[float, float]:
    """Platt scaling: the logistic fit of the labels on the candidates' scores (Newton's method, Platt's smoothed targets).

    Returns:
        ``(scale, offset)`` for :data:`~kg.linking.linker.CALIBRATION`, rounded to 2 places.

    >>> good = [Sample("d", "e", "Q900000001", (1.0,) + (0.0,) * (len(FEATURES) - 1), 1)] * 9
    >>> bad = [Sample("d", "e", "Q900000002", (0.3,) + (0.0,) * (len(FEATURES) - 1), 0)] * 9
    >>> mixed = [Sample("d", "e", "Q900000003", (0.7,) + (0.0,) * (len(FEATURES) - 1), k % 2) for k in range(4)]
    >>> scale, offset = fit(good + bad + mixed)
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


def predict(data: Sequence[Sample], calibration: tuple[float, float] = CALIBRATION) -> list[float]:
    """The linker's confidences for samples under a calibration (candidates of one entity are exclusive)."""
    groups: dict[tuple[str, str], list[int]] = {}
    for i, s in enumerate(data):
        groups.setdefault((s.doc, s.entity), []).append(i)
    out = [0.0] * len(data)
    for rows in groups.values():
        for i, p in zip(rows, exclusive([confidence(data[i].features, calibration) for i in rows])):
            out[i] = p
    return out


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


def cross_validate(data: Sequence[Sample], *, l2: float = 0.01) -> dict[str, object]:
    """Leave-one-document-out confidences: Brier score and reliability, against those of the shipped calibration."""
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
    """Fit the linker's weights on gold files and print them with the cross-validated reliability."""
    parser = argparse.ArgumentParser(prog="python -m kg.evaluation.linking", description=main.__doc__)
    parser.add_argument("--gold", action="append", required=True, help="a gold file (repeatable)")
    parser.add_argument("--l2", type=float, default=0.01, help="L2 penalty on the scale")
    args = parser.parse_args(argv)
    data, kb = _collect(args.gold)
    print(f"CALIBRATION = {fit(data, l2=args.l2)}")
    for key, value in cross_validate(data, l2=args.l2).items():
        print(f"{key}: {value}")
    kb.close()


if __name__ == "__main__":
    main()
