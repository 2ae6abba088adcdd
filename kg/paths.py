"""Where kg finds its assets: one module of path constants.

Assets live outside the code (``ontology/``, ``queries/``, ``data/``) in a
source checkout; installed copies are looked up next to the package.
"""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
ROOT = PACKAGE_DIR.parent

ONTOLOGY_DIR = ROOT / "ontology"
ONTOLOGY_FILE = ONTOLOGY_DIR / "kg.ttl"
QUERIES_DIR = ROOT / "queries"
KB_QUERIES_DIR = QUERIES_DIR / "kb"
DATA_DIR = ROOT / "data"
KB_SOURCES_DIR = DATA_DIR / "kb-sources"
SEEDS_DIR = ROOT / "seeds"

#: The compiled default knowledge base (built by ``kg kb build``).
DEFAULT_KB = Path(os.environ.get("KG_KB", DATA_DIR / "kb.sqlite"))
#: The default embedded store, relative to the working directory.
DEFAULT_STORE = Path(os.environ.get("KG_STORE", ".kg/store"))
