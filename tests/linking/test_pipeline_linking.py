"""Linking inside the real pipeline (spaCy model, default knowledge base): enrichment, NIF export, scores on the seed gold."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import rdflib

from kg.evaluation import evaluate
from kg.evaluation.linking import decisions, predict, samples
from kg.export.graph import graph_quads
from kg.export.nif import write_nif
from kg.iri import KB_GRAPH
from kg.linking.endpoint import Polite
from kg.linking.online import OnlineLinker
from kg.paths import SEEDS_DIR
from kg.records import Document
from kg.store import Store

from .conftest import place_qid, state_qid

GOLD = Path(__file__).resolve().parents[1] / "data" / "seed.gold.json"
NIF = rdflib.Namespace("http://persistence.uni-leipzig.org/nlp2rdf/ontologies/nif-core#")
ITSRDF = rdflib.Namespace("http://www.w3.org/2005/11/its/rdf#")


@pytest.fixture(scope="module")
def pipeline():
    from kg.pipeline import Pipeline

    with Pipeline() as pipe:
        yield pipe


@pytest.fixture(scope="module")
def seed_stores(pipeline, tmp_path_factory) -> tuple[Path, Path]:
    """The seed built twice: plain and with --enrich."""
    folder = tmp_path_factory.mktemp("seed")
    for name, enrich in (("plain", False), ("enriched", True)):
        with Store.open(folder / name) as st:
            pipeline.build([SEEDS_DIR], st, enrich=enrich)
    return folder / "plain", folder / "enriched"


def by_graph(path: Path) -> dict[str, set]:
    out: dict[str, set] = {}
    with Store.open(path, read_only=True) as st:
        for q in st.quads():
            out.setdefault(q.graph_name.value, set()).add(q.triple)
    return out


def test_enrich_keeps_the_document_graphs_as_they_are(seed_stores) -> None:
    plain, enriched = (by_graph(p) for p in seed_stores)
    assert str(KB_GRAPH) not in plain and enriched.get(str(KB_GRAPH))
    assert {g: t for g, t in enriched.items() if g != str(KB_GRAPH)} == plain


def test_nif_export_parses_and_points_at_wikidata(seed_stores, tmp_path) -> None:
    out = tmp_path / "seed.nif.ttl"
    with Store.open(seed_stores[1], read_only=True) as st:
        n = write_nif(st.pyoxigraph, out)
    g = rdflib.Graph().parse(out, format="turtle")
    assert len(g) == n
    contexts = list(g.subjects(rdflib.RDF.type, NIF.Context))
    assert len(contexts) == 1
    text = str(g.value(contexts[0], NIF.isString))
    phrases = list(g.subjects(rdflib.RDF.type, NIF.Phrase))
    assert len(phrases) > 20
    for p in phrases:
        begin, end = int(g.value(p, NIF.beginIndex)), int(g.value(p, NIF.endIndex))
        assert text[begin:end] == str(g.value(p, NIF.anchorOf))
        assert g.value(p, NIF.referenceContext) == contexts[0] and g.value(p, ITSRDF.taIdentRef) is not None
    gold = json.loads(GOLD.read_text(encoding="utf-8"))
    refs = {str(g.value(p, NIF.anchorOf)): str(g.value(p, ITSRDF.taIdentRef)) for p in phrases}
    for entity in gold["entities"]:
        if entity.get("qid") and entity["name"] in refs:
            assert refs[entity["name"]] == "http://www.wikidata.org/entity/" + entity["qid"], entity["name"]
    assert any(not r.startswith("http://www.wikidata.org/") for r in refs.values())  # NIL mentions keep kg's own IRIs
    assert not re.search(r"Statement|kg:Claim", out.read_text(encoding="utf-8"))


def test_linking_scores_on_the_seed_gold(pipeline) -> None:
    score = evaluate(GOLD, pipeline=pipeline)
    c = score.as_dict()["link_counts"]
    assert c["link_gold"] >= 10 and c["nil_gold"] >= 10
    assert score.link_precision == 1.0 and c["link_fp"] == 0
    assert score.link_recall >= 0.9 and score.nil_accuracy >= 0.9
    assert score.link_f1 == pytest.approx(2 * score.link_precision * score.link_recall / (score.link_precision + score.link_recall), abs=1e-3)


def test_linking_confidences_are_calibrated_on_the_seed_gold(pipeline) -> None:
    from kg.evaluation.gold import read_gold
    from kg.extraction import extract_doc
    from kg.resolution import resolve

    (gold, document), = read_gold(GOLD)
    doc = pipeline.extractor.parse([document])[0]
    unlinked = resolve(extract_doc(doc, document, pipeline.kb), pipeline.kb)
    data = samples([(gold, unlinked)], pipeline.kb)
    p = predict(data)
    right = [x for x, s in zip(p, data) if s.label]
    wrong = [x for x, s in zip(p, data) if not s.label]
    assert right and wrong
    assert min(right) >= 0.5 and sum(right) / len(right) >= 0.85 and max(wrong) < 0.5
    d = decisions(data, p)  # one decision per entity: every gold QID linked, nothing else
    assert d["precision"] == 1.0 and d["recall"] == 1.0 and d["nil_linked"] == 0


def _entities(pipeline, text: str):
    return next(pipeline.resolutions([Document("t", text)])).entities


def test_a_copula_gives_a_list_of_places_its_class(pipeline) -> None:
    # "in eastern Sumy" alone reads as the city; the second sentence says the name is a region's
    text = "Officials toured a command post in eastern Sumy on Monday. Sumy and Chernihiv are the regions that border Russia."
    sumy = next(e for e in _entities(pipeline, text) if e.name.startswith("Sumy"))
    assert sumy.type == "AdministrativeArea"
    assert sumy.link.qid != place_qid("Sumy", "UA")
    assert sumy.link.candidates[0].qid == state_qid("Sumska", "UA")


def test_the_class_the_text_gives_beats_the_gazetteers(pipeline) -> None:
    # the knowledge base holds the governorate of that name, not the city
    text = "Aid trucks reached the border city of Rafah on Sunday. Witnesses described damage in Rafah."
    rafah = next(e for e in _entities(pipeline, text) if "Rafah" in e.name)
    assert rafah.type == "Settlement" and rafah.link.qid is None


def test_a_name_the_text_gives_a_town_and_a_region_makes_two_nodes(pipeline) -> None:
    text = ("Officials visited the Mykolaiv region on Monday. Russian troops left Mykolaiv city in November. "
            "Mykolaiv and Odesa are regions on the Black Sea.")
    res = next(pipeline.resolutions([Document("t", text)]))
    places = {e.link.qid: e for e in res.entities if "Mykolaiv" in e.name}
    city, region = place_qid("Mykolaiv", "UA"), state_qid("Mykolaivska", "UA")
    assert set(places) == {city, region}
    assert places[city].type == "Settlement" and places[region].type == "AdministrativeArea"
    assert len(places[region].mentions) == 2  # "the Mykolaiv region" and the "Mykolaiv" of the list
    # the region's mention "Mykolaiv" is no alias of it in the graph: a lookup by that name finds the town
    alt = {q.object.value for q in graph_quads(res) if q.predicate.value.endswith("#altLabel")
           and "Mykolaiv" in q.object.value}
    assert alt == {"Mykolaiv region"}


def test_online_linking_inside_the_pipeline(pipeline, tmp_path, search_api, wikidata_endpoint, slice_entities) -> None:
    warburg = next(e["id"] for e in slice_entities if e.get("labels", {}).get("en", {}).get("value") == "Warburg")
    text = "Flooding closed roads in the German town of Warburg on Tuesday, officials in Germany said."
    res = next(pipeline.resolutions([Document("t", text)]))
    assert all(e.link.qid != warburg for e in res.entities)
    with OnlineLinker(tmp_path / "cache", api=search_api.url, endpoint=wikidata_endpoint, polite=Polite(min_interval=0.0)) as linker:
        pipeline.online = linker
        try:
            res = next(pipeline.resolutions([Document("t", text)]))
        finally:
            pipeline.online = None
    assert warburg in {e.link.qid for e in res.entities}
