"""The closed namespace of kg's ontology terms, and the other vocabularies used.

A typo in a term name fails at import time rather than producing a wrong IRI:

>>> str(KG.Person)
'https://w3id.org/kg/ontology#Person'
>>> KG.Persn
Traceback (most recent call last):
...
AttributeError: term 'Persn' not in namespace 'https://w3id.org/kg/ontology#'
"""

from __future__ import annotations

from rdflib import Namespace, URIRef
from rdflib.namespace import DefinedNamespace

BASE = "https://w3id.org/kg/"


class KG(DefinedNamespace):
    """Terms of the kg ontology (``ontology/kg.ttl``)."""

    _NS = Namespace(BASE + "ontology#")
    _fail = True

    # entity classes
    Person: URIRef
    Organization: URIRef
    MilitaryUnit: URIRef
    Location: URIRef
    Country: URIRef
    AdministrativeArea: URIRef
    Settlement: URIRef
    Position: URIRef
    # events
    Event: URIRef
    Attack: URIRef
    Incursion: URIRef
    Battle: URIRef
    Visit: URIRef
    Meeting: URIRef
    Call: URIRef
    Appointment: URIRef
    Dismissal: URIRef
    StatementEvent: URIRef
    # claims and provenance
    Claim: URIRef
    Stance: URIRef
    asserts: URIRef
    denies: URIRef
    Candidate: URIRef
    # relations between entities (each aligned to a Wikidata property)
    positionHeld: URIRef
    memberOf: URIRef
    employer: URIRef
    militaryBranch: URIRef
    country: URIRef
    locatedIn: URIRef
    partOf: URIRef
    citizenship: URIRef
    headquarters: URIRef
    leader: URIRef
    jurisdiction: URIRef
    capitalOf: URIRef
    # event arguments
    participant: URIRef
    location: URIRef
    pointInTime: URIRef
    evidence: URIRef
    # claims
    claimant: URIRef
    stance: URIRef
    content: URIRef
    channel: URIRef
    reports: URIRef
    about: URIRef
    # provenance and linking
    confidence: URIRef
    mentionCount: URIRef
    extractedBy: URIRef
    candidate: URIRef
    candidateEntity: URIRef
    score: URIRef
    linkConfidence: URIRef
    documentDate: URIRef


NIF = Namespace("http://persistence.uni-leipzig.org/nlp2rdf/ontologies/nif-core#")
ITSRDF = Namespace("http://www.w3.org/2005/11/its/rdf#")
PROV = Namespace("http://www.w3.org/ns/prov#")
WD = Namespace("http://www.wikidata.org/entity/")
WDT = Namespace("http://www.wikidata.org/prop/direct/")
SCHEMA = Namespace("http://schema.org/")
ORG = Namespace("http://www.w3.org/ns/org#")
VOID = Namespace("http://rdfs.org/ns/void#")

#: Prefixes bound in every exported graph and prepended to every query.
PREFIXES = {
    "kg": str(KG._NS),
    "kgr": BASE + "id/",
    "nif": str(NIF),
    "itsrdf": str(ITSRDF),
    "prov": str(PROV),
    "wd": str(WD),
    "wdt": str(WDT),
    "schema": str(SCHEMA),
    "org": str(ORG),
    "void": str(VOID),
    "owl": "http://www.w3.org/2002/07/owl#",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "foaf": "http://xmlns.com/foaf/0.1/",
}
