"""Linking: the offline knowledge base of Wikidata items and lookups over it."""

from kg.linking.kb import KBRecord, KnowledgeBase, build_default, normalize, translit_key
from kg.linking.sources import KBEntry

__all__ = ["KBEntry", "KBRecord", "KnowledgeBase", "build_default", "normalize", "translit_key"]
