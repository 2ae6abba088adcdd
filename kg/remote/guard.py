"""What a SPARQL request would make an endpoint fetch: its ``SERVICE`` endpoints and ``LOAD`` sources.

pyoxigraph, the engine behind ``kg serve``, calls any ``SERVICE <IRI>`` of a
query and fetches any ``LOAD <IRI>`` of an update over HTTP(S).
:func:`remote_iris` reads those IRIs from the request's tokens (strings, IRIs
and comments are tokens of their own, so they can neither hide nor fake a
keyword), and :func:`check_remote` refuses the ones not allowed. The reading
errs on the side of refusing: a ``SERVICE`` whose endpoint is a variable or a
relative IRI, an unknown prefix, or a word ``service`` where a keyword cannot
be, all count as calls to an unknown host.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping

from kg.errors import QueryError
from kg.vocab import PREFIXES

_TOKEN = re.compile(
    r"""
    (?P<space>\s+|\#[^\n\r]*)
  | (?P<iri><(?:[^<>"{}|^`\\\x00-\x20]|\\u[0-9A-Fa-f]{4}|\\U[0-9A-Fa-f]{8})*>)
  | (?P<string>'''(?:[^'\\]|\\.|'(?!''))*'''|\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"
               |'(?:[^'\\\n\r]|\\.)*'|"(?:[^"\\\n\r]|\\.)*")
  | (?P<var>[?$]\w*)
  | (?P<lang>@[A-Za-z]+(?:-[A-Za-z0-9]+)*)
  | (?P<word>(?:[\w:%]|\\.)(?:(?:[\w:%.\-\u00B7]|\\.)*(?:[\w:%\-\u00B7]|\\.))?)
  | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)
_CODEPOINT = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")
_ABSOLUTE = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:")


def remote_iris(text: str, prefixes: Mapping[str, str] = PREFIXES) -> list[tuple[str, str | None]]:
    """The ``SERVICE`` endpoints and ``LOAD`` sources of a SPARQL query or update, in order.

    Each is ``(keyword, IRI)``, the IRI ``None`` when it is not a constant absolute IRI (a variable,
    a relative IRI, an unknown prefix, or anything else after the keyword).

    Args:
        text: The query or update.
        prefixes: Prefixes declared in advance (the query's own ``PREFIX`` wins), as for pyoxigraph.

    >>> remote_iris('SELECT * { ?s ?p "SERVICE <http://a/>" SERVICE SILENT wd:sparql { ?s ?p ?o } } # SERVICE <http://b/>')
    [('SERVICE', 'http://www.wikidata.org/entity/sparql')]
    >>> remote_iris("SELECT * { service ?endpoint {} } ; LOAD <data.ttl>")
    [('SERVICE', None), ('LOAD', None)]
    """
    known = dict(prefixes)
    tokens = [(m.lastgroup, m.group()) for m in _TOKEN.finditer(text) if m.lastgroup != "space"]
    found: list[tuple[str, str | None]] = []
    for i, (kind, value) in enumerate(tokens):
        if kind != "word":
            continue
        keyword = value.upper()
        following = tokens[i + 1 : i + 3]
        if keyword == "PREFIX" and [k for k, _ in following] == ["word", "iri"] and following[0][1].endswith(":"):
            known[following[0][1][:-1]] = _unescape(following[1][1][1:-1])
        elif keyword in ("SERVICE", "LOAD"):
            if following and following[0][0] == "word" and following[0][1].upper() == "SILENT":
                following = following[1:]
            found.append((keyword, _iri(following[0] if following else None, known)))
    return found


def check_remote(text: str, allowed: Collection[str], prefixes: Mapping[str, str] = PREFIXES) -> None:
    """Refuse a query or update that would call a ``SERVICE`` or ``LOAD`` an IRI not in ``allowed``.

    An IRI is allowed when it is exactly one of ``allowed``.

    Raises:
        QueryError: The first IRI that is not allowed, and how to allow it.

    >>> check_remote("SELECT * { SERVICE <https://example.org/sparql> { ?s ?p ?o } }", ["https://example.org/sparql"])
    >>> check_remote("SELECT * { SERVICE <http://10.0.0.1/admin> { ?s ?p ?o } }", [])
    Traceback (most recent call last):
    ...
    kg.errors.QueryError: SERVICE <http://10.0.0.1/admin> is refused: this endpoint calls only the URLs given with --allow-service (none)
    """
    for keyword, iri in remote_iris(text, prefixes):
        if iri is not None and iri in allowed:
            continue
        listed = ", ".join(sorted(allowed)) or "none"
        if iri is None:
            raise QueryError(f"{keyword} is refused: its target is not a constant absolute IRI; write the full IRI "
                             f"of a URL given with --allow-service ({listed})")
        raise QueryError(f"{keyword} <{iri}> is refused: this endpoint calls only the URLs given with --allow-service ({listed})")


def _iri(token: tuple[str, str] | None, prefixes: Mapping[str, str]) -> str | None:
    """The absolute IRI a token after SERVICE or LOAD stands for, else None."""
    if token is None:
        return None
    kind, value = token
    if kind == "iri":
        iri = _unescape(value[1:-1])
    elif kind == "word" and ":" in value:
        prefix, local = value.split(":", 1)
        if prefix not in prefixes:
            return None
        iri = prefixes[prefix] + re.sub(r"\\(.)", r"\1", local)
    else:
        return None
    return iri if _ABSOLUTE.match(iri) else None


def _unescape(iri: str) -> str:
    """``\\uXXXX`` and ``\\UXXXXXXXX`` escapes of an IRI, decoded as the SPARQL parser does."""
    return _CODEPOINT.sub(lambda m: chr(int(m[1] or m[2], 16)), iri)
