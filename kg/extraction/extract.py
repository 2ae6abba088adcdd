"""The extraction stage: documents in, :class:`~kg.records.Extraction` records out."""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterable, Iterator, Sequence

from spacy.language import Language
from spacy.tokens import Doc

from ..records import Document, Extraction, Sentence
from .facts import FactReader
from .mentions import MentionFinder, to_mentions
from .nlp import DEFAULT_MODEL, load_pipeline
from .words import Words

log = logging.getLogger(__name__)

#: Knowledge-base names below this popularity prior stay out of the gazetteer (the NER and rules still find them).
GAZETTEER_MIN_PRIOR = 0.3


def extract_doc(doc: Doc, document: Document, kb=None) -> Extraction:
    """Read one parsed spaCy Doc into a plain Extraction record."""
    words = Words(doc)
    drafts = MentionFinder(doc, kb, words).run()
    mentions = to_mentions(drafts, words)
    reader = FactReader(doc, mentions, kb=kb, doc_date=document.date, words=words)
    reader.run()
    return Extraction(
        document=document,
        sentences=tuple(Sentence(*words.offsets(a, b)) for a, b in words.sentences),
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
        self.nlp = nlp or load_pipeline(model, kb.gazetteer(min_prior=GAZETTEER_MIN_PRIOR) if kb is not None else ())

    def parse(self, documents: Sequence[Document]) -> list[Doc]:
        """spaCy's analysis of some documents, as one batch (worker processes are kg's, see :mod:`kg.pipeline`)."""
        return list(self.nlp.pipe([d.text for d in documents], batch_size=max(1, len(documents))))

    def __call__(self, documents: Iterable[Document], *, batch_size: int = 32) -> Iterator[Extraction]:
        it = iter(documents)
        while chunk := list(itertools.islice(it, batch_size)):
            for doc, document in zip(self.parse(chunk), chunk):
                yield extract_doc(doc, document, self.kb)
