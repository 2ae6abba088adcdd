"""Write and read RDF files in every format kg supports.

Output is deterministic, so two builds of the same input give the same bytes:
quads are deduplicated, blank nodes get canonical (RDFC-1.0) labels, statements
are sorted by graph, subject, predicate and object, and Turtle, TriG and
RDF/XML bind the fixed prefixes of :data:`kg.vocab.PREFIXES`. Triple-only
formats (Turtle, N-Triples, RDF/XML) get the union of all graphs.

Files are written atomically: a temporary file in the same folder is filled,
synced and renamed over the target, so a reader never sees a partial file.
Parsing never resolves XML external entities nor fetches remote JSON-LD
contexts (pyoxigraph refuses both).
"""

from __future__ import annotations

import logging
import os
import re
import secrets
from collections.abc import Iterable
from pathlib import Path
from typing import NamedTuple

import pyoxigraph as ox

from kg.errors import ExportError
from kg.vocab import PREFIXES

log = logging.getLogger(__name__)

# pyoxigraph repeats the position in the message: "Parser error at line 2 between columns 6 and 9: ..."
_POSITION_PREFIX = re.compile(r"^Parser error at line [^:]*: ")


class FormatSpec(NamedTuple):
    """How one RDF format is written: pyoxigraph's format and the file extensions."""

    rdf_format: ox.RdfFormat
    extensions: tuple[str, ...]


#: Format name -> pyoxigraph format and file extensions (the first is the usual one).
FORMATS: dict[str, FormatSpec] = {
    "turtle": FormatSpec(ox.RdfFormat.TURTLE, (".ttl",)),
    "ntriples": FormatSpec(ox.RdfFormat.N_TRIPLES, (".nt",)),
    "nquads": FormatSpec(ox.RdfFormat.N_QUADS, (".nq",)),
    "trig": FormatSpec(ox.RdfFormat.TRIG, (".trig",)),
    "jsonld": FormatSpec(ox.RdfFormat.JSON_LD, (".jsonld",)),
    "rdfxml": FormatSpec(ox.RdfFormat.RDF_XML, (".rdf", ".owl", ".xml")),
}

# A format may be named by its name or by one of its extensions ("ttl", ".ttl").
_ALIASES = {
    alias: name
    for name, spec in FORMATS.items()
    for alias in (name, *spec.extensions, *(ext.lstrip(".") for ext in spec.extensions))
}


def format_for(path: str | os.PathLike[str], format: str | None = None) -> str:
    """The name of the RDF format to use for ``path``: ``format`` if given, else from the extension.

    Args:
        path: The file to write or read.
        format: A format name (``"turtle"``) or extension (``"ttl"``), case-insensitive.

    Raises:
        ExportError: The format or extension is not one kg knows; the message lists the choices.

    >>> format_for("out/graph.ttl"), format_for("graph.owl"), format_for("x.txt", "NQ")
    ('turtle', 'rdfxml', 'nquads')
    """
    if format is not None:
        name = _ALIASES.get(format.lower())
        if name is None:
            raise ExportError(f"unknown RDF format {format!r}; choose one of {', '.join(FORMATS)}")
        return name
    suffix = Path(path).suffix.lower()
    name = _ALIASES.get(suffix) if suffix else None
    if name is None:
        extensions = ", ".join(ext for spec in FORMATS.values() for ext in spec.extensions)
        raise ExportError(
            f"cannot tell the RDF format of {os.fspath(path)!r} from its extension; "
            f"name the file with one of {extensions} or give a format ({', '.join(FORMATS)})"
        )
    return name


def _sort_key(quad: ox.Quad) -> tuple[str, str, str, str]:
    graph = "" if isinstance(quad.graph_name, ox.DefaultGraph) else str(quad.graph_name)
    return graph, str(quad.subject), str(quad.predicate), str(quad.object)


def _canonical(quads: Iterable[ox.Quad | ox.Triple], *, dataset: bool) -> list[ox.Quad]:
    """Deduplicated, sorted quads with canonical blank node labels (all in the default graph unless ``dataset``)."""
    data = ox.Dataset(
        q if dataset and isinstance(q, ox.Quad) else ox.Quad(q.subject, q.predicate, q.object) for q in quads
    )
    if any(isinstance(t, ox.BlankNode) for q in data for t in (q.subject, q.object, q.graph_name)):
        data.canonicalize(ox.CanonicalizationAlgorithm.RDFC_1_0)
    return sorted(data, key=_sort_key)


def _prepare(quads: Iterable[ox.Quad | ox.Triple], name: str) -> tuple[ox.RdfFormat, list[ox.Quad] | list[ox.Triple]]:
    rdf_format = FORMATS[name].rdf_format
    data = _canonical(quads, dataset=rdf_format.supports_datasets)
    return rdf_format, data if rdf_format.supports_datasets else [q.triple for q in data]


def dumps(quads: Iterable[ox.Quad | ox.Triple], format: str) -> bytes:
    """The bytes :func:`write_quads` would write for ``quads`` in ``format`` (a name or an extension).

    >>> q = ox.Quad(ox.NamedNode("http://example.org/s"), ox.NamedNode("http://example.org/p"), ox.Literal("o"))
    >>> dumps([q], "nt")
    b'<http://example.org/s> <http://example.org/p> "o" .\\n'
    """
    rdf_format, items = _prepare(quads, format_for("", format))
    return ox.serialize(items, format=rdf_format, prefixes=PREFIXES)


def write_quads(
    quads: Iterable[ox.Quad | ox.Triple], path: str | os.PathLike[str], *, format: str | None = None
) -> int:
    """Write quads to ``path`` atomically and deterministically; return how many statements were written.

    Triple-only formats (Turtle, N-Triples, RDF/XML) receive the union of all
    graphs; the count is of distinct statements after that merge.

    Args:
        quads: Quads (or triples, which go to the default graph), e.g. a pyoxigraph ``Store``.
        path: The file to write; its folder must exist. An existing file is replaced.
        format: A format name or extension; by default taken from ``path``'s extension.

    Raises:
        ExportError: Unknown format, missing or unwritable folder, or data the format cannot express.
            The target is left untouched.

    >>> import tempfile
    >>> q = ox.Quad(ox.NamedNode("http://example.org/s"), ox.NamedNode("http://example.org/p"), ox.Literal("o"))
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     write_quads([q, q], f"{tmp}/g.nt"), Path(f"{tmp}/g.nt").read_text()
    (1, '<http://example.org/s> <http://example.org/p> "o" .\\n')
    """
    name = format_for(path, format)
    path = Path(path)
    folder = path.parent
    if not folder.is_dir():
        raise ExportError(f"cannot write {path}: folder {folder} does not exist; create it first")
    rdf_format, items = _prepare(quads, name)
    tmp = folder / f".{path.name}.{secrets.token_hex(4)}.tmp"
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    except OSError as exc:
        raise ExportError(f"cannot write {path}: {exc.strerror} in folder {folder}") from None
    try:
        with os.fdopen(fd, "wb") as out:
            ox.serialize(items, out, rdf_format, prefixes=PREFIXES)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except (OSError, ValueError, TypeError) as exc:
        tmp.unlink(missing_ok=True)
        detail = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc).splitlines()[0]
        raise ExportError(f"cannot write {path} as {name}: {detail}") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_folder(folder)
    log.info("wrote %d statements to %s (%s)", len(items), path, name)
    return len(items)


def _fsync_folder(folder: Path) -> None:
    """Make the rename durable (best effort: some filesystems refuse to sync a folder)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def read_rdf(path: str | os.PathLike[str], *, format: str | None = None) -> ox.Store:
    """Load an RDF file into a new in-memory pyoxigraph store, e.g. to query it.

    Triple formats load into the default graph; relative IRIs resolve against
    the file's ``file:`` URI.

    Raises:
        ExportError: Unknown format, unreadable file, or a syntax error (``FILE:LINE:COL: message``).

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     _ = Path(f"{tmp}/g.ttl").write_text('<http://example.org/s> <http://example.org/p> "o" .')
    ...     len(read_rdf(f"{tmp}/g.ttl"))
    1
    """
    name = format_for(path, format)
    store = ox.Store()
    try:
        if name == "rdfxml":
            check_xml_entities(Path(path).read_bytes(), os.fspath(path))
        store.load(path=os.fspath(path), format=FORMATS[name].rdf_format, base_iri=Path(path).resolve().as_uri())
    except SyntaxError as exc:
        where = "".join(f":{n}" for n in (exc.lineno, exc.offset) if n)
        detail = _POSITION_PREFIX.sub("", exc.msg.splitlines()[0])
        if "LoadDocumentCallback" in detail:
            detail = "a remote JSON-LD @context is never fetched; put the context in the file"
        raise ExportError(f"{os.fspath(path)}{where}: {detail}") from None
    except FileNotFoundError:
        raise ExportError(f"cannot read {os.fspath(path)}: no such file") from None
    except (OSError, ValueError) as exc:
        raise ExportError(f"cannot read {os.fspath(path)} as {name}: {str(exc).splitlines()[0]}") from None
    log.debug("read %d quads from %s", len(store), path)
    return store


_ENTITY = re.compile(rb"""<!ENTITY\s+(%\s*)?([^\s%;&"']+)\s+(?:"([^"]*)"|'([^']*)'|(\S+))""")
_MAX_EXPANSION = 16_000_000  # bytes that entity references may add to an RDF/XML document


def check_xml_entities(data: bytes, source: str = "<RDF/XML>") -> None:
    """Refuse RDF/XML whose DTD names external or parameter entities, or whose entities expand beyond reason.

    Internal entities (``<!ENTITY owl "http://www.w3.org/2002/07/owl#">``) are fine;
    a document may not make a parser read a file or a URL, nor grow by more than
    16 MB through nested references ("billion laughs"). Call it before parsing
    RDF/XML from anywhere untrusted; :func:`read_rdf` does.

    Raises:
        ExportError: naming ``source`` and the entity.

    >>> check_xml_entities(b'<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>', "a.rdf")
    Traceback (most recent call last):
    ...
    kg.errors.ExportError: a.rdf: external XML entity 'x' refused; kg never reads files or URLs a document names: inline its value
    """
    if b"<!ENTITY" not in data:
        return
    values: dict[bytes, bytes] = {}
    for match in _ENTITY.finditer(data):
        parameter, entity, value = match[1], match[2], match[3] if match[3] is not None else match[4]
        if parameter or value is None:
            kind = "parameter" if parameter else "external"
            raise ExportError(f"{source}: {kind} XML entity {entity.decode(errors='replace')!r} refused; "
                              "kg never reads files or URLs a document names: inline its value")
        values[entity] = value
    sizes: dict[bytes, int] = {}

    def size(entity: bytes, depth: int = 0) -> int:
        if entity not in sizes:
            if depth > 32:
                raise ExportError(f"{source}: XML entities nested too deeply (or recursive)")
            body = values[entity]
            sizes[entity] = len(body) + sum(size(ref, depth + 1) for ref in re.findall(rb"&([^;&\s]+);", body) if ref in values)
        return sizes[entity]

    total = sum(data.count(b"&" + entity + b";") * size(entity) for entity in values)
    if total > _MAX_EXPANSION:
        raise ExportError(f"{source}: XML entities would expand the document by {total:,} bytes "
                          f"(at most {_MAX_EXPANSION:,}); expand them yourself if the file is trusted")
