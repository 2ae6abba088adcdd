"""Fixtures for the Wikidata readers: real entity JSON, a real Oxigraph server, a local search API.

The Wikidata entities are the real ones in tests/data/wikidata/ (see its README). The SPARQL
endpoint is a real Oxigraph server on localhost loaded with the Wikidata-shaped RDF that
:func:`kg.linking.wikidata.entity_rdf` makes of those entities; the search API is a tiny local
HTTP server answering ``wbsearchentities`` from the same entities, in the API's JSON shape.
"""

from __future__ import annotations

import json
import threading
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pyoxigraph as ox
import pytest

from kg.linking.wikidata import entity_rdf, iter_entities

DATA = Path(__file__).resolve().parents[1] / "data" / "wikidata"
#: The real-entity slices: dump framing (one array, lines ending in commas) and plain JSON lines.
SAMPLE_ITEMS = DATA / "sample_items.json.bz2"
SHORT_STREAM = DATA / "short_stream.json.bz2"
SLICES = (SAMPLE_ITEMS, SHORT_STREAM)



@pytest.fixture(scope="session")
def slice_entities() -> list[dict]:
    """Every entity of the test slices, as parsed JSON."""
    return [e for path in SLICES for e in iter_entities(path)]


@pytest.fixture(scope="session")
def wikidata_endpoint(tmp_path_factory, slice_entities, serve_rdf) -> Iterator[str]:
    """The SPARQL query URL of a local read-only Oxigraph server holding the slices as Wikidata-shaped RDF."""
    folder = tmp_path_factory.mktemp("wikidata-endpoint")
    with (folder / "wd.nt").open("wb") as out:
        ox.serialize([t for e in slice_entities for t in entity_rdf(e)], out, ox.RdfFormat.N_TRIPLES)
    with serve_rdf(folder / "wd.nt", folder) as url:
        yield url


@dataclass
class LocalService:
    """A local HTTP server: its URL and the requests it saw (path, query, headers)."""

    url: str
    requests: list[dict] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()


def serve(respond) -> LocalService:
    """Start a local HTTP server whose answers come from ``respond(service, path, query) -> (status, headers, body)``."""
    service = LocalService("")

    class Handler(BaseHTTPRequestHandler):
        def _answer(self, query: dict) -> None:
            path = urllib.parse.urlsplit(self.path).path
            service.requests.append({"path": path, "query": query, "headers": dict(self.headers)})
            status, headers, body = respond(service, path, query)
            self.send_response(status)
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            self._answer({k: v[0] for k, v in urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query).items()})

        def do_POST(self) -> None:  # noqa: N802
            length = int(self.headers.get("Content-Length", 0))
            form = urllib.parse.parse_qs(self.rfile.read(length).decode("utf-8"))
            self._answer({k: v[0] for k, v in form.items()})

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    service.server, service.url = server, f"http://127.0.0.1:{server.server_address[1]}"
    return service


@pytest.fixture
def search_api(slice_entities) -> Iterator[LocalService]:
    """A local ``wbsearchentities`` answering from the slices' English labels and aliases (prefix match, as the API)."""
    names = [(e["id"], e.get("labels", {}).get("en", {}).get("value", ""),
              [a["value"] for a in e.get("aliases", {}).get("en", [])], e.get("descriptions", {}).get("en", {}).get("value", ""))
             for e in slice_entities]

    def respond(service, path, query):
        if path != "/w/api.php" or query.get("action") != "wbsearchentities":
            return 400, {}, b'{"error": {"code": "badvalue"}}'
        term = query.get("search", "").casefold()
        hits = []
        for qid, label, aliases, description in names:
            matched = next((n for n in [label, *aliases] if n and n.casefold().startswith(term)), None)
            if term and matched:
                hits.append({"id": qid, "title": qid, "concepturi": f"http://www.wikidata.org/entity/{qid}", "label": label,
                             "description": description, "match": {"type": "label" if matched == label else "alias",
                                                                   "language": "en", "text": matched}})
        body = {"searchinfo": {"search": query.get("search", "")}, "search": hits[: int(query.get("limit", 7))], "success": 1}
        return 200, {"Content-Type": "application/json"}, json.dumps(body).encode()

    service = serve(respond)
    service.url += "/w/api.php"
    yield service
    service.stop()


# --------------------------------------------------------------------------- identifiers read from the bundled sources

def source_rows(relpath: str, delimiter: str = ",") -> list[dict[str, str]]:
    import csv

    from kg.paths import KB_SOURCES_DIR

    with (KB_SOURCES_DIR / relpath).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter=delimiter))


def country_qid(iso2: str) -> str:
    """A country's QID, from dr5hn's countries.csv."""
    from kg.linking.sources import SOURCE_FILES

    return next(r["wikiDataId"] for r in source_rows(SOURCE_FILES["dr5hn_countries"]) if r["iso2"] == iso2)


def state_qid(name: str, iso2: str) -> str:
    """A first-level division's QID, from dr5hn's states.csv."""
    from kg.linking.sources import SOURCE_FILES

    return next(r["wikiDataId"] for r in source_rows(SOURCE_FILES["dr5hn_states"]) if r["name"] == name and r["country_code"] == iso2)


def place_qid(name: str, iso2: str) -> str:
    """A populated place's QID, from Natural Earth (by its name or English name)."""
    from kg.linking.sources import SOURCE_FILES

    rows = source_rows(SOURCE_FILES["natural_earth"], "\t")
    return next(r["wikidataid"] for r in rows if name in (r["name"], r["name_en"]) and r["iso_a2"] == iso2)


def resolution_of(entities, text: str | None = None, relations=()):
    """A one-sentence document naming each ``(name, type[, gazetteer QID])`` in turn, one entity per name,
    with ``(subject index, property, object index)`` relations read from it."""
    from kg.records import Document, Entity, Extraction, Mention, Relation, Resolution, Sentence

    text = text or ". ".join(e[0] for e in entities) + "."
    mentions, at = [], 0
    for name, type_, *hint in entities:
        at = text.index(name, at)
        mentions.append(Mention(at, at + len(name), name, type_, 0, name, qid=hint[0] if hint else None))
        at += len(name)
    ents = tuple(Entity(f"e{i}", e[1], e[0], (), (i,)) for i, e in enumerate(entities))
    facts = tuple(Relation(s, prop, o, 0.7, 0) for s, prop, o in relations)
    ex = Extraction(Document("d", text), (Sentence(0, len(text)),), tuple(mentions), facts)
    return Resolution(ex, ents, tuple(e.key for e in ents))


@pytest.fixture(scope="session")
def default_kb():
    from kg.linking import KnowledgeBase
    from kg.paths import DEFAULT_KB

    if not DEFAULT_KB.exists():
        pytest.fail(f"no knowledge base at {DEFAULT_KB}: run `make install` (it runs `kg kb build`)")
    with KnowledgeBase.open(DEFAULT_KB) as kb:
        yield kb
