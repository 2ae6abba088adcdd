"""Fixtures that run the real pipeline: the real spaCy model and the compiled knowledge base."""

from __future__ import annotations

import pytest

from kg.paths import DEFAULT_KB, SEEDS_DIR


@pytest.fixture(scope="session")
def pipeline():
    from kg.pipeline import Pipeline

    if not DEFAULT_KB.exists():
        pytest.fail(f"no knowledge base at {DEFAULT_KB}: run `make install` (it runs `kg kb build`)")
    with Pipeline() as pipe:
        yield pipe


@pytest.fixture(scope="session")
def seed_store(pipeline, tmp_path_factory):
    from kg.store import Store

    path = tmp_path_factory.mktemp("seed") / "store"
    with Store.open(path) as st:
        pipeline.build([SEEDS_DIR], st)
    return path


@pytest.fixture()
def extract(pipeline):
    """Resolve and link a snippet of text: returns the linked Resolution."""
    from kg.records import Document

    def run(text: str, date: str | None = None):
        return next(pipeline.resolutions([Document("t", text, date=date)]))

    return run
