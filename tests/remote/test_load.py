"""`kg load` and `kg query --endpoint` against a real Oxigraph server."""

from __future__ import annotations

import json
import threading

import pytest

from kg.iri import META_GRAPH, graph_iri
from kg.paths import QUERIES_DIR
from kg.query import format_result, load_query, run_query
from kg.remote.loader import STAGING
from kg.store import Store

QUERIES = [q for q in sorted(QUERIES_DIR.glob("*.rq")) if "federated" not in q.name]
META = str(META_GRAPH)


def _rows(output: str) -> list[dict]:
    return json.loads(output)["results"]["bindings"]


@pytest.mark.parametrize("query", QUERIES, ids=lambda q: q.name)
def test_load_queries_give_local_rows(loaded, seed_store, kg, query):
    with Store.open(seed_store, read_only=True) as st:  # what `kg query QUERY --store` prints
        local = format_result(run_query(load_query(query), st), "json")
    remote = kg("query", query, "--endpoint", f"{loaded.url}/query", "--format", "json")
    assert remote.code == 0, remote.err
    assert _rows(remote.out) == _rows(local)
    assert _rows(local)  # every bundled query answers on the seed (tests/pipeline/test_seed.py)


def test_load_one_graph_per_document_plus_meta(loaded, seed_counts, seed_store):
    with Store.open(seed_store, read_only=True) as st:
        documents = st.documents()
    counts = loaded.graph_counts()
    assert set(counts) == {str(graph_iri(d)) for d in documents} | {META}
    assert {g: n for g, n in counts.items() if g != META} == seed_counts


def test_load_param_bound_as_value(loaded, seed_store, kg):
    query = QUERIES_DIR / "people-positions.rq"
    names = {row["name"]["value"] for row in _rows(kg("query", query, "--store", seed_store, "--format", "json").out)}
    name = sorted(names)[0]
    local = kg("query", query, "--store", seed_store, "--param", f"name={name}", "--format", "json")
    remote = kg("query", query, "--endpoint", f"{loaded.url}/query", "--param", f"name={name}", "--format", "json")
    assert _rows(remote.out) == _rows(local.out) and _rows(remote.out)
    assert {row["name"]["value"] for row in _rows(remote.out)} == {name}
    hostile = kg("query", query, "--endpoint", f"{loaded.url}/query", "--param", 'name=x" } } ; DROP ALL ; #',
                 "--format", "json")
    assert hostile.code == 0 and _rows(hostile.out) == []
    assert len(loaded.graph_counts()) > 1  # nothing was dropped


def test_load_query_endpoint_errors(loaded, kg, tmp_path):
    bad = tmp_path / "bad.rq"
    bad.write_text("SELECT ?s\nWHERE { ?s a kg:Person")
    run = kg("query", bad, "--endpoint", f"{loaded.url}/query")
    assert run.code == 2 and f"{bad}:2:" in run.err  # checked before any request
    run = kg("query", QUERIES_DIR / "events.rq", "--endpoint", loaded.url)
    assert run.code == 2 and "/query (Oxigraph)" in run.err and len(run.err.strip().splitlines()) == 1
    run = kg("query", QUERIES_DIR / "events.rq", "--endpoint", f"{loaded.url}/query", "--param", "nobody=x")
    assert run.code == 2 and "not a variable of the query's SELECT clause" in run.err


@pytest.mark.parametrize("how", [("store", "auto"), ("file", "gsp"), ("file", "update")], ids="-".join)
def test_load_again_replaces_without_duplicates(start_oxigraph, seed_store, seed_dataset, seed_counts, kg, how):
    """Loading the same documents twice, from the store or a file, by GSP or by SPARQL Update: same triples."""
    source, protocol = how
    server = start_oxigraph()
    first = kg("load", seed_store, "--endpoint", server.url, "--quiet")
    assert first.code == 0, first.err
    before = {g: server.graph(g) for g in server.graph_counts() if g != META}
    again = kg("load", seed_store if source == "store" else seed_dataset, "--endpoint", server.url,
               "--protocol", protocol, "--batch-size", 300)
    assert again.code == 0, again.err
    assert f"({protocol if protocol != 'auto' else 'gsp'}," in again.err
    counts = server.graph_counts()
    assert {g: n for g, n in counts.items() if g != META} == seed_counts
    assert {g: server.graph(g) for g in counts if g != META} == before
    assert not [g for g in counts if g.startswith(STAGING)]


def test_load_void_in_meta_graph(loaded, seed_counts):
    rows = loaded.select(f"""PREFIX void: <http://rdfs.org/ns/void#> PREFIX dcterms: <http://purl.org/dc/terms/>
        SELECT ?triples ?documents ?created ?links WHERE {{ GRAPH <{META}> {{
          <{META}#dataset> void:triples ?triples ; void:documents ?documents ; dcterms:created ?created ;
                           void:subset ?linkset . ?linkset a void:Linkset ; void:triples ?links }} }}""")
    assert len(rows) == 1
    distinct = loaded.select('SELECT (COUNT(*) AS ?n) WHERE { SELECT DISTINCT ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } '
                             'FILTER(STRSTARTS(STR(?g), "https://w3id.org/kg/graph/doc/")) } }')
    assert int(rows[0]["triples"]) == int(distinct[0]["n"])
    assert int(rows[0]["documents"]) == len(seed_counts)
    same_as = loaded.select("SELECT (COUNT(*) AS ?n) WHERE { SELECT DISTINCT ?e ?w WHERE { GRAPH ?g { ?e owl:sameAs ?w } "
                            'FILTER(STRSTARTS(STR(?w), "http://www.wikidata.org/entity/")) } }'.replace(
                                "owl:sameAs", "<http://www.w3.org/2002/07/owl#sameAs>"))
    assert int(rows[0]["links"]) == int(same_as[0]["n"]) > 0


def _bigger(seed_dataset, tmp_path, extra: int = 3000) -> tuple:
    """The seed graph with ``extra`` more triples in its document graph and a second document graph."""
    lines = seed_dataset.read_text(encoding="utf-8").splitlines()
    graph = lines[0].rsplit(" ", 2)[-2]
    more = [f'<https://w3id.org/kg/id/test/{i}> <https://w3id.org/kg/ontology#mentionCount> "{i}" {graph} .'
            for i in range(extra)]
    second = '<https://w3id.org/kg/graph/doc/second>'
    more += [f'<https://w3id.org/kg/id/test/{i}> <https://w3id.org/kg/ontology#score> "{i}" {second} .' for i in range(50)]
    path = tmp_path / "bigger.nq"
    path.write_text("\n".join(lines + more) + "\n", encoding="utf-8")
    return path, second.strip("<>")


@pytest.mark.parametrize("when", ["staging", "commit-sent", "commit-running"])
def test_load_server_killed_mid_load_keeps_previous_graphs(start_oxigraph, seed_store, seed_dataset, seed_counts,
                                                           kg, proxy, tmp_path, when):
    """SIGKILL the server while staging, as the commit is sent, or while the server runs it (old or new then)."""
    server = start_oxigraph()
    assert kg("load", seed_store, "--endpoint", server.url, "--quiet").code == 0
    before = {g: server.graph(g) for g in server.graph_counts()}
    bigger, second = _bigger(seed_dataset, tmp_path, extra=3000 if when != "commit-running" else 20000)
    killer: list[threading.Timer] = []

    def kill(method: str, path: str, n: int) -> int | None:
        staging_posts = sum(1 for m, p in through.seen if m == "POST" and p.startswith("/store"))
        commit = method == "POST" and path.startswith("/update") and staging_posts >= 5
        if when == "staging" and staging_posts == 3 or when == "commit-sent" and commit:
            server.kill()
            return 502
        if when == "commit-running" and commit and not killer:
            killer.append(threading.Timer(0.3, server.kill))
            killer[0].start()
        return None

    with proxy(server.url, kill) as through:
        run = kg("load", bigger, "--endpoint", through.url, "--batch-size", 500, "--retries", 1, "--timeout", 5)
    for timer in killer:
        timer.join()
    assert server.process.poll() is not None  # it was killed during the load
    server.start()  # on the same store folder
    new = {g: server.graph(g) for g in before}
    document = next(g for g in seed_counts)
    if when == "commit-running" and run.code == 0:  # the commit was through before the kill: all new
        assert len(new[document]) == seed_counts[document] + 20000 and server.graph(second)
    else:
        assert run.code == 2, run.err
        assert len([line for line in run.err.splitlines() if line.startswith("error: ")]) == 1, run.err
        assert new == before  # every graph as it was, the meta graph too
        assert server.graph(second) == set()
    after = kg("load", bigger, "--endpoint", server.url, "--quiet")
    assert after.code == 0, after.err
    counts = server.graph_counts()
    assert not [g for g in counts if g.startswith(STAGING)]  # an interrupted load's staging graphs are gone
    assert counts[document] == seed_counts[document] + (3000 if when != "commit-running" else 20000)
    assert counts[second] == 50


def test_load_retries_with_backoff(start_oxigraph, seed_dataset, seed_counts, kg, proxy):
    server = start_oxigraph()

    def unavailable(method: str, path: str, n: int) -> int | None:
        return 503 if method == "POST" and path.startswith("/store") and n % 2 else None  # every other upload

    with proxy(server.url, unavailable) as proxy_:
        run = kg("-v", "load", seed_dataset, "--endpoint", proxy_.url, "--batch-size", 500, "--retries", 2)
    assert run.code == 0, run.err
    assert "HTTP 503; retrying in 0.5s" in run.err
    assert {g: n for g, n in server.graph_counts().items() if g != META} == seed_counts


def test_load_refused_and_unreachable(start_oxigraph, seed_dataset, kg, tmp_path):
    run = kg("load", seed_dataset, "--endpoint", "http://127.0.0.1:9", "--retries", 0)
    assert run.code == 2 and "connection refused" in run.err and len(run.err.strip().splitlines()) == 1
    run = kg("load", seed_dataset, "--endpoint", "http://dba:secret@127.0.0.1:9")
    assert run.code == 2 and "secret" not in run.err and "KG_ENDPOINT_USER" in run.err
    server = start_oxigraph()
    turtle = tmp_path / "g.ttl"
    turtle.write_text('<http://example.org/s> <http://example.org/p> "o" .\n')
    run = kg("load", turtle, "--endpoint", server.url)
    assert run.code == 2 and "--graph" in run.err
    assert kg("load", turtle, "--endpoint", server.url, "--graph", "http://example.org/g").code == 0
    assert server.graph_counts()["http://example.org/g"] == 1
    broken = tmp_path / "broken.nq"
    broken.write_text(seed_dataset.read_text().splitlines()[0] + "\n<http://example.org/s> <oops\n")
    run = kg("load", broken, "--endpoint", server.url)
    assert run.code == 2 and f"{broken}:2" in run.err
    assert set(server.graph_counts()) == {"http://example.org/g", META}  # nothing of the broken file
