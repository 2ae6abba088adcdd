"""Every IRI kg mints is minted here, deterministically.

A linked entity's IRI comes from its QID; an unlinked one's from its type
and normalized name, so the same entity gets the same node in every build
and across documents.

>>> str(entity_iri("Person", "Vyacheslav Gladkov"))
'https://w3id.org/kg/id/person/vyacheslav-gladkov'
>>> str(entity_iri("Country", "Ukraine", qid="Q212"))
'https://w3id.org/kg/id/Q212'
>>> str(document_iri("seed/000 a.txt"))
'https://w3id.org/kg/doc/seed/000%20a.txt'
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from urllib.parse import quote

from rdflib import URIRef

from .vocab import BASE, WD

QID_RE = re.compile(r"^Q[1-9][0-9]*$")
_SLUG_DROP = re.compile(r"[^\w]+", re.UNICODE)

ID = BASE + "id/"
DOC = BASE + "doc/"
GRAPH = BASE + "graph/"
META_GRAPH = URIRef(GRAPH + "meta")
KB_GRAPH = URIRef(GRAPH + "wikidata")


def slug(text: str, max_len: int = 80) -> str:
    """A lowercase, hyphenated, IRI-safe key for a name.

    Accents are folded to ASCII where a letter has a plain form; other
    scripts are kept (IRIs allow them), and anything else becomes a hyphen.

    >>> slug("Zelenskiy’s  Office!")
    'zelenskiy-s-office'
    >>> slug("Москва")
    'москва'
    """
    folded = unicodedata.normalize("NFKD", text)
    folded = "".join(c for c in folded if not unicodedata.combining(c))
    folded = unicodedata.normalize("NFC", folded).casefold()
    out = _SLUG_DROP.sub("-", folded).replace("_", "-").strip("-")
    out = re.sub(r"-{2,}", "-", out)
    if not out:
        out = "x" + hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()[:12]
    if len(out) > max_len:
        digest = hashlib.sha1(out.encode("utf-8")).hexdigest()[:8]
        out = out[: max_len - 9].rstrip("-") + "-" + digest
    return out


def check_qid(qid: str) -> str:
    """Return ``qid`` if it is a well-formed Wikidata item id, else raise ValueError.

    >>> check_qid("Q42")
    'Q42'
    """
    if not QID_RE.match(qid):
        raise ValueError(f"not a Wikidata item id: {qid!r} (expected Q followed by digits, e.g. Q42)")
    return qid


def wikidata_iri(qid: str) -> URIRef:
    return WD[check_qid(qid)]


def entity_iri(type_: str, name: str, qid: str | None = None, *, key: str | None = None) -> URIRef:
    """A linked entity's IRI from its QID; an unlinked one's from its type and name.

    ``key`` replaces the name when spellings of one name should meet
    (transliteration variants of a person's name).

    >>> entity_iri("Person", "Oleksandr Syrskyi", key="oleksandr sirski") == entity_iri("Person", "Oleksandr Syrskiy", key="oleksandr sirski")
    True
    """
    if qid:
        return URIRef(ID + check_qid(qid))
    return URIRef(f"{ID}{type_.lower()}/{slug(key or name)}")


def _quote(value: str) -> str:
    return quote(value.encode("utf-8", "surrogatepass"), safe="/-._~:")


def document_iri(doc_id: str) -> URIRef:
    return URIRef(DOC + _quote(doc_id))


def graph_iri(doc_id: str) -> URIRef:
    """The named graph holding everything read from one document."""
    return URIRef(GRAPH + "doc/" + _quote(doc_id))


def span_iri(doc_id: str, start: int, end: int) -> URIRef:
    """A NIF string (mention or sentence) by its RFC 5147 character range."""
    return URIRef(f"{document_iri(doc_id)}#char={start},{end}")


def hashed_iri(kind: str, *parts: object) -> URIRef:
    """A node for a statement, event, claim or candidate, keyed by its content."""
    key = "\x1f".join(str(p) for p in parts)
    digest = hashlib.sha1(key.encode("utf-8", "surrogatepass")).hexdigest()[:16]
    return URIRef(f"{ID}{kind}/{digest}")
