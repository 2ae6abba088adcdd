"""Loading a kg dataset into a remote triplestore, all or nothing.

Quads stream from the source (an RDF file or the embedded store) in batches
into *staging* graphs, one per target graph, through the Graph Store Protocol
(POST) or, for stores without it, SPARQL Update (``INSERT DATA``). Only when
every batch is in does one SPARQL Update request ``MOVE`` each staging graph
onto its target, which replaces the target's content. A store that applies an
update request atomically (Oxigraph, Jena TDB2, Virtuoso) therefore holds the
previous graphs or the new ones, never a mix, whatever happens during the load;
staging graphs an interrupted load left behind are dropped by the next load.

Then the VoID description of the kg graphs the store now holds is computed by
SPARQL on the store itself (:mod:`kg.store.void`) and replaces its meta graph.
The source's own meta graph is not copied, since it describes the source.

Memory stays flat: one batch of quads at a time. A blank node is only the same
node within one request, so quads with blank nodes are held back and sent
together at the end (kg's own graphs have none).
"""

from __future__ import annotations

import logging
import os
import secrets
import time
import urllib.parse
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from kg.errors import ExportError, KGError, StoreError
from kg.export.serialize import FORMATS, check_xml_entities, format_for
from kg.iri import BASE, META_GRAPH
from kg.query.run import QueryResult
from kg.remote.endpoint import PASSWORD_ENV, USER_ENV, Endpoint, Http, Response, credentials, discover
from kg.remote.query import query_endpoint
from kg.store.store import Store
from kg.store.void import describe

log = logging.getLogger(__name__)

#: Where the graphs of a load in progress live, before they replace their targets.
STAGING = BASE + "staging/"
_META = ox.NamedNode(str(META_GRAPH))
_FORM = {"Content-Type": "application/x-www-form-urlencoded"}
#: Quads per second a store is assumed to move at least, to give the one commit request time enough.
_COMMIT_RATE = 500


@dataclass(frozen=True)
class LoadReport:
    """What a load did: target graphs replaced, quads sent, requests made, and how (``"gsp"`` or ``"update"``)."""

    graphs: int
    quads: int
    requests: int
    protocol: str
    seconds: float
    void_triples: int


def source_quads(
    source: Store | str | os.PathLike[str], *, format: str | None = None
) -> tuple[Iterator[ox.Quad], int | None]:
    """The quads of an RDF file (parsed as they are read) or of a store, and about how many there are, if known.

    Raises:
        ExportError: The file is missing or its format unknown.

    >>> quads, total = source_quads(ox.Store())
    >>> list(quads), total
    ([], 0)
    """
    if isinstance(source, Store):
        return source.quads(), len(source)
    if isinstance(source, ox.Store):
        return iter(source), len(source)
    path = Path(source)
    name = format_for(path, format)
    if not path.is_file():
        raise ExportError(f"cannot read {path}: no such file")
    if name == "rdfxml":  # no external entities, no entity bomb
        check_xml_entities(path.read_bytes(), str(path))
    quads = ox.parse(path=str(path), format=FORMATS[name].rdf_format, base_iri=path.resolve().as_uri())
    return _parse_errors(quads, path), _lines(path) if name in ("nquads", "ntriples") else None


def _lines(path: Path) -> int:
    """The number of lines of a file, read in blocks: about its statements, for N-Quads and N-Triples."""
    with path.open("rb") as f:
        return sum(block.count(b"\n") for block in iter(lambda: f.read(1 << 20), b""))


def _parse_errors(quads: Iterator[ox.Quad], path: Path) -> Iterator[ox.Quad]:
    try:
        yield from quads
    except SyntaxError as exc:
        where = "".join(f":{n}" for n in (exc.lineno, exc.offset) if n)
        raise ExportError(f"{path}{where}: {exc.msg.splitlines()[0]}") from None
    except (OSError, ValueError) as exc:
        raise ExportError(f"cannot read {path}: {str(exc).splitlines()[0]}") from None


class Loader:
    """Loads quads into the store behind ``endpoint``; see the module docstring.

    Args:
        endpoint: The store's services (:func:`kg.remote.endpoint.discover`).
        http: The HTTP client (timeouts, retries, credentials).
        batch_size: Quads per request.
        graph: The named graph for quads in the default graph (from triple formats);
            without it such quads are refused.
    """

    def __init__(self, endpoint: Endpoint, http: Http, *, batch_size: int = 20_000, graph: str | None = None):
        if batch_size < 1:
            raise StoreError(f"batch size {batch_size} must be at least 1")
        self.endpoint, self.http, self.batch_size = endpoint, http, batch_size
        self.default_graph = ox.NamedNode(graph) if graph else None
        self.token, self.requests = "", 0
        self.staging: dict[ox.NamedNode, ox.NamedNode] = {}

    def load(
        self,
        quads: Iterable[ox.Quad],
        *,
        on_batch: Callable[[int], None] | None = None,
        on_commit: Callable[[], None] | None = None,
    ) -> LoadReport:
        """Stage every quad, then replace each target graph by its staging graph; then write the VoID.

        Args:
            quads: The quads to load; those in the meta graph are skipped (it is recomputed).
            on_batch: Called with the number of quads of each batch sent.
            on_commit: Called when every batch is in, before the graphs are replaced.

        Raises:
            StoreError: A request failed; the target graphs are as they were before.
            ExportError: The source could not be read; the target graphs are as they were before.
        """
        started = time.perf_counter()
        self.token, self.staging, self.requests = secrets.token_hex(8), {}, 0
        self._drop_leftovers()
        sent = 0
        try:
            held: list[ox.Quad] = []
            batch: list[ox.Quad] = []
            for quad in quads:
                if quad.graph_name == _META:
                    continue
                quad = self._staged(quad)
                if _has_blank(quad):
                    held.append(quad)
                    continue
                batch.append(quad)
                if len(batch) >= self.batch_size:
                    sent += self._send(batch, on_batch)
                    batch = []
            for rest in (batch, held):
                if rest:
                    sent += self._send(rest, on_batch)
            if on_commit is not None:
                on_commit()
            self._commit(sent)
        except BaseException:
            self._drop_staging()
            raise
        try:
            void = describe(self._query)
            self._update(_replace_graph(_META, void), what="write the VoID description")
        except KGError as exc:
            raise StoreError(f"the graphs are loaded, but not their VoID description: {exc}") from None
        return LoadReport(len(self.staging), sent, self.requests, "gsp" if self.endpoint.gsp_url else "update",
                          time.perf_counter() - started, len(void))

    def _staged(self, quad: ox.Quad) -> ox.Quad:
        target = quad.graph_name
        if isinstance(target, ox.DefaultGraph):
            if self.default_graph is None:
                raise StoreError("the source has triples outside any named graph; give --graph IRI for them, "
                                 "or load a dataset file (.nq, .trig) or the store")
            target = self.default_graph
        staging = self.staging.get(target)
        if staging is None:
            staging = self.staging[target] = ox.NamedNode(f"{STAGING}{self.token}/{len(self.staging)}")
        return ox.Quad(quad.subject, quad.predicate, quad.object, staging)

    def _send(self, quads: list[ox.Quad], on_batch: Callable[[int], None] | None) -> int:
        gsp = self.endpoint.gsp_url
        if gsp and self.endpoint.quads_post:  # staging needs no transaction: Oxigraph's bulk loader is faster
            self._post(f"{gsp}?no_transaction", ox.serialize(quads, format=ox.RdfFormat.N_QUADS), "application/n-quads")
        elif gsp:
            by_graph: dict[ox.NamedNode, list[ox.Triple]] = defaultdict(list)
            for q in quads:
                by_graph[q.graph_name].append(q.triple)
            for graph, triples in by_graph.items():
                url = f"{gsp}?{urllib.parse.urlencode({'graph': graph.value})}"
                self._post(url, ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES), "application/n-triples")
        else:
            self._update(_insert_data(quads), what="stage a batch")
        if on_batch is not None:
            on_batch(len(quads))
        return len(quads)

    def _post(self, url: str, body: bytes, content_type: str) -> None:
        response = self.http.request("POST", url, body=body, headers={"Content-Type": content_type})
        self.requests += 1
        if response.status not in (200, 201, 204):
            raise _refused(url, response, "take a batch")

    def _update(self, update: str, *, what: str, retries: int | None = None, timeout: float | None = None) -> None:
        body = urllib.parse.urlencode({"update": update}).encode()
        try:
            response = self.http.request("POST", self.endpoint.update_url, body=body, headers=_FORM, retries=retries,
                                         timeout=timeout)
        except StoreError as exc:
            raise _NoAnswer(str(exc)) from None
        self.requests += 1
        if response.status in (502, 503, 504):  # a gateway's answer: the store may or may not have applied it
            raise _NoAnswer(f"{self.endpoint.update_url} answered HTTP {response.status} to {what}: {response.text()}")
        if response.status not in (200, 204):
            raise _refused(self.endpoint.update_url, response, what)

    def _commit(self, quads: int) -> None:
        """Replace every target by its staging graph, in one update request.

        With no answer, the update may or may not have taken place: ``MOVE`` removes
        its staging graph, so the first one still being there says it did not, and
        the request is sent again (never blindly: a second ``MOVE`` of a missing
        graph would fail, and ``MOVE SILENT`` would empty the target).
        """
        if not self.staging:
            return
        update = " ;\n".join(f"MOVE {staging} TO {target}" for target, staging in self.staging.items())
        first = next(iter(self.staging.values()))
        for attempt in range(1 + self.http.retries):
            try:
                self._update(update, what="replace the graphs", retries=0, timeout=self.http.timeout + quads / _COMMIT_RATE)
                return
            except _NoAnswer:
                if attempt == self.http.retries:
                    raise StoreError("no answer while replacing the graphs; the store applies an update whole, so it "
                                     "holds the previous graphs or the new ones: run the load again") from None
                self.http.pause(attempt, "no answer while replacing the graphs")
                try:
                    if not self._exists(first):
                        return
                except KGError:
                    pass

    def _query(self, text: str) -> QueryResult:
        return query_endpoint(text, self.endpoint.query_url, timeout=self.http.timeout, retries=self.http.retries)

    def _exists(self, graph: ox.NamedNode) -> bool:
        result = self._query(f"ASK {{ GRAPH {graph} {{ ?s ?p ?o }} }}")
        return bool(result.boolean)

    def _drop_staging(self) -> None:
        """Best effort: the server may be the reason the load failed."""
        if not self.staging:
            return
        try:
            drops = " ;\n".join(f"DROP SILENT GRAPH {g}" for g in self.staging.values())
            self._update(drops, what="drop the staging graphs", retries=0)
        except StoreError as exc:
            log.warning("could not drop this load's staging graphs (the next load will): %s", exc)

    def _drop_leftovers(self) -> None:
        """Drop the staging graphs of interrupted loads; this also checks that the store takes updates."""
        pattern = "GRAPH ?g { }" if self.endpoint.product == "oxigraph" else "GRAPH ?g { ?s ?p ?o }"
        text = f'SELECT DISTINCT ?g WHERE {{ {pattern} FILTER(STRSTARTS(STR(?g), "{STAGING}")) }}'
        leftovers = [row[0] for row in self._query(text).rows]
        if leftovers:
            log.warning("dropping %d staging graphs left by an interrupted load", len(leftovers))
        drops = " ;\n".join(f"DROP SILENT GRAPH {g}" for g in leftovers) or f"DROP SILENT GRAPH <{STAGING}{self.token}/probe>"
        self._update(drops, what="prepare the load")


def _refused(url: str, response: Response, what: str) -> StoreError:
    text = response.text()
    if response.status == 401:
        fix = ("it refused the credentials" if credentials(url) else
               f"it needs credentials: set {USER_ENV} and {PASSWORD_ENV}, or a netrc entry for the host")
        return StoreError(f"{url} did not let kg {what} (HTTP 401): {fix}")
    denied = response.status == 403 or any(w in text.lower() for w in ("permission", "read-only", "not allowed"))
    hint = "; is the server read-only, or are credentials missing?" if denied else ""
    return StoreError(f"{url} refused to {what} (HTTP {response.status})" + (f": {text}" if text else "") + hint)


class _NoAnswer(StoreError):
    """An update got no answer: it may or may not have been applied."""


def _has_blank(quad: ox.Quad) -> bool:
    return isinstance(quad.subject, ox.BlankNode) or isinstance(quad.object, ox.BlankNode)


def _insert_data(quads: list[ox.Quad]) -> str:
    by_graph: dict[ox.NamedNode, list[str]] = defaultdict(list)
    for q in quads:
        by_graph[q.graph_name].append(f"{q.subject} {q.predicate} {q.object} .")
    return "INSERT DATA {\n" + "\n".join(f"GRAPH {g} {{\n" + "\n".join(lines) + "\n}" for g, lines in by_graph.items()) + "\n}"


def _replace_graph(graph: ox.NamedNode, quads: list[ox.Quad]) -> str:
    lines = "\n".join(f"{q.subject} {q.predicate} {q.object} ." for q in quads)
    return f"DROP SILENT GRAPH {graph} ;\nINSERT DATA {{ GRAPH {graph} {{\n{lines}\n}} }}"


def load(
    source: Store | ox.Store | str | os.PathLike[str],
    url: str,
    *,
    format: str | None = None,
    graph: str | None = None,
    batch_size: int = 20_000,
    protocol: str = "auto",
    query_url: str | None = None,
    update_url: str | None = None,
    gsp_url: str | None = None,
    http: Http | None = None,
    on_batch: Callable[[int], None] | None = None,
) -> LoadReport:
    """Load an RDF file or a store into the triplestore at ``url``, replacing the graphs it holds.

    Args:
        source: An RDF file (a dataset format, ``.nq`` or ``.trig``, keeps its graphs), a kg
            :class:`~kg.store.store.Store` or a pyoxigraph ``Store``.
        url: The triplestore's base URL (see :func:`kg.remote.endpoint.discover`).
        format: The file's RDF format, if its extension does not tell.
        graph: The named graph for triples outside any graph.
        batch_size: Quads per request.
        protocol, query_url, update_url, gsp_url: See :func:`kg.remote.endpoint.discover`.
        http: The HTTP client (default: 60 s timeout, 3 retries).
        on_batch: Called with the number of quads of each batch sent.

    Raises:
        StoreError: The store cannot be reached or refused the data; its graphs are as they were.
        ExportError: The file cannot be read; the store's graphs are as they were.

    >>> load(ox.Store(), "ftp://localhost/")
    Traceback (most recent call last):
    ...
    kg.errors.StoreError: endpoint 'ftp://localhost/' is not an http(s) URL; give the store's address, e.g. http://localhost:7878
    """
    http = http or Http()
    endpoint = discover(url, http=http, query_url=query_url, update_url=update_url, gsp_url=gsp_url, protocol=protocol)
    quads, _ = source_quads(source, format=format)
    return Loader(endpoint, http, batch_size=batch_size, graph=graph).load(quads, on_batch=on_batch)
