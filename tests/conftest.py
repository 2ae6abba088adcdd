"""Shared fixtures.

``sample_documents`` / ``sample_quads``: a small hand-made dataset in exactly the
shape of docs/data-model.md -- two news snippets, each in its own named graph,
with entities (linked and unlinked), relations with statement resources, an
event, a claim, NIF provenance and a VoID description in the meta graph.
"""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
import pytest

from kg import iri
from kg.paths import DEFAULT_KB, SEEDS_DIR
from kg.remote.serve import wait_until_answers
from kg.vocab import ITSRDF, KG, NIF, PROV, VOID, WD

# --- terms ----------------------------------------------------------------------------------

RDF_NS = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
XSD_NS = "http://www.w3.org/2001/XMLSchema#"
A = ox.NamedNode(RDF_NS + "type")
LABEL = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label")
ALT_LABEL = ox.NamedNode("http://www.w3.org/2004/02/skos/core#altLabel")
SAME_AS = ox.NamedNode("http://www.w3.org/2002/07/owl#sameAs")


def node(value: object) -> ox.NamedNode:
    """A pyoxigraph IRI from an rdflib URIRef (kg.vocab, kg.iri), a string, or a NamedNode."""
    return value if isinstance(value, ox.NamedNode) else ox.NamedNode(str(value))


def typed(value: object, datatype: str) -> ox.Literal:
    return ox.Literal(str(value), datatype=ox.NamedNode(XSD_NS + datatype))


def entity(type_: str, name: str, qid: str | None = None) -> ox.NamedNode:
    return node(iri.entity_iri(type_, name, qid))


# --- a document builder ---------------------------------------------------------------------


class _Doc:
    """Collects the quads of one document graph, minting IRIs with kg.iri."""

    def __init__(self, doc_id: str, text: str, date: str, url: str):
        self.id, self.text = doc_id, text
        self.graph = node(iri.graph_iri(doc_id))
        self.quads: list[ox.Quad] = []
        self.context = self.span(0, len(text))
        self.add(self.context, A, node(NIF.Context), (NIF.isString, text), (NIF.sourceUrl, node(url)),
                 (KG.documentDate, typed(date, "date")))
        self._offsets(self.context, 0, len(text))
        self._spans = [(m.start(), m.end()) for m in re.finditer(r"\S[^.]*\.", text)]  # sentences
        self.sentences = [self._sentence(start, end) for start, end in self._spans]
        self._phrase_starts: dict[ox.NamedNode, int] = {}

    def add(self, s: ox.NamedNode | ox.BlankNode, p: object, o: object, *more: tuple[object, object]) -> None:
        for pred, obj in ((p, o), *more):
            obj = obj if isinstance(obj, (ox.NamedNode, ox.BlankNode, ox.Literal)) else ox.Literal(str(obj))
            self.quads.append(ox.Quad(s, node(pred), obj, self.graph))

    def span(self, start: int, end: int) -> ox.NamedNode:
        return node(iri.span_iri(self.id, start, end))

    def _offsets(self, s: ox.NamedNode, start: int, end: int) -> None:
        self.add(s, NIF.beginIndex, typed(start, "nonNegativeInteger"),
                 (NIF.endIndex, typed(end, "nonNegativeInteger")))

    def _sentence(self, start: int, end: int) -> ox.NamedNode:
        s = self.span(start, end)
        self.add(s, A, node(NIF.Sentence), (NIF.anchorOf, self.text[start:end]),
                 (NIF.referenceContext, self.context))
        self._offsets(s, start, end)
        return s

    def sentence_of(self, offset: int) -> ox.NamedNode:
        return next(s for s, (start, end) in zip(self.sentences, self._spans) if start <= offset < end)

    def phrase(self, surface: str, nth: int = 0, *, refers_to: ox.NamedNode | None = None, cls: str | None = None,
               extractor: str = "ner", confidence: str = "0.85") -> ox.NamedNode:
        """A mention (the ``nth`` occurrence of ``surface``), linked to the entity it names."""
        start = [m.start() for m in re.finditer(re.escape(surface), self.text)][nth]
        end = start + len(surface)
        p = self.span(start, end)
        self.add(p, A, node(NIF.Phrase), (NIF.anchorOf, surface), (NIF.referenceContext, self.context),
                 (NIF.sentence, self.sentence_of(start)), (KG.extractedBy, extractor),
                 (KG.confidence, typed(confidence, "decimal")))
        self._offsets(p, start, end)
        self._phrase_starts[p] = start
        if refers_to is not None:
            self.add(p, ITSRDF.taIdentRef, refers_to, (ITSRDF.taClassRef, node(KG[cls])))
        return p

    def entity(self, e: ox.NamedNode, cls: str, label: str, *alt_labels: str, qid: str | None = None,
               link_confidence: str = "0.95") -> ox.NamedNode:
        self.add(e, A, node(KG[cls]), (LABEL, label), *((ALT_LABEL, alt) for alt in alt_labels))
        if qid:
            self.add(e, SAME_AS, node(WD[qid]), (KG.linkConfidence, typed(link_confidence, "decimal")))
        return e

    def statement(self, s: ox.NamedNode, prop: str, o: ox.NamedNode, *mentions: ox.NamedNode,
                  confidence: str = "0.9", asserted: bool = True) -> ox.NamedNode:
        """A relation: the plain triple (unless only reported in a claim) and its statement resource."""
        if asserted:
            self.add(s, KG[prop], o)
        stmt = node(iri.hashed_iri("stmt", self.id, s.value, prop, o.value))
        self.add(stmt, A, node(RDF_NS + "Statement"),
                 (RDF_NS + "subject", s), (RDF_NS + "predicate", node(KG[prop])), (RDF_NS + "object", o),
                 (KG.confidence, typed(confidence, "decimal")),
                 (KG.evidence, self.sentence_of(self._phrase_starts[mentions[0]])),
                 *((PROV.wasDerivedFrom, m) for m in mentions))
        return stmt


# --- the sample dataset ---------------------------------------------------------------------

ZELENSKIY = entity("Person", "Volodymyr Zelenskiy", "Q3874799")
GLADKOV = entity("Person", "Vyacheslav Gladkov")
PRESIDENT = entity("Position", "President of Ukraine")
GOVERNOR = entity("Position", "Governor of Belgorod Oblast")
UKRAINE = entity("Country", "Ukraine", "Q212")
RUSSIA = entity("Country", "Russia", "Q159")
KYIV = entity("Settlement", "Kyiv", "Q1899")
BAKHMUT = entity("Settlement", "Bakhmut")
BELGOROD = entity("Settlement", "Belgorod")
BELGOROD_OBLAST = entity("AdministrativeArea", "Belgorod Oblast")
DEFENCE_MINISTRY = entity("Organization", "Russian Defence Ministry")
UNITED_RUSSIA = entity("Organization", "United Russia")
LEGION = entity("MilitaryUnit", "Freedom of Russia Legion")


def _document_a() -> _Doc:
    doc = _Doc(
        "2023-05-24-bakhmut",
        "Ukrainian President Volodymyr Zelenskiy visited Bakhmut on May 23. The Russian Defence Ministry said on "
        "Telegram that its troops had surrounded fighters of the Freedom of Russia Legion near Belgorod.",
        "2023-05-24", "https://example.org/news/2023-05-24-bakhmut",
    )
    doc.entity(ZELENSKIY, "Person", "Volodymyr Zelenskiy", qid="Q3874799", link_confidence="0.97")
    candidate = ox.BlankNode("candidate1")
    doc.add(ZELENSKIY, KG.candidate, candidate)
    doc.add(candidate, A, node(KG.Candidate), (KG.candidateEntity, node(WD.Q4115189)),
            (KG.score, typed("0.4", "decimal")))
    doc.entity(PRESIDENT, "Position", "President of Ukraine")
    doc.entity(UKRAINE, "Country", "Ukraine", qid="Q212")
    doc.entity(BAKHMUT, "Settlement", "Bakhmut")
    doc.entity(DEFENCE_MINISTRY, "Organization", "Russian Defence Ministry", "Defence Ministry")
    doc.entity(LEGION, "MilitaryUnit", "Freedom of Russia Legion")
    doc.entity(BELGOROD, "Settlement", "Belgorod")

    title = doc.phrase("Ukrainian President", refers_to=PRESIDENT, cls="Position", extractor="title")
    zelenskiy = doc.phrase("Volodymyr Zelenskiy", refers_to=ZELENSKIY, cls="Person")
    bakhmut = doc.phrase("Bakhmut", refers_to=BAKHMUT, cls="Settlement")
    ministry = doc.phrase("Russian Defence Ministry", refers_to=DEFENCE_MINISTRY, cls="Organization")
    legion = doc.phrase("Freedom of Russia Legion", refers_to=LEGION, cls="MilitaryUnit", extractor="ruler")
    belgorod = doc.phrase("Belgorod", refers_to=BELGOROD, cls="Settlement")
    visited = doc.phrase("visited", extractor="event")

    doc.statement(ZELENSKIY, "positionHeld", PRESIDENT, zelenskiy, title)
    doc.statement(PRESIDENT, "jurisdiction", UKRAINE, title, confidence="0.8")
    doc.statement(BAKHMUT, "country", UKRAINE, bakhmut, confidence="0.6")

    event = node(iri.hashed_iri("event", doc.id, "Visit", 40))
    doc.add(event, A, node(KG.Visit), (LABEL, "visited"), (KG.participant, ZELENSKIY), (KG.location, BAKHMUT),
            (KG.pointInTime, typed("2023-05-23", "date")), (KG.confidence, typed("0.7", "decimal")),
            (KG.evidence, doc.sentences[0]), (PROV.wasDerivedFrom, visited))

    reported = doc.statement(LEGION, "locatedIn", BELGOROD, legion, belgorod, confidence="0.5", asserted=False)
    claim = node(iri.hashed_iri("claim", doc.id, 71))
    content = "its troops had surrounded fighters of the Freedom of Russia Legion near Belgorod"
    doc.add(claim, A, node(KG.Claim), (KG.claimant, DEFENCE_MINISTRY), (KG.stance, node(KG.asserts)),
            (KG.content, content), (KG.channel, "Telegram"), (KG.pointInTime, typed("2023-05-24", "date")),
            (KG.about, LEGION), (KG.reports, reported), (KG.evidence, doc.sentences[1]),
            (KG.confidence, typed("0.8", "decimal")), (PROV.wasDerivedFrom, ministry))
    return doc


def _document_b() -> _Doc:
    doc = _Doc(
        "2023-05-25-belgorod",
        "Vyacheslav Gladkov, the governor of Belgorod Oblast and a member of United Russia, said shelling hit "
        "Belgorod, a city in Belgorod Oblast in Russia. Zelenskiy spoke from Kyiv, the capital of Ukraine.",
        "2023-05-25", "https://example.org/news/2023-05-25-belgorod",
    )
    doc.entity(GLADKOV, "Person", "Vyacheslav Gladkov")
    doc.entity(GOVERNOR, "Position", "Governor of Belgorod Oblast")
    doc.entity(BELGOROD_OBLAST, "AdministrativeArea", "Belgorod Oblast")
    doc.entity(UNITED_RUSSIA, "Organization", "United Russia")
    doc.entity(BELGOROD, "Settlement", "Belgorod")
    doc.entity(RUSSIA, "Country", "Russia", qid="Q159")
    doc.entity(ZELENSKIY, "Person", "Volodymyr Zelenskiy", "Zelenskiy", qid="Q3874799", link_confidence="0.9")
    doc.entity(KYIV, "Settlement", "Kyiv", qid="Q1899")
    doc.entity(UKRAINE, "Country", "Ukraine", qid="Q212")

    gladkov = doc.phrase("Vyacheslav Gladkov", refers_to=GLADKOV, cls="Person")
    title = doc.phrase("governor of Belgorod Oblast", refers_to=GOVERNOR, cls="Position", extractor="title")
    oblast = doc.phrase("Belgorod Oblast", refers_to=BELGOROD_OBLAST, cls="AdministrativeArea")
    party = doc.phrase("United Russia", refers_to=UNITED_RUSSIA, cls="Organization")
    city = doc.phrase("Belgorod", 1, refers_to=BELGOROD, cls="Settlement")
    oblast2 = doc.phrase("Belgorod Oblast", 1, refers_to=BELGOROD_OBLAST, cls="AdministrativeArea")
    russia = doc.phrase("Russia", 1, refers_to=RUSSIA, cls="Country")
    doc.phrase("Zelenskiy", refers_to=ZELENSKIY, cls="Person")
    kyiv = doc.phrase("Kyiv", refers_to=KYIV, cls="Settlement")
    ukraine = doc.phrase("Ukraine", refers_to=UKRAINE, cls="Country")

    doc.statement(GLADKOV, "positionHeld", GOVERNOR, gladkov, title)
    doc.statement(GOVERNOR, "jurisdiction", BELGOROD_OBLAST, title, oblast, confidence="0.85")
    doc.statement(GLADKOV, "memberOf", UNITED_RUSSIA, gladkov, party, confidence="0.8")
    doc.statement(BELGOROD, "locatedIn", BELGOROD_OBLAST, city, oblast2, confidence="0.75")
    doc.statement(BELGOROD_OBLAST, "country", RUSSIA, oblast2, russia, confidence="0.7")
    doc.statement(KYIV, "capitalOf", UKRAINE, kyiv, ukraine, confidence="0.9")
    return doc


@dataclass(frozen=True)
class SampleDocument:
    """One document of the sample dataset: its graph's quads and its VoID description."""

    id: str
    quads: tuple[ox.Quad, ...]
    metadata: tuple[ox.Quad, ...]


def _sample_documents() -> list[SampleDocument]:
    meta = node(iri.META_GRAPH)
    out = []
    for doc in (_document_a(), _document_b()):
        metadata = (
            ox.Quad(doc.graph, A, node(VOID.Dataset), meta),
            ox.Quad(doc.graph, node(VOID.triples), typed(len(set(doc.quads)), "integer"), meta),
            ox.Quad(doc.graph, node(PROV.wasDerivedFrom), node(iri.document_iri(doc.id)), meta),
        )
        out.append(SampleDocument(doc.id, tuple(doc.quads), metadata))
    return out


@pytest.fixture
def sample_documents() -> list[SampleDocument]:
    """The two sample documents, each with its graph's quads and its meta-graph quads."""
    return _sample_documents()


@pytest.fixture
def sample_quads(sample_documents: list[SampleDocument]) -> list[ox.Quad]:
    """Every quad of the sample dataset: both document graphs and the meta graph."""
    return [q for doc in sample_documents for q in (*doc.quads, *doc.metadata)]


@pytest.fixture
def sample_store(sample_quads: list[ox.Quad]) -> ox.Store:
    """An in-memory pyoxigraph store holding ``sample_quads``."""
    store = ox.Store()
    store.extend(sample_quads)
    return store


# --- the real pipeline on seeds/ (built once per session) -----------------------------------


@pytest.fixture(scope="session")
def pipeline():
    """The real pipeline: the real spaCy model and the compiled knowledge base."""
    from kg.pipeline import Pipeline

    if not DEFAULT_KB.exists():
        pytest.fail(f"no knowledge base at {DEFAULT_KB}: run `make install` (it runs `kg kb build`)")
    with Pipeline() as pipe:
        yield pipe


@pytest.fixture(scope="session")
def seed_store(pipeline, tmp_path_factory):
    """The folder of a store built from seeds/ by the real pipeline; open it read-only."""
    from kg.store import Store

    path = tmp_path_factory.mktemp("seed") / "store"
    with Store.open(path) as st:
        pipeline.build([SEEDS_DIR], st)
    return path


# --- a real local Oxigraph server over a file of RDF --------------------------------------------


@contextmanager
def oxigraph_serving(rdf_file: Path, folder: Path):
    """Load ``rdf_file`` into a new Oxigraph store in ``folder`` and serve it read-only; yields the query URL.

    Skips the test when the ``oxigraph`` server CLI is not installed.
    """
    binary = shutil.which("oxigraph", path=str(Path(sys.executable).parent)) or shutil.which("oxigraph")
    if binary is None:
        pytest.skip("the oxigraph server CLI is not installed")
    subprocess.run([binary, "load", "--location", str(folder / "db"), "--file", str(rdf_file)], check=True,
                   capture_output=True)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen([binary, "serve-read-only", "--location", str(folder / "db"), "--bind", f"127.0.0.1:{port}"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/query"
    try:
        wait_until_answers(f"{url}?query=ASK%7B%7D", process=server, limit=10)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.fixture(scope="session")
def serve_rdf():
    """:func:`oxigraph_serving`, for fixtures that serve a file of RDF from a real Oxigraph server."""
    return oxigraph_serving
