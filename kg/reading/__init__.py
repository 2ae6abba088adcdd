"""Reading: files and folders of .txt, .md and .jsonl into :class:`~kg.records.Document` records."""

from .read import MAX_CHARS, SUFFIXES, ReadSummary, iter_documents, scan

__all__ = ["MAX_CHARS", "SUFFIXES", "ReadSummary", "iter_documents", "scan"]
