"""Fixtures for the reliability tests; the helpers themselves are in ``helpers.py``."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def pipeline():
    """The real pipeline: spaCy model, rules, the compiled knowledge base."""
    from kg.paths import DEFAULT_KB
    from kg.pipeline import Pipeline

    if not DEFAULT_KB.exists():
        pytest.fail(f"no knowledge base at {DEFAULT_KB}: run `make install` (it runs `kg kb build`)")
    with Pipeline() as pipe:
        yield pipe
