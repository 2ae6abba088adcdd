"""Reading documents from files and folders, streaming, with one-line errors.

* ``.txt`` / ``.md``: one document per file; its id is the path relative to
  the folder given (or the file name).
* ``.jsonl``: one document per line, a JSON object with ``text`` and
  optionally ``id``, ``date`` (ISO), ``title``, ``url``/``source``.

Text is decoded as UTF-8 (a BOM is dropped). Invalid UTF-8 is decoded with
replacement characters and a warning, or refused when ``strict`` is set.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable, Iterator
from pathlib import Path

from ..errors import ReadError
from ..records import Document

log = logging.getLogger(__name__)

SUFFIXES = (".txt", ".md", ".jsonl")


def _decode(data: bytes, path: Path, strict: bool) -> str:
    if b"\x00" in data:
        raise ReadError(f"{path}: binary file (contains NUL bytes); give a UTF-8 text file")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        if strict:
            raise ReadError(f"{path}: not valid UTF-8 at byte {err.start}; convert it to UTF-8 or drop --strict") from err
        log.warning("%s: invalid UTF-8 at byte %d, decoded with replacement characters", path, err.start)
        return data.decode("utf-8-sig", errors="replace")


def _files(paths: Iterable[str | os.PathLike]) -> Iterator[tuple[Path, Path]]:
    for raw in paths:
        p = Path(raw)
        if not p.exists():
            raise ReadError(f"{p}: no such file or folder")
        if p.is_dir():
            seen: set[tuple[int, int]] = set()
            for root, dirs, files in os.walk(p, followlinks=True):
                st = os.stat(root)
                if (st.st_dev, st.st_ino) in seen:
                    dirs[:] = []
                    log.warning("%s: symbolic link loop, skipped", root)
                    continue
                seen.add((st.st_dev, st.st_ino))
                dirs.sort()
                for name in sorted(files):
                    f = Path(root) / name
                    if f.suffix.lower() in SUFFIXES:
                        yield f, p
        elif p.suffix.lower() in SUFFIXES:
            yield p, p.parent
        else:
            raise ReadError(f"{p}: unknown file type {p.suffix or '(none)'!r}; kg reads {', '.join(SUFFIXES)}")


def iter_documents(
    paths: Iterable[str | os.PathLike], *, strict: bool = False, skip_bad: bool = False, date: str | None = None
) -> Iterator[Document]:
    """Yield the documents in files and folders, in a deterministic order.

    Args:
        paths: files (.txt, .md, .jsonl) or folders searched recursively.
        strict: refuse invalid UTF-8 instead of replacing it.
        skip_bad: skip malformed JSONL lines and empty documents (logged) instead of failing.
        date: publication date (ISO) for documents that carry none.

    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp()); _ = (d / "a.txt").write_text("Kyiv is in Ukraine.")
    >>> [doc.id for doc in iter_documents([d])]
    ['a.txt']
    """
    for path, base in _files(paths):
        try:
            data = path.read_bytes()
        except OSError as err:
            raise ReadError(f"{path}: cannot read ({err.strerror})") from err
        text = _decode(data, path, strict)
        rel = path.relative_to(base).as_posix() if base != path else path.name
        if path.suffix.lower() == ".jsonl":
            yield from _jsonl(text, path, rel, skip_bad, date)
            continue
        if not text.strip():
            if skip_bad:
                log.warning("%s: empty document, skipped", path)
                continue
            raise ReadError(f"{path}: empty document (no text)")
        yield Document(id=rel, text=text, source=path.as_posix(), date=date)


def _jsonl(text: str, path: Path, rel: str, skip_bad: bool, date: str | None) -> Iterator[Document]:
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
            if not isinstance(obj, dict):
                raise ValueError("not a JSON object")
            body = obj.get("text")
            if not isinstance(body, str) or not body.strip():
                raise ValueError("no 'text' field with text")
        except ValueError as err:
            msg = f"{path}:{n}: bad JSONL record ({err})"
            if skip_bad:
                log.warning("%s, skipped", msg)
                continue
            raise ReadError(msg + "; fix the line or pass --skip-bad") from None
        doc_id = str(obj.get("id") or f"{rel}#{n}")
        yield Document(
            id=doc_id,
            text=body,
            source=str(obj.get("url") or obj.get("source") or f"{path.as_posix()}#{n}"),
            date=str(obj["date"])[:10] if obj.get("date") else date,
            title=obj.get("title") if isinstance(obj.get("title"), str) else None,
        )
