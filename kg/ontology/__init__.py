"""The kg ontology (``ontology/kg.ttl``): load it, populate it with a graph, check it with HermiT.

owlready2 reads RDF/XML, N-Triples and OWL/XML but not Turtle, so :func:`load_ontology`
converts ``kg.ttl`` to N-Triples in memory. ``ontology/kg.owl`` is an RDF/XML copy for
tools that do not read Turtle; :func:`write_owl` regenerates it and a test keeps it in sync.

>>> from rdflib import RDFS
>>> from kg.vocab import KG
>>> (KG.Country, RDFS.subClassOf, KG.Location) in load_graph()
True
"""

from __future__ import annotations

import io
import os
import tempfile
from functools import lru_cache
from pathlib import Path

import owlready2
from rdflib import OWL, RDF, Graph, URIRef
from rdflib.compare import to_canonical_graph

from ..errors import OntologyError
from ..paths import ONTOLOGY_FILE
from ..vocab import KG

ONTOLOGY_IRI = "https://w3id.org/kg/ontology"
OWL_FILE = ONTOLOGY_FILE.with_suffix(".owl")

_KINDS = {
    OWL.Class: "class",
    OWL.ObjectProperty: "object",
    OWL.DatatypeProperty: "data",
    OWL.NamedIndividual: "individual",
}


@lru_cache(maxsize=4)
def load_graph(path: Path = ONTOLOGY_FILE) -> Graph:
    """The ontology as an rdflib graph, parsed once per path (shared: do not modify it).

    Raises:
        OntologyError: the file is missing or is not valid Turtle.

    >>> len(load_graph()) > 300
    True
    """
    try:
        return Graph().parse(path, format="turtle")
    except Exception as e:  # rdflib raises several unrelated types for bad input
        raise OntologyError(f"cannot read the ontology {path}: {e}; restore it from version control") from e


def load_ontology(world: owlready2.World | None = None, *, path: Path = ONTOLOGY_FILE) -> owlready2.Ontology:
    """Load the ontology into an owlready2 world (a new one by default), once per world.

    >>> onto = load_ontology()
    >>> [c.name for c in onto.MilitaryUnit.is_a]
    ['Organization']
    """
    world = world if world is not None else owlready2.World()
    onto = world.get_ontology(ONTOLOGY_IRI)
    if not onto.loaded:
        onto.load(fileobj=io.BytesIO(_ntriples(path)), format="ntriples")
    return onto


@lru_cache(maxsize=4)
def _ntriples(path: Path) -> bytes:
    """The ontology as N-Triples, sorted, with blank node ids derived from the graph: the same bytes every run."""
    nt = to_canonical_graph(load_graph(path)).serialize(format="nt", encoding="utf-8")
    return b"\n".join(sorted(set(nt.splitlines()))) + b"\n"


def term_kinds(path: Path = ONTOLOGY_FILE) -> dict[URIRef, str]:
    """Each kg term's kind: ``class``, ``object``, ``data`` (property) or ``individual``.

    >>> term_kinds()[KG.pointInTime], term_kinds()[KG.asserts]
    ('data', 'individual')
    """
    return _term_kinds(path)


@lru_cache(maxsize=4)
def _term_kinds(path: Path) -> dict[URIRef, str]:
    g = load_graph(path)
    ns = str(KG._NS)
    return {s: kind for t, kind in _KINDS.items() for s in g.subjects(RDF.type, t) if str(s).startswith(ns)}


def write_owl(dest: Path = OWL_FILE, *, src: Path = ONTOLOGY_FILE) -> Path:
    """Write the ontology as RDF/XML (``ontology/kg.owl``), atomically; return the path.

    >>> import tempfile, rdflib
    >>> with tempfile.TemporaryDirectory() as d:
    ...     len(rdflib.Graph().parse(write_owl(Path(d) / "kg.owl"))) == len(load_graph())
    True
    """
    buf = io.BytesIO()
    load_ontology(path=src).save(buf, format="rdfxml")
    atomic_write(Path(dest), buf.getvalue())
    return Path(dest)


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to a temporary file next to ``path``, then rename it over ``path``."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


from .populate import populate, save_owl  # noqa: E402  (they use the loaders above)
from .validate import ValidationReport, validate  # noqa: E402

__all__ = [
    "ONTOLOGY_IRI",
    "OWL_FILE",
    "ValidationReport",
    "load_graph",
    "load_ontology",
    "populate",
    "save_owl",
    "term_kinds",
    "validate",
    "write_owl",
]
