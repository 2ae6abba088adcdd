"""The extraction stage: documents in, :class:`~kg.records.Extraction` records out."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator

from spacy.language import Language
from spacy.tokens import Doc

from ..records import Document, Extraction, Sentence
from .facts import FactReader
from .mentions import MentionFinder, to_mentions
from .nlp import DEFAULT_MODEL, load_pipeline

log = logging.getLogger(__name__)


def extract_doc(doc: Doc, document: Document, kb=None) -> Extraction:
    """Read one parsed spaCy Doc into a plain Extraction record."""
    sents = list(doc.sents)
    sent_index = {s.start: i for i, s in enumerate(sents)}
    drafts = MentionFinder(doc, kb).run()
    mentions = to_mentions(doc, drafts, sent_index)
    reader = FactReader(doc, mentions, sent_index, kb=kb, doc_date=document.date)
    reader.run()
    return Extraction(
        document=document,
        sentences=tuple(Sentence(s.start_char, s.end_char) for s in sents),
        mentions=tuple(reader.mentions),
        relations=tuple(reader.relations),
        events=tuple(reader.events),
        claims=tuple(reader.claims),
    )


class Extractor:
    """Runs the spaCy pipeline plus kg's rules over a stream of documents.

    Args:
        model: installed spaCy pipeline name (default: the English small model).
        kb: an open :class:`~kg.linking.KnowledgeBase` (gazetteer, demonyms), or None.
    """

    def __init__(self, model: str = DEFAULT_MODEL, kb=None, nlp: Language | None = None):
        self.kb = kb
        self.nlp = nlp or load_pipeline(model, kb.gazetteer() if kb is not None else ())

    def __call__(self, documents: Iterable[Document], *, batch_size: int = 32, n_process: int = 1) -> Iterator[Extraction]:
        pairs = ((d.text, d) for d in documents)
        for doc, document in self.nlp.pipe(pairs, as_tuples=True, batch_size=batch_size, n_process=n_process):
            yield extract_doc(doc, document, self.kb)
