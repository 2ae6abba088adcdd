"""SPARQL queries against a remote endpoint, through SPARQLWrapper, with kg's results.

The query is checked locally first (so a malformed one gets ``FILE:LINE:COL``
without a request), kg's prefixes are added where the query does not declare
them, and parameters are bound as values: each becomes a row of a trailing
``VALUES`` clause built from RDF terms, never text pasted into the query. The
answer is a :class:`kg.query.run.QueryResult`, so it prints exactly as a local
query's does.
"""

from __future__ import annotations

import json
import logging
import math
import time
import urllib.error
import urllib.parse
from typing import Any

import pyoxigraph as ox

from kg.errors import QueryError, StoreError
from kg.export.serialize import check_xml_entities
from kg.query.run import QueryResult, Term, _bindings, check_query, with_prefixes
from kg.remote.endpoint import _reason, check_url, credentials
from kg.vocab import PREFIXES

log = logging.getLogger(__name__)

_XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
_RDF_LANG_STRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"
#: The HTTP authentication each site took (None: none needed), learnt from its 401 answers.
_AUTH: dict[str, str | None] = {}


def values_clause(substitutions: dict[str, str | Term] | None) -> str:
    """A trailing ``VALUES`` clause binding each parameter to its value, written as RDF terms.

    >>> values_clause({"name": 'Kyiv" } DROP ALL #'})
    '\\nVALUES ( ?name ) { ( "Kyiv\\\\" } DROP ALL #" ) }'
    >>> values_clause({})
    ''
    """
    bindings = _bindings(substitutions)
    if not bindings:
        return ""
    names = " ".join(str(v) for v in bindings)
    values = " ".join(str(t) for t in bindings.values())
    return f"\nVALUES ( {names} ) {{ ( {values} ) }}"


def _check_parameters(text: str, substitutions: dict[str, str | Term] | None, name: str) -> None:
    """The same rule as local queries: only variables of the SELECT clause can be bound."""
    if not substitutions:
        return
    try:
        ox.Store().query(text, prefixes=PREFIXES, substitutions=_bindings(substitutions))
    except (RuntimeError, ValueError, OSError) as exc:
        message = str(exc).splitlines()[0]
        if "SELECT projection" in message:
            variable = message.split("?")[-1].split()[0]
            raise QueryError(f"{name}: parameter ?{variable} is not a variable of the query's SELECT clause; "
                             "only selected variables can be bound") from None


def _term(value: dict[str, Any]) -> Term:
    """A term of the SPARQL 1.1 JSON results format (and Virtuoso's older ``typed-literal``)."""
    kind = value["type"]
    if kind == "uri":
        return ox.NamedNode(value["value"])
    if kind == "bnode":
        try:
            return ox.BlankNode(value["value"])
        except ValueError:  # Virtuoso's nodeID://b123
            return ox.BlankNode("".join(c if c.isalnum() else "_" for c in value["value"]))
    if kind == "triple":
        inner = value["value"]
        return ox.Triple(_term(inner["subject"]), _term(inner["predicate"]), _term(inner["object"]))
    language = value.get("xml:lang")
    if language:
        return ox.Literal(value["value"], language=language)
    datatype = value.get("datatype")
    if datatype and datatype not in (_XSD_STRING, _RDF_LANG_STRING):
        return ox.Literal(value["value"], datatype=ox.NamedNode(datatype))
    return ox.Literal(value["value"])


def _result(body: bytes, content_type: str, query_type: str, name: str) -> QueryResult:
    if query_type in ("CONSTRUCT", "DESCRIBE"):
        rdf_format = ox.RdfFormat.from_media_type(content_type.split(";")[0].strip()) or ox.RdfFormat.TURTLE
        if rdf_format == ox.RdfFormat.RDF_XML:  # an endpoint's answer is untrusted: no entity bomb
            check_xml_entities(body, name)
        triples = [q.triple for q in ox.parse(body, format=rdf_format)]
        return QueryResult(("subject", "predicate", "object"), tuple((t.subject, t.predicate, t.object) for t in triples), "graph")
    try:
        data = json.loads(body)
    except ValueError:
        raise QueryError(f"{name}: the endpoint did not answer with SPARQL JSON results ({content_type})") from None
    if "boolean" in data:
        return QueryResult(("ask",), ((ox.Literal(bool(data["boolean"])),),), "ask")
    columns = tuple(data["head"].get("vars", ()))
    bindings = data["results"]["bindings"]
    if query_type == "ASK" and columns == ("__ASK_RETVAL",):  # Virtuoso 7 answers ASK as a SELECT
        value = bool(bindings and bindings[0]["__ASK_RETVAL"]["value"] not in ("0", "false"))
        return QueryResult(("ask",), ((ox.Literal(value),),), "ask")
    rows = tuple(tuple(_term(b[c]) if c in b else None for c in columns) for b in bindings)
    return QueryResult(columns, rows)


def query_endpoint(
    text: str,
    url: str,
    *,
    substitutions: dict[str, str | Term] | None = None,
    timeout: float | None = None,
    retries: int = 0,
    name: str = "<query>",
) -> QueryResult:
    """Run a SPARQL query at the endpoint ``url`` (its query service, e.g. ``http://localhost:7878/query``).

    Args:
        text: The query; kg's prefixes are added where it does not declare them.
        url: The SPARQL query service.
        substitutions: Values for variables of the SELECT clause, as in :func:`kg.query.run.run_query`,
            sent as a trailing ``VALUES`` clause.
        timeout: Seconds to wait for the answer.
        retries: Times to retry when the endpoint cannot be reached (1 s, 2 s, 4 s ... apart).
        name: The query's file name, for error messages.

    Credentials (:func:`kg.remote.endpoint.credentials`) are sent when the endpoint asks for them.

    Raises:
        QueryError: Malformed query (``FILE:LINE:COL``, before any request), bad parameter, or the
            endpoint failed, refused or timed out.
    """
    from SPARQLWrapper import BASIC, DIGEST, JSON, POST, TURTLE, SPARQLWrapper
    from SPARQLWrapper.SPARQLExceptions import SPARQLWrapperException, Unauthorized

    try:
        check_url(url)
    except StoreError as exc:
        raise QueryError(str(exc)) from None
    check_query(text, name)
    _check_parameters(text, substitutions, name)
    full = with_prefixes(text) + values_clause(substitutions)
    site = "{0.scheme}://{0.netloc}".format(urllib.parse.urlsplit(url))
    login = credentials(url)
    schemes = ([_AUTH[site]] if site in _AUTH else [None, BASIC, DIGEST]) if login else [None]
    for attempt in range(1 + retries):
        try:
            for auth in schemes:
                client = SPARQLWrapper(url)
                client.setQuery(full)
                client.setMethod(POST)
                client.setOnlyConneg(True)
                client.setReturnFormat(TURTLE if client.queryType in ("CONSTRUCT", "DESCRIBE") else JSON)
                if timeout:
                    client.setTimeout(max(1, math.ceil(timeout)))
                if auth:
                    client.setHTTPAuth(auth)
                    client.setCredentials(*login)
                try:
                    response = client.query().response
                except Unauthorized:
                    continue
                _AUTH[site] = auth
                return _result(response.read(), response.headers.get("Content-Type", ""), client.queryType, name)
            hint = ("refused the credentials" if login else
                    "needs credentials: set KG_ENDPOINT_USER and KG_ENDPOINT_PASSWORD, or a netrc entry for the host")
            raise QueryError(f"{name}: {url} {hint} (HTTP 401)")
        except SPARQLWrapperException as exc:
            raise QueryError(f"{name}: {url} answered {_detail(exc)}") from None
        except urllib.error.HTTPError as exc:
            raise QueryError(f"{name}: {url} answered HTTP {exc.code} {exc.reason}{_hint(exc.code)}") from None
        except (urllib.error.URLError, OSError) as exc:
            reason = _reason(exc)
            if reason == "timed out" or attempt == retries:
                what = f"timed out after {timeout:g}s" if reason == "timed out" and timeout else f"cannot be reached: {reason}"
                raise QueryError(f"{name}: {url} {what}") from None
            delay = 2.0**attempt
            log.warning("%s: %s cannot be reached (%s); retrying in %gs", name, url, reason, delay)
            time.sleep(delay)
    raise AssertionError("unreachable")


def _hint(status: int) -> str:
    return "; give the query service, e.g. http://HOST:PORT/query (Oxigraph), /sparql (Virtuoso)" if status in (404, 405) else ""


def _detail(exc: Exception) -> str:
    """The first line of what the endpoint said, from a SPARQLWrapper exception."""
    text = str(exc)
    code = {"QueryBadFormed": "HTTP 400", "EndPointNotFound": "HTTP 404", "URITooLong": "HTTP 414",
            "EndPointInternalError": "HTTP 500"}.get(type(exc).__name__, type(exc).__name__)
    said = text.split("Response:", 1)[-1].strip().strip("b'\"")
    said = " ".join(said.replace("\\n", " ").split())[:300]
    return f"{code}: {said}{_hint(404) if code == 'HTTP 404' else ''}"
