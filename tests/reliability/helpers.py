"""Helpers for the reliability tests: running the CLI as a user would, checking RDF strictly.

``kg`` runs as a subprocess (``python -m kg``), so exit codes, stderr and
signals are those a user sees. Each call that builds loads the spaCy model
(a few seconds), so tests share builds where they can.
"""

from __future__ import annotations

import os
import subprocess
import sys
import xml.parsers.expat
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pyoxigraph as ox
import rfc3987

ROOT = Path(__file__).resolve().parents[2]

#: Characters XML 1.0 cannot carry, not even as character references.
XML_FORBIDDEN = {*map(chr, range(0x00, 0x09)), "\x0b", "\x0c", *map(chr, range(0x0E, 0x20)), "\ufffe", "\uffff"}


@dataclass(frozen=True)
class Run:
    """What a ``kg`` process did."""

    code: int
    stdout: str
    stderr: str

    @property
    def error_lines(self) -> list[str]:
        """The ``error:`` lines of stderr."""
        return [line for line in self.stderr.splitlines() if line.startswith("error:")]


def run_kg(*args: object, cwd: Path | None = None, timeout: float = 300, env: dict | None = None, **popen) -> Run:
    """Run ``python -m kg ARGS`` and collect its exit code and output (stderr decoded leniently)."""
    proc = subprocess.run(
        [sys.executable, "-m", "kg", *map(str, args)],
        cwd=cwd or ROOT,
        capture_output=True,
        timeout=timeout,
        env={**os.environ, "COLUMNS": "200", **(env or {})},
        **popen,
    )
    return Run(proc.returncode, proc.stdout.decode("utf-8", "replace"), proc.stderr.decode("utf-8", "replace"))


def assert_one_line_error(run: Run, *needles: str, code: int = 2) -> str:
    """The run failed with ``code`` and exactly one ``error:`` line naming every needle, and no traceback."""
    assert run.code == code, f"exit {run.code}, expected {code}; stderr: {run.stderr[-2000:]}"
    assert "Traceback" not in run.stderr, run.stderr[-3000:]
    assert len(run.error_lines) == 1, run.stderr[-2000:]
    line = run.error_lines[0]
    for needle in needles:
        assert needle in line, f"{needle!r} not in {line!r}"
    return line


@lru_cache(maxsize=100_000)
def is_iri(value: str) -> bool:
    """Whether ``value`` is an absolute IRI by the grammar of RFC 3987."""
    return rfc3987.match(value, rule="IRI") is not None


def assert_valid_terms(quads) -> None:
    """Every IRI is an RFC 3987 IRI, every literal holds only characters XML 1.0 can carry (and no CR)."""
    for q in quads:
        for term in (q.subject, q.predicate, q.object, q.graph_name):
            if isinstance(term, ox.NamedNode):
                assert is_iri(term.value), f"not an RFC 3987 IRI: {term.value!r}"
            elif isinstance(term, ox.Literal):
                bad = XML_FORBIDDEN.intersection(term.value) | ({"\r"} & set(term.value))
                assert not bad, f"literal carries {sorted(bad)!r}: {term.value[:80]!r}"


def assert_well_formed_xml(data: bytes) -> None:
    """A conforming XML 1.0 parser (expat) accepts ``data``; pyoxigraph's own RDF/XML parser is lenient."""
    parser = xml.parsers.expat.ParserCreate()
    parser.Parse(data, True)


def as_stored(quads) -> set[ox.Quad]:
    """What a pyoxigraph store keeps of quads (it normalizes numeric and date literals)."""
    store = ox.Store()
    store.extend(quads)
    return set(store)
