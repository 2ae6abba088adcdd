"""Writing the graph to RDF files, and reading RDF files back for querying."""

from kg.export.serialize import FORMATS, FormatSpec, check_xml_entities, dumps, format_for, read_rdf, write_quads

__all__ = ["FORMATS", "FormatSpec", "check_xml_entities", "dumps", "format_for", "read_rdf", "write_quads"]
