"""federated-wikidata.rq against a real local Oxigraph server holding Wikidata-shaped data.

The public Wikidata service cannot be reached from the tests, so the query's
SERVICE IRI is pointed at the local server; everything else runs as shipped.
"""

from __future__ import annotations


import pytest

from kg.paths import QUERIES_DIR
from kg.query import load_query, run_query

WIKIDATA = "<https://query.wikidata.org/sparql>"
WIKIDATA_SHAPED = """
@prefix wd: <http://www.wikidata.org/entity/> .
@prefix wdt: <http://www.wikidata.org/prop/direct/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
wd:Q212 wdt:P31 wd:Q6256 ; wdt:P36 wd:Q1899 ; wdt:P35 wd:Q3874799 .
wd:Q159 wdt:P31 wd:Q6256 ; wdt:P36 wd:Q649 ; wdt:P35 wd:Q7747 .
wd:Q1899 rdfs:label "Kyiv"@en , "Київ"@uk .
wd:Q649 rdfs:label "Moscow"@en .
wd:Q3874799 rdfs:label "Volodymyr Zelenskyy"@en .
wd:Q7747 rdfs:label "Vladimir Putin"@en .
wd:Q2 wdt:P31 wd:Q3504248 .
"""



@pytest.fixture(scope="module")
def wikidata_endpoint(tmp_path_factory, serve_rdf):
    """The SPARQL endpoint URL of a local read-only Oxigraph server with Wikidata-shaped data."""
    folder = tmp_path_factory.mktemp("wikidata")
    (folder / "wd.ttl").write_text(WIKIDATA_SHAPED, encoding="utf-8")
    with serve_rdf(folder / "wd.ttl", folder) as url:
        yield url


def test_federated_query_joins_with_wikidata(sample_store, wikidata_endpoint):
    text = load_query(QUERIES_DIR / "federated-wikidata.rq")
    assert WIKIDATA in text
    result = run_query(text.replace(WIKIDATA, f"<{wikidata_endpoint}>"), sample_store, timeout=30)
    rows = {row[1].value: [None if t is None else t.value for t in row] for row in result.rows}
    columns = list(result.columns)
    ukraine, russia = rows["Ukraine"], rows["Russia"]
    assert ukraine[columns.index("wdCapitalLabel")] == "Kyiv"
    assert ukraine[columns.index("wdHeadOfStateLabel")] == "Volodymyr Zelenskyy"
    assert ukraine[columns.index("capitalInText")] == "Kyiv"
    assert russia[columns.index("wdCapitalLabel")] == "Moscow" and russia[columns.index("capitalInText")] is None
    assert len(result.rows) == 2
