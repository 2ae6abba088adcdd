"""Extraction: text in, mentions, relations, events and claims out (spaCy stays inside)."""

from .extract import Extractor, extract_doc
from .nlp import DEFAULT_MODEL, load_pipeline

__all__ = ["DEFAULT_MODEL", "Extractor", "extract_doc", "load_pipeline"]
