"""Scoring an exported graph against gold annotations, with per-type and per-property breakdowns.

The metrics are those of the project's reference scorer (``shared/eval/score.py``),
computed from the RDF alone: entity classes by local name (``Person``,
``Organization``, ``MilitaryUnit``, ``Location``, ``Country``,
``AdministrativeArea``, ``Settlement``, ``Position``, ``Event`` and their
subclasses), labels, ``owl:sameAs`` links to Wikidata, and relations through the
ontology's alignment of its properties to ``wdt:P…``.

Matching a graph node to gold entities:

* a Position matches the gold positions whose ``label_regex`` finds one of its
  labels (case-insensitive), or only the gold position with one of its QIDs;
* any other node matches the gold entities with one of its QIDs, else those
  with one of its labels as name or alias (normalized), else, for a Person, the
  gold persons whose surname is one of its labels; among several, the
  type-compatible ones are kept, then those whose name is one of its labels.

A type is compatible with a gold entity when it is the gold type, one of its
``alt_types``, or a type whose parents in the gold ``types`` table include one
of those. Ratios are rounded to three places. A single document follows
``score.py`` on empty denominators (precision and type accuracy 0.0); a sum of
documents (:meth:`Score.combine`) follows ``score_set.py`` (every ratio 1.0).
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path
from typing import NamedTuple

import pyoxigraph as ox
import rdflib
from rdflib import BNode, Literal, URIRef
from rdflib.namespace import FOAF, OWL, RDF, RDFS, SKOS
from rdflib.util import from_n3

__all__ = ["Issue", "Score", "evaluate", "load_ontology", "render", "score_graph"]

#: Entity classes scored for recall and precision.
CORE = ("Person", "Organization", "MilitaryUnit", "Location", "Country", "AdministrativeArea", "Settlement")
#: Class names, least specific first: a node with two of them counts as the later one.
_RANK = {n: i for i, n in enumerate(
    ("Location", "Organization", "Person", "Position", "Event", "Country", "AdministrativeArea", "Settlement", "MilitaryUnit")
)}
_SCHEMA = ("http://schema.org/", "https://schema.org/")
LABEL_PROPS = frozenset({RDFS.label, SKOS.prefLabel, SKOS.altLabel, FOAF.name} | {URIRef(ns + "name") for ns in _SCHEMA})
SAME_PROPS = frozenset({OWL.sameAs, SKOS.exactMatch, SKOS.closeMatch} | {URIRef(ns + "sameAs") for ns in _SCHEMA})
_WD_ITEM = re.compile(r"https?://www\.wikidata\.org/(?:entity|wiki)/(Q\d+)")
_WD_PROP = re.compile(r"https?://www\.wikidata\.org/(?:prop(?:/direct)?|entity|wiki/Property:)/?(P\d+)")
#: Event arguments: participants, places, and links from a participant to the event.
_PARTICIPANT = frozenset({"P710", "P1344", "P664", "P542", "P1923", "P3342"})
_PLACE = frozenset({"P276", "P131", "P17", "P706"})
_TAKES_PART = frozenset({"P1344", "P793"})
#: RDF files read, by extension (as the reference scorer reads an ontology folder).
_FORMATS = {".ttl": "turtle", ".nt": "nt", ".nq": "nquads", ".trig": "trig", ".jsonld": "json-ld", ".json": "json-ld",
            ".rdf": "xml", ".owl": "xml", ".xml": "xml", ".n3": "n3"}

COUNT_KEYS = ("req", "req_found", "pred_core", "pred_core_matched", "type_den", "type_hits", "verified", "link_ok",
              "wrong_links", "dups", "rel_gold", "rel_sat", "rel_pred", "rel_correct", "ev_gold", "ev_ok")
#: Linking counts (kg's own, beyond the reference scorer's), summable over documents like :data:`COUNT_KEYS`.
LINK_COUNT_KEYS = ("link_gold", "link_tp", "link_fp", "nil_gold", "nil_ok")
ISSUE_KINDS = ("missing_entity", "unmatched", "wrong_type", "duplicate", "unlinked", "wrong_link",
               "missing_relation", "wrong_relation", "missing_event")


def normalize(name: str) -> str:
    """A name folded for matching: ASCII, lower case, no possessive, punctuation or leading article.

    Non-ASCII characters go first, so a typographic apostrophe leaves the ``s``
    (``Ukraine’s`` gives ``ukraines``), as in the reference scorer.

    >>> normalize("The Ukraine's  Armed-Forces"), normalize("Kyiv’s")
    ('ukraine armed forces', 'kyivs')
    """
    s = unicodedata.normalize("NFKD", str(name)).encode("ascii", "ignore").decode().lower()
    s = re.sub(r"['`]s\b", "", s)
    s = " ".join(re.sub(r"[^a-z0-9 ]", " ", s).split())
    for article in ("the ", "a ", "an "):
        if s.startswith(article):
            return s[len(article):].strip()
    return s


class Issue(NamedTuple):
    """One error in one document: what kind, a machine-readable reference, and a line for people.

    ``ref`` is ``(gold_key,)`` for entity issues (``(gold_key, qid)`` for a wrong
    link, ``(gold_key, node_iri, ...)`` for a duplicate), ``(node_iri,)`` for an unmatched node, ``(subject, property, object)``
    for relations (gold keys for a missing one, node IRIs for a wrong one).
    """

    doc: str
    kind: str
    ref: tuple[str, ...]
    text: str


def _breakdown(table: Mapping[str, Mapping[str, int]], names: tuple[str, str, str, str]) -> dict:
    gold, found, pred, right = names
    return {k: {n: r.get(n, 0) for n in names} | {"recall": _ratio(r.get(found, 0), r.get(gold, 0), None),
                                                   "precision": _ratio(r.get(right, 0), r.get(pred, 0), None)}
            for k, r in sorted(table.items())}


def _ratio(num: int, den: int, empty: float | None) -> float | None:
    return round(num / den, 3) if den else empty


def _f1(p: float, r: float) -> float:
    return round(2 * p * r / (p + r), 3) if p + r else 0.0


@dataclass(frozen=True)
class Score:
    """The scores of one document or a sum of documents.

    Args:
        counts: the reference scorer's counts (:data:`COUNT_KEYS`) and the linking counts
            (:data:`LINK_COUNT_KEYS`), summable over documents.
        by_type: per class name, ``gold``/``found`` (required gold entities of that type)
            and ``predicted``/``matched`` (graph nodes of that type).
        by_property: per Wikidata property (``"P17|P131"`` when several are allowed),
            ``gold``/``satisfied`` (gold relations) and ``predicted``/``correct`` (graph relations).
        issues: every error found, for reports.
        triples: triples read (graph and ontology).
        events: event nodes in the graph.
        documents: how many documents were scored.
        combined: a sum of documents (empty ratios are then 1.0, as in ``score_set.py``).

    >>> s = Score(Counter(req=4, req_found=3, pred_core=6, pred_core_matched=3))
    >>> s.entity_recall, s.entity_precision, s.entity_f1
    (0.75, 0.5, 0.6)
    >>> Score.combine([s, s]).counts["req"]
    8
    """

    counts: Mapping[str, int]
    by_type: Mapping[str, Mapping[str, int]] = field(default_factory=dict)
    by_property: Mapping[str, Mapping[str, int]] = field(default_factory=dict)
    issues: tuple[Issue, ...] = ()
    triples: int = 0
    events: int = 0
    documents: int = 1
    combined: bool = False
    by_confidence: Mapping[str, Mapping[str, int]] = field(default_factory=dict)

    @classmethod
    def combine(cls, scores: Iterable[Score]) -> Score:
        """The sum of several documents' scores: counts added, ratios recomputed (micro averages)."""
        scores = list(scores)
        counts: Counter[str] = Counter({k: 0 for k in COUNT_KEYS})
        by_type: dict[str, Counter[str]] = defaultdict(Counter)
        by_property: dict[str, Counter[str]] = defaultdict(Counter)
        by_confidence: dict[str, Counter[str]] = defaultdict(Counter)
        for s in scores:
            counts.update(s.counts)
            for table, rows in ((by_type, s.by_type), (by_property, s.by_property), (by_confidence, s.by_confidence)):
                for key, row in rows.items():
                    table[key].update(row)
        return cls(counts, dict(by_type), dict(by_property), tuple(i for s in scores for i in s.issues),
                   sum(s.triples for s in scores), sum(s.events for s in scores), sum(s.documents for s in scores), True,
                   dict(by_confidence))

    def _c(self, key: str) -> int:
        return self.counts.get(key, 0)

    @property
    def _empty(self) -> float:
        return 1.0 if self.combined else 0.0

    @property
    def entity_recall(self) -> float:
        return _ratio(self._c("req_found"), self._c("req"), 1.0)

    @property
    def entity_precision(self) -> float:
        return _ratio(self._c("pred_core_matched"), self._c("pred_core"), self._empty)

    @property
    def entity_f1(self) -> float:
        return _f1(self.entity_precision, self.entity_recall)

    @property
    def type_accuracy(self) -> float:
        return _ratio(self._c("type_hits"), self._c("type_den"), self._empty)

    @property
    def link_accuracy(self) -> float:
        """Share of required entities with a verified QID that are found and all linked to it."""
        return _ratio(self._c("link_ok"), self._c("verified"), 1.0)

    @property
    def link_precision(self) -> float:
        """Of the found gold entities with a QID that the graph links, the share linked to that QID only."""
        return _ratio(self._c("link_tp"), self._c("link_tp") + self._c("link_fp"), 1.0)

    @property
    def link_recall(self) -> float:
        """Of the found gold entities with a QID, the share linked to that QID only."""
        return _ratio(self._c("link_tp"), self._c("link_gold"), 1.0)

    @property
    def link_f1(self) -> float:
        return _f1(self.link_precision, self.link_recall)

    @property
    def nil_accuracy(self) -> float:
        """Of the found gold entities without a QID, the share the graph leaves unlinked."""
        return _ratio(self._c("nil_ok"), self._c("nil_gold"), 1.0)

    @property
    def relation_recall(self) -> float:
        return _ratio(self._c("rel_sat"), self._c("rel_gold"), 1.0)

    @property
    def relation_precision(self) -> float:
        return _ratio(self._c("rel_correct"), self._c("rel_pred"), self._empty)

    @property
    def relation_f1(self) -> float:
        return _f1(self.relation_precision, self.relation_recall)

    @property
    def event_recall(self) -> float:
        return _ratio(self._c("ev_ok"), self._c("ev_gold"), 1.0)

    def issues_of(self, kind: str) -> list[Issue]:
        """The issues of one kind (:data:`ISSUE_KINDS`)."""
        if kind not in ISSUE_KINDS:
            raise ValueError(f"unknown issue kind {kind!r}; choose one of {', '.join(ISSUE_KINDS)}")
        return [i for i in self.issues if i.kind == kind]

    @property
    def missing_entities(self) -> list[Issue]:
        return self.issues_of("missing_entity")

    @property
    def unmatched_predicted(self) -> list[Issue]:
        return self.issues_of("unmatched")

    @property
    def missing_relations(self) -> list[Issue]:
        return self.issues_of("missing_relation")

    @property
    def wrong_relations(self) -> list[Issue]:
        return self.issues_of("wrong_relation")

    def as_dict(self) -> dict:
        """Metrics, counts, breakdowns and issues as plain JSON-ready data."""

        return {
            "documents": self.documents, "triples": self.triples, "entities_core": self._c("pred_core"), "events": self.events,
            "entity_recall": self.entity_recall, "entity_precision": self.entity_precision, "entity_f1": self.entity_f1,
            "type_accuracy": self.type_accuracy, "duplicates": self._c("dups"),
            "link_accuracy_verified": self.link_accuracy, "wrong_links": self._c("wrong_links"),
            "link_precision": self.link_precision, "link_recall": self.link_recall, "link_f1": self.link_f1,
            "nil_accuracy": self.nil_accuracy, "link_counts": {k: self._c(k) for k in LINK_COUNT_KEYS},
            "relation_recall": self.relation_recall, "relation_precision": self.relation_precision,
            "relation_f1": self.relation_f1, "relations_predicted": self._c("rel_pred"), "event_recall": self.event_recall,
            "counts": {k: self._c(k) for k in COUNT_KEYS},
            "by_type": _breakdown(self.by_type, ("gold", "found", "predicted", "matched")),
            "by_property": _breakdown(self.by_property, ("gold", "satisfied", "predicted", "correct")),
            "relation_precision_by_confidence": {
                band: {"predicted": row.get("predicted", 0), "correct": row.get("correct", 0),
                       "precision": _ratio(row.get("correct", 0), row.get("predicted", 0), None)}
                for band, row in sorted(self.by_confidence.items())
            },
            "issues": {kind: [{"doc": i.doc, "ref": list(i.ref), "text": i.text} for i in self.issues if i.kind == kind]
                       for kind in ISSUE_KINDS},
        }


# --- reading terms and graphs ------------------------------------------------------------------

_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:\S*")
_XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"


def _term(x) -> URIRef | BNode | Literal:
    """An rdflib term from an rdflib or pyoxigraph term or a string.

    A string in N-Triples syntax (``<iri>``, ``_:b``, ``"text"@en``) is read as
    such; any other string is an IRI if it starts with a scheme and has no space,
    else a plain literal.
    """
    if isinstance(x, (URIRef, BNode, Literal)):
        return x
    if isinstance(x, ox.NamedNode):
        return URIRef(x.value)
    if isinstance(x, ox.BlankNode):
        return BNode(x.value)
    if isinstance(x, ox.Literal):
        if x.language:
            return Literal(x.value, lang=x.language)
        return Literal(x.value, datatype=None if x.datatype.value == _XSD_STRING else URIRef(x.datatype.value))
    if isinstance(x, str):
        if x[:1] in ('<', '"') or x.startswith("_:"):
            return from_n3(x)
        return URIRef(x) if _SCHEME.fullmatch(x) else Literal(x)
    raise TypeError(f"{x!r}: not an RDF term; give rdflib or pyoxigraph terms or strings")


class _Graph:
    """The merged triples, indexed by subject, object and predicate."""

    def __init__(self, items: Iterable) -> None:
        triples = set()
        for t in items:
            s, p, o = (t.subject, t.predicate, t.object) if hasattr(t, "subject") else tuple(t)[:3]
            triples.add((_term(s), _term(p), _term(o)))
        self.triples = triples
        self.out: dict = defaultdict(list)
        self.inc: dict = defaultdict(list)
        self.by_p: dict = defaultdict(list)
        for s, p, o in triples:
            self.out[s].append((p, o))
            self.inc[o].append((s, p))
            self.by_p[p].append((s, o))

    def objects(self, s, props) -> list:
        return [o for p, o in self.out.get(s, ()) if p in props]


def load_ontology(path: str | Path) -> rdflib.Graph:
    """The ontology's triples: a file, or every RDF file under a folder (by extension, ``.owl`` as RDF/XML).

    >>> from kg.paths import ONTOLOGY_DIR
    >>> len(load_ontology(ONTOLOGY_DIR)) > 0
    True
    """
    path = Path(path)
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    g = rdflib.Graph()
    for f in files:
        fmt = _FORMATS.get(f.suffix.lower())
        if fmt is None:
            continue
        if fmt in ("nquads", "trig", "json-ld"):
            ds = rdflib.Dataset()
            ds.parse(f, format=fmt)
            for s, p, o, _ in ds.quads((None, None, None, None)):
                g.add((s, p, o))
            continue
        try:
            g.parse(f, format=fmt)
        except Exception:
            if f.suffix.lower() != ".owl":
                raise
            g.parse(f, format="turtle")  # an .owl file in Turtle
    return g


def _local(iri) -> str:
    return str(iri).replace("#", "/").rsplit("/", 1)[-1]


def _reach(start, edges: Mapping) -> set:
    seen, todo = set(), [start]
    while todo:
        x = todo.pop()
        if x not in seen:
            seen.add(x)
            todo.extend(edges.get(x, ()))
    return seen


def _class_names(g: _Graph) -> dict:
    """Each class (declared or not) mapped to the most specific scored class name it falls under."""
    narrower: dict = defaultdict(set)
    for c, d in g.by_p[RDFS.subClassOf]:
        narrower[d].add(c)
    for c, d in g.by_p[OWL.equivalentClass]:
        narrower[d].add(c)
        narrower[c].add(d)
    declared = {s for s, o in g.by_p[RDF.type] if o in (OWL.Class, RDFS.Class) and isinstance(s, URIRef)}
    names: dict = {}
    for c in declared:
        name = _local(c)
        if name not in _RANK:
            continue
        for x in _reach(c, narrower):
            if x not in names or _RANK[name] > _RANK[names[x]]:
                names[x] = name
    return names


def _alignment(g: _Graph) -> dict:
    """Each property mapped to the Wikidata property ids it is (a sub-property of, or equivalent to)."""
    broader: dict = defaultdict(set)
    for p, q in g.by_p[RDFS.subPropertyOf]:
        broader[p].add(q)
    for p, q in g.by_p[OWL.equivalentProperty]:
        broader[p].add(q)
        broader[q].add(p)
    props = {s for s, o in g.by_p[RDF.type] if o in (OWL.ObjectProperty, OWL.DatatypeProperty, RDF.Property)}
    props |= {s for s, _ in chain(g.by_p[RDFS.subPropertyOf], g.by_p[OWL.equivalentProperty])}
    out: dict = {}
    for p in props:
        pids = {m.group(1) for q in _reach(p, broader) if (m := _WD_PROP.fullmatch(str(q)))}
        if pids:
            out[p] = pids
    for p in g.by_p:  # wdt:P… used directly
        if m := _WD_PROP.fullmatch(str(p)):
            out.setdefault(p, set()).add(m.group(1))
    return {p: frozenset(v) for p, v in out.items()}


# --- scoring ----------------------------------------------------------------------------------


def _props(rel: Mapping) -> set[str]:
    p = rel["property"]
    return set(p) if isinstance(p, list) else {p}


def _band(confidence: float | None) -> str:
    """The confidence band a fact falls in, for precision per band.

    >>> _band(0.87), _band(None), _band(1.0)
    ('0.8-0.9', 'none', '0.9-1.0')
    """
    if confidence is None:
        return "none"
    low = min(9, int(confidence * 10 + 1e-9)) / 10
    return f"{low:.1f}-{low + 0.1:.1f}"


def _pid_key(pids: Iterable[str]) -> str:
    """Property ids joined in numeric order: ``P17|P131``."""
    return "|".join(sorted(set(pids), key=lambda p: (len(p), p)))


def score_graph(gold: Mapping, triples: Iterable, ontology_triples: Iterable = (), *, doc: str | None = None) -> Score:
    """Score a graph against one gold document.

    Args:
        gold: one gold document (``seed.gold.json`` format).
        triples: the exported graph's triples or quads (named graphs are merged):
            tuples of rdflib or pyoxigraph terms or strings, or pyoxigraph ``Quad``/``Triple``.
        ontology_triples: the ontology's triples (see :func:`load_ontology`).
        doc: the document id in issues (default: the gold ``id`` or ``document``).

    >>> from rdflib import Graph
    >>> ttl = '''@prefix kg: <https://w3id.org/kg/ontology#> . @prefix owl: <http://www.w3.org/2002/07/owl#> .
    ... @prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
    ... kg:Person a owl:Class . <x:k> a kg:Person ; rdfs:label "Kyle" . <x:j> a kg:Person ; rdfs:label "Doe" .'''
    >>> gold = {"types": {"Person": []}, "relations": [], "entities": [
    ...     {"key": "doe", "name": "Jane Doe", "type": "Person", "required": True}]}
    >>> s = score_graph(gold, Graph().parse(data=ttl, format="turtle"))
    >>> s.entity_recall, s.entity_precision, [i.ref for i in s.unmatched_predicted]
    (1.0, 0.5, [('x:k',)])
    """
    doc = doc if doc is not None else str(gold.get("id", gold.get("document", "")))
    g = _Graph(chain(triples, ontology_triples))
    class_name = _class_names(g)
    pmap = _alignment(g)

    # graph nodes of scored classes, their labels and QIDs
    ents: dict = {}
    for s, c in g.by_p[RDF.type]:
        name = class_name.get(c)
        if name and isinstance(s, URIRef) and (s not in ents or _RANK[name] > _RANK[ents[s]]):
            ents[s] = name
    labels = {e: {str(o) for o in g.objects(e, LABEL_PROPS) if isinstance(o, Literal)} for e in ents}
    qids = {e: {m.group(1) for o in g.objects(e, SAME_PROPS) if (m := _WD_ITEM.fullmatch(str(o)))} for e in ents}

    def label(node) -> str:
        return min(labels.get(node) or {str(node)})

    # gold indexes
    gents = {x["key"]: x for x in gold.get("entities", [])}
    parents = gold.get("types", {})

    def type_ok(pred: str, gx: Mapping) -> bool:
        allowed = {gx["type"], *gx.get("alt_types", [])}
        return pred in allowed or bool(allowed.intersection(parents.get(pred, ())))

    by_name: dict[str, set[str]] = defaultdict(set)
    by_surname: dict[str, set[str]] = defaultdict(set)
    by_qid: dict[str, str] = {}
    for k, x in gents.items():
        if x.get("qid"):
            by_qid[x["qid"]] = k
        if x["type"] == "Position":
            continue
        for n in [x["name"], *x.get("aliases", [])]:
            by_name[normalize(n)].add(k)
        words = normalize(x["name"]).split()
        if x["type"] == "Person" and len(words) > 1:
            by_surname[words[-1]].add(k)

    # graph node -> gold keys
    match: dict = {}
    for e, t in ents.items():
        if t == "Event":
            continue
        if t == "Position":
            linked = sorted(by_qid[q] for q in qids[e] if q in by_qid and gents[by_qid[q]]["type"] == "Position")
            cands = {linked[0]} if linked else {
                k for k, x in gents.items()
                if x["type"] == "Position" and any(re.search(x.get("label_regex", "(?!)"), lb, re.I) for lb in labels[e])}
        else:
            cands = {by_qid[q] for q in qids[e] if q in by_qid}
            for index in (by_name, by_surname if t == "Person" else {}):
                if not cands:
                    cands = {k for lb in labels[e] for k in index.get(normalize(lb), ())}
            if len(cands) > 1:
                cands = {k for k in cands if type_ok(t, gents[k])} or cands
            if len(cands) > 1:
                norms = {normalize(lb) for lb in labels[e]}
                cands = {k for k in cands if normalize(gents[k]["name"]) in norms} or cands
        if cands:
            match[e] = cands
    found: dict[str, set] = defaultdict(set)
    for e, ks in match.items():
        if ents[e] != "Position":
            for k in ks:
                found[k].add(e)

    issues: list[Issue] = []

    def issue(kind: str, ref: tuple, text: str) -> None:
        issues.append(Issue(doc, kind, tuple(str(r) for r in ref), text))

    # entities
    req = [k for k, x in gents.items() if x.get("required") and x["type"] in CORE]
    core_pred = [e for e, t in ents.items() if t in CORE]
    by_type: dict[str, Counter[str]] = defaultdict(Counter)
    for k in req:
        by_type[gents[k]["type"]].update(gold=1, found=int(bool(found[k])))
    for e in core_pred:
        by_type[ents[e]].update(predicted=1, matched=int(e in match))
    type_hits = 0
    for k in req:
        x = gents[k]
        if not found[k]:
            issue("missing_entity", (k,), f"{x['name']} ({x['type']})")
        elif any(type_ok(ents[e], x) for e in found[k]):
            type_hits += 1
        else:
            issue("wrong_type", (k,), f"{x['name']}: {x['type']} in gold, {', '.join(sorted({ents[e] for e in found[k]}))} in the graph")
        if len(found[k]) > 1:
            nodes = sorted(map(str, found[k]))
            issue("duplicate", (k, *nodes), f"{x['name']}: {len(nodes)} nodes {', '.join(nodes)}")
    for e in core_pred:
        if e not in match:
            issue("unmatched", (e,), f"{label(e)} ({ents[e]})")

    # links
    gold_qids = set(by_qid)
    wrong_links = 0
    for k, x in gents.items():
        for e in found.get(k, ()):
            for q in sorted(qids[e]):
                if (x.get("qid") and q != x["qid"]) or (not x.get("qid") and q in gold_qids):
                    wrong_links += 1
                    issue("wrong_link", (k, q), f"{x['name']} linked to {q}" + (f", not {x['qid']}" if x.get("qid") else ""))
    # linking, on the gold entities the graph found: QIDs right (precision, recall), no QID left NIL
    link_gold = link_tp = link_fp = nil_gold = nil_ok = 0
    for k, x in gents.items():
        if x["type"] not in CORE or not found.get(k):
            continue
        got = set().union(*(qids[e] for e in found[k]))
        if x.get("qid"):
            link_gold += 1
            link_tp += got == {x["qid"]}
            link_fp += bool(got - {x["qid"]})
        else:
            nil_gold += 1
            nil_ok += not got
    verified = [k for k in req if gents[k].get("qid")]
    link_ok = 0
    for k in verified:
        if found[k] and all(gents[k]["qid"] in qids[e] for e in found[k]):
            link_ok += 1
        else:
            got = "; ".join(f"{label(e)} -> {', '.join(sorted(qids[e])) or 'no link'}" for e in sorted(found[k])) or "not found"
            issue("unlinked", (k,), f"{gents[k]['name']}: {gents[k]['qid']} expected on every node; {got}")

    # relations
    def keys(node) -> set[str]:
        return match.get(node, set())

    pred_rel = [(s, pmap[p], o) for s, p, o in g.triples
                if p in pmap and isinstance(o, URIRef) and ents.get(s, "Event") != "Event" and ents.get(o, "Event") != "Event"]
    # the confidence of each predicted relation: the highest of the statement nodes that state it
    conf_of: dict[tuple, float] = {}
    statements = {s for s, p, o in g.triples if p == RDF.subject}
    for st in statements:
        parts = {p: o for p, o in g.out.get(st, ())}
        c = next((float(o) for p, o in g.out.get(st, ()) if _local(p) == "confidence" and isinstance(o, Literal)), None)
        key = (parts.get(RDF.subject), pmap.get(parts.get(RDF.predicate)), parts.get(RDF.object))
        if c is not None and key[1] is not None:
            conf_of[key] = max(c, conf_of.get(key, 0.0))

    def holds(rel: Mapping, s, pids, o) -> bool:
        return any(x["subject"] in keys(s) and x["object"] in keys(o) and bool(pids & _props(x)) for x in [rel, *rel.get("alt", [])])

    by_property: dict[str, Counter[str]] = defaultdict(Counter)
    gold_rel = gold.get("relations", [])
    rel_sat = 0
    for r in gold_rel:
        ok = any(holds(r, *t) for t in pred_rel)
        rel_sat += ok
        by_property[_pid_key(_props(r))].update(gold=1, satisfied=int(ok))
        if not ok:
            name = {k: gents.get(k, {}).get("name", k) for k in (r["subject"], r["object"])}
            issue("missing_relation", (r["subject"], _pid_key(_props(r)), r["object"]),
                  f"{name[r['subject']]} -[{_pid_key(_props(r))}]-> {name[r['object']]}")
    rel_correct = 0
    true_rel = gold_rel + gold.get("also_true", [])
    by_confidence: dict[str, Counter[str]] = defaultdict(Counter)
    for s, pids, o in pred_rel:
        ok = any(holds(r, s, pids, o) for r in true_rel)
        rel_correct += ok
        key = _pid_key(pids)
        by_property[key].update(predicted=1, correct=int(ok))
        by_confidence[_band(conf_of.get((s, pids, o)))].update(predicted=1, correct=int(ok))
        if not ok:
            issue("wrong_relation", (s, key, o), f"{label(s)} -[{key}]-> {label(o)}")

    # events
    events = [e for e, t in ents.items() if t == "Event"]

    def arguments(ev, pids: frozenset) -> set[str]:
        out = {k for p, o in g.out.get(ev, ()) if pmap.get(p, frozenset()) & pids for k in keys(o)}
        return out | {k for s, p in g.inc.get(ev, ()) if pmap.get(p, frozenset()) & _TAKES_PART for k in keys(s)}

    gold_events = gold.get("events", [])
    ev_ok = 0
    for ge in gold_events:
        places = set(ge.get("location_any", []))
        if any(set(ge["participants"]) <= arguments(ev, _PARTICIPANT) and (not places or places & arguments(ev, _PLACE))
               for ev in events):
            ev_ok += 1
        else:
            issue("missing_event", (ge["key"],), ge.get("what", ge["key"]))

    counts = Counter(
        req=len(req), req_found=sum(1 for k in req if found[k]), pred_core=len(core_pred),
        pred_core_matched=sum(1 for e in core_pred if e in match), type_den=sum(1 for k in req if found[k]),
        type_hits=type_hits, verified=len(verified), link_ok=link_ok, wrong_links=wrong_links,
        dups=sum(1 for k in req if len(found[k]) > 1), rel_gold=len(gold_rel), rel_sat=rel_sat,
        rel_pred=len(pred_rel), rel_correct=rel_correct, ev_gold=len(gold_events), ev_ok=ev_ok,
        link_gold=link_gold, link_tp=link_tp, link_fp=link_fp, nil_gold=nil_gold, nil_ok=nil_ok,
    )
    return Score(counts, dict(by_type), dict(by_property), tuple(issues), len(g.triples), len(events),
                 by_confidence=dict(by_confidence))


# --- building and reporting -------------------------------------------------------------------


def evaluate(gold_path: str | Path, *, pipeline, ontology_dir: str | Path | None = None) -> Score:
    """Build each gold document with ``pipeline`` and score it; several documents are summed (:meth:`Score.combine`).

    Args:
        gold_path: a gold file, one document (``seed.gold.json``) or a list of passages (``dev.gold.json``).
        pipeline: a :class:`kg.pipeline.Pipeline`.
        ontology_dir: the ontology folder or file (default ``ontology/``).
    """
    from ..export.graph import document_quads
    from ..paths import ONTOLOGY_DIR
    from .gold import read_gold

    ontology = list(load_ontology(ontology_dir if ontology_dir is not None else ONTOLOGY_DIR))
    scores = []
    for gold, document in read_gold(gold_path):
        for res in pipeline.resolutions([document]):
            scores.append(score_graph(gold, document_quads(res), ontology, doc=document.id))
    return scores[0] if len(scores) == 1 else Score.combine(scores)


def render(score: Score, *, issues: int = 12):
    """A rich renderable: the metrics, the per-type and per-property breakdowns, and the first issues of each kind."""
    from rich.console import Group
    from rich.table import Table

    summary = Table(title=f"kg evaluation ({score.documents} document{'s' * (score.documents != 1)})")
    for col in ("", "recall", "precision", "F1", "counts"):
        summary.add_column(col, justify="left" if not col else "right")
    c = score.counts
    summary.add_row("entities", f"{score.entity_recall:.3f}", f"{score.entity_precision:.3f}", f"{score.entity_f1:.3f}",
                    f"{c['req_found']}/{c['req']} found, {c['pred_core_matched']}/{c['pred_core']} matched")
    summary.add_row("relations", f"{score.relation_recall:.3f}", f"{score.relation_precision:.3f}", f"{score.relation_f1:.3f}",
                    f"{c['rel_sat']}/{c['rel_gold']} found, {c['rel_correct']}/{c['rel_pred']} correct")
    summary.add_row("events", f"{score.event_recall:.3f}", "", "", f"{c['ev_ok']}/{c['ev_gold']} found")
    summary.add_row("types", f"{score.type_accuracy:.3f}", "", "", f"{c['type_hits']}/{c['type_den']} right")
    summary.add_row("links (verified)", f"{score.link_accuracy:.3f}", "", "",
                    f"{c['link_ok']}/{c['verified']} right, {c['wrong_links']} wrong links, {c['dups']} duplicates")
    summary.add_row("linking", f"{score.link_recall:.3f}", f"{score.link_precision:.3f}", f"{score.link_f1:.3f}",
                    f"{c['link_tp']}/{c['link_gold']} right, {c['link_fp']} wrong; NIL {c['nil_ok']}/{c['nil_gold']}"
                    f" ({score.nil_accuracy:.3f})")

    def breakdown(title, rows, names):
        t = Table(title=title)
        for col in ("", "recall", names[0], names[1], "precision", names[2], names[3]):
            t.add_column(col, justify="left" if not col else "right")
        for key, r in sorted(rows.items()):
            t.add_row(key, _cell(r.get(names[1], 0), r.get(names[0], 0)), str(r.get(names[0], 0)), str(r.get(names[1], 0)),
                      _cell(r.get(names[3], 0), r.get(names[2], 0)), str(r.get(names[2], 0)), str(r.get(names[3], 0)))
        return t

    parts = [summary, breakdown("by type", score.by_type, ("gold", "found", "predicted", "matched")),
             breakdown("by property", score.by_property, ("gold", "satisfied", "predicted", "correct"))]
    if score.by_confidence:
        t = Table(title="relation precision by confidence")
        for col in ("confidence", "precision", "predicted", "correct"):
            t.add_column(col, justify="left" if col == "confidence" else "right")
        for band, r in sorted(score.by_confidence.items()):
            t.add_row(band, _cell(r.get("correct", 0), r.get("predicted", 0)), str(r.get("predicted", 0)), str(r.get("correct", 0)))
        parts.append(t)
    if issues:
        t = Table(title="issues", show_header=False)
        for kind in ISSUE_KINDS:
            found = score.issues_of(kind)
            for i in found[:issues]:
                t.add_row(kind, i.doc, i.text)
            if len(found) > issues:
                t.add_row(kind, "", f"... {len(found) - issues} more")
        parts.append(t)
    return Group(*parts)


def _cell(num: int, den: int) -> str:
    return f"{num / den:.3f}" if den else "-"
