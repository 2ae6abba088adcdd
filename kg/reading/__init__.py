"""Reading: files and folders of .txt, .md and .jsonl into :class:`~kg.records.Document` records."""

from .read import SUFFIXES, iter_documents

__all__ = ["SUFFIXES", "iter_documents"]
