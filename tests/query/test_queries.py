"""The bundled queries in queries/: documented, valid, answering on the sample dataset, with top lists
that keep their limit and parameters that mean the same locally and on an endpoint."""

from __future__ import annotations

import re

import pyoxigraph as ox
import pytest

from kg.iri import entity_iri, graph_iri, span_iri
from kg.paths import QUERIES_DIR
from kg.query import check_query, load_query, run_query
from kg.remote.query import values_clause
from kg.vocab import ITSRDF, KG

QUERIES = sorted(QUERIES_DIR.glob("*.rq"))
LOCAL = [q for q in QUERIES if "federated" not in q.name]
_PARAMETERS = re.compile(r"^# Parameters?: (.*)$", re.MULTILINE)
PARAMETERS = [(q, name) for q in LOCAL for line in _PARAMETERS.findall(q.read_text()) for name in re.findall(r"\?(\w+)", line)]

A = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
LABEL = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label")


def _run(query: str, store: ox.Store, **substitutions: str):
    return run_query(load_query(QUERIES_DIR / query), store, substitutions=substitutions or None, name=query, timeout=30)


def _values(result, *columns: str) -> list[tuple[str | None, ...]]:
    at = [result.columns.index(c) for c in columns]
    return [tuple(None if row[i] is None else row[i].value for i in at) for row in result.rows]


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


# --- what each query answers on the sample dataset (tests/conftest.py) ------------------------------


def test_queries_people_positions_on_sample(sample_store):
    result = _run("people-positions.rq", sample_store)
    assert set(_values(result, "name", "positionLabel", "jurisdictionLabel", "articles")) == {
        ("Vyacheslav Gladkov", "Governor of Belgorod Oblast", "Belgorod Oblast", "1"),
        ("Volodymyr Zelenskiy", "President of Ukraine", "Ukraine", "1"),
    }


def test_queries_organizations_members_on_sample(sample_store):
    result = _run("organizations-members.rq", sample_store)
    assert _values(result, "organizationLabel", "memberLabel", "relation", "articles") == [
        ("United Russia", "Vyacheslav Gladkov", str(KG.memberOf), "1")
    ]


def test_queries_locations_containment_on_sample(sample_store):
    result = _run("locations-containment.rq", sample_store)
    assert _values(result, "placeLabel", "containerLabel", "direct") == [
        ("Belgorod", "Belgorod Oblast", "true"),
        ("Belgorod", "Russia", "false"),  # through Belgorod Oblast
        ("Belgorod Oblast", "Russia", "true"),
        ("Bakhmut", "Ukraine", "true"),
        ("Kyiv", "Ukraine", "true"),
    ]


def test_queries_mention_counts_on_sample(sample_store):
    rows = _values(_run("mention-counts.rq", sample_store), "label", "class", "mentions", "documents")
    assert rows[:3] == [
        ("Belgorod", str(KG.Settlement), "2", "2"),
        ("Belgorod Oblast", str(KG.AdministrativeArea), "2", "1"),  # twice in one article
        ("Volodymyr Zelenskiy", str(KG.Person), "2", "2"),  # named in both, labelled in both
    ]
    assert len(rows) == 13 and {r[2] for r in rows[3:]} == {"1"}


def test_queries_events_on_sample(sample_store):
    result = _run("events.rq", sample_store)
    assert _values(result, "class", "trigger", "participants", "places", "date", "confidence") == [
        (str(KG.Visit), "visited", "Volodymyr Zelenskiy", "Bakhmut", "2023-05-23", "0.7")
    ]


def test_queries_claims_on_sample(sample_store):
    result = _run("claims.rq", sample_store)
    assert _values(result, "claimantLabel", "stance", "channel", "date", "about", "facts") == [
        ("Russian Defence Ministry", str(KG.asserts), "Telegram", "2023-05-24", "Freedom of Russia Legion", "1")
    ]


def test_queries_one_sided_facts_on_sample(sample_store):
    result = _run("one-sided-facts.rq", sample_store)
    assert _values(result, "kind", "factLabel", "claimantLabel", "stances", "claims") == [
        ("relation", "Freedom of Russia Legion locatedIn Belgorod", "Russian Defence Ministry", "asserts", "1")
    ]


def test_queries_wikidata_links_on_sample(sample_store):
    result = _run("wikidata-links.rq", sample_store)
    assert _values(result, "label", "class", "qid", "confidence") == [
        ("Kyiv", str(KG.Settlement), "Q1899", "0.95"),
        ("Russia", str(KG.Country), "Q159", "0.95"),
        ("Ukraine", str(KG.Country), "Q212", "0.95"),
        ("Volodymyr Zelenskiy", str(KG.Person), "Q3874799", "0.97"),  # the best of its two articles
    ]


def test_queries_evidence_on_sample(sample_store):
    result = _run("evidence.rq", sample_store, name="Vyacheslav Gladkov")
    rows = sorted(_values(result, "subject", "property", "object", "confidence", "reportedInClaim", "date", "source"))
    assert rows == [
        ("Vyacheslav Gladkov", str(KG.memberOf), "United Russia", "0.8", "false", "2023-05-25",
         "https://example.org/news/2023-05-25-belgorod"),
        ("Vyacheslav Gladkov", str(KG.positionHeld), "Governor of Belgorod Oblast", "0.9", "false", "2023-05-25",
         "https://example.org/news/2023-05-25-belgorod"),
    ]
    assert {s.startswith("Vyacheslav Gladkov, the governor") for (s,) in _values(result, "sentence")} == {True}
    reported = _run("evidence.rq", sample_store, name="Belgorod")  # as object, only inside the ministry's claim
    assert ("Freedom of Russia Legion", str(KG.locatedIn), "true") in _values(reported, "subject", "property", "reportedInClaim")
    assert ("Belgorod", str(KG.locatedIn), "false") in _values(reported, "subject", "property", "reportedInClaim")


# --- parameters ------------------------------------------------------------------------------------


def test_queries_parameters_documented():
    documented = {q.name for q, _ in PARAMETERS}
    assert {"people-positions.rq", "evidence.rq", "organizations-members.rq", "locations-containment.rq",
            "one-sided-facts.rq"} <= documented


@pytest.mark.parametrize(("path", "parameter"), PARAMETERS, ids=lambda v: getattr(v, "name", v))
def test_queries_parameter_same_locally_and_on_endpoint(path, parameter, sample_store):
    """A bound parameter keeps exactly the rows with that value, whether pyoxigraph substitutes it or an
    endpoint joins it as a trailing VALUES clause (kg query --endpoint): it never passes through a LIMIT."""
    text = load_query(path)
    everything = run_query(text, sample_store, name=path.name)
    column = everything.columns.index(parameter)
    value = next(row[column] for row in everything.rows if row[column] is not None)
    local = run_query(text, sample_store, substitutions={parameter: value}, name=path.name)
    joined = run_query(text + values_clause({parameter: value}), sample_store, name=path.name)
    expected = sorted(map(str, (row for row in everything.rows if row[column] == value)))
    assert sorted(map(str, local.rows)) == sorted(map(str, joined.rows)) == expected and expected
    nobody = run_query(text, sample_store, substitutions={parameter: "no such name"}, name=path.name)
    assert nobody.rows == ()


# --- top lists on a larger graph -------------------------------------------------------------------


def _term(value: object) -> ox.NamedNode | ox.Literal:
    return value if isinstance(value, (ox.NamedNode, ox.Literal)) else ox.NamedNode(str(value))


def _quad(s: object, p: object, o: object, doc: str) -> ox.Quad:
    return ox.Quad(_term(s), _term(p), _term(o), ox.NamedNode(str(graph_iri(doc))))


@pytest.fixture(scope="module")
def many() -> ox.Store:
    """120 people, person i holding office i in 1 + i % 7 articles (each labelling both again), and 60
    settlements, settlement j mentioned 1 + j % 9 times over two articles at most."""
    quads = []
    for i in range(120):
        person, office = entity_iri("Person", f"Person {i}"), entity_iri("Position", f"Office {i}")
        for d in range(1 + i % 7):
            doc = f"people-{i}-{d}"
            quads += [_quad(person, A, KG.Person, doc), _quad(person, LABEL, ox.Literal(f"Person {i}"), doc),
                      _quad(office, A, KG.Position, doc), _quad(office, LABEL, ox.Literal(f"Office {i}"), doc),
                      _quad(person, KG.positionHeld, office, doc)]
    for j in range(60):
        place = entity_iri("Settlement", f"Town {j}")
        for k in range(1 + j % 9):
            doc = f"towns-{j}-{k % 2}"
            quads += [_quad(place, A, KG.Settlement, doc), _quad(place, LABEL, ox.Literal(f"Town {j}"), doc),
                      _quad(span_iri(doc, k, k + 1), ITSRDF.taIdentRef, place, doc)]
    store = ox.Store()
    store.extend(quads)
    return store


def test_queries_people_positions_best_attested_first(many):
    rows = _values(_run("people-positions.rq", many), "name", "positionLabel", "articles")
    counts = [int(n) for _, _, n in rows]
    assert len(rows) == 100 and counts == sorted(counts, reverse=True) and counts[0] == 7
    assert {(name, n) for name, _, n in rows if int(n) >= 3} == {(f"Person {i}", str(1 + i % 7)) for i in range(120) if i % 7 >= 2}
    assert all(name.replace("Person", "Office") == office for name, office, _ in rows)
    # someone outside the top 100 is found, locally and by an endpoint (trailing VALUES) alike
    text = load_query(QUERIES_DIR / "people-positions.rq")
    local = run_query(text, many, substitutions={"name": "Person 7"})
    assert _values(local, "name", "articles") == [("Person 7", "1")]
    assert run_query(text + values_clause({"name": "Person 7"}), many).rows == local.rows


def test_queries_mention_counts_top_50(many):
    rows = _values(_run("mention-counts.rq", many), "label", "class", "mentions", "documents")
    counts = [int(m) for _, _, m, _ in rows]
    assert len(rows) == 50 and counts == sorted(counts, reverse=True)
    assert rows[:6] == sorted((f"Town {j}", str(KG.Settlement), "9", "2") for j in range(60) if j % 9 == 8)
    assert {(label, m, d) for label, _, m, d in rows} <= {(f"Town {j}", str(1 + j % 9), str(min(2, 1 + j % 9))) for j in range(60)}
