"""One error root for kg, with a subclass per stage.

The CLI maps :class:`KGError` to exit code 2 (bad input or usage) and
:class:`ValidationFailed` to exit code 1 (the data did not validate).
"""

from __future__ import annotations


class KGError(Exception):
    """Root of every error kg raises on purpose.

    Messages are one line: what was wrong, with which value, and the fix.
    """


class ReadError(KGError):
    """An input document could not be read (missing file, bad encoding, bad JSONL)."""


class ExtractionError(KGError):
    """The spaCy pipeline could not be loaded or run."""


class LinkingError(KGError):
    """The knowledge base is missing, corrupt, or a source could not be compiled."""


class OntologyError(KGError):
    """The ontology could not be loaded or populated."""


class ValidationFailed(KGError):
    """The reasoner found the populated ontology inconsistent."""


class ExportError(KGError):
    """A graph could not be written (unknown format, unwritable path)."""


class StoreError(KGError):
    """The store could not be opened, locked or written."""


class QueryError(KGError):
    """A SPARQL query failed (malformed, timed out, bad endpoint)."""
