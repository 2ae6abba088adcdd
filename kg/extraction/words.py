"""A Doc's words read once: each rule then visits only the tokens it can start at.

Iterating a :class:`~spacy.tokens.Doc` creates a :class:`~spacy.tokens.Token` per word, and reading
``lemma_`` or ``pos_`` looks a string up each time; a dozen rules each walking every token made that
a third of extraction time. :class:`Words` reads the columns the rules test with one ``Doc.to_array``
call; a rule finds the tokens it can start at with one scan of a column (:meth:`Words.where`).

>>> import spacy
>>> words = Words(spacy.blank("en")("The city of Lviv and the cities"))
>>> words.lower[1], words.where("lower", {"the"}), words.span_text(2, 4), words.offsets(2, 4)
('city', [0, 5], 'of Lviv', (9, 16))
"""

from __future__ import annotations

from collections.abc import Collection
from itertools import pairwise

from spacy import attrs
from spacy.tokens import Doc


class Words:
    """The text, lowercase form, lowercase lemma, coarse part of speech, punctuation and space flags, character offset
    (``idx``) and sentence of every token of ``doc``; the document's text (``string``) and its sentences' token ranges."""

    __slots__ = ("idx", "lemma", "lower", "pos", "punct", "sentence", "sentences", "space", "string", "text")

    def __init__(self, doc: Doc):
        read = [attrs.ORTH, attrs.LOWER, attrs.LEMMA, attrs.POS, attrs.IS_PUNCT, attrs.IS_SPACE, attrs.IDX, attrs.SPACY,
                attrs.SENT_START]
        columns = doc.to_array(read).T.tolist() if len(doc) else [[] for _ in read]
        orth, lower, lemma, pos, self.punct, self.space, self.idx, spaces, starts = columns
        store = doc.vocab.strings
        strings = {h: store[h] for h in set().union(orth, lower, lemma, pos)}  # each distinct string looked up once
        self.text: list[str] = list(map(strings.__getitem__, orth))
        self.lower: list[str] = list(map(strings.__getitem__, lower))
        self.lemma: list[str] = [strings[h].lower() for h in lemma]
        self.pos: list[str] = list(map(strings.__getitem__, pos))
        self.string = "".join([w + " " if space else w for w, space in zip(self.text, spaces)])  # doc.text
        # sentences as Doc.sents makes them: one starts at the first token and wherever sent_start is 1
        bounds = [0, *(i for i in range(1, len(starts)) if starts[i] == 1), len(starts)] if len(doc) else []
        self.sentences: list[tuple[int, int]] = list(pairwise(bounds))
        self.sentence: list[int] = [k for k, (a, b) in enumerate(self.sentences) for _ in range(a, b)]  # each token's

    def offsets(self, start: int, end: int) -> tuple[int, int]:
        """The characters of tokens ``start`` to ``end`` (exclusive; ``end > start``), as ``doc[start:end]``'s
        ``start_char`` and ``end_char``."""
        return self.idx[start], self.idx[end - 1] + len(self.text[end - 1])

    def span_text(self, start: int, end: int) -> str:
        """The text of tokens ``start`` to ``end`` (exclusive), as ``doc[start:end].text``."""
        if end <= start:
            return ""
        a, b = self.offsets(start, end)
        return self.string[a:b]

    def where(self, column: str, values: Collection[str]) -> list[int]:
        """Positions of the tokens whose ``column`` ("text", "lower", "lemma" or "pos") is one of ``values``, in order."""
        return [i for i, value in enumerate(getattr(self, column)) if value in values]
