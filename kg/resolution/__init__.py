"""Resolution: mentions of a document grouped into entities (one node per real-world entity)."""

from .resolve import name_key, resolve

__all__ = ["name_key", "resolve"]
