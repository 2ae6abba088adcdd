"""Endpoint addresses, discovery and credentials."""

from __future__ import annotations

import pytest

from kg.errors import QueryError, StoreError
from kg.remote.endpoint import PASSWORD_ENV, USER_ENV, Http, check_url, credentials, discover
from kg.remote.query import query_endpoint


@pytest.fixture
def no_credentials(monkeypatch, tmp_path):
    monkeypatch.delenv(USER_ENV, raising=False)
    monkeypatch.delenv(PASSWORD_ENV, raising=False)
    monkeypatch.setenv("NETRC", str(tmp_path / "absent"))
    return monkeypatch


def test_endpoint_credentials_from_env_then_netrc(no_credentials, tmp_path):
    assert credentials("http://db.example:8890/sparql") is None
    netrc = tmp_path / "netrc"
    netrc.write_text("machine db.example login alice password from-netrc\n")
    netrc.chmod(0o600)
    no_credentials.setenv("NETRC", str(netrc))
    assert credentials("http://db.example:8890/sparql") == ("alice", "from-netrc")
    assert credentials("http://other.example/sparql") is None
    no_credentials.setenv(USER_ENV, "bob")
    no_credentials.setenv(PASSWORD_ENV, "from-env")
    assert credentials("http://db.example:8890/sparql") == ("bob", "from-env")


def test_endpoint_bad_netrc(no_credentials, tmp_path):
    netrc = tmp_path / "netrc"
    netrc.write_text("machine db.example colour blue\n")
    netrc.chmod(0o600)
    no_credentials.setenv("NETRC", str(netrc))
    with pytest.raises(StoreError, match="cannot read credentials from .*netrc"):
        credentials("http://db.example/sparql")


@pytest.mark.parametrize("url", ["http://alice:secret@localhost:7878", "ftp://localhost/", "localhost:7878"])
def test_endpoint_url_refused(url):
    with pytest.raises(StoreError) as info:
        check_url(url)
    assert "secret" not in str(info.value)


def test_endpoint_discovered_as_users_type_it(loaded):
    found = discover(loaded.url)
    assert (found.product, found.query_url, found.update_url, found.gsp_url) == (
        "oxigraph", f"{loaded.url}/query", f"{loaded.url}/update", f"{loaded.url}/store")
    assert discover(f"{loaded.url}/query/") == found
    assert discover(loaded.url, protocol="update").gsp_url is None
    assert discover(loaded.url, gsp_url=f"{loaded.url}/store").gsp_url == f"{loaded.url}/store"


def test_endpoint_unknown_product_probes_the_graph_store(loaded, proxy):
    with proxy(loaded.url, lambda *_: None) as through:  # answers with its own Server header
        found = discover(through.url)
    assert found.product == "unknown" and found.gsp_url == f"{through.url}/store"


def test_endpoint_not_found(loaded):
    with pytest.raises(StoreError, match=r"no SPARQL query service at .*/nothing: tried .*/nothing/query \(HTTP 404\)"):
        discover(f"{loaded.url}/nothing")
    with pytest.raises(StoreError, match="unknown protocol"):
        discover(loaded.url, protocol="ftp")
    with pytest.raises(StoreError, match="connection refused"):
        discover("http://127.0.0.1:9", http=Http(retries=0))


def test_endpoint_query_result_kinds(loaded):
    url = f"{loaded.url}/query"
    assert query_endpoint("ASK { ?s a kg:Person }", url).boolean is True
    graph = query_endpoint("CONSTRUCT { ?s a kg:Person } WHERE { ?s a kg:Person } LIMIT 2", url)
    assert graph.kind == "graph" and len(graph.rows) == 2
    with pytest.raises(QueryError, match="cannot be reached: connection refused"):
        query_endpoint("ASK {}", "http://127.0.0.1:9/query", timeout=1)
