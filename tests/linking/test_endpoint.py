"""The SPARQL endpoint source against a real local Oxigraph server, and its politeness against local HTTP servers.

The endpoint holds the Wikidata-shaped RDF of the same real entities the dump slice holds,
so both sources must compile to knowledge bases that link the same mentions to the same QIDs.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kg.errors import LinkingError
from kg.linking import KnowledgeBase
from kg.linking.endpoint import Polite, SparqlSource, fill, iri, literal, load_kb_query, read_endpoint
from kg.linking.kb import build_default
from kg.linking.linker import link
from kg.linking.wikidata import WD, default_map, read_dump
from kg.paths import KB_QUERIES_DIR
from kg.query import check_query
from kg.records import Document, Entity, Extraction, Mention, Resolution, Sentence

from .conftest import SLICES, serve


def quick(url: str) -> SparqlSource:
    return SparqlSource(url, polite=Polite(min_interval=0.0, backoff=0.0))


def resolution_of(entities: list[tuple[str, str]]) -> Resolution:
    """A document that names each (name, type) once, resolved one entity per name."""
    text = ". ".join(name for name, _ in entities) + "."
    mentions, at = [], 0
    for name, type_ in entities:
        mentions.append(Mention(at, at + len(name), name, type_, 0, name))
        at += len(name) + 2
    ents = tuple(Entity(f"e{i}", type_, name, (), (i,)) for i, (name, type_) in enumerate(entities))
    ex = Extraction(Document("d", text), (Sentence(0, len(text)),), tuple(mentions))
    return Resolution(ex, ents, tuple(e.key for e in ents))


def test_kb_queries_are_valid_sparql_with_empty_values_blocks() -> None:
    names = sorted(p.stem for p in KB_QUERIES_DIR.glob("*.rq"))
    assert names == ["items", "names", "statements"]
    for name in names:
        text = load_kb_query(name)
        check_query(text, f"{name}.rq")
        body = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
        assert "VALUES" in body and not any(token in body for token in ("wd:Q", "wdt:P", "p:P", "ps:P", "pq:P"))


def test_fill_renders_checked_terms_only() -> None:
    assert "<http://www.wikidata.org/entity/Q900000001>" in fill("SELECT * { VALUES ?x { } }", x=[iri(WD + "Q900000001")])
    for bad in ("http://a> } DROP ALL; <x", "not an iri"):
        with pytest.raises(ValueError):
            iri(bad)
    with pytest.raises(ValueError):
        literal('en") } DROP ALL #')
    with pytest.raises(LinkingError, match="no empty VALUES block"):
        fill("SELECT * { }", x=["<http://a>"])


def test_endpoint_reads_the_same_entries_as_the_dump(wikidata_endpoint: str) -> None:
    source = quick(wikidata_endpoint)
    from_endpoint = sorted(read_endpoint(source, batch=7), key=lambda e: e.qid)
    from_dump = sorted((e for p in SLICES for e in read_dump(p)), key=lambda e: e.qid)
    assert from_endpoint and from_endpoint == from_dump
    assert source.polite.requests >= 3  # items page, then names and statements per batch


def test_endpoint_reads_a_qid_list_and_a_class(wikidata_endpoint: str) -> None:
    dumped = {e.qid: e for p in SLICES for e in read_dump(p)}
    some = sorted(dumped)[:3]
    assert {e.qid for e in read_endpoint(quick(wikidata_endpoint), qids=some)} == set(some)
    wmap = default_map()
    people = {q for q, k in wmap.classes.items() if k == "Person"}
    got = list(read_endpoint(quick(wikidata_endpoint), classes=people))
    assert got and {e.type for e in got} == {"Person"} and {e.qid for e in got} == {q for q, e in dumped.items() if e.type == "Person"}


def test_dump_and_endpoint_knowledge_bases_link_the_same_mentions(wikidata_endpoint: str, tmp_path: Path) -> None:
    dumped = list(e for p in SLICES for e in read_dump(p))
    build_default(tmp_path / "dump.sqlite", extra=iter(dumped), bundled=False)
    build_default(tmp_path / "endpoint.sqlite", extra=read_endpoint(quick(wikidata_endpoint)), bundled=False)
    # test mentions: every English-labelled item of the slice, named as it is labelled, typed by its class
    mentions = [(e.label, e.type) for e in dumped if e.label.isascii()]
    res = resolution_of(mentions)
    with KnowledgeBase.open(tmp_path / "dump.sqlite") as a, KnowledgeBase.open(tmp_path / "endpoint.sqlite") as b:
        linked_a = [e.link.qid for e in link(res, a).entities]
        linked_b = [e.link.qid for e in link(res, b).entities]
    assert linked_a == linked_b
    named = [e for e in dumped if e.label.isascii()]
    assert all(q in (e.qid, None) for q, e in zip(linked_a, named))  # never a wrong item
    # every well-known item is linked; obscure ones (a few sitelinks) named once with nothing around may stay NIL
    assert all(q == e.qid for q, e in zip(linked_a, named) if e.prior >= 0.5) and sum(e.prior >= 0.5 for e in named) >= 15


# --------------------------------------------------------------------------- politeness


def sparql_json(rows: list[dict]) -> bytes:
    return json.dumps({"head": {"vars": ["item"]}, "results": {"bindings": rows}}).encode()


def test_endpoint_sends_a_user_agent_and_retries_429_and_5xx() -> None:
    answers = [(429, {"Retry-After": "0"}), (503, {}), (200, {})]

    def respond(service, path, query):
        status, headers = answers[min(len(service.requests) - 1, len(answers) - 1)]
        body = sparql_json([{"item": {"type": "uri", "value": WD + "Q900000001"}}]) if status == 200 else b"busy"
        return status, {"Content-Type": "application/sparql-results+json", **headers}, body

    service = serve(respond)
    waits: list[float] = []
    try:
        source = SparqlSource(service.url + "/sparql", polite=Polite(min_interval=0.0, backoff=0.5, sleep=waits.append))
        rows = source.select("SELECT ?item WHERE { ?item ?p ?o }")
    finally:
        service.stop()
    assert rows[0]["item"]["value"] == WD + "Q900000001"
    assert len(service.requests) == 3
    assert waits == [0.0, 1.0]  # Retry-After first, then the doubled backoff of the second retry
    agent = service.requests[0]["headers"]["User-Agent"]
    assert agent.startswith("kg/") and "(" in agent and "SPARQLWrapper/" in agent


def test_endpoint_gives_up_after_retries_and_refuses_client_errors() -> None:
    status = {"code": 500}

    def respond(service, path, query):
        return status["code"], {}, b"nope"

    service = serve(respond)
    try:
        source = SparqlSource(service.url + "/sparql", polite=Polite(min_interval=0.0, retries=2, backoff=0.0, sleep=lambda s: None))
        with pytest.raises(LinkingError, match="after 3 attempts"):
            source.select("SELECT * WHERE { ?s ?p ?o }")
        status["code"] = 403
        before = len(service.requests)
        with pytest.raises(LinkingError, match="HTTP 403"):
            source.select("SELECT * WHERE { ?s ?p ?o }")
        assert len(service.requests) == before + 1
    finally:
        service.stop()


def test_endpoint_waits_between_requests() -> None:
    waits: list[float] = []
    polite = Polite(min_interval=5.0, sleep=waits.append)
    polite.call(lambda: None, what="first")
    polite.call(lambda: None, what="second")
    assert len(waits) == 1 and 0 < waits[0] <= 5.0


def test_endpoint_unreachable_or_not_sparql(tmp_path: Path) -> None:
    with pytest.raises(LinkingError, match="cannot connect"):
        quick("http://127.0.0.1:9/sparql").select("ASK {}")
    with pytest.raises(LinkingError, match="not an http"):
        SparqlSource("ftp://example.org/sparql")
    service = serve(lambda s, p, q: (200, {"Content-Type": "application/sparql-results+json"}, b"<html>hello</html>"))
    try:
        with pytest.raises(LinkingError, match="SPARQL JSON"):
            quick(service.url + "/sparql").select("SELECT * WHERE { ?s ?p ?o }")
    finally:
        service.stop()
