"""Check a graph against the ontology with HermiT, and say which assertions make it inconsistent.

Two checks run: every kg: datatype value must be a literal of its property's range
(HermiT cannot check ``xsd:date``, which is outside the OWL 2 datatype map, so this is
done here for all ranges); then HermiT decides whether the populated ontology is
consistent. When it is not, :func:`validate` looks for the clashes behind it: an
individual whose asserted types, or the domains and ranges of its property assertions,
fall in disjoint classes, or a claim with two different stances.
"""

from __future__ import annotations

import logging
import shutil
import time
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cache
from itertools import combinations

import owlready2
from rdflib import RDFS, BNode, Literal, Namespace, URIRef

from ..errors import OntologyError
from ..vocab import PREFIXES
from . import load_graph, term_kinds
from .populate import DATA_IRI, populate, rdflib_triples

logger = logging.getLogger(__name__)
XSD = Namespace("http://www.w3.org/2001/XMLSchema#")  # rdflib's closed XSD warns when doctest probes it

#: Most problem lines reported; the rest are counted.
MAX_PROBLEMS = 50
_INTEGERS = {XSD[n] for n in (
    "integer nonNegativeInteger positiveInteger nonPositiveInteger negativeInteger "
    "long int short byte unsignedLong unsignedInt unsignedShort unsignedByte").split()}


@dataclass(frozen=True, slots=True)
class ValidationReport:
    """What the reasoner said about a graph.

    ``problems`` holds one readable line per offending assertion (empty when consistent);
    ``seconds`` is the wall-clock time of the whole validation.
    """

    consistent: bool
    reasoner: str
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0


def validate(triples, *, memory_mb: int = 1024) -> ValidationReport:
    """Populate the ontology with ``triples`` and check it with HermiT (Java, heap ``memory_mb``).

    Args:
        triples: rdflib ``(s, p, o)`` tuples (quads too) or pyoxigraph Triples/Quads.
        memory_mb: the Java heap limit for HermiT.

    Raises:
        OntologyError: no Java runtime on PATH, or HermiT failed.

    >>> from rdflib import RDF
    >>> from kg.vocab import KG
    >>> x = URIRef("https://w3id.org/kg/id/Q212")
    >>> validate([(x, RDF.type, KG.Person), (x, RDF.type, KG.Country)]).problems  # doctest: +SKIP
    ['"Q212" <https://w3id.org/kg/id/Q212> is typed Country, but is also typed Person, and these classes are disjoint']
    """
    if shutil.which(owlready2.JAVA_EXE) is None:
        raise OntologyError(
            f"the HermiT reasoner needs a Java runtime, but {owlready2.JAVA_EXE!r} is not on PATH; "
            "install one (e.g. apt-get install default-jre-headless) or skip validation"
        )
    t0 = time.perf_counter()
    triples = list(rdflib_triples(triples))
    labels = {s: str(o) for s, p, o in triples if p == RDFS.label and isinstance(o, Literal)}
    problems = _literal_problems(triples, labels)
    world = populate(triples)
    try:
        consistent = _hermit(world, memory_mb)
        if not consistent:
            problems += _clashes(world)
    finally:
        world.close()  # owlready2 keeps a world in memory until it is closed
    if not consistent and not problems:
        problems.append(
            "HermiT found the populated ontology inconsistent, but no disjoint types, domain/range clash "
            "or conflicting stance could be isolated; write it with kg.ontology.save_owl and open it in "
            "Protégé (Explain inconsistency)"
        )
    if len(problems) > MAX_PROBLEMS:
        problems = problems[:MAX_PROBLEMS] + [f"... and {len(problems) - MAX_PROBLEMS} more problems"]
    seconds = round(time.perf_counter() - t0, 3)
    return ValidationReport(consistent and not problems, "HermiT", problems, seconds)


def _hermit(world: owlready2.World, memory_mb: int) -> bool:
    """Run HermiT on the world; False if it is inconsistent."""
    saved, owlready2.reasoning.JAVA_MEMORY = owlready2.reasoning.JAVA_MEMORY, memory_mb
    t0 = time.perf_counter()
    try:
        # xsd:date is outside the OWL 2 datatype map; its values are checked by _literal_problems.
        owlready2.sync_reasoner_hermit(world, debug=0, ignore_unsupported_datatypes=True)
        return True
    except owlready2.OwlReadyInconsistentOntologyError:
        return False
    except owlready2.OwlReadyJavaError as e:
        lines = [ln for ln in str(e).splitlines() if ln.strip()]
        raise OntologyError(f"HermiT failed ({memory_mb} MB heap): {' '.join(lines[1:3])[:500]}") from e
    finally:
        owlready2.reasoning.JAVA_MEMORY = saved
        logger.info("HermiT ran in %.2f s", time.perf_counter() - t0)


def _literal_problems(triples, labels) -> list[str]:
    """A line per kg: datatype value that is not a literal of its property's range."""
    g = load_graph()
    ranges = {p: g.value(p, RDFS.range) for p, kind in term_kinds().items() if kind == "data"}
    out = []
    for s, p, o in triples:
        rng = ranges.get(p)
        if rng is not None and not (isinstance(o, Literal) and _fits(o, rng)):
            value = _literal(o) if isinstance(o, Literal) else f"<{o}>"
            out.append(f"{_who(s, labels)} has {_curie(p)} {value}, which is not an {_curie(rng)} (its range)")
    return out


def _literal(lit: Literal) -> str:
    return f'"{lit}"' + (f"@{lit.language}" if lit.language else f"^^{_curie(lit.datatype or XSD.string)}")


def _fits(lit: Literal, rng: URIRef) -> bool:
    if lit.ill_typed:
        return False
    dt = lit.datatype or (None if lit.language else XSD.string)
    if rng == XSD.decimal:
        return dt == XSD.decimal or dt in _INTEGERS
    if rng == XSD.nonNegativeInteger:
        return dt in _INTEGERS and int(lit) >= 0
    return dt == rng


def _clashes(world: owlready2.World) -> list[str]:
    """A line per pair of constraints on one individual that fall in disjoint classes, or conflicting values."""
    disjoint = {frozenset(pair) for d in world.disjoint_classes() for pair in combinations(d.entities, 2)}
    different = {frozenset(pair) for d in world.different_individuals() for pair in combinations(d.entities, 2)}
    ancestors = cache(lambda c: c.ancestors())

    @cache
    def clash(alts1: frozenset, alts2: frozenset) -> bool:  # every allowed class of one is disjoint with the other's
        return all(
            any(frozenset((x, y)) in disjoint for x in ancestors(a) for y in ancestors(b)) for a in alts1 for b in alts2
        )

    # per individual: {allowed classes: the first reason}, from asserted types, then domains and ranges
    constraints: dict = defaultdict(dict)
    for ind in world.get_ontology(DATA_IRI).individuals():
        for c in ind.is_a:
            if isinstance(c, owlready2.ThingClass):
                constraints[ind].setdefault(frozenset([c]), ("type", c.name, None))
    out = []
    for kind in ("object", "data"):
        for iri in sorted(k for k, v in term_kinds().items() if v == kind):
            prop = world[str(iri)]
            domains = [a for a in map(_alternatives, prop.domain) if a]
            ranges = [a for a in map(_alternatives, prop.range) if a] if kind == "object" else []
            values = defaultdict(list)
            for s, o in prop.get_relations():
                values[s].append(o)
                for a in domains:
                    constraints[s].setdefault(a, ("subject", prop.name, o))
                for a in ranges:
                    constraints[o].setdefault(a, ("object", prop.name, s))
            if owlready2.FunctionalProperty in prop.is_a:
                for s, vs in values.items():
                    out += [
                        f"{_who(s)} has two values of the functional property kg:{prop.name}, {_who(a)} and {_who(b)}, "
                        "which are different individuals"
                        for a, b in combinations(vs, 2)
                        if frozenset((a, b)) in different
                    ]
    for ind, cons in constraints.items():
        pairs = [(a1, w1, a2, w2) for (a1, w1), (a2, w2) in combinations(cons.items(), 2) if clash(a1, a2)]
        typed = [p for p in pairs if p[1][0] == "type"]
        for a1, w1, a2, w2 in typed or pairs:  # a clash with an asserted type explains the others
            out.append(f"{_who(ind)} {_why(a1, w1)}, but {_why(a2, w2, also=True)}, and these classes are disjoint")
    return out


def _why(alts, reason, *, also=False) -> str:
    kind, prop, other = reason
    if kind == "type":
        return f"is {'also ' if also else ''}typed {prop}"
    if kind == "subject":
        target = _who(other) if isinstance(other, owlready2.Thing) else repr(other)
        return f"must be {_names(alts)} as the subject of kg:{prop} → {target}"
    return f"must be {_names(alts)} as the object of kg:{prop} from {_who(other)}"


def _alternatives(c) -> frozenset:
    """The classes a domain/range allows: the members of a union, or the class itself."""
    if isinstance(c, owlready2.Or):
        return frozenset(c.Classes)
    return frozenset([c] if isinstance(c, owlready2.ThingClass) and c is not owlready2.Thing else [])


def _names(alts) -> str:
    """``a Person`` or ``a Person, Organization or Country``."""
    *rest, last = sorted(c.name for c in alts)
    names = f"{', '.join(rest)} or {last}" if rest else last
    return ("an " if names[0] in "AEIOU" else "a ") + names


def _who(x, labels=None) -> str:
    """``"label" <iri>`` for an owlready2 individual or an rdflib node."""
    if isinstance(x, BNode):
        return f"_:{x}"
    if isinstance(x, owlready2.Thing):
        label, iri = (str(x.label[0]) if x.label else x.name), x.iri
    else:
        label, iri = (labels or {}).get(x, str(x).rsplit("/", 1)[-1]), str(x)
    return f'"{label}" <{iri}>'


def _curie(iri) -> str:
    for prefix, ns in PREFIXES.items():
        if str(iri).startswith(ns):
            return f"{prefix}:{str(iri)[len(ns):]}"
    return f"<{iri}>"
