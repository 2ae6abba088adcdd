"""A Doc's words read once: each rule then visits only the tokens it can start at.

Iterating a :class:`~spacy.tokens.Doc` creates a :class:`~spacy.tokens.Token` per word, and reading
``lemma_`` or ``pos_`` looks a string up each time; a dozen rules each walking every token made that
a third of extraction time. :class:`Words` reads the columns the rules test with one ``Doc.to_array``
call and keeps, per column, where each value occurs.

>>> import spacy
>>> words = Words(spacy.blank("en")("The city of Lviv and the cities"))
>>> words.lower[1], words.where("lower", {"the"})
('city', [0, 5])
"""

from __future__ import annotations

from collections.abc import Collection

from spacy.attrs import LEMMA, LOWER, ORTH, POS
from spacy.tokens import Doc


class Words:
    """The text, lowercase form, lowercase lemma and coarse part of speech of every token of ``doc``."""

    __slots__ = ("_index", "lemma", "lower", "pos", "text")

    def __init__(self, doc: Doc):
        strings = doc.vocab.strings
        seen: dict[int, str] = {}

        def column(hashes: list[int]) -> list[str]:
            out = []
            for h in hashes:
                s = seen.get(h)
                if s is None:
                    s = seen[h] = strings[h]
                out.append(s)
            return out

        if len(doc):
            orth, lower, lemma, pos = (list(map(int, c)) for c in doc.to_array([ORTH, LOWER, LEMMA, POS]).T)
        else:
            orth = lower = lemma = pos = []
        self.text: list[str] = column(orth)
        self.lower: list[str] = column(lower)
        self.lemma: list[str] = [s.lower() for s in column(lemma)]
        self.pos: list[str] = column(pos)
        self._index: dict[str, dict[str, list[int]]] = {}

    def where(self, column: str, values: Collection[str]) -> list[int]:
        """Positions of the tokens whose ``column`` ("text", "lower", "lemma" or "pos") is one of ``values``, in order."""
        index = self._index.get(column)
        if index is None:
            index = self._index[column] = {}
            for i, value in enumerate(getattr(self, column)):
                index.setdefault(value, []).append(i)
        if len(values) < len(index):
            found = [i for v in values for i in index.get(v, ())]
        else:
            found = [i for v, at in index.items() if v in values for i in at]
        return sorted(found)
