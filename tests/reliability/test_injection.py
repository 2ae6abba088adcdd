"""Injection-proof queries: ``--param`` values reach SPARQL as bound terms, never as query text."""

from __future__ import annotations

import json
from pathlib import Path

import pyoxigraph as ox
import pytest

from kg.store import Store

from .helpers import assert_one_line_error, run_kg

LABEL = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label")
HOSTILE = [
    '"} ; DROP ALL ; {"',
    "} ; DROP ALL ; {",
    'x" } } ; DELETE WHERE { ?s ?p ?o } #',
    "' ; CLEAR DEFAULT ; '",
    '\\" . ?s ?p ?o',
    "<http://example.org/x>)",
    "?name",
    "$name",
    "\\u0022) || true",
    "line\nbreak } INSERT DATA { <a> <b> <c> }",
    "{}|^`\\",
]


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Path:
    """Entities labelled with hostile strings, one document graph."""
    path = tmp_path_factory.mktemp("injection") / "store"
    quads = [ox.Quad(ox.NamedNode(f"https://example.org/e{i}"), LABEL, ox.Literal(value)) for i, value in enumerate(HOSTILE)]
    quads.append(ox.Quad(ox.NamedNode("https://example.org/kyiv"), LABEL, ox.Literal("Kyiv")))
    with Store.open(path) as st:
        st.replace_document("d", quads)
    return path


@pytest.fixture
def untouched(store):
    with Store.open(store, read_only=True) as st:
        before = set(st.quads())
    yield
    with Store.open(store, read_only=True) as st:
        assert set(st.quads()) == before


@pytest.fixture(scope="module")
def labels_rq(tmp_path_factory) -> Path:
    rq = tmp_path_factory.mktemp("rq") / "labels.rq"
    rq.write_text("SELECT ?e ?name WHERE { ?e rdfs:label ?name }\n")
    return rq


def _rows(stdout: str) -> list[tuple[str, str]]:
    return sorted((b["e"]["value"], b["name"]["value"]) for b in json.loads(stdout)["results"]["bindings"])


def test_injection_param_values_are_literals(store, untouched, labels_rq):
    """Each hostile value matches exactly the entity labelled with it, and changes nothing."""
    for i, value in enumerate(HOSTILE):
        run = run_kg("query", labels_rq, "--store", store, "--format", "json", "--param", f"name={value}")
        assert run.code == 0, run.stderr
        assert _rows(run.stdout) == [(f"https://example.org/e{i}", value)]


def test_injection_param_iri(store, untouched, labels_rq):
    run = run_kg("query", labels_rq, "--store", store, "--format", "json", "--param", "e=<https://example.org/kyiv>")
    assert run.code == 0, run.stderr
    assert _rows(run.stdout) == [("https://example.org/kyiv", "Kyiv")]
    run = run_kg("query", labels_rq, "--store", store, "--param", "e=<x> } ; DROP ALL ; { <y>")
    assert_one_line_error(run, "is not a valid IRI")


def test_injection_param_name(store, untouched, labels_rq):
    run = run_kg("query", labels_rq, "--store", store, "--param", "name } ; DROP ALL ; { ?x=Kyiv")
    assert_one_line_error(run, "invalid parameter name")


def test_injection_update_in_query_file_refused(store, untouched, tmp_path):
    """``kg query`` runs queries only: an update in the .rq file is a syntax error, the store is opened read-only."""
    for text in ("DROP ALL", "SELECT * WHERE { ?s ?p ?o } ; DROP ALL", "DELETE WHERE { ?s ?p ?o }"):
        rq = tmp_path / "update.rq"
        rq.write_text(text)
        assert_one_line_error(run_kg("query", rq, "--store", store), str(rq))
