"""The bundled queries in queries/: documented, valid, and answering on the sample dataset."""

from __future__ import annotations

import pytest

from kg.paths import QUERIES_DIR
from kg.query import check_query, load_query, run_query

QUERIES = sorted(QUERIES_DIR.glob("*.rq"))
LOCAL = [q for q in QUERIES if "federated" not in q.name]


def test_queries_bundled():
    names = {q.name for q in QUERIES}
    assert len(names) >= 8
    assert {"people-positions.rq", "claims.rq", "one-sided-facts.rq", "federated-wikidata.rq"} <= names


@pytest.mark.parametrize("path", QUERIES, ids=lambda p: p.name)
def test_queries_documented_and_valid(path):
    text = load_query(path)
    comment = [line for line in text.splitlines() if line.startswith("#")]
    assert text.startswith("#") and len(comment) >= 2, "start with a comment block saying what it answers"
    check_query(text, str(path))


def test_queries_federated_says_it_needs_internet():
    first = load_query(QUERIES_DIR / "federated-wikidata.rq").splitlines()[0]
    assert first.startswith("#") and "internet" in first.lower()


@pytest.mark.parametrize("path", LOCAL, ids=lambda p: p.name)
def test_queries_answer_on_sample(path, sample_store):
    result = run_query(load_query(path), sample_store, name=str(path), timeout=30)
    assert len(result.rows) >= 1
    assert len(set(result.rows)) == len(result.rows), "no duplicate rows from the union of graphs"
