"""kg's scorer against the reference scorer (shared/eval/score.py), on hand-made and random graphs."""

from __future__ import annotations



import functools
import json
import random
import subprocess
import sys
from pathlib import Path

import pytest
from rdflib import OWL, RDF, RDFS, Dataset, Graph, Literal, Namespace, URIRef
from rdflib.namespace import SKOS

from kg import iri
from kg.evaluation import Score, evaluate, load_ontology, read_gold, score_graph
from kg.paths import ONTOLOGY_DIR, ROOT
from kg.records import Extraction, Resolution
from kg.vocab import KG, WD, WDT

SHARED = Path(ROOT).parent / "shared"
EVAL = SHARED / "eval"
pytestmark = pytest.mark.skipif(not (EVAL / "score.py").is_file(), reason="no shared/eval next to the project (gold and reference scorer)")

NIF = Namespace("http://persistence.uni-leipzig.org/nlp2rdf/ontologies/nif-core#")
ITSRDF = Namespace("http://www.w3.org/2005/11/its/rdf#")
EX = Namespace("https://example.org/ontology#")
PROPERTY_LABELS = {  # kg property -> its Wikidata property's label in properties_2017.json
    "positionHeld": "position held", "memberOf": "member of", "employer": "employer", "country": "country",
    "locatedIn": "located in the administrative territorial entity", "citizenship": "country of citizenship",
    "jurisdiction": "applies to jurisdiction", "partOf": "part of", "participant": "participant", "location": "location",
    "participantOf": "participant of",  # not in kg's ontology: the reference reads it from participant to event
}


def prop_iri(name: str) -> URIRef:
    return EX[name] if name == "participantOf" else KG[name]


@functools.cache
def _property_ids() -> dict[str, list[str]]:
    for path in (SHARED / "kb-sources", ROOT / "data" / "kb-sources"):
        f = path / "wikidata_properties" / "properties_2017.json"
        if f.is_file():
            ids: dict[str, list[str]] = {}
            for k, v in json.loads(f.read_text()).items():
                ids.setdefault(v["title"], []).append(k)
            return ids
    pytest.skip("properties_2017.json not found")


def pid(label: str) -> str:
    """A Wikidata property id looked up by its label."""
    ids = _property_ids().get(label, [])
    assert len(ids) == 1, label
    return ids[0]


def minimal_ontology(folder: Path) -> Path:
    """A small ontology in kg's namespace aligned in every way the scorer reads (sub-property chains, equivalence both ways)."""
    g = Graph()
    for c, parent in [("Person", None), ("Organization", None), ("MilitaryUnit", "Organization"), ("Location", None),
                      ("Country", "Location"), ("AdministrativeArea", "Location"), ("Settlement", "Location"),
                      ("Position", None), ("Event", None), ("Incursion", "Event"), ("Visit", "Event"), ("Call", "Meeting")]:
        g.add((KG[c], RDF.type, OWL.Class))
        if parent:
            g.add((KG[c], RDFS.subClassOf, KG[parent]))
    g.add((KG.Meeting, RDFS.subClassOf, KG.Event))  # not declared a class: reached through subClassOf
    for name, label in PROPERTY_LABELS.items():
        prop, wdt = prop_iri(name), WDT[pid(label)]
        g.add((prop, RDF.type, OWL.ObjectProperty))
        if name == "memberOf":
            g.add((prop, OWL.equivalentProperty, wdt))
        elif name == "locatedIn":
            g.add((wdt, OWL.equivalentProperty, prop))
        elif name == "citizenship":
            g.add((prop, RDFS.subPropertyOf, EX.nationality))
            g.add((EX.nationality, RDFS.subPropertyOf, wdt))
        else:
            g.add((prop, RDFS.subPropertyOf, wdt))
    path = folder / "mini.ttl"
    g.serialize(path, format="turtle")
    return folder


@pytest.fixture(params=["project", "minimal"])
def ontology_dir(request, tmp_path_factory) -> Path:
    if request.param == "project":
        if not any(ONTOLOGY_DIR.glob("*.ttl")):
            pytest.skip("ontology/kg.ttl not written yet")
        return ONTOLOGY_DIR
    return minimal_ontology(tmp_path_factory.mktemp("ontology"))


def seed_graph() -> Dataset:
    """The seed article's graph in the data-model shape, with errors on purpose.

    A duplicate Zelenskiy (one node unlinked), Bakhmut linked to the wrong QID, Donetsk Oblast unlinked,
    the Russian Volunteer Corps typed Person, Malyar and Cavoli missing, an unmatched Kharkiv and Peskov,
    wrong relations (Putin a citizen of Ukraine, Kremlin in Ukraine, Syrskiy employed by NATO), an event
    with its location missing and one with a participant missing, and a fact in the Wikidata graph.
    """
    # QIDs come from the gold file, never from memory
    _GOLD_QID = {e["key"]: e["qid"] for e in json.loads((Path(__file__).parents[1] / "data" / "seed.gold.json").read_text())["entities"]}
    ds = Dataset()
    doc = ds.graph(URIRef(iri.graph_iri("seed")))
    wiki = ds.graph(URIRef("https://w3id.org/kg/graph/wikidata"))

    def ent(cls, name, *alt, qid=None, link=None, node=None):
        n = URIRef(node or iri.entity_iri(cls, name, qid))
        doc.add((n, RDF.type, KG[cls]))
        doc.add((n, RDFS.label, Literal(name)))
        for a in alt:
            doc.add((n, SKOS.altLabel, Literal(a)))
        if qid or link:
            doc.add((n, OWL.sameAs, WD[qid or link]))
        return n

    zel = ent("Person", "Volodymyr Zelenskiy", "Zelenskiy", qid=_GOLD_QID["zelenskiy"])
    zel2 = ent("Person", "Zelenskiy", node=iri.entity_iri("Person", "Zelenskiy"))
    putin = ent("Person", "Vladimir Putin", "Putin", qid=_GOLD_QID["putin"])
    ent("Person", "Vyacheslav Gladkov")
    syrskiy = ent("Person", "Syrskiy")
    stolt = ent("Person", "Jens Stoltenberg", qid=_GOLD_QID["stoltenberg"])
    zaluzhniy = ent("Person", "Valeriy Zaluzhniy")
    ent("Person", "Dmitry Peskov")
    nato = ent("Organization", "NATO", qid=_GOLD_QID["nato"])
    rvc = ent("Person", "Russian Volunteer Corps")
    frl = ent("MilitaryUnit", "Freedom of Russia Legion")
    rumod = ent("Organization", "Russian Defense Ministry")
    kremlin = ent("Settlement", "Kremlin")
    belgorod = ent("AdministrativeArea", "Belgorod Oblast", "Belgorod region", qid=_GOLD_QID["belgorod_oblast"])
    donetsk = ent("AdministrativeArea", "Donetsk region")
    russia = ent("Country", "Russia", qid=_GOLD_QID["russia"])
    ukraine = ent("Country", "Ukraine", qid=_GOLD_QID["ukraine"])
    ent("Country", "United States", "U.S.", qid=_GOLD_QID["usa"])
    bakhmut = ent("Settlement", "Bakhmut", link="Q1")  # deliberately not the gold QID
    kharkiv = ent("Settlement", "Kharkiv")
    pres = ent("Position", "President of Ukraine")
    sg = ent("Position", "NATO Secretary General")

    facts = [(zel, "positionHeld", pres), (stolt, "positionHeld", sg), (stolt, "memberOf", nato),
             (putin, "citizenship", ukraine), (belgorod, "locatedIn", russia), (bakhmut, "locatedIn", donetsk),
             (kremlin, "locatedIn", ukraine), (pres, "jurisdiction", ukraine), (syrskiy, "employer", nato)]
    for n, (s, p, o) in enumerate(facts):
        doc.add((s, KG[p], o))
        stmt = URIRef(iri.hashed_iri("stmt", s, p, o))
        for q, v in ((RDF.type, RDF.Statement), (RDF.subject, s), (RDF.predicate, KG[p]), (RDF.object, o)):
            doc.add((stmt, q, v))
    doc.add((zaluzhniy, WDT[pid("country of citizenship")], ukraine))  # a Wikidata property used directly
    wiki.add((putin, KG.citizenship, russia))

    for key, cls, parts, places in [("e1", "Incursion", [rvc, frl], [belgorod]), ("e2", "Visit", [zel2], [kharkiv]),
                                    ("e3", "Call", [zaluzhniy], [])]:
        ev = URIRef(iri.hashed_iri("event", "seed", key))
        doc.add((ev, RDF.type, KG[cls]))
        doc.add((ev, RDFS.label, Literal(cls.lower())))
        for x in parts:
            doc.add((ev, KG.participant, x))
        for x in places:
            doc.add((ev, KG.location, x))

    span = URIRef(iri.span_iri("seed", 0, 19))
    doc.add((span, RDF.type, NIF.Phrase))
    doc.add((span, NIF.anchorOf, Literal("Volodymyr Zelenskiy")))
    doc.add((span, ITSRDF.taIdentRef, zel))
    claim = URIRef(iri.hashed_iri("claim", "seed"))
    doc.add((claim, RDF.type, KG.Claim))
    doc.add((claim, KG.claimant, rumod))
    return ds


def random_graph(gold: dict, seed: int) -> Graph:
    """A graph of random nodes, labels, links, relations and events over a gold document's entities."""
    rng = random.Random(seed)
    g = Graph()
    types = list(gold["types"]) + ["Event"]
    qids = sorted({x["qid"] for x in gold["entities"] if x.get("qid")}) + ["Q1"]
    strangers = [{"key": f"nobody{n}", "name": f"Nobody {n}", "type": "Person"} for n in range(3)]
    nodes: dict[str, list[URIRef]] = {}
    for n, x in enumerate(gold["entities"] + strangers):
        for copy in range(rng.choice([0, 1, 1, 1, 2])):
            node = URIRef(f"https://w3id.org/kg/id/n{n}-{copy}")
            g.add((node, RDF.type, KG[x["type"] if rng.random() < 0.75 else rng.choice(types)]))
            names = [x["name"], *x.get("aliases", []), x["name"].split()[-1], x["name"].upper()]
            for name in rng.sample(names, rng.choice([0, 1, 1, 2])):
                g.add((node, rng.choice([RDFS.label, SKOS.altLabel]), Literal(name)))
            r = rng.random()
            if r < 0.3 and x.get("qid"):
                g.add((node, OWL.sameAs, WD[x["qid"]]))
            elif r < 0.5 and x["type"] != "Position":  # two QIDs on a position make the reference pick at random
                g.add((node, OWL.sameAs, WD[rng.choice(qids)]))
            nodes.setdefault(x["key"], []).append(node)
    every = [n for ns in nodes.values() for n in ns]
    props = list(PROPERTY_LABELS)
    for _ in range(3 * len(gold["relations"])):
        g.add((rng.choice(every), prop_iri(rng.choice(props)), rng.choice(every)))
    kg_prop = {pid(label): name for name, label in PROPERTY_LABELS.items()}
    for rel in gold["relations"] + gold.get("also_true", []):  # true relations, some through an alternative
        r = rng.choice([rel, *rel.get("alt", [])])
        allowed = [kg_prop[q] for q in ([r["property"]] if isinstance(r["property"], str) else r["property"]) if q in kg_prop]
        if nodes.get(r["subject"]) and nodes.get(r["object"]) and allowed and rng.random() < 0.7:
            g.add((rng.choice(nodes[r["subject"]]), prop_iri(rng.choice(allowed)), rng.choice(nodes[r["object"]])))
    for e, ge in enumerate([*gold.get("events", []), {}]):  # gold events, some with an argument or two wrong
        ev = URIRef(f"https://w3id.org/kg/id/event/{e}")
        g.add((ev, RDF.type, KG[rng.choice(["Event", "Incursion", "Visit", "Call"])]))
        args = [(k, "participant") for k in ge.get("participants", [])] + [(k, "location") for k in ge.get("location_any", [])]
        for node, prop in [(rng.choice(nodes[k]), p) for k, p in args if nodes.get(k)] + [(rng.choice(every), "participant")]:
            if prop == "participant" and rng.random() < 0.3:
                g.add((node, EX.participantOf, ev))
            else:
                g.add((ev, KG[prop if rng.random() < 0.8 else rng.choice(["participant", "location", "country", "locatedIn"])], node))
    return g


def reference(gold_path: Path, graph_path: Path, ontology: Path) -> dict:
    run = subprocess.run([sys.executable, str(EVAL / "score.py"), str(gold_path), str(graph_path), "--ontology", str(ontology), "--json"],
                         capture_output=True, text=True, check=True)
    return json.loads(run.stdout)


def assert_parity(mine: Score, ref: dict, graph) -> None:
    got = mine.as_dict()
    for key in ("triples", "entities_core", "events", "entity_recall", "entity_precision", "type_accuracy", "link_accuracy_verified",
                "relation_recall", "relation_precision", "relations_predicted", "event_recall", "counts"):
        assert got[key] == ref[key], key

    def refs(kind, n=None):
        return sorted(i.ref[:n] if n else i.ref for i in mine.issues_of(kind))

    assert refs("missing_entity") == sorted((k,) for k in ref["missing_entities"])
    assert sorted(i.text.rsplit(" (", 1)[0] for i in mine.unmatched_predicted) == ref["unmatched_predicted"]
    assert refs("wrong_type") == sorted((k,) for k, _ in ref["wrong_types"])
    assert refs("duplicate") == sorted((k, *nodes) for k, nodes in ref["duplicates"].items())
    assert refs("unlinked") == sorted((k,) for k in ref["unlinked_or_wrong_verified"])
    assert refs("wrong_link") == sorted(tuple(x) for x in ref["wrong_links"])
    assert sorted((s, o) for s, _, o in refs("missing_relation")) == sorted((m.split()[0], m.split()[-1]) for m in ref["missing_relations"])
    def first_label(node):
        return sorted(str(o) for p in (RDFS.label, SKOS.altLabel) for o in graph.objects(URIRef(node), p))[:1]

    if len(ref["wrong_relations"]) < 40:  # the reference lists the first 40
        assert sorted((first_label(s), "|".join(sorted(p.split("|"))), first_label(o)) for s, p, o in refs("wrong_relation")) == sorted(
            (s, "|".join(p), o) for s, p, o in ref["wrong_relations"])
    assert refs("missing_event") == sorted((k,) for k in ref["missing_events"])


@pytest.mark.filterwarnings("ignore:Dataset.*deprecated:DeprecationWarning")  # rdflib's own TriG serializer
def test_score_parity_seed(ontology_dir, tmp_path):
    gold_path = EVAL / "seed.gold.json"
    ds = seed_graph()
    ds.serialize(tmp_path / "g.trig", format="trig")
    mine = score_graph(json.loads(gold_path.read_text()), ds.quads((None, None, None, None)), load_ontology(ontology_dir))
    merged = Graph()
    for quad in ds.quads((None, None, None, None)):
        merged.add(quad[:3])
    assert_parity(mine, reference(gold_path, tmp_path / "g.trig", ontology_dir), merged)
    c = mine.counts  # the errors put in on purpose are seen
    assert c["dups"] == 1 and c["wrong_links"] >= 1 and c["rel_correct"] < c["rel_pred"] and c["req_found"] < c["req"]
    assert {i.ref[0] for i in mine.missing_entities} == {"malyar", "cavoli", "ua_marines", "vuhledar", "brussels", "moscow"}
    assert [i.ref[0] for i in mine.issues_of("wrong_type")] == ["rvc"]
    assert [i.ref for i in mine.issues_of("wrong_link")] == [("bakhmut", "Q1")]
    assert {i.text for i in mine.wrong_relations} == {"Putin -[P27]-> Ukraine", "Syrskiy -[P108]-> NATO", "Kremlin -[P131]-> Ukraine"}


@pytest.mark.parametrize("index", range(8))
def test_score_parity_random_graphs(index, ontology_dir, tmp_path):
    golds = json.loads((EVAL / "dev.gold.json").read_text())
    if index >= len(golds):
        pytest.skip("fewer passages")
    gold = golds[index]
    (tmp_path / "gold.json").write_text(json.dumps(gold))
    g = random_graph(gold, seed=index)
    g.serialize(tmp_path / "g.ttl", format="turtle")
    assert_parity(score_graph(gold, g, load_ontology(ontology_dir)), reference(tmp_path / "gold.json", tmp_path / "g.ttl", ontology_dir), g)


def test_score_combine_sums_counts():
    gold = json.loads((EVAL / "seed.gold.json").read_text())
    ontology = list(load_ontology(ONTOLOGY_DIR))
    full = score_graph(gold, seed_graph().quads((None, None, None, None)), ontology)
    empty = score_graph(gold, [], ontology)
    both = Score.combine([full, empty])
    assert both.counts == {k: full.counts[k] + empty.counts[k] for k in full.counts}
    assert both.documents == 2 and both.triples == full.triples + empty.triples
    assert both.entity_recall == round(both.counts["req_found"] / both.counts["req"], 3)
    assert len(both.issues) == len(full.issues) + len(empty.issues)
    assert empty.entity_precision == 0.0 and Score.combine([empty]).entity_precision == 1.0  # score.py vs score_set.py


def test_score_breakdowns_sum_to_totals():
    gold = json.loads((EVAL / "seed.gold.json").read_text())
    s = score_graph(gold, seed_graph().quads((None, None, None, None)), load_ontology(ONTOLOGY_DIR))
    c = s.counts
    for table, names, totals in [(s.by_type, ("gold", "found", "predicted", "matched"), ("req", "req_found", "pred_core", "pred_core_matched")),
                                 (s.by_property, ("gold", "satisfied", "predicted", "correct"), ("rel_gold", "rel_sat", "rel_pred", "rel_correct"))]:
        for name, total in zip(names, totals):
            assert sum(row.get(name, 0) for row in table.values()) == c[total], name
    assert s.as_dict()["by_type"]["Person"]["recall"] == round(s.by_type["Person"]["found"] / s.by_type["Person"]["gold"], 3)


class _EmptyPipeline:
    """Stands in for kg.pipeline.Pipeline: finds nothing, records what it was given."""

    def __init__(self):
        self.documents = []

    def resolutions(self, documents):
        for d in documents:
            self.documents.append(d)
            yield Resolution(Extraction(d, (), ()), (), ())


def test_evaluate_reads_seed_text_and_passages():
    pipe = _EmptyPipeline()
    seed = evaluate(EVAL / "seed.gold.json", pipeline=pipe, ontology_dir=ONTOLOGY_DIR)
    assert pipe.documents[0].text.startswith("Fighting") and not seed.combined
    dev = evaluate(EVAL / "dev.gold.json", pipeline=pipe, ontology_dir=ONTOLOGY_DIR)
    golds = [g for g, _ in read_gold(EVAL / "dev.gold.json")]
    assert dev.documents == len(golds) and dev.counts["rel_gold"] == sum(len(g["relations"]) for g in golds)
    assert [d.date for d in pipe.documents[1:]] == [g["pub_date"] for g in golds]
