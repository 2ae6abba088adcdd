"""Reading documents from files and folders, streaming, with one-line errors.

* ``.txt`` / ``.md``: one document per file; its id is the path relative to
  the folder given (or the file name). A ``.md`` file may start with front
  matter (``---`` lines) giving ``date``, ``title`` and ``url``.
* ``.jsonl``: one document per line, a JSON object with ``text`` and
  optionally ``id`` (string or number), ``date`` (ISO, ``YYYY-MM-DD...``),
  ``title``, ``url``/``source``. Lines are split on ``\\n`` only and read one
  at a time, so a corpus of any size streams in constant memory.

Text is decoded as UTF-8 (a BOM is dropped). Invalid UTF-8 is decoded with
replacement characters (U+FFFD) and a warning, or refused when ``strict`` is
set. Line ends become ``\\n`` (``\\r\\n`` and a lone ``\\r`` alike), and
characters no RDF format can carry everywhere -- C0 control characters other
than tab and newline, U+FFFE, U+FFFF, lone surrogates (from JSON escapes) --
become U+FFFD with a warning, so character offsets index the text stored in
the graph. A document longer than :data:`MAX_CHARS` characters, a file that
is not a regular file (a FIFO, a device), a symbolic link loop or an
unreadable file or folder is an error naming it; ``skip_bad`` skips empty
documents, malformed JSONL lines and over-long documents instead, with a
warning each.
"""

from __future__ import annotations

import datetime as dt
import errno
import json
import logging
import os
import re
import stat
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from ..errors import ReadError
from ..records import Document

log = logging.getLogger(__name__)

SUFFIXES = (".txt", ".md", ".jsonl")

#: The longest document kg reads, in characters (spaCy's default ``nlp.max_length``).
MAX_CHARS = 1_000_000
# a JSONL line may spend up to 6 bytes per character on escapes (\u00e9), plus the other fields
_MAX_LINE_BYTES = 6 * MAX_CHARS + 65_536
_MAX_FILE_BYTES = 4 * MAX_CHARS  # UTF-8 needs at most 4 bytes per character

_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")

Notice = Callable[[str, str], None]  # (kind, message): kind is "skipped" or "repaired"


@dataclass
class ReadSummary:
    """What reading the inputs found, before anything is built (see :func:`scan`).

    >>> ReadSummary(documents=2, skipped=1).documents
    2
    """

    documents: int = 0
    files: int = 0
    skipped: int = 0  # empty documents, malformed JSONL lines and over-long documents passed over (skip_bad)
    repaired: int = 0  # texts decoded with replacement characters or cleaned of control characters
    characters: int = 0


def _log(kind: str, message: str) -> None:
    log.warning("%s", message)


def _normalize(text: str, where: str, notice: Notice) -> str:
    """Line ends as ``\\n``; characters RDF/XML cannot carry as U+FFFD (one for one)."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    bad = len(_UNSAFE.findall(text))
    if bad:
        notice("repaired", f"{where}: {bad} control or invalid character(s) replaced with U+FFFD")
        text = _UNSAFE.sub("\ufffd", text)
    return text


def _decode(data: bytes, where: str, strict: bool, notice: Notice) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        if strict:
            raise ReadError(f"{where}: not valid UTF-8 at byte {err.start}; convert it to UTF-8 or drop --strict") from err
        notice("repaired", f"{where}: invalid UTF-8 at byte {err.start}, decoded with replacement characters")
        return data.decode("utf-8-sig", errors="replace")


def _cannot(path: Path, err: OSError) -> ReadError:
    if err.errno == errno.ELOOP:
        return ReadError(f"{path}: symbolic link loop; fix or remove the link")
    if err.errno == errno.ENOENT:
        return ReadError(f"{path}: no such file or folder" + (" (a broken symbolic link)" if path.is_symlink() else ""))
    return ReadError(f"{path}: cannot read ({err.strerror})")


def _regular(path: Path) -> os.stat_result:
    """The stat of ``path`` (links followed), if it is a regular file; else a ReadError."""
    try:
        st = path.stat()
    except OSError as err:
        raise _cannot(path, err) from None
    if not stat.S_ISREG(st.st_mode):
        raise ReadError(f"{path}: not a regular file (a FIFO, socket or device); give a text file")
    return st


def _files(paths: Iterable[str | os.PathLike]) -> Iterator[tuple[Path, Path]]:
    for raw in paths:
        p = Path(raw)
        try:
            is_dir = stat.S_ISDIR(p.stat().st_mode)
        except OSError as err:
            raise _cannot(p, err) from None
        if is_dir:
            yield from _walk(p)
        elif p.suffix.lower() in SUFFIXES:
            yield p, p.parent
        else:
            raise ReadError(f"{p}: unknown file type {p.suffix or '(none)'!r}; kg reads {', '.join(SUFFIXES)}")


def _walk(top: Path) -> Iterator[tuple[Path, Path]]:
    """The readable files under ``top``, sorted, following links but each folder once."""

    def fail(err: OSError) -> None:
        raise _cannot(Path(err.filename or top), err)

    seen: set[tuple[int, int]] = set()
    for root, dirs, files in os.walk(top, followlinks=True, onerror=fail):
        st = os.stat(root)
        if (st.st_dev, st.st_ino) in seen:
            dirs[:] = []
            log.info("%s: a folder already read (symbolic link), skipped", root)
            continue
        seen.add((st.st_dev, st.st_ino))
        dirs.sort()
        for name in sorted(files):
            f = Path(root) / name
            if f.suffix.lower() in SUFFIXES:
                yield f, top


def _read(paths: Iterable[str | os.PathLike], strict: bool, skip_bad: bool, date: str | None,
          notice: Notice, summary: ReadSummary | None = None) -> Iterator[Document]:
    for path, base in _files(paths):
        size = _regular(path).st_size
        if summary is not None:
            summary.files += 1
        rel = path.relative_to(base).as_posix()
        if path.suffix.lower() == ".jsonl":
            yield from _jsonl(path, rel, strict, skip_bad, date, notice)
            continue
        if size > _MAX_FILE_BYTES:
            problem = f"{path}: too long ({size:,} bytes; kg reads documents of at most {MAX_CHARS:,} characters); split it"
            _bad(problem, skip_bad, notice)
            continue
        try:
            data = path.read_bytes()
        except OSError as err:
            raise _cannot(path, err) from None
        if b"\x00" in data:
            raise ReadError(f"{path}: binary file (contains NUL bytes); give a UTF-8 text file")
        text = _decode(data, str(path), strict, notice)
        meta: dict[str, str] = {}
        if path.suffix.lower() == ".md":
            meta, text = front_matter(text)
        doc = _document(text, str(path), skip_bad, notice, id=rel, source=meta.get("url") or path.as_posix(),
                        date=meta.get("date") or date, title=meta.get("title"))
        if doc is not None:
            yield doc


_FRONT = re.compile(r"\A---[ \t]*\n(.*?\n)---[ \t]*\n", re.S)


def front_matter(text: str) -> tuple[dict[str, str], str]:
    r"""A Markdown file's front matter (``date``, ``title``, ``url``) and the text after it.

    Only flat ``key: value`` lines are read; a date must start with ``YYYY-MM-DD``.

    >>> front_matter("---\ntitle: \"Kyiv at night\"\ndate: 2023-05-22T08:00:00Z\n---\nText.")
    ({'title': 'Kyiv at night', 'date': '2023-05-22'}, 'Text.')
    >>> front_matter("No front matter.")
    ({}, 'No front matter.')
    """
    found = _FRONT.match(text)
    if found is None:
        return {}, text
    meta: dict[str, str] = {}
    for line in found.group(1).splitlines():
        key, sep, value = line.partition(":")
        key, value = key.strip().lower(), value.strip().strip("'\"")
        if not sep or not value:
            continue
        if key == "date":
            try:
                dt.date.fromisoformat(value[:10])
            except ValueError:
                continue
            meta["date"] = value[:10]
        elif key in {"title", "url"}:
            meta[key] = value
    return meta, text[found.end():]


def _bad(problem: str, skip_bad: bool, notice: Notice, fix: str = "") -> None:
    """Skip a bad document with a notice under ``skip_bad``, else raise."""
    if not skip_bad:
        raise ReadError(problem + fix)
    notice("skipped", f"{problem}, skipped")


def _document(text: str, where: str, skip_bad: bool, notice: Notice, **fields) -> Document | None:
    text = _normalize(text, where, notice)
    if not text.strip():
        _bad(f"{where}: empty document (no text)", skip_bad, notice, "; remove it or pass --skip-bad")
        return None
    if len(text) > MAX_CHARS:
        _bad(f"{where}: document too long ({len(text):,} characters; kg reads at most {MAX_CHARS:,})",
             skip_bad, notice, "; split it or pass --skip-bad")
        return None
    return Document(text=text, **fields)


def _jsonl(path: Path, rel: str, strict: bool, skip_bad: bool, date: str | None, notice: Notice) -> Iterator[Document]:
    records = 0
    try:
        f = path.open("rb")
    except OSError as err:
        raise _cannot(path, err) from None
    with f:
        n = 0
        while True:
            try:
                raw = f.readline(_MAX_LINE_BYTES + 1)
            except OSError as err:
                raise _cannot(path, err) from None
            if not raw:
                break
            n += 1
            where = f"{path}:{n}"
            if len(raw) > _MAX_LINE_BYTES and not raw.endswith(b"\n"):
                while raw and not raw.endswith(b"\n"):  # pass over the rest of the line
                    raw = f.readline(_MAX_LINE_BYTES)
                _bad(f"{where}: line too long (over {_MAX_LINE_BYTES:,} bytes; kg reads documents of at most "
                     f"{MAX_CHARS:,} characters)", skip_bad, notice, "; split it or pass --skip-bad")
                continue
            if b"\x00" in raw:
                _bad(f"{where}: bad JSONL record (NUL byte)", skip_bad, notice, "; fix the line or pass --skip-bad")
                continue
            line = _decode(raw, where, strict, notice).rstrip("\r\n")
            if not line.strip():
                continue
            records += 1
            try:
                fields = _record(line)
            except ValueError as err:
                _bad(f"{where}: bad JSONL record ({err})", skip_bad, notice, "; fix the line or pass --skip-bad")
                continue
            doc = _document(fields.pop("text"), where, skip_bad, notice,
                            id=fields.pop("id") or f"{rel}#{n}",
                            source=fields.pop("source") or f"{path.as_posix()}#{n}",
                            date=fields.pop("date") or date, **fields)
            if doc is not None:
                yield doc
    if records == 0:
        _bad(f"{path}: empty file (no JSONL records)", skip_bad, notice, "; remove it or pass --skip-bad")


def _record(line: str) -> dict:
    """The document fields of one JSONL line; ValueError says what is wrong with it."""
    try:
        obj = json.loads(line)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None
    if not isinstance(obj, dict):
        raise ValueError("not a JSON object")
    text = obj.get("text")
    if not isinstance(text, str):
        raise ValueError("no 'text' field with text")
    doc_id = obj.get("id")
    if doc_id is not None and (isinstance(doc_id, bool) or not isinstance(doc_id, (str, int))):
        raise ValueError(f"'id' must be a string or a number, not {type(doc_id).__name__}")
    date = obj.get("date")
    if date:
        date = str(date)[:10]
        try:
            dt.date.fromisoformat(date)
        except ValueError:
            raise ValueError(f"'date' {obj['date']!r} does not start with a YYYY-MM-DD date") from None
    url = obj.get("url") or obj.get("source")
    title = obj.get("title")
    return {
        "text": text,
        "id": str(doc_id) if doc_id not in (None, "") else None,
        "source": _clean_field(str(url)) if url else None,
        "date": date or None,
        "title": _clean_field(title) if isinstance(title, str) else None,
    }


def _clean_field(value: str) -> str:
    return _UNSAFE.sub("\ufffd", value.replace("\r", "\n"))


def iter_documents(
    paths: Iterable[str | os.PathLike], *, strict: bool = False, skip_bad: bool = False, date: str | None = None
) -> Iterator[Document]:
    """Yield the documents in files and folders, in a deterministic order.

    Args:
        paths: files (.txt, .md, .jsonl) or folders searched recursively.
        strict: refuse invalid UTF-8 instead of replacing it.
        skip_bad: skip malformed JSONL lines, empty and over-long documents (logged) instead of failing.
        date: publication date (ISO) for documents that carry none.

    Raises:
        ReadError: the first bad input, in one line naming the file (and line, for JSONL).

    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp()); _ = (d / "a.txt").write_text("Kyiv is in Ukraine.")
    >>> [doc.id for doc in iter_documents([d])]
    ['a.txt']
    """
    yield from _read(paths, strict, skip_bad, date, _log)


def scan(
    paths: Iterable[str | os.PathLike], *, strict: bool = False, skip_bad: bool = False, date: str | None = None
) -> ReadSummary:
    """Read all inputs once, keeping nothing, so bad input fails before anything is written.

    Takes the arguments of :func:`iter_documents` and raises the same errors;
    its warnings are counted, not logged (the build that follows logs them).

    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp()); _ = (d / "a.jsonl").write_text('{"text": "Kyiv."}\\n{"txt": 1}\\n')
    >>> s = scan([d], skip_bad=True); (s.documents, s.skipped)
    (1, 1)
    """
    summary = ReadSummary()

    def count(kind: str, message: str) -> None:
        if kind == "skipped":
            summary.skipped += 1
        else:
            summary.repaired += 1

    for doc in _read(paths, strict, skip_bad, date, count, summary):
        summary.documents += 1
        summary.characters += len(doc.text)
    return summary
