"""The requests of ``kg serve``, run on a pyoxigraph store: queries, updates and Graph Store requests.

:func:`answer` turns a request into a whole :class:`Reply` — evaluated,
serialized in the negotiated format and within the row limit — so the server
knows the status before it sends a byte. ``kg serve`` runs it in worker
processes (:func:`main`), each with the store open, so a request that runs past
the time limit is stopped by ending its process; pyoxigraph cannot cancel a
query otherwise.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection

import pyoxigraph as ox

from kg.errors import KGError, QueryError
from kg.export.serialize import check_xml_entities
from kg.query.run import check_query
from kg.vocab import PREFIXES

TEXT = "text/plain; charset=utf-8"


@dataclass(frozen=True)
class Reply:
    """An HTTP answer: status, body, content type and extra headers."""

    status: int
    body: bytes = b""
    content_type: str = TEXT
    headers: tuple[tuple[str, str], ...] = ()


def error(status: int, message: str, *headers: tuple[str, str]) -> Reply:
    """A one-line plain-text error reply.

    >>> error(403, "updates are refused").body
    b'updates are refused\\n'
    """
    return Reply(status, (" ".join(message.split()) + "\n").encode(), TEXT, headers)


class _TooMany(Exception):
    """The results passed the row limit."""


def answer(store: ox.Store, operation: str, max_results: int, **request: object) -> Reply:
    """Run one request on ``store``.

    Args:
        store: The pyoxigraph store.
        operation: ``"query"`` (keys ``query``, ``accept``, ``default_graph``, ``named_graphs``), ``"update"``
            (key ``update``) or ``"graph"`` (keys ``method``, ``graph``, ``accept``, ``content_type``, ``body``).
        max_results: The most rows (solutions, or triples of a graph) a reply may hold; more is refused (422).
        request: The request's parts.

    >>> db = ox.Store()
    >>> answer(db, "update", 10, update="INSERT DATA { GRAPH <http://e/g> { <http://e/s> <http://e/p> 1 } }").status
    204
    >>> reply = answer(db, "query", 10, query="SELECT ?o { ?s ?p ?o }", accept="text/csv")
    >>> reply.status, reply.content_type, reply.body
    (200, 'text/csv; charset=utf-8', b'o\\r\\n1\\r\\n')
    >>> answer(db, "query", 0, query="SELECT ?o { ?s ?p ?o }").status
    422
    """
    try:
        if operation == "query":
            return _query(store, max_results, **request)  # type: ignore[arg-type]
        if operation == "update":
            store.update(str(request["update"]), prefixes=PREFIXES)
            return Reply(204)
        return _graph(store, max_results, **request)  # type: ignore[arg-type]
    except KGError as exc:  # an RDF/XML body with external or exploding entities
        return error(400, str(exc))
    except _TooMany:
        return error(422, f"the answer has more than {max_results} rows, this endpoint's limit (--max-results); "
                          "add a LIMIT, or page with ORDER BY, LIMIT and OFFSET")
    except SyntaxError as exc:
        return error(400, _syntax_message(exc, str(request.get("query") or "")))
    except ValueError as exc:
        return error(400, str(exc).splitlines()[0])
    except (OSError, RuntimeError) as exc:
        return error(500, str(exc).splitlines()[0] if str(exc) else type(exc).__name__)


def _syntax_message(exc: SyntaxError, query: str) -> str:
    """``query:LINE:COL: message`` for a malformed query, as ``kg query`` words it."""
    if query:
        try:
            check_query(query, "query")
        except QueryError as refined:
            return str(refined)
    return str(exc).splitlines()[0]


def _query(store: ox.Store, max_results: int, *, query: str, accept: str = "", default_graph: Iterable[str] = (),
           named_graphs: Iterable[str] | None = None) -> Reply:
    defaults = [ox.NamedNode(g) for g in default_graph]
    named = None if named_graphs is None else [ox.NamedNode(g) for g in named_graphs]
    result = store.query(query, prefixes=PREFIXES, use_default_graph_as_union=not defaults,
                         default_graph=defaults or None, named_graphs=named)
    if isinstance(result, ox.QueryTriples):
        return _rdf(result, accept, max_results)
    fmt = negotiate(accept, graph=False)
    if fmt is None:
        return _not_acceptable(accept, graph=False)
    if isinstance(result, ox.QueryBoolean):
        body = result.serialize(format=fmt)
    else:
        # TSV has one line per row: count the rows while pyoxigraph writes, then convert to the format asked for
        sink = _Lines(max_results + 1)  # the header, then the rows
        result.serialize(sink, ox.QueryResultsFormat.TSV)
        body = b"".join(sink.parts)
        if fmt != ox.QueryResultsFormat.TSV:
            body = ox.parse_query_results(body, format=ox.QueryResultsFormat.TSV).serialize(format=fmt)
    return Reply(200, body, _media_type(fmt))


def _rdf(triples: Iterable[ox.Triple], accept: str, max_results: int) -> Reply:
    fmt = negotiate(accept, graph=True)
    if fmt is None:
        return _not_acceptable(accept, graph=True)
    items: Iterable[ox.Triple | ox.Quad] = _at_most(triples, max_results)
    if fmt.supports_datasets:
        items = (ox.Quad(t.subject, t.predicate, t.object) for t in items)  # type: ignore[union-attr]
    return Reply(200, ox.serialize(items, format=fmt, prefixes=PREFIXES), _media_type(fmt))


def _graph(store: ox.Store, max_results: int, *, method: str, graph: str | None, accept: str = "",
           content_type: str = "", body: bytes = b"") -> Reply:
    """The Graph Store Protocol on one graph (``graph`` None: the default graph)."""
    target: ox.NamedNode | ox.DefaultGraph = ox.NamedNode(graph) if graph else ox.DefaultGraph()
    exists = graph is None or store.contains_named_graph(target)
    if method in ("GET", "HEAD", "DELETE") and not exists:
        return error(404, f"no graph <{graph}> in this store")
    if method in ("GET", "HEAD"):
        return _rdf((q.triple for q in store.quads_for_pattern(None, None, None, target)), accept, max_results)
    if method == "DELETE":
        store.update(f"DROP GRAPH {target}" if graph else "DROP DEFAULT")
        return Reply(204)
    fmt = ox.RdfFormat.from_media_type(content_type.split(";")[0].strip()) if content_type else None
    if fmt is None or fmt.supports_datasets:
        return error(415, f"cannot read a graph of type {content_type or '(none)'}; send Turtle, N-Triples, "
                          "RDF/XML, JSON-LD or N3 with its Content-Type")
    if fmt == ox.RdfFormat.RDF_XML:
        check_xml_entities(body, "the request body")
    lines = "\n".join(f"{q.subject} {q.predicate} {q.object} ." for q in ox.parse(body, format=fmt))
    insert = f"INSERT DATA {{ GRAPH {target} {{\n{lines}\n}} }}" if graph else f"INSERT DATA {{\n{lines}\n}}"
    clear = (f"DROP SILENT GRAPH {target} ;\n" if graph else "DROP DEFAULT ;\n") if method == "PUT" else ""
    store.update(clear + insert)  # one transaction
    return Reply(204 if exists else 201)


def negotiate(accept: str, *, graph: bool) -> ox.QueryResultsFormat | ox.RdfFormat | None:
    """The format of the best media range of an ``Accept`` header that kg can write, else None.

    Query results default to SPARQL JSON, graphs to Turtle (no header, or a wildcard).

    >>> negotiate("text/csv;q=0.5, application/sparql-results+xml", graph=False)
    <QueryResultsFormat SPARQL Results in XML>
    >>> negotiate("*/*", graph=True), negotiate("text/html", graph=True)
    (<RdfFormat Turtle>, None)
    """
    parse = ox.RdfFormat.from_media_type if graph else ox.QueryResultsFormat.from_media_type
    default = ox.RdfFormat.TURTLE if graph else ox.QueryResultsFormat.JSON
    ranges = []
    for position, part in enumerate(accept.split(",")):
        media, *params = (p.strip() for p in part.split(";"))
        quality = 1.0
        for param in params:
            if param.lower().startswith("q="):
                try:
                    quality = float(param[2:])
                except ValueError:
                    quality = 0.0
        if media and quality > 0:
            ranges.append((-quality, position, media.lower()))
    if not ranges:
        return default
    for _, _, media in sorted(ranges):
        found = default if media.endswith("/*") else parse(media)
        if found is not None:
            return found
    return None


def _not_acceptable(accept: str, *, graph: bool) -> Reply:
    kinds = ("text/turtle, application/n-triples, application/rdf+xml, application/ld+json, text/n3" if graph else
             "application/sparql-results+json, application/sparql-results+xml, text/csv, text/tab-separated-values")
    return error(406, f"cannot answer in {accept}; accepted: {kinds}")


def _media_type(fmt: ox.QueryResultsFormat | ox.RdfFormat) -> str:
    media = fmt.media_type
    return f"{media}; charset=utf-8" if media.startswith("text/") and "charset" not in media else media


class _Lines:
    """A binary sink that keeps what is written, and stops the writer once it holds more than ``limit`` lines."""

    def __init__(self, limit: int):
        self.parts: list[bytes] = []
        self.lines, self.limit = 0, limit

    def write(self, data: bytes) -> int:
        self.parts.append(bytes(data))
        self.lines += data.count(b"\n")
        if self.lines > self.limit:
            raise _TooMany
        return len(data)

    def flush(self) -> None:
        pass


def _at_most(items: Iterable[ox.Triple], limit: int) -> Iterator[ox.Triple]:
    for n, item in enumerate(items):
        if n >= limit:
            raise _TooMany
        yield item


def main() -> None:  # pragma: no cover - the worker process
    """A worker process (``python -c "from kg.remote.worker import main; main()" FD STORE MODE MAX_RESULTS``).

    It opens the store, says ``ready`` on the connection at descriptor FD, then answers each request it
    receives until ``None`` or the end of the connection.
    """
    try:  # stop with the server (Linux): no query outlives it
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    fd, location, mode, max_results = sys.argv[1:5]
    connection = Connection(int(fd))
    if os.getppid() == 1:  # the server is gone already
        return
    try:
        store = ox.Store(location) if mode == "writable" else ox.Store.read_only(location)
    except OSError as exc:
        connection.send(error(500, f"cannot open store {location}: {str(exc).splitlines()[0]}"))
        return
    connection.send(Reply(200, b"ready"))
    while True:
        try:
            request = connection.recv()
        except (EOFError, OSError):
            break
        if request is None:
            break
        operation, parts = request
        connection.send(answer(store, operation, int(max_results), **parts))
    del store  # closes RocksDB, flushing a writable store
