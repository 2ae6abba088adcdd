"""Populate the ontology with the entities, events and claims of a graph, as owlready2 individuals.

Only nodes typed with a kg: class become individuals (statement resources, NIF strings and
blank candidate nodes are skipped); between them go their kg: object-property assertions,
plus their kg: datatype values and ``rdfs:label``.
"""

from __future__ import annotations

import io
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from decimal import Decimal
from pathlib import Path

import owlready2
import pyoxigraph as ox
from rdflib import OWL, RDF, RDFS, BNode, Graph, Literal, URIRef
from rdflib.term import Node

from . import ONTOLOGY_IRI, atomic_write, load_graph, load_ontology, term_kinds

#: The ontology holding the populated individuals.
DATA_IRI = "https://w3id.org/kg/id/"
_SPLIT = re.compile(r"^(.*[/#:])(.+)$")

Triple = tuple[Node, Node, Node]


def rdflib_triples(triples: Iterable) -> Iterator[Triple]:
    """Yield ``(s, p, o)`` rdflib terms for rdflib tuples (triples or quads) or pyoxigraph Triples/Quads.

    >>> one = ox.Literal("1", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer"))
    >>> s, p, o = next(rdflib_triples([ox.Triple(ox.NamedNode("http://x/a"), ox.NamedNode("http://x/p"), one)]))
    >>> s, o.toPython()
    (rdflib.term.URIRef('http://x/a'), 1)
    """
    for t in triples:
        s, p, o = tuple(t)[:3]
        yield _term(s), _term(p), _term(o)


def _term(x) -> Node:
    if isinstance(x, Node):
        return x
    if isinstance(x, ox.NamedNode):
        return URIRef(x.value)
    if isinstance(x, ox.BlankNode):
        return BNode(x.value)
    if isinstance(x, ox.Literal):
        return Literal(x.value, lang=x.language) if x.language else Literal(x.value, datatype=URIRef(x.datatype.value))
    raise TypeError(f"not an RDF term: {x!r} (expected an rdflib or pyoxigraph term)")


def populate(triples: Iterable, *, world: owlready2.World | None = None) -> owlready2.World:
    """Create an owlready2 individual for every node typed with a kg: class, with its kg: assertions.

    Args:
        triples: ``(s, p, o)`` rdflib terms (quads too), or pyoxigraph Triples/Quads.
        world: the world to populate (a new one by default); the ontology is loaded into it.

    Returns:
        The world; the individuals are in its ontology ``DATA_IRI``. Call ``world.close()`` when
        done with it: owlready2 keeps every world in memory until it is closed.

    >>> from kg.vocab import KG
    >>> p, c = URIRef("https://w3id.org/kg/id/Q1"), URIRef("https://w3id.org/kg/id/Q212")
    >>> w = populate([(p, RDF.type, KG.Person), (c, RDF.type, KG.Country), (p, KG.citizenship, c)])
    >>> w[str(p)].citizenship
    [id.Q212]
    """
    kinds = term_kinds()
    onto = load_ontology(world)
    world = onto.world
    types: dict[URIRef, set[URIRef]] = defaultdict(set)
    facts: set[Triple] = set()
    for s, p, o in rdflib_triples(triples):
        if not isinstance(s, URIRef):
            continue
        if p == RDF.type and kinds.get(o) == "class":
            types[s].add(o)
        elif (p == RDFS.label and isinstance(o, Literal)) or kinds.get(p) in ("object", "data"):
            facts.add((s, p, o))

    data = world.get_ontology(DATA_IRI)
    if onto not in data.imported_ontologies:
        data.imported_ontologies.append(onto)
    inds = {}
    for iri, classes in types.items():
        first, *rest = sorted(classes)
        prefix, name = _SPLIT.match(iri).groups()
        ind = world[str(first)](name, namespace=data.get_namespace(prefix))
        ind.is_a.extend(world[str(c)] for c in rest)
        inds[iri] = ind
    named = {URIRef(i.iri): i for i in onto.individuals()}
    for s, p, o in sorted(facts):
        ind = inds.get(s)
        if ind is None:
            continue
        if p == RDFS.label:
            ind.label.append(owlready2.locstr(str(o), o.language) if o.language else str(o))
        elif kinds[p] == "data" and isinstance(o, Literal):
            world[str(p)][ind].append(_value(o))
        elif kinds[p] == "object" and (target := inds.get(o) or named.get(o)) is not None:
            world[str(p)][ind].append(target)
    return world


def _value(lit: Literal):
    """A Python value owlready2 can store: floats for decimals (owlready2 writes them as xsd:decimal)."""
    v = lit.toPython()
    if isinstance(v, Decimal):
        return float(v)
    return str(v) if isinstance(v, Literal) else v


def save_owl(world: owlready2.World, path: str | Path) -> Path:
    """Write the populated individuals and the ontology as one self-contained RDF/XML file, atomically.

    The file opens in Protégé without resolving imports (the ontology axioms are copied in).

    >>> import tempfile
    >>> from kg.vocab import KG
    >>> w = populate([(URIRef("https://w3id.org/kg/id/Q1"), RDF.type, KG.Person)])
    >>> with tempfile.TemporaryDirectory() as d:
    ...     g = Graph().parse(save_owl(w, Path(d) / "out.owl"))
    >>> (URIRef("https://w3id.org/kg/id/Q1"), RDF.type, KG.Person) in g
    True
    """
    path = Path(path)
    buf = io.BytesIO()
    world.get_ontology(DATA_IRI).save(buf, format="ntriples")
    g = Graph().parse(data=buf.getvalue().decode("utf-8"), format="nt")
    header = URIRef(ONTOLOGY_IRI)
    g.remove((None, OWL.imports, None))
    for t in load_graph():
        if t[0] != header:
            g.add(t)
    for prefix, ns in load_graph().namespaces():
        g.bind(prefix, ns, override=False)
    atomic_write(path, g.serialize(format="xml", encoding="utf-8"))
    return path
