"""Scale-out: the same build, sharded over the workers of a Dask cluster (``kg build --dask``, :mod:`kg.scale.cluster`)."""

from .cluster import ClusterError, connect, dask_graphs

__all__ = ["ClusterError", "connect", "dask_graphs"]
