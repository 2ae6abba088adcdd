"""Valid RDF from any text: generated hostile text through IRI minting, graph building and all six formats.

Two property tests share one generator of hostile strings (every script, combining
marks, RTL, emoji, ``<>"{}|\\^```, backslashes, newlines, control characters, lone
surrogates, 10,000-character tokens, names that look like N-Triples):

* a fast one builds random but well-formed pipeline records (``kg.records``) and
  checks :func:`kg.export.graph.document_quads`, each of the six serializations
  (written by :func:`kg.export.serialize.write_quads`, parsed back strictly by
  pyoxigraph, RDF/XML also by expat) and the store;
* a slower one runs the real pipeline (spaCy, rules, linking) on hostile text.

``KG_FUZZ_EXAMPLES`` raises the number of examples (``make fuzz``).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pyoxigraph as ox
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from kg import iri
from kg.export import FORMATS, dumps
from kg.export.graph import document_quads
from kg.reading import iter_documents
from kg.records import ENTITY_TYPES, Candidate, Claim, Document, Entity, Event, Extraction, Link, Mention, Relation, Resolution, Sentence
from kg.store import Store
from kg.vocab import KG, NIF

from .helpers import XML_FORBIDDEN, as_stored, assert_valid_terms, assert_well_formed_xml, is_iri, run_kg

EXAMPLES = int(os.environ.get("KG_FUZZ_EXAMPLES", "2000"))
FAST = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
STORE = settings(FAST, max_examples=max(200, EXAMPLES // 10))
SLOW = settings(FAST, max_examples=max(60, EXAMPLES // 30))

# QIDs for the link fields, read from the gold file rather than written here
QIDS = sorted(set(re.findall(r'"(Q[1-9][0-9]*)"', (Path(__file__).parents[1] / "data" / "seed.gold.json").read_text())))
RELATIONS = ["positionHeld", "memberOf", "employer", "militaryBranch", "country", "locatedIn", "partOf",
             "citizenship", "headquarters", "jurisdiction", "capitalOf"]
EVENTS = ["Event", "Attack", "Incursion", "Battle", "Visit", "Meeting", "Call", "Appointment", "Dismissal"]

# --- hostile text ---------------------------------------------------------------------------

PIECES = [
    "Foo> . <x> <y> <z>", '" .\n<http://evil.example/s> <http://evil.example/p> "o', "_:b0", "<>", "\"\"\"", "'''",
    "\\", "\\u0022", "\\n", "{}", "|", "^^", "`", "@en", "@context", '{"@id": "x"}', "]]>", "<!--", "&amp;", "&#1;",
    "%", "%00", "%zz", "#", "#char=1,2", "?", "..", ".", "../..", "/", "//", ":", "kgr:", "http://example.org/",
    " ", "\t", "\n", "\r\n", "\r", "\x00", "\x01", "\x08", "\x0b", "\x0c", "\x1b[31m", "\x7f", "\x85", "\u2028",
    "\u2029", "\u200b", "\u200d", "\u200e", "\u200f", "\u202e", "\u2066", "\ufeff", "\ufffd", "\ufffe", "\uffff",
    "\ud800", "\udfff", "\ud83d", "\ue000", "\U000f0000", "\U0010fffd", "\U000e0001", "e\u0301", "\u0301\u0302\u0303",
    "Z\u0351\u0363\u0308a\u0352\u0359l\u0315go", "😀", "👩\u200d👩\u200d👧", "🇺🇦", "Зеленський", "Москва", "זלנסקי", "زيلينسكي",
    "習近平", "東京都", "ไทย", "หิน", "हिन्दी", "한국어", "Ελλάδα", "ᚠᛇᚻ", "ǅ", "ß", "İstanbul", "ﬁ", "²", "Ⅻ", "_",
    "Volodymyr Zelenskiy", "President of Ukraine", "Kyiv", "Russian Defence Ministry",
]
characters = st.characters(blacklist_categories=())  # every code point, lone surrogates included
pieces = st.sampled_from(PIECES)
# few choices per string, so thousands of examples stay cheap to generate
short_hostile = st.one_of(
    st.text(characters, max_size=10),
    pieces,
    st.tuples(pieces, st.text(characters, max_size=4), pieces).map("".join),
)
long_token = st.tuples(st.sampled_from(PIECES + ["a", "я", "😀"]), short_hostile).map(
    lambda pair: (pair[0] * 10_000)[:10_000] + pair[1]
)
# one string in ten carries a 10,000-character token: enough to find length bugs, cheap enough for thousands of runs
any_hostile = st.one_of(*[short_hostile] * 9, long_token)

_UNSAFE = re.compile("[" + "".join(sorted(XML_FORBIDDEN)) + "\ud800-\udfff]")


def normalized(text: str) -> str:
    """What the reader makes of ``text``: line ends as LF, then as :func:`clean`."""
    return clean(text.replace("\r\n", "\n"))


def clean(text: str) -> str:
    """What a literal holds for ``text``: XML-forbidden characters and lone surrogates as U+FFFD, CR as LF."""
    return _UNSAFE.sub("\ufffd", text.replace("\r", "\n"))


unit = st.sampled_from([0.0, 0.05, 0.5, 0.999, 1.0])
dates = st.one_of(st.none(), st.dates().map(lambda d: d.isoformat()))


@st.composite
def resolutions(draw) -> Resolution:
    """A well-formed Resolution (indexes and offsets consistent) full of hostile strings."""
    text = draw(any_hostile)
    n = len(text)
    doc = Document(
        id=draw(st.one_of(any_hostile.filter(bool), st.sampled_from(["a.txt", "seeds/x.md", "f.jsonl#3"]))),
        text=text,
        source=draw(short_hostile),
        date=draw(dates),
        title=draw(st.one_of(st.none(), short_hostile)),
    )
    cuts = sorted({0, n, *draw(st.lists(st.integers(0, n), max_size=3))})
    sentences = tuple(Sentence(a, b) for a, b in zip(cuts, cuts[1:])) or (Sentence(0, n),)
    sentence = st.integers(0, len(sentences) - 1)
    span = st.tuples(st.integers(0, n), st.integers(0, n)).map(sorted)
    mentions, entities, mention_entity = [], [], []
    for i, (start, end) in enumerate(draw(st.lists(span, max_size=4))):
        mentions.append(Mention(start, end, text[start:end], draw(st.sampled_from(ENTITY_TYPES)), draw(sentence),
                                draw(any_hostile), confidence=draw(unit)))
        if entities and draw(st.booleans()):  # another mention of an earlier entity, or a dropped one
            mention_entity.append(draw(st.sampled_from([entities[-1].key, None])))
            continue
        link = Link(draw(st.one_of(st.none(), st.sampled_from(QIDS))), draw(unit),
                    tuple(Candidate(qid, label, "Person", 0.5) for qid, label in
                          draw(st.lists(st.tuples(st.sampled_from(QIDS), short_hostile), max_size=2))))
        entities.append(Entity(f"e{i}", draw(st.sampled_from(ENTITY_TYPES)), draw(any_hostile),
                               tuple(draw(st.lists(short_hostile, max_size=2))), (i,), link))
        mention_entity.append(f"e{i}")
    claims, relations, events = [], [], []
    if mentions:
        idx = st.integers(0, len(mentions) - 1)
        for start, end in draw(st.lists(span, max_size=2)):
            claims.append(Claim(draw(idx), draw(short_hostile), draw(st.sampled_from(["asserts", "denies"])),
                                draw(sentence), start, end, channel=draw(st.one_of(st.none(), short_hostile)),
                                date=draw(dates), about=(draw(idx),)))
        claim = st.one_of(st.none(), st.integers(0, len(claims) - 1)) if claims else st.none()
        for subject, prop, object_ in draw(st.lists(st.tuples(idx, st.sampled_from(RELATIONS), idx), max_size=3)):
            relations.append(Relation(subject, prop, object_, draw(unit), draw(sentence), draw(claim)))
        for start, end in draw(st.lists(span, max_size=2)):
            events.append(Event(draw(st.sampled_from(EVENTS)), start, end, text[start:end], draw(sentence),
                                (draw(idx),), (draw(idx),), date=draw(dates), claim=draw(claim)))
    extraction = Extraction(doc, sentences, tuple(mentions), tuple(relations), tuple(events), tuple(claims))
    return Resolution(extraction, tuple(entities), tuple(mention_entity))


# --- the checks -----------------------------------------------------------------------------


def check_every_format(quads: list[ox.Quad]) -> None:
    """Each of the six serializations parses back strictly to exactly ``quads`` (their union for triple formats)."""
    dataset = set(quads)
    triples = {q.triple for q in quads}
    for name, spec in FORMATS.items():
        data = dumps(quads, name)  # the bytes write_quads writes
        if name == "rdfxml":
            assert_well_formed_xml(data)
        parsed = list(ox.parse(data, format=spec.rdf_format))  # no base IRI: a relative IRI would fail
        if spec.rdf_format.supports_datasets:
            assert set(parsed) == dataset, name
        else:
            assert {q.triple for q in parsed} == triples, name


@pytest.fixture(scope="module")
def scratch_store(tmp_path_factory):
    with Store.open(tmp_path_factory.mktemp("hostile") / "store") as store:
        yield store


@settings(FAST, max_examples=max(500, EXAMPLES // 4))
@given(text=any_hostile, type_=st.sampled_from(ENTITY_TYPES), kind=st.sampled_from(["stmt", "event", "claim"]),
       start=st.integers(0, 10**9), end=st.integers(0, 10**9), qid=st.sampled_from(QIDS))
def test_hostile_text_iris_are_rfc3987(text, type_, kind, start, end, qid):
    """Every IRI kg mints from any name or document id is an absolute RFC 3987 IRI that pyoxigraph accepts."""
    minted = [iri.entity_iri(type_, text), iri.entity_iri(type_, text, qid=qid), iri.document_iri(text),
              iri.graph_iri(text), iri.span_iri(text, start, end), iri.hashed_iri(kind, text, start)]
    for value in map(str, minted):
        assert is_iri(value), value
        assert ox.NamedNode(value).value == value
        assert list(ox.parse(f"<{value}> <{value}> <{value}> .", format=ox.RdfFormat.N_TRIPLES))
    assert iri.entity_iri(type_, text) == iri.entity_iri(type_, text)  # deterministic
    assert len(iri.slug(text)) <= 80


@FAST
@given(res=resolutions())
def test_hostile_text_document_graph_valid_in_all_six_formats(res):
    """The graph of any document is valid RDF: strict IRIs, XML-safe literals, identical in all six formats."""
    quads = document_quads(res)
    assert_valid_terms(quads)
    doc = res.extraction.document
    context = ox.NamedNode(str(iri.span_iri(doc.id, 0, len(doc.text))))
    texts = [q.object for q in quads if q.subject == context and q.predicate.value == str(NIF.isString)]
    assert texts == [ox.Literal(clean(doc.text))]  # the literal holds the text exactly, as XML can carry it
    labels = {q.object.value for q in quads if q.predicate.value == "http://www.w3.org/2000/01/rdf-schema#label"}
    assert {clean(e.name) for e in res.entities} <= labels
    check_every_format(quads)


@STORE
@given(res=resolutions())
def test_hostile_text_document_graph_survives_the_store(res, scratch_store):
    """The store keeps any document's graph exactly, under its exact id (the SPARQL update carries every term)."""
    quads = document_quads(res)
    doc_id = res.extraction.document.id
    assert scratch_store.replace_document(doc_id, quads) == len(set(quads))
    assert scratch_store.documents() == [doc_id]
    assert set(scratch_store.quads()) == as_stored(quads)
    scratch_store.replace_document(doc_id, [])
    assert scratch_store.documents() == []


# --- the real pipeline ----------------------------------------------------------------------

sentence_like = st.lists(
    st.one_of(st.sampled_from(PIECES), st.sampled_from(["said", "visited", "the", "of", "President", "Governor", ".",
                                                        ",", "in", "met", "denied", "on May 23"]), st.text(characters, max_size=6)),
    min_size=1, max_size=25,
).map(" ".join)


@SLOW
@given(texts=st.lists(st.one_of(sentence_like, any_hostile), min_size=1, max_size=3), ascii_json=st.booleans())
def test_hostile_text_through_the_pipeline(pipeline, tmp_path_factory, texts, ascii_json):
    """Hostile text read from JSONL and .txt files, through spaCy, the rules and the linker, gives valid RDF."""
    folder = tmp_path_factory.mktemp("hostile")
    lines = [json.dumps({"id": f"j{i}", "text": t}, ensure_ascii=ascii_json) for i, t in enumerate(texts)]
    (folder / "docs.jsonl").write_bytes("\n".join(lines).encode("utf-8", "surrogatepass") + b"\n")
    if "\x00" not in texts[0]:  # a NUL byte makes a .txt file binary, refused
        (folder / "raw.txt").write_bytes(texts[0].encode("utf-8", "surrogatepass"))  # lone surrogates: invalid UTF-8
    docs = list(iter_documents([folder], skip_bad=True))
    # a raw lone surrogate makes the line invalid UTF-8: the reader then sees three U+FFFD for it
    as_read = [json.loads(line.encode("utf-8", "surrogatepass").decode("utf-8", "replace"))["text"] for line in lines]
    expected = {f"j{i}": normalized(t) for i, t in enumerate(as_read)}
    assert {d.id: d.text for d in docs if d.id.startswith("j")} == {k: v for k, v in expected.items() if v.strip()}
    for res in pipeline.resolutions(docs):
        text = res.extraction.document.text
        for m in res.extraction.mentions:
            assert 0 <= m.start <= m.end <= len(text) and m.text == text[m.start : m.end]
        quads = document_quads(res)
        assert_valid_terms(quads)
        check_every_format(quads)


def test_hostile_text_through_kg_build(tmp_path):
    """``kg build`` on hostile JSONL, then ``kg export`` to each format: every file parses back to the same graph."""
    samples = [
        "Ukrainian President Volodymyr Zelenskiy visited Kyiv. Foo> . <x> <y> <z> said \"hi\" {} | \\ ^ `",
        "Зеленський відвідав Київ. זלנסקי ביקר בקייב. 習近平 visited 東京都 😀👩\u200d👩\u200d👧 e\u0301\u0302",
        "Control \x01\x02\x1b[31m characters\x0b\x0c and\r\nWindows\rline ends, \ufffe \uffff \ud800 lone.",
        "The Governor of Belgorod Oblast, Vyacheslav Gladkov, said " + "x" * 10_000 + " drones hit Belgorod.",
        "\u202eRTL override\u202c and \u200f marks; <script>alert(1)</script> &amp; ]]> <!-- --> %00 %zz",
    ]
    lines = [json.dumps({"id": f"../{i}/<{i}> \"x\" #frag?q", "text": t, "title": t[:20]}) for i, t in enumerate(samples)]
    source = tmp_path / "hostile.jsonl"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    store = tmp_path / "store"
    built = run_kg("build", source, "--store", store, "--quiet")
    assert built.code == 0, built.stderr
    graphs = []
    for name, spec in FORMATS.items():
        out = tmp_path / f"all{spec.extensions[0]}"
        assert run_kg("export", "-o", out, "--store", store).code == 0
        if name == "rdfxml":
            assert_well_formed_xml(out.read_bytes())
        parsed = list(ox.parse(path=str(out)))
        assert_valid_terms(parsed)
        graphs.append({q.triple for q in parsed})
    assert all(g == graphs[0] for g in graphs)
    with Store.open(store, read_only=True) as st_:
        assert st_.documents() == sorted(json.loads(line)["id"] for line in lines)
        stored = {q.triple for q in st_.quads()}
    assert graphs[0] == stored
    assert any(str(KG.Person) == t.object.value for t in stored)  # the pipeline still read the names
