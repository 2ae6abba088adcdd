"""Running SPARQL queries over the store or an RDF file, and formatting their results."""

from kg.query.run import (
    OUTPUT_FORMATS,
    QueryResult,
    check_query,
    format_result,
    load_query,
    run_query,
    with_prefixes,
)

__all__ = [
    "OUTPUT_FORMATS",
    "QueryResult",
    "check_query",
    "format_result",
    "load_query",
    "run_query",
    "with_prefixes",
]
