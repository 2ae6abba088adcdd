"""The whole chain, stage by stage: read -> extract -> resolve -> link -> RDF -> store.

>>> from kg.pipeline import BuildReport
>>> BuildReport().documents
0
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from .export.graph import document_quads
from .extraction import DEFAULT_MODEL, Extractor
from .linking import KnowledgeBase
from .linking.linker import DEFAULT_THRESHOLD, link
from .paths import DEFAULT_KB
from .reading import iter_documents
from .records import Document, Resolution
from .resolution import resolve

log = logging.getLogger(__name__)


@dataclass
class BuildReport:
    """What a build did, for the CLI and the benchmarks."""

    documents: int = 0
    words: int = 0
    quads: int = 0
    entities: int = 0
    seconds: dict[str, float] = field(default_factory=dict)

    def tick(self, stage: str, since: float) -> float:
        now = time.perf_counter()
        self.seconds[stage] = self.seconds.get(stage, 0.0) + now - since
        return now


class Pipeline:
    """kg's stages wired together over one knowledge base and one spaCy pipeline.

    Args:
        model: an installed spaCy pipeline.
        kb_path: the compiled knowledge base (``kg kb build``).
        threshold: minimum link confidence.
    """

    def __init__(self, model: str = DEFAULT_MODEL, kb_path: str | Path = DEFAULT_KB, *, threshold: float = DEFAULT_THRESHOLD):
        self.kb = KnowledgeBase.open(kb_path)
        self.extractor = Extractor(model, self.kb)
        self.threshold = threshold

    def close(self) -> None:
        self.kb.close()

    def __enter__(self) -> Pipeline:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def resolutions(self, documents: Iterable[Document], *, jobs: int = 1, report: BuildReport | None = None) -> Iterator[Resolution]:
        """Extraction, resolution and linking of each document, streamed."""
        report = report or BuildReport()
        t = time.perf_counter()
        for extraction in self.extractor(documents, n_process=jobs):
            t = report.tick("extract", t)
            res = link(resolve(extraction, self.kb), self.kb, threshold=self.threshold)
            t = report.tick("resolve+link", t)
            report.documents += 1
            report.words += len(extraction.document.text.split())
            report.entities += len(res.entities)
            yield res
            t = time.perf_counter()

    def build(
        self,
        inputs: Iterable[str | Path],
        store,
        *,
        jobs: int = 1,
        date: str | None = None,
        strict: bool = False,
        skip_bad: bool = False,
        on_document: Callable[[Document], None] | None = None,
    ) -> BuildReport:
        """Read inputs and write each document's graph into ``store`` (replacing an earlier build of it)."""
        report = BuildReport()
        docs = iter_documents(inputs, strict=strict, skip_bad=skip_bad, date=date)
        for res in self.resolutions(docs, jobs=jobs, report=report):
            t = time.perf_counter()
            quads = document_quads(res)
            t = report.tick("rdf", t)
            store.replace_document(res.extraction.document.id, quads)
            report.tick("store", t)
            report.quads += len(quads)
            if on_document is not None:
                on_document(res.extraction.document)
        return report
