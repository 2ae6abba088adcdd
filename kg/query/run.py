"""Run SPARQL queries over a kg store or an RDF file, and format the results.

Queries run over the union of all graphs, with the prefixes of
:data:`kg.vocab.PREFIXES` predeclared (a query's own ``PREFIX`` wins), so error
positions are those of the user's file. Parameters are bound as values
(pyoxigraph substitutions, SEP-0007), never spliced into the query text.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import os
import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pyoxigraph as ox
from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from kg.errors import QueryError
from kg.export.serialize import read_rdf
from kg.paths import QUERIES_DIR
from kg.store.store import Store
from kg.vocab import PREFIXES

log = logging.getLogger(__name__)

Term = ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple
Row = tuple[Term | None, ...]

_XSD_STRING = ox.NamedNode("http://www.w3.org/2001/XMLSchema#string")
_POSITION = re.compile(r"error at (\d+):(\d+): (.*)", re.S)
_PREFIX_DECL = re.compile(r"\bPREFIX\s+([^\s:]*):", re.I)
_MAX_EXPECTED = 12
_NOT_PROJECTED = re.compile(r"does not contains? variable \?(\S+) in its SELECT projection")


@dataclass(frozen=True, slots=True)
class QueryResult:
    """The rows a query gave.

    ``kind`` is ``"select"``, ``"graph"`` (CONSTRUCT/DESCRIBE: columns subject,
    predicate, object) or ``"ask"`` (one column ``ask``, one xsd:boolean row).
    Unbound values are ``None``.
    """

    columns: tuple[str, ...]
    rows: tuple[Row, ...]
    kind: str = "select"

    @property
    def boolean(self) -> bool | None:
        """The answer of an ASK query, else None."""
        return self.rows[0][0].value == "true" if self.kind == "ask" else None


def load_query(path: str | os.PathLike[str]) -> str:
    """Read a ``.rq`` file.

    Raises:
        QueryError: The file is missing, unreadable or not UTF-8.

    >>> load_query(QUERIES_DIR / "events.rq").lstrip().startswith("#")
    True
    """
    try:
        return Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        bundled = ", ".join(sorted(p.name for p in QUERIES_DIR.glob("*.rq")))
        raise QueryError(f"query file {os.fspath(path)} not found; bundled queries in {QUERIES_DIR}: {bundled}") from None
    except UnicodeDecodeError:
        raise QueryError(f"query file {os.fspath(path)} is not UTF-8 text") from None
    except OSError as exc:
        raise QueryError(f"cannot read query file {os.fspath(path)}: {exc.strerror}") from None


def with_prefixes(text: str) -> str:
    """``text`` with the kg prefixes it does not declare, for endpoints that do not predeclare them.

    They are put on the first line, so line numbers in an endpoint's errors still match the file.

    >>> with_prefixes("PREFIX kg: <http://example.org/>\\nASK {}").count("PREFIX kg:")
    1
    """
    declared = set(_PREFIX_DECL.findall(text))
    missing = " ".join(f"PREFIX {p}: <{ns}>" for p, ns in PREFIXES.items() if p not in declared)
    return f"{missing} {text}" if missing else text


@cache
def _empty() -> ox.Store:
    return ox.Store()


def check_query(text: str, source_name: str = "<query>") -> None:
    """Raise QueryError with ``FILE:LINE:COL: message`` if ``text`` is not a valid SPARQL query.

    >>> check_query("SELECT ?s WHERE { ?s a kg:Person }")
    >>> check_query("SELECT ?s\\nWHERE { ?s a kg:Person", "q.rq")
    Traceback (most recent call last):
    ...
    kg.errors.QueryError: q.rq:2:23: syntax error at end of query: expected one of ",", ".", ";", "{", "{|", "}", "~"
    """
    try:
        _empty().query(text, prefixes=PREFIXES)
    except SyntaxError as exc:
        raise _syntax_error(exc, text, source_name) from None
    except (OSError, RuntimeError):  # evaluation against an empty store (an eager ASK with SERVICE)
        pass


def _syntax_error(exc: SyntaxError, text: str, name: str) -> QueryError:
    """A one-line ``FILE:LINE:COL: message`` for pyoxigraph's "error at L:C: expected ..." message.

    pyoxigraph reports the furthest point its parser reached, often the end of
    the query; rdflib's parser, when it fails earlier, points at the start of
    the offending construct, so its position is preferred.
    """
    match = _POSITION.match(str(exc))
    if not match:
        return QueryError(f"{name}: {str(exc).splitlines()[0]}")
    line, col, detail = int(match[1]), int(match[2]), " ".join(match[3].split())
    lines = text.splitlines() or [""]
    if "Prefix not found" in detail:  # pyoxigraph points just after the prefixed name
        before = lines[min(line, len(lines)) - 1][: col - 1]
        prefixed = re.search(r"([^\s{}()<>\"';,]*?):[^\s{}()<>\"';,]*$", before)
        prefix = prefixed[1] if prefixed else "?"
        col = prefixed.start() + 1 if prefixed else col
        return QueryError(
            f"{name}:{line}:{col}: undeclared prefix '{prefix}:'; declare it with PREFIX {prefix}: <...> "
            f"(kg predeclares {', '.join(PREFIXES)})"
        )
    detail = _expected(detail)
    earlier = _rdflib_position(text)
    if earlier and earlier < (line, col):
        (line, col), detail = earlier, ""  # pyoxigraph's expectations are about its later position
    source_line = lines[line - 1] if 0 < line <= len(lines) else ""
    rest = source_line[col - 1 :].split()
    near = f"near {rest[0][:20]!r}" if rest else "at end of line" if line < len(lines) else "at end of query"
    return QueryError(f"{name}:{line}:{col}: syntax error {near}" + (f": {detail}" if detail else ""))


def _rdflib_position(text: str) -> tuple[int, int] | None:
    """Where rdflib's SPARQL parser fails on ``text`` (line, column), if it does."""
    from rdflib.plugins.sparql.parser import parseQuery

    try:
        parseQuery(text.replace("\t", " "))  # pyparsing would expand tabs, shifting columns
    except Exception as exc:  # pyparsing's ParseException; the position is only a hint
        line, col = getattr(exc, "lineno", None), getattr(exc, "col", None)
        return (line, col) if isinstance(line, int) and isinstance(col, int) else None
    return None


def _expected(detail: str) -> str:
    """pyoxigraph's "expected one of ..." list, keeping its messages, keywords and punctuation."""
    if not detail.startswith("expected"):
        return detail
    listed = re.sub(r"\[[^\]]*\]", "", detail.removeprefix("expected").strip().removeprefix("one of "))
    items = [i.strip() for i in re.findall(r'"(?:[^"\\]|\\.)*"|[^,"]+', listed)]
    messages = [i for i in items if " " in i]  # e.g. "The SELECT contains a variable that is unbound"
    if messages:
        return "; ".join(messages)
    tokens = [i for i in items if i]
    more = ", ..." if len(tokens) > _MAX_EXPECTED else ""
    return f"expected {'one of ' if len(tokens) > 1 else ''}{', '.join(tokens[:_MAX_EXPECTED])}{more}" if tokens else ""


def _bindings(substitutions: dict[str, str | Term] | None) -> dict[ox.Variable, Term]:
    """Parameters as pyoxigraph substitutions: strings become plain literals, terms stay as given."""
    bindings = {}
    for key, value in (substitutions or {}).items():
        try:
            variable = ox.Variable(key.lstrip("?$"))
        except ValueError:
            raise QueryError(f"invalid parameter name {key!r}; use a SPARQL variable name such as 'person'") from None
        is_term = isinstance(value, (ox.NamedNode, ox.BlankNode, ox.Literal))
        bindings[variable] = value if is_term else ox.Literal(str(value))
    return bindings


def _database(source: Store | ox.Store | str | os.PathLike[str]) -> ox.Store:
    if isinstance(source, Store):
        return source.pyoxigraph
    if isinstance(source, ox.Store):
        return source
    if isinstance(source, (str, os.PathLike)):
        return read_rdf(source)
    raise TypeError(f"cannot query a {type(source).__name__}; give a kg Store, a pyoxigraph Store or an RDF file path")


def _collect(result: object, limit: int | None, cancelled: Callable[[], bool]) -> QueryResult:
    if isinstance(result, ox.QueryBoolean):
        return QueryResult(("ask",), ((ox.Literal(bool(result)),),), "ask")
    rows: Iterable[Row]
    if isinstance(result, ox.QuerySolutions):
        columns = tuple(v.value for v in result.variables)
        rows = (tuple(solution[i] for i in range(len(columns))) for solution in result)
        kind = "select"
    else:
        columns, kind = ("subject", "predicate", "object"), "graph"
        rows = ((t.subject, t.predicate, t.object) for t in result)
    taken: list[Row] = []
    for row in rows:
        if cancelled() or (limit is not None and len(taken) >= limit):
            break
        taken.append(row)
    return QueryResult(columns, tuple(taken), kind)


def run_query(
    text: str,
    source: Store | ox.Store | str | os.PathLike[str],
    *,
    substitutions: dict[str, str | Term] | None = None,
    timeout: float | None = None,
    limit: int | None = None,
    name: str = "<query>",
) -> QueryResult:
    """Run a SPARQL query over the union of all graphs of ``source``.

    Args:
        text: The query; kg's prefixes are predeclared.
        source: A kg :class:`~kg.store.store.Store`, a pyoxigraph ``Store``, or the path of an RDF file.
        substitutions: Values for variables of the SELECT clause (pyoxigraph binds only selected
            variables), e.g. ``{"name": "Kyiv"}``. Strings are bound as plain literals, never parsed;
            pass pyoxigraph terms for IRIs. A variable bound inside OPTIONAL does not filter rows.
        timeout: Seconds after which the query is abandoned with a QueryError.
        limit: Keep at most this many rows.
        name: The query's file name, for error messages.

    Raises:
        QueryError: Malformed query (``FILE:LINE:COL: message``), unknown parameter, failed SERVICE
            call, or timeout.

    >>> db = ox.Store()
    >>> db.add(ox.Quad(ox.NamedNode("https://w3id.org/kg/id/Q212"), ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label"),
    ...               ox.Literal("Ukraine"), ox.NamedNode("https://w3id.org/kg/graph/doc/a")))
    >>> run_query("SELECT ?e ?name WHERE { ?e rdfs:label ?name }", db, substitutions={"name": "Ukraine"}).rows
    ((<NamedNode value=https://w3id.org/kg/id/Q212>, <Literal value=Ukraine datatype=<NamedNode value=http://www.w3.org/2001/XMLSchema#string>>),)
    """
    db = _database(source)
    bindings = _bindings(substitutions)

    def evaluate(cancelled: Callable[[], bool]) -> QueryResult:
        try:
            result = db.query(text, prefixes=PREFIXES, use_default_graph_as_union=True, substitutions=bindings)
            return _collect(result, limit, cancelled)
        except SyntaxError as exc:
            raise _syntax_error(exc, text, name) from None
        except (OSError, RuntimeError, ValueError) as exc:
            message = str(exc).splitlines()[0]
            unbound = _NOT_PROJECTED.search(message)
            if unbound:
                message = (f"parameter ?{unbound[1]} is not a variable of the query's SELECT clause; "
                           "only selected variables can be bound")
            raise QueryError(f"{name}: {message}") from None

    result = evaluate(lambda: False) if timeout is None else _within(timeout, evaluate, name)
    log.debug("%s: %d rows", name, len(result.rows))
    return result


def _within(timeout: float, evaluate: Callable[[Callable[[], bool]], QueryResult], name: str) -> QueryResult:
    """Run ``evaluate(cancelled)`` in a daemon thread; give up after ``timeout`` seconds.

    pyoxigraph cannot cancel a query: on timeout the thread is told to stop at
    its next row and abandoned.
    """
    outcome: dict[str, object] = {}
    stop = threading.Event()

    def work() -> None:
        try:
            outcome["result"] = evaluate(stop.is_set)
        except BaseException as exc:  # handed over to the caller's thread
            outcome["error"] = exc

    worker = threading.Thread(target=work, name="kg-query", daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        stop.set()
        raise QueryError(f"{name}: query timed out after {timeout:g}s; add a LIMIT, narrow its patterns or raise the timeout")
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    return outcome["result"]  # type: ignore[return-value]


# --- output -------------------------------------------------------------------------------

_BY_NAMESPACE_LENGTH = sorted(PREFIXES.items(), key=lambda item: -len(item[1]))


def _short(term: Term | None) -> str:
    """A term as a person reads it in a table: prefixed IRIs, bare literal values."""
    if term is None:
        return ""
    if isinstance(term, ox.NamedNode):
        for prefix, namespace in _BY_NAMESPACE_LENGTH:
            if term.value.startswith(namespace) and len(term.value) > len(namespace):
                return f"{prefix}:{term.value[len(namespace):]}"
        return term.value
    if isinstance(term, ox.Literal):
        return term.value
    return str(term)


def _table(result: QueryResult, width: int | None) -> str:
    table = Table(box=box.SIMPLE_HEAD, show_edge=False)
    for column in result.columns:
        table.add_column(Text(column))
    for row in result.rows:
        table.add_row(*(Text(_short(term)) for term in row))
    console = Console(file=io.StringIO(), width=width or 100_000, color_system=None, highlight=False)
    console.print(table)
    return "\n".join(line.rstrip() for line in console.file.getvalue().splitlines())+ "\n"


def _csv_value(term: Term | None) -> str:
    if term is None:
        return ""
    if isinstance(term, (ox.NamedNode, ox.Literal)):
        return term.value
    return str(term)  # blank node _:b, triple term


def _csv(result: QueryResult, width: int | None) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(result.columns)
    writer.writerows([_csv_value(t) for t in row] for row in result.rows)
    return out.getvalue()


def _tsv(result: QueryResult, width: int | None) -> str:
    # N-Triples term syntax (tabs and newlines escaped), as SPARQL 1.1 TSV results.
    lines = ["\t".join(f"?{c}" for c in result.columns)]
    lines += ["\t".join("" if t is None else str(t) for t in row) for row in result.rows]
    return "\n".join(lines) + "\n"


def _json_term(term: Term) -> dict[str, object]:
    if isinstance(term, ox.NamedNode):
        return {"type": "uri", "value": term.value}
    if isinstance(term, ox.BlankNode):
        return {"type": "bnode", "value": term.value}
    if isinstance(term, ox.Literal):
        out: dict[str, object] = {"type": "literal", "value": term.value}
        if term.language:
            out["xml:lang"] = term.language
        elif term.datatype != _XSD_STRING:
            out["datatype"] = term.datatype.value
        return out
    return {
        "type": "triple",
        "value": {k: _json_term(getattr(term, k)) for k in ("subject", "predicate", "object")},
    }


def _json(result: QueryResult, width: int | None) -> str:
    if result.kind == "ask":
        doc: dict[str, object] = {"head": {}, "boolean": result.boolean}
    else:
        bindings = [{c: _json_term(t) for c, t in zip(result.columns, row) if t is not None} for row in result.rows]
        doc = {"head": {"vars": list(result.columns)}, "results": {"bindings": bindings}}
    return json.dumps(doc, ensure_ascii=False, indent=2) + "\n"


_FORMATTERS: dict[str, Callable[[QueryResult, int | None], str]] = {
    "table": _table,
    "csv": _csv,
    "tsv": _tsv,
    "json": _json,
}
#: Output formats of :func:`format_result`.
OUTPUT_FORMATS = tuple(_FORMATTERS)


def format_result(result: QueryResult, fmt: str = "table", *, width: int | None = None) -> str:
    """Render a result as a text table, or as SPARQL 1.1 CSV, TSV or JSON results.

    Args:
        result: What :func:`run_query` returned.
        fmt: ``"table"`` (prefixed IRIs, literal values), ``"csv"``, ``"tsv"`` or ``"json"``.
        width: Maximum table width in characters (default: as wide as the content).

    Raises:
        QueryError: Unknown ``fmt``.

    >>> r = QueryResult(("name",), ((ox.Literal("Kyiv"),), (None,)))
    >>> format_result(r, "csv")
    'name\\r\\nKyiv\\r\\n""\\r\\n'
    >>> print(format_result(r, "table"), end="")
     name
    ──────
     Kyiv
    <BLANKLINE>
    >>> format_result(r, "json").count('"literal"')
    1
    """
    try:
        formatter = _FORMATTERS[fmt]
    except KeyError:
        raise QueryError(f"unknown output format {fmt!r}; choose one of {', '.join(_FORMATTERS)}") from None
    return formatter(result, width)
