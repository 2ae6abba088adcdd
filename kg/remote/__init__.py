"""Remote triplestores: load a dataset into one, serve the embedded store, query any SPARQL endpoint."""

from kg.remote.endpoint import Endpoint, Http, credentials, discover
from kg.remote.loader import Loader, LoadReport, load
from kg.remote.query import query_endpoint

__all__ = ["Endpoint", "Http", "LoadReport", "Loader", "credentials", "discover", "load", "query_endpoint"]
