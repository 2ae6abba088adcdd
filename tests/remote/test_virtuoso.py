"""The exported graph in a second triplestore: OpenLink Virtuoso (Debian's virtuoso-opensource-7-bin).

Virtuoso takes writes only from a logged-in user, through its ``-auth`` services
and HTTP Digest authentication: the password comes from a netrc file, as users
would keep it, and must never be printed.
"""

from __future__ import annotations

from kg.iri import META_GRAPH

DOC_GRAPHS = 'FILTER(STRSTARTS(STR(?g), "https://w3id.org/kg/graph/doc/"))'


def _count_query(tmp_path, where: str):
    path = tmp_path / "count.rq"
    path.write_text(f"# Quads per graph.\nSELECT ?g (COUNT(*) AS ?n) WHERE {{ GRAPH ?g {{ ?s ?p ?o }} {where} }} GROUP BY ?g\n")
    return path


def _counts(kg, query, url) -> dict[str, int]:
    run = kg("query", query, "--endpoint", f"{url}/sparql", "--format", "csv")
    assert run.code == 0, run.err
    return {g: int(n) for g, n in (line.split(",") for line in run.out.splitlines()[1:])}


def test_virtuoso_loads_with_same_triple_count(virtuoso, seed_dataset, seed_store, seed_counts, kg, tmp_path):
    env = {"NETRC": str(virtuoso.netrc)}
    run = kg("-v", "load", seed_dataset, "--endpoint", virtuoso.url, "--batch-size", 500, env=env)
    assert run.code == 0, run.err
    assert "(gsp," in run.err and virtuoso.password not in run.out + run.err
    query = _count_query(tmp_path, DOC_GRAPHS)
    assert _counts(kg, query, virtuoso.url) == seed_counts

    again = kg("load", seed_store, "--endpoint", virtuoso.url, "--protocol", "update", "--batch-size", 400, env=env)
    assert again.code == 0, again.err
    assert _counts(kg, query, virtuoso.url) == seed_counts  # replaced, not duplicated

    # the VoID description, computed by SPARQL on Virtuoso, states the triple count of the local store
    void = tmp_path / "void.rq"
    void.write_text(f"# The dataset's size.\nSELECT ?n WHERE {{ GRAPH <{META_GRAPH}> {{ <{META_GRAPH}#dataset> void:triples ?n }} }}\n")
    remote = kg("query", void, "--endpoint", f"{virtuoso.url}/sparql", "--format", "csv")
    distinct = tmp_path / "distinct.rq"
    distinct.write_text("# Distinct triples.\nSELECT (COUNT(*) AS ?n) WHERE { SELECT DISTINCT ?s ?p ?o WHERE "
                        f"{{ GRAPH ?g {{ ?s ?p ?o }} {DOC_GRAPHS} }} }}\n")
    local = kg("query", distinct, "--store", seed_store, "--format", "csv")
    assert remote.code == local.code == 0, remote.err
    assert remote.out.splitlines()[1:] == local.out.splitlines()[1:]


def test_virtuoso_refuses_without_credentials(virtuoso, seed_dataset, kg, tmp_path):
    run = kg("load", seed_dataset, "--endpoint", virtuoso.url, env={"NETRC": str(tmp_path / "none")})
    assert run.code == 2
    assert "credentials" in run.err and len([l for l in run.err.splitlines() if l.startswith("error:")]) == 1
    wrong = tmp_path / "netrc"
    wrong.write_text("machine 127.0.0.1 login dba password wrong-password\n")
    wrong.chmod(0o600)
    run = kg("load", seed_dataset, "--endpoint", virtuoso.url, env={"NETRC": str(wrong)})
    assert run.code == 2 and "HTTP 401" in run.err and "wrong-password" not in run.err
