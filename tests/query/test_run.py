"""Running queries: sources, parameters, errors, timeouts and output formats."""

from __future__ import annotations

import csv
import io
import json

import pyoxigraph as ox
import pytest

from kg.errors import QueryError
from kg.export import write_quads
from kg.paths import QUERIES_DIR
from kg.query import QueryResult, check_query, format_result, load_query, run_query, with_prefixes
from kg.store import Store

LABELS = """# labels of people
SELECT DISTINCT ?person ?name
WHERE {
  ?person a kg:Person ; rdfs:label ?name .
}
ORDER BY ?name
"""
ZELENSKIY = ox.NamedNode("https://w3id.org/kg/id/Q3874799")
GLADKOV = ox.NamedNode("https://w3id.org/kg/id/person/vyacheslav-gladkov")


def _values(result: QueryResult) -> list[tuple[str | None, ...]]:
    return [tuple(None if t is None else t.value for t in row) for row in result.rows]


def test_run_query_over_union_of_graphs(sample_store):
    result = run_query("SELECT DISTINCT ?person ?name WHERE { ?person a kg:Person ; rdfs:label ?name } ORDER BY ?name",
                       sample_store)
    assert result.columns == ("person", "name") and result.kind == "select"
    assert _values(result) == [(ZELENSKIY.value, "Volodymyr Zelenskiy"), (GLADKOV.value, "Vyacheslav Gladkov")]


@pytest.mark.parametrize("ext", [".trig", ".ttl", ".jsonld"])
def test_run_query_on_file(tmp_path, sample_quads, sample_store, ext):
    path = tmp_path / f"graph{ext}"
    write_quads(sample_quads, path)
    query = "SELECT DISTINCT ?person WHERE { ?person a kg:Person } ORDER BY ?person"
    assert run_query(query, path).rows == run_query(query, str(path)).rows == run_query(query, sample_store).rows


def test_run_query_on_kg_store(tmp_path, sample_documents):
    with Store.open(tmp_path / "store") as store:
        for doc in sample_documents:
            store.replace_document(doc.id, doc.quads)
        assert _values(run_query(LABELS, store)) == [
            (ZELENSKIY.value, "Volodymyr Zelenskiy"), (GLADKOV.value, "Vyacheslav Gladkov")
        ]


def test_run_query_union_has_bag_semantics(sample_store):
    """pyoxigraph matches a triple once per graph holding it: queries over many documents need DISTINCT."""
    query = "SELECT ?name WHERE { ?person a kg:Person ; rdfs:label ?name }"
    names = [row[0].value for row in run_query(query, sample_store).rows]
    assert names.count("Volodymyr Zelenskiy") == 4  # type and label are in both document graphs


def test_run_query_own_prefix_wins(sample_store):
    query = "PREFIX kg: <http://example.org/other#>\nASK { ?p a kg:Person }"
    assert run_query(query, sample_store).boolean is False
    assert run_query("ASK { ?p a kg:Person }", sample_store).boolean is True


def test_run_query_ask_and_construct(sample_store):
    ask = run_query("ASK { ?c a kg:Claim }", sample_store)
    assert (ask.kind, ask.columns, ask.boolean) == ("ask", ("ask",), True)
    graph = run_query("CONSTRUCT { ?p rdfs:label ?n } WHERE { ?p a kg:Person ; rdfs:label ?n }", sample_store)
    assert graph.kind == "graph" and graph.columns == ("subject", "predicate", "object")
    assert {row[0] for row in graph.rows} == {ZELENSKIY, GLADKOV}
    described = run_query(f"DESCRIBE {GLADKOV}", sample_store)
    assert {row[0] for row in described.rows} == {GLADKOV}


def test_run_query_limit(sample_store):
    assert len(run_query("SELECT * WHERE { ?s ?p ?o }", sample_store, limit=3).rows) == 3


def test_run_query_substitution(sample_store):
    result = run_query(LABELS, sample_store, substitutions={"name": "Vyacheslav Gladkov"})
    assert _values(result) == [(GLADKOV.value, "Vyacheslav Gladkov")]
    result = run_query(LABELS, sample_store, substitutions={"?person": ZELENSKIY})  # a term is bound as given
    assert {row[1].value for row in result.rows} == {"Volodymyr Zelenskiy"}


@pytest.mark.parametrize(
    "hostile",
    ['"} ; DROP ALL ; {"', "x\" } } ; DELETE WHERE { ?s ?p ?o } #", "<http://example.org/>", "?name", "\\u0022) || true"],
)
def test_run_query_substitution_is_a_plain_literal(sample_store, hostile):
    before = len(sample_store)
    assert run_query(LABELS, sample_store, substitutions={"name": hostile}).rows == ()
    assert len(sample_store) == before
    # and the value is matched exactly as text
    sample_store.add(ox.Quad(GLADKOV, ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label"), ox.Literal(hostile)))
    assert _values(run_query(LABELS, sample_store, substitutions={"name": hostile})) == [(GLADKOV.value, hostile)]


def test_run_query_substitution_of_unselected_variable(sample_store):
    with pytest.raises(QueryError, match=r"^q\.rq: parameter \?nope is not a variable of the query's SELECT clause"):
        run_query(LABELS, sample_store, substitutions={"nope": "x"}, name="q.rq")
    with pytest.raises(QueryError, match="invalid parameter name 'not a name'"):
        run_query(LABELS, sample_store, substitutions={"not a name": "x"})


@pytest.mark.parametrize(
    ("text", "position", "message"),
    [
        ("# comment\nSELECT ?s\nWHERE {\n  ?s a kg:Person .\n  FILTER(?s = )\n}\n", "5:3", "syntax error near 'FILTER(?s'"),
        ("SELECT ?s\nWHERE { ?s a kg:Person", "2:23", 'syntax error at end of query: expected one of ",", "."'),
        ("SELECT ?s WHERE {\n  ?s a foo:Bar }", "2:8", "undeclared prefix 'foo:'; declare it with PREFIX foo: <...>"),
        ("SELECT * WHERE {\n\t?s ?p ?o .\n\tOPTIONAL { ?s ?p }\n}", "3:2", "syntax error near 'OPTIONAL'"),
        ("SELECT * WHERE { ?s ?p ?o ?s2 ?p2 ?o2 }", "1:27", "syntax error near '?s2'"),
        ("SELECT (COUNT(?s) AS ?n WHERE { ?s ?p ?o }", "1:25", "syntax error near 'WHERE': expected \")\""),
        ("SELECT ?s ?o WHERE { ?s ?p ?o } GROUP BY ?s", "1:44", "syntax error at end of query: The SELECT contains"),
        ("DROP ALL", "1:1", "syntax error near 'DROP'"),
    ],
)
def test_check_query_reports_file_line_column(text, position, message, sample_store):
    for check in (lambda: check_query(text, "queries/bad.rq"), lambda: run_query(text, sample_store, name="queries/bad.rq")):
        with pytest.raises(QueryError) as info:
            check()
        assert str(info.value).startswith(f"queries/bad.rq:{position}: {message}")
        assert "\n" not in str(info.value) and len(str(info.value)) < 300


def test_run_query_timeout(sample_store):
    heavy = "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"
    with pytest.raises(QueryError, match=r"^heavy\.rq: query timed out after 0\.2s"):
        run_query(heavy, sample_store, timeout=0.2, name="heavy.rq")
    assert len(run_query(LABELS, sample_store, timeout=10).rows) == 2


def test_run_query_bad_source():
    with pytest.raises(TypeError, match="cannot query a int"):
        run_query(LABELS, 42)


def test_load_query(tmp_path):
    assert load_query(QUERIES_DIR / "claims.rq").startswith("#")
    with pytest.raises(QueryError, match=r"^query file .*missing\.rq not found; bundled queries in .*claims\.rq"):
        load_query(tmp_path / "missing.rq")
    (tmp_path / "latin1.rq").write_bytes("# caf\xe9".encode("latin-1"))
    with pytest.raises(QueryError, match="not UTF-8"):
        load_query(tmp_path / "latin1.rq")


def test_with_prefixes_keeps_line_numbers():
    text = "PREFIX kg: <http://example.org/>\nSELECT * WHERE { ?s a kg:X ; rdfs:label ?l }"
    prefixed = with_prefixes(text)
    assert prefixed.count("\n") == text.count("\n") and prefixed.count("PREFIX kg:") == 1
    assert "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>" in prefixed.splitlines()[0]
    assert list(ox.Store().query(prefixed)) == []


# --- output formats -------------------------------------------------------------------------


@pytest.fixture
def mixed() -> QueryResult:
    """A result with every kind of value: IRI, plain, language-tagged and typed literals, blank node, unbound."""
    return QueryResult(
        ("entity", "value"),
        (
            (ZELENSKIY, ox.Literal('Volodymyr "Zelenskiy",\tPresident\n')),
            (ox.BlankNode("b0"), ox.Literal("Київ", language="uk")),
            (GLADKOV, ox.Literal("0.9", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#decimal"))),
            (GLADKOV, None),
        ),
    )


def test_format_result_csv(mixed):
    text = format_result(mixed, "csv")
    assert text.startswith("entity,value\r\n") and text.endswith("\r\n")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows == [
        ["entity", "value"],
        [ZELENSKIY.value, 'Volodymyr "Zelenskiy",\tPresident\n'],
        ["_:b0", "Київ"],
        [GLADKOV.value, "0.9"],
        [GLADKOV.value, ""],
    ]


@pytest.mark.parametrize(("fmt", "results_format"), [("json", ox.QueryResultsFormat.JSON), ("tsv", ox.QueryResultsFormat.TSV)])
def test_format_result_parses_as_sparql_results(mixed, fmt, results_format):
    text = format_result(mixed, fmt)
    parsed = ox.parse_query_results(text.encode(), results_format)
    assert [v.value for v in parsed.variables] == list(mixed.columns)
    assert [tuple(s[i] for i in range(2)) for s in parsed] == list(mixed.rows)


def test_format_result_json_shape(mixed):
    doc = json.loads(format_result(mixed, "json"))
    assert doc["head"] == {"vars": ["entity", "value"]}
    first, second, third, unbound = doc["results"]["bindings"]
    assert first["entity"] == {"type": "uri", "value": ZELENSKIY.value}
    assert second["value"] == {"type": "literal", "value": "Київ", "xml:lang": "uk"}
    assert third["value"]["datatype"] == "http://www.w3.org/2001/XMLSchema#decimal"
    assert "datatype" not in first["value"] and "value" not in unbound


def test_format_result_json_ask(sample_store):
    text = format_result(run_query("ASK { ?c a kg:Claim }", sample_store), "json")
    assert json.loads(text) == {"head": {}, "boolean": True}
    assert bool(ox.parse_query_results(text.encode(), ox.QueryResultsFormat.JSON)) is True


def test_format_result_table(mixed):
    lines = format_result(mixed, "table").splitlines()
    assert lines[0].split() == ["entity", "value"]
    assert lines[2].startswith(" kgr:Q3874799 ")  # IRIs shortened with kg's prefixes
    assert "_:b0" in lines[-3] and "Київ" in lines[-3]
    assert lines[-1].rstrip() == " kgr:person/vyacheslav-gladkov"


def test_format_result_table_no_markup():
    result = QueryResult(("x",), ((ox.Literal("[bold]not markup[/bold]"),),))
    assert "[bold]not markup[/bold]" in format_result(result, "table")


def test_format_result_table_width(mixed):
    assert max(len(line) for line in format_result(mixed, "table", width=40).splitlines()) <= 40


def test_format_result_unknown():
    with pytest.raises(QueryError, match="unknown output format 'xml'; choose one of table, csv, tsv, json"):
        format_result(QueryResult((), ()), "xml")
