"""Linking: the offline knowledge base of Wikidata items, the readers that grow it, and lookups over it."""

from kg.linking.endpoint import read_endpoint
from kg.linking.kb import KBRecord, KnowledgeBase, build_default, normalize, translit_key
from kg.linking.sources import KBEntry
from kg.linking.wikidata import WikidataMap, read_dump

__all__ = [
    "KBEntry", "KBRecord", "KnowledgeBase", "WikidataMap", "build_default", "normalize", "read_dump", "read_endpoint",
    "translit_key",
]  # fmt: skip
