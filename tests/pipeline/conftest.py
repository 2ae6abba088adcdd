"""Fixtures that run the real pipeline (``pipeline`` and ``seed_store`` are in the root conftest)."""

from __future__ import annotations

import pytest


@pytest.fixture()
def extract(pipeline):
    """Resolve and link a snippet of text: returns the linked Resolution."""
    from kg.records import Document

    def run(text: str, date: str | None = None):
        return next(pipeline.resolutions([Document("t", text, date=date)]))

    return run
