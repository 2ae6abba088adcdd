"""The ontology file, its alignment to Wikidata, and populating/validating it with owlready2 and HermiT."""

from __future__ import annotations

import datetime
import json
import shutil
from collections import defaultdict

import owlready2
import pyoxigraph
import pytest
from rdflib import OWL, RDF, RDFS, Graph, Literal, URIRef
from rdflib.compare import isomorphic

from kg.errors import OntologyError
from kg.ontology import (
    ONTOLOGY_IRI,
    OWL_FILE,
    load_graph,
    load_ontology,
    populate,
    save_owl,
    term_kinds,
    validate,
)
from kg.ontology.populate import DATA_IRI
from kg.paths import KB_SOURCES_DIR, ONTOLOGY_FILE
from kg.vocab import KG, WDT

needs_java = pytest.mark.skipif(shutil.which("java") is None, reason="HermiT needs a Java runtime (java not on PATH)")
XSD_STRING = URIRef("http://www.w3.org/2001/XMLSchema#string")  # not rdflib's XSD: it warns under doctest
PROPERTIES_FILE = KB_SOURCES_DIR / "wikidata_properties/properties_2017.json"

#: The Wikidata property each kg relation is aligned to, by its label in properties_2017.json.
ALIGNED_LABELS = {
    "positionHeld": "position held",
    "memberOf": "member of",
    "employer": "employer",
    "militaryBranch": "military branch",
    "country": "country",
    "locatedIn": "located in the administrative territorial entity",
    "partOf": "part of",
    "citizenship": "country of citizenship",
    "headquarters": "headquarters location",
    "leader": "manager/director",
    "capitalOf": "capital of",
    "participant": "participant",
    "location": "location",
    "pointInTime": "point in time",
}

# A graph in the shape of docs/data-model.md: entities, a position, an event, a claim, NIF and statements.
DATA = """
@prefix kg: <https://w3id.org/kg/ontology#> .
@prefix kgr: <https://w3id.org/kg/id/> .
@prefix rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix wd: <http://www.wikidata.org/entity/> .
@prefix nif: <http://persistence.uni-leipzig.org/nlp2rdf/ontologies/nif-core#> .
@prefix itsrdf: <http://www.w3.org/2005/11/its/rdf#> .
@prefix prov: <http://www.w3.org/ns/prov#> .

kgr:Q3874799 a kg:Person ; rdfs:label "Volodymyr Zelenskiy" ; owl:sameAs wd:Q3874799 ;
    kg:linkConfidence 0.97 ; kg:positionHeld <https://w3id.org/kg/id/position/president-of-ukraine> ;
    kg:citizenship kgr:Q212 ;
    kg:candidate [ a kg:Candidate ; kg:candidateEntity wd:Q1 ; kg:score 0.4 ] .
<https://w3id.org/kg/id/position/president-of-ukraine> a kg:Position ; rdfs:label "President of Ukraine" ;
    kg:jurisdiction kgr:Q212 .
kgr:Q212 a kg:Country ; rdfs:label "Ukraine" .
kgr:Q2012050 a kg:Settlement ; rdfs:label "Bakhmut" ; kg:locatedIn kgr:Q12086 ; kg:country kgr:Q212 .
kgr:Q12086 a kg:AdministrativeArea ; rdfs:label "Donetsk Oblast" ; kg:partOf kgr:Q212 .
kgr:Q159 a kg:Country ; rdfs:label "Russia" .
<https://w3id.org/kg/id/organization/russian-defense-ministry> a kg:Organization ;
    rdfs:label "Russian Defense Ministry" ; kg:country kgr:Q159 .
<https://w3id.org/kg/id/event/9c1e> a kg:Visit ; rdfs:label "visited" ;
    kg:participant kgr:Q3874799 ; kg:location kgr:Q2012050 ; kg:pointInTime "2023-05-23"^^xsd:date ;
    kg:confidence 0.7 ; kg:evidence <https://w3id.org/kg/doc/d1#char=76,320> ;
    prov:wasDerivedFrom <https://w3id.org/kg/doc/d1#char=120,127> .
<https://w3id.org/kg/id/claim/51d0> a kg:Claim ;
    kg:claimant <https://w3id.org/kg/id/organization/russian-defense-ministry> ; kg:stance kg:denies ;
    kg:content "its troops had surrounded enemy fighters" ; kg:channel "Telegram" ;
    kg:pointInTime "2023-05-23"^^xsd:date ; kg:about kgr:Q2012050 ;
    kg:reports <https://w3id.org/kg/id/stmt/3f2a> ; kg:confidence 0.8 .
<https://w3id.org/kg/id/stmt/3f2a> a rdf:Statement ; rdf:subject kgr:Q3874799 ;
    rdf:predicate kg:positionHeld ; rdf:object <https://w3id.org/kg/id/position/president-of-ukraine> ;
    kg:confidence 0.9 ; kg:evidence <https://w3id.org/kg/doc/d1#char=76,320> .
<https://w3id.org/kg/doc/d1#char=0,4711> a nif:Context ; nif:beginIndex "0"^^xsd:nonNegativeInteger ;
    kg:documentDate "2023-05-24"^^xsd:date .
<https://w3id.org/kg/doc/d1#char=76,320> a nif:Sentence ;
    nif:referenceContext <https://w3id.org/kg/doc/d1#char=0,4711> .
<https://w3id.org/kg/doc/d1#char=105,124> a nif:Phrase ; nif:anchorOf "Volodymyr Zelenskiy" ;
    itsrdf:taIdentRef kgr:Q3874799 ; itsrdf:taClassRef kg:Person ; kg:extractedBy "ner" ; kg:confidence 0.85 .
"""
ZELENSKIY = URIRef("https://w3id.org/kg/id/Q3874799")
UKRAINE = URIRef("https://w3id.org/kg/id/Q212")


@pytest.fixture(scope="module")
def data() -> Graph:
    return Graph().parse(data=DATA, format="turtle")


def _declared(g: Graph) -> set[URIRef]:
    kinds = (OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty, OWL.NamedIndividual, OWL.AnnotationProperty)
    return {s for k in kinds for s in g.subjects(RDF.type, k) if str(s).startswith(str(KG._NS))}


def _aligned(g: Graph) -> dict[URIRef, set[URIRef]]:
    out = defaultdict(set)
    for p in (RDFS.subPropertyOf, OWL.equivalentProperty):
        for s, o in g.subject_objects(p):
            if str(o).startswith(str(WDT)):
                out[s].add(o)
    return out


# --- the ontology file


def test_ontology_parses_with_rdflib():
    g = load_graph()
    assert (URIRef(ONTOLOGY_IRI), RDF.type, OWL.Ontology) in g
    assert g.value(URIRef(ONTOLOGY_IRI), OWL.versionIRI) is not None
    assert g.value(URIRef(ONTOLOGY_IRI), URIRef("http://purl.org/dc/terms/license")) is not None


def test_ontology_loads_in_owlready2():
    onto = load_ontology()
    assert onto.Incursion is not None and onto.Attack in onto.Incursion.ancestors()
    assert {i.name for i in onto.Stance.instances()} == {"asserts", "denies"}


def test_ontology_owl_file_loads_in_owlready2():
    onto = owlready2.World().get_ontology(OWL_FILE.as_uri()).load()
    assert onto.base_iri == str(KG._NS)
    assert onto.Call is not None and onto.Meeting in onto.Call.ancestors()


def test_ontology_owl_file_in_sync_with_ttl():
    def rdf11(g: Graph) -> Graph:  # a plain literal is an xsd:string in RDF 1.1
        out = Graph()
        for s, p, o in g:
            if isinstance(o, Literal) and o.datatype is None and not o.language:
                o = Literal(str(o), datatype=XSD_STRING)
            out.add((s, p, o))
        return out

    owl = Graph().parse(OWL_FILE, format="xml")
    assert isomorphic(rdf11(owl), rdf11(load_graph())), "ontology/kg.owl is stale: run .venv/bin/python ontology/build.py"


def test_ontology_terms_equal_vocab():
    assert _declared(load_graph()) == {KG[n] for n in KG.__annotations__}


def test_ontology_terms_have_label_and_comment():
    g = load_graph()
    for term in _declared(g):
        assert g.value(term, RDFS.label) is not None, term
        assert g.value(term, RDFS.comment) is not None, term


@pytest.mark.parametrize(
    "sub,sup",
    [
        ("MilitaryUnit", "Organization"),
        ("Country", "Location"),
        ("AdministrativeArea", "Location"),
        ("Settlement", "Location"),
        ("Incursion", "Attack"),
        ("Call", "Meeting"),
        *[(e, "Event") for e in "Attack Incursion Battle Visit Meeting Call Appointment Dismissal StatementEvent".split()],
    ],
)
def test_ontology_subclass(sub, sup):
    assert KG[sup] in load_graph().transitive_objects(KG[sub], RDFS.subClassOf)


def test_ontology_scorer_class_names():
    """The names the independent scorer gives each class (its closure over subClassOf/equivalentClass)."""
    g = load_graph()
    known = ["Location", "Organization", "Person", "Position", "Event", "Country", "AdministrativeArea", "Settlement",
             "MilitaryUnit"]  # fmt: skip
    sub = defaultdict(set)
    for c, d in g.subject_objects(RDFS.subClassOf):
        sub[d].add(c)
    for c, d in g.subject_objects(OWL.equivalentClass):
        sub[d].add(c)
        sub[c].add(d)
    name_of = {}
    for n in known:
        todo = [c for c in g.subjects(RDF.type, OWL.Class) if isinstance(c, URIRef) and str(c).endswith(("#" + n, "/" + n))]
        seen = set()
        while todo:
            c = todo.pop()
            if c not in seen:
                seen.add(c)
                todo += sub[c]
        for c in seen:
            name_of[c] = n  # later (more specific) names win, as in the scorer
    events = "Event Attack Incursion Battle Visit Meeting Call Appointment Dismissal StatementEvent".split()
    expected = {KG[n]: n for n in known if n != "Event"} | {KG[e]: "Event" for e in events}
    assert {c: n for c, n in name_of.items() if str(c).startswith(str(KG._NS))} == expected


def test_ontology_disjoint_classes():
    g = load_graph()
    groups = [set(g.items(g.value(b, OWL.members))) for b in g.subjects(RDF.type, OWL.AllDisjointClasses)]
    top = {KG.Person, KG.Organization, KG.Location, KG.Position, KG.Event, KG.Claim}
    assert any(top <= m for m in groups)
    assert {KG.Country, KG.AdministrativeArea, KG.Settlement} in groups


def test_ontology_wikidata_properties_declared():
    """Each aligned wdt: property is declared with the same kind as the kg: property (keeps the ontology DL)."""
    g = load_graph()
    for prop, targets in _aligned(g).items():
        for t in targets:
            assert set(g.objects(t, RDF.type)) == set(g.objects(prop, RDF.type)) - {OWL.FunctionalProperty}, t


@pytest.mark.skipif(not PROPERTIES_FILE.exists(), reason=f"{PROPERTIES_FILE} not present")
def test_ontology_alignment_labels():
    titles = {pid: v["title"] for pid, v in json.loads(PROPERTIES_FILE.read_text("utf-8")).items()}
    g = load_graph()
    aligned = _aligned(g)
    assert {str(p).split("#")[1] for p in aligned} == set(ALIGNED_LABELS)
    for prop, targets in aligned.items():
        (target,) = targets
        pid = str(target)[len(str(WDT)) :]
        assert titles.get(pid) == ALIGNED_LABELS[str(prop).split("#")[1]], f"{prop} -> {pid}"
        assert str(g.value(target, RDFS.label)) == titles[pid]



@pytest.mark.skipif(not PROPERTIES_FILE.exists(), reason=f"{PROPERTIES_FILE} not present")
def test_ontology_every_wikidata_property_named_as_in_its_source():
    """Aligned or only pointed to (rdfs:seeAlso), every wdt: term carries its label from the properties file."""
    titles = {pid: v["title"] for pid, v in json.loads(PROPERTIES_FILE.read_text("utf-8")).items()}
    g = load_graph()
    terms = {t for t in set(g.subjects()) | set(g.objects()) if isinstance(t, URIRef) and str(t).startswith(str(WDT))}
    assert URIRef(WDT + "P1001") in terms
    for t in terms:
        pid = str(t)[len(str(WDT)) :]
        assert str(g.value(t, RDFS.label)) == titles[pid], t

# --- populate


def test_populate_creates_typed_individuals(data):
    world = populate(data)
    inds = {URIRef(i.iri) for i in world.get_ontology(DATA_IRI).individuals()}
    typed = {s for s, o in data.subject_objects(RDF.type) if o in term_kinds() and isinstance(s, URIRef)}
    assert inds == typed  # no NIF strings, statements or blank candidates
    z = world[str(ZELENSKIY)]
    assert [p.name for p in z.positionHeld] == ["president-of-ukraine"]
    assert z.label == ["Volodymyr Zelenskiy"] and z.linkConfidence == [0.97]
    visit = world["https://w3id.org/kg/id/event/9c1e"]
    assert visit.pointInTime == [datetime.date(2023, 5, 23)] and visit.participant == [z]
    assert visit.evidence == []  # the NIF sentence is not an individual
    claim = world["https://w3id.org/kg/id/claim/51d0"]
    assert claim.stance.name == "denies" and claim.channel == ["Telegram"]


def test_populate_accepts_pyoxigraph_quads(data):
    quads = pyoxigraph.parse(DATA, format=pyoxigraph.RdfFormat.TURTLE)
    a = populate(data).get_ontology(DATA_IRI)
    b = populate(quads).get_ontology(DATA_IRI)
    assert {(i.iri, tuple(sorted(c.name for c in i.is_a))) for i in a.individuals()} == {
        (i.iri, tuple(sorted(c.name for c in i.is_a))) for i in b.individuals()
    }


def test_save_owl_writes_self_contained_rdfxml(data, tmp_path):
    path = save_owl(populate(data), tmp_path / "populated.owl")
    g = Graph().parse(path, format="xml")
    assert (ZELENSKIY, RDF.type, KG.Person) in g
    assert (KG.MilitaryUnit, RDFS.subClassOf, KG.Organization) in g
    assert not list(g.triples((None, OWL.imports, None)))
    assert [p.name for p in tmp_path.iterdir()] == ["populated.owl"]  # no temporary file left


# --- validate


@needs_java
def test_validate_data_model_graph_is_consistent(data):
    report = validate(data)
    assert report.consistent, report.problems
    assert report.problems == [] and report.reasoner == "HermiT" and report.seconds > 0


@needs_java
def test_validate_reports_individual_in_disjoint_classes(data):
    report = validate([*data, (UKRAINE, RDF.type, KG.Person)])
    assert not report.consistent
    assert any(f'"Ukraine" <{UKRAINE}>' in p and "Person" in p and "Country" in p for p in report.problems), report


@needs_java
def test_validate_reports_range_clash(data):
    report = validate([*data, (ZELENSKIY, KG.positionHeld, UKRAINE)])
    assert not report.consistent
    (problem,) = report.problems
    assert "kg:positionHeld" in problem and '"Volodymyr Zelenskiy"' in problem and str(UKRAINE) in problem


@needs_java
def test_validate_reports_two_stances(data):
    report = validate([*data, (URIRef("https://w3id.org/kg/id/claim/51d0"), KG.stance, KG.asserts)])
    assert not report.consistent
    assert any("kg:stance" in p and str(KG.asserts) in p for p in report.problems), report


@needs_java
@pytest.mark.parametrize(
    "value",
    [Literal(0.9), Literal("high"), Literal("0.9", lang="en")],
    ids=["double", "string", "langString"],
)
def test_validate_reports_literal_outside_range(data, value):
    report = validate([*data, (ZELENSKIY, KG.linkConfidence, value)])
    assert not report.consistent
    assert any("kg:linkConfidence" in p and "xsd:decimal" in p for p in report.problems), report


def test_validate_needs_java(data, monkeypatch):
    monkeypatch.setattr(owlready2, "JAVA_EXE", "kg-no-such-java")
    with pytest.raises(OntologyError, match="Java runtime"):
        validate(data)


def test_load_graph_reports_bad_file(tmp_path):
    bad = tmp_path / "kg.ttl"
    bad.write_text("@prefix kg: <x#> . kg:a kg:b", encoding="utf-8")
    with pytest.raises(OntologyError, match=str(bad)):
        load_graph(bad)
    assert ONTOLOGY_FILE.exists()
