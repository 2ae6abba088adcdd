"""Online linking of NIL entities against a local search API (the ``wbsearchentities`` shape) and a real Oxigraph.

The first run asks both services and caches the answers; a second run, with both services gone,
links the same entities from the cache alone.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from kg.errors import LinkingError
from kg.linking.endpoint import Polite
from kg.linking.linker import link
from kg.linking.online import OnlineLinker

from .conftest import country_qid, resolution_of


def sample_qid(slice_entities, label: str) -> str:
    return next(e["id"] for e in slice_entities if e.get("labels", {}).get("en", {}).get("value") == label)


def online(cache: Path, api: str, endpoint: str) -> OnlineLinker:
    return OnlineLinker(cache, api=api, endpoint=endpoint, polite=Polite(min_interval=0.0, retries=0))


def test_online_links_nil_entities_then_works_from_the_cache(tmp_path, default_kb, slice_entities, search_api, wikidata_endpoint):
    warburg, fiorentina = sample_qid(slice_entities, "Warburg"), sample_qid(slice_entities, "ACF Fiorentina")
    germany = country_qid("DE")
    entities = [("Warburg", "Settlement"), ("Germany", "Country"), ("ACF Fiorentina", "Organization"),
                ("Talisker", "Organization"), ("Nobody Atall", "Person")]
    offline = link(resolution_of(entities), default_kb)
    assert [e.link.qid for e in offline.entities] == [None, germany, None, None, None]

    with online(tmp_path / "cache", search_api.url, wikidata_endpoint) as first:
        res = first.link(offline, default_kb)
        assert first.requests > 0
    got = [e.link.qid for e in res.entities]
    assert got == [warburg, germany, fiorentina, None, None]  # Talisker is found, but its class is not a kg class
    assert res.entities[0].type == "Settlement" and res.entities[0].link.confidence >= 0.5
    assert res.entities[1] == offline.entities[1]  # offline links are left alone
    searched = [r["query"]["search"] for r in search_api.requests]
    assert sorted(searched) == sorted(["Warburg", "ACF Fiorentina", "Talisker", "Nobody Atall"])
    assert all(r["headers"]["User-Agent"].startswith("kg/") for r in search_api.requests)

    # the services are gone: the cache answers everything
    with online(tmp_path / "cache", "http://127.0.0.1:9/w/api.php", "http://127.0.0.1:9/sparql") as second:
        again = second.link(offline, default_kb)
        assert second.requests == 0
    assert [e.link.qid for e in again.entities] == got


def test_online_without_the_cache_needs_the_services(tmp_path, default_kb) -> None:
    offline = link(resolution_of([("Warburg", "Settlement")]), default_kb)
    with online(tmp_path / "cache", "http://127.0.0.1:9/w/api.php", "http://127.0.0.1:9/sparql") as linker:
        with pytest.raises(LinkingError, match="cannot connect"):
            linker.link(offline, default_kb)


def test_online_cache_folder_must_be_writable(tmp_path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(LinkingError, match="online cache"):
        OnlineLinker(blocker / "cache")
