"""kg's embedded RDF store (pyoxigraph on disk): one named graph per document."""

from kg.store.store import Store

__all__ = ["Store"]
