"""The model's rule components, with their answers remembered per word form.

A spaCy pipeline such as ``en_core_web_sm`` ends its tagging with two rule components: the ``attribute_ruler``
(part of speech and morphology from the fine-grained tag, plus exceptions) and the ``lemmatizer``. Neither learns
anything, yet together they took a fifth of the model's time on the benchmark corpus: the ruler runs a Matcher of
179 patterns over every token, and the lemmatizer recomputes every lemma in Python (it caches some, not those of
base forms, the most common, and it looks a candidate lemma up by scanning a list of words).

Their answers depend on a few attributes of one token: a lemma on the word, its part of speech and morphology; a
one-token rule of the ruler on the word, its tag and its dependency label. ``kg_attributes`` and ``kg_lemmas``
stand in for the two components and ask them once per distinct key, then reuse the answer; a ruler's rules of
more than one token run as a Matcher where their first token fits. The annotations are the model's own, token for
token (``tests/pipeline/test_rules.py`` compares them on real news). A pipeline whose components do not fit
this (a lemmatizer in another mode, a ruler matching other attributes) keeps its own.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy
from spacy.attrs import DEP, HEAD, LEMMA, MORPH, ORTH, POS, TAG
from spacy.language import Language
from spacy.matcher import Matcher
from spacy.tokens import Doc
from spacy.tokens._retokenize import set_token_attrs

#: Answers remembered per component; past this the memory is emptied and refilled.
CACHE_SIZE = 1 << 16
#: Token attributes a one-token ruler rule may test, all functions of the key (word, tag, dependency label). Not
#: NORM: a tokenizer exception gives a token a norm of its own ("na" in "gonna" is "to").
_KEYED = {"ORTH", "TEXT", "LOWER", "TAG", "DEP", "IS_SPACE", "IS_PUNCT", "IS_ALPHA", "IS_DIGIT", "IS_TITLE",
          "IS_UPPER", "IS_LOWER", "LENGTH", "SHAPE", "PREFIX", "SUFFIX"}


def install(nlp: Language) -> list[str]:
    """Replace the pipeline's attribute ruler and lemmatizer by their remembering stand-ins, where they fit;
    the originals stay in the pipeline, disabled. Returns the names of the components replaced."""
    replaced = []
    for name, factory, fits in (("attribute_ruler", "kg_attributes", _ruler_fits),
                                ("lemmatizer", "kg_lemmas", _lemmatizer_fits)):
        if name in nlp.pipe_names and fits(nlp.get_pipe(name)):
            nlp.add_pipe(factory, name=factory, after=name, config={"source": name})
            nlp.disable_pipe(name)
            replaced.append(name)
    return replaced


def _lemmatizer_fits(component) -> bool:
    return getattr(component, "mode", None) == "rule" and not getattr(component, "overwrite", True) and hasattr(component, "lemmatize")


def _ruler_fits(component) -> bool:
    try:
        patterns = component.patterns
    except AttributeError:
        return False
    return all(
        len(pattern) > 1 or all(str(attr).upper() in _KEYED for token in pattern for attr in token)
        for entry in patterns for pattern in entry["patterns"]
    ) and not any("_" in entry["attrs"] for entry in patterns)


@Language.factory("kg_lemmas", default_config={"source": "lemmatizer"})
def make_lemmas(nlp: Language, name: str, source: str) -> RememberedLemmas:
    return RememberedLemmas(nlp.get_pipe(source))


@Language.factory("kg_attributes", default_config={"source": "attribute_ruler"})
def make_attributes(nlp: Language, name: str, source: str) -> RememberedAttributes:
    return RememberedAttributes(nlp.get_pipe(source))


class Memory:
    """Answers by context and word, bounded by :data:`CACHE_SIZE`: one dict of words per context (a tag, a part of
    speech...), so that an answer costs a word's number and a slot, not a tuple of three numbers.

    >>> m = Memory(); m.put((1, 2), 7, "seven"); m.get((1, 2), 7), m.get((1, 3), 7), len(m)
    ('seven', None, 1)
    """

    def __init__(self):
        self.contexts: dict[tuple[int, int], dict[int, object]] = {}
        self.size = 0

    def get(self, context: tuple[int, int], word: int):
        words = self.contexts.get(context)
        return None if words is None else words.get(word)

    def put(self, context: tuple[int, int], word: int, answer) -> None:
        if self.size >= CACHE_SIZE:
            self.clear()
        self.contexts.setdefault(context, {})[word] = answer
        self.size += 1

    def clear(self) -> None:
        self.contexts.clear()
        self.size = 0

    def __len__(self) -> int:
        return self.size


class _StandIn:
    """A component that prepares on its first document (a pipeline loaded from disk fills the stock component's
    patterns and tables after making its stand-in) and leaves empty documents alone."""

    ready = False

    def prepare(self) -> None:
        raise NotImplementedError

    def annotate(self, doc: Doc) -> None:
        raise NotImplementedError

    def __call__(self, doc: Doc) -> Doc:
        if len(doc):
            if not self.ready:
                self.prepare()
                self.ready = True
            self.annotate(doc)
        return doc


class WordList(list):
    """A list of words that answers ``in`` from a set; it is still the list wherever it is written out.

    >>> words = WordList(["war", "peace"]); "war" in words, "love" in words, words == ["war", "peace"]
    (True, False, True)
    """

    def __init__(self, words):
        super().__init__(words)
        self._set = frozenset(self)

    def __contains__(self, word) -> bool:
        return word in self._set


class RememberedLemmas(_StandIn):
    """The lemmatizer's lemma of each token without one, asked once per (word, part of speech, morphology)."""

    def __init__(self, lemmatizer):
        self.lemmatizer = lemmatizer
        self.strings = lemmatizer.vocab.strings
        self.cache = Memory()

    def prepare(self) -> None:
        # the lemmatizer tests a form against its word list by scanning it (57,000 nouns)
        lookups = self.lemmatizer.lookups
        index = lookups.get_table("lemma_index") if lookups is not None and lookups.has_table("lemma_index") else {}
        for pos, words in list(index.items()):
            if type(words) is list:
                index[pos] = WordList(words)

    def annotate(self, doc: Doc) -> None:
        rows = doc.to_array([ORTH, POS, MORPH, LEMMA])
        lemmas = rows[:, 3].copy()
        cache = self.cache
        for i in numpy.flatnonzero(lemmas == 0).tolist():
            orth, pos, morph, _ = rows[i].tolist()
            lemma = cache.get((pos, morph), orth)
            if lemma is None:
                if len(cache) >= CACHE_SIZE:
                    self.lemmatizer.cache.clear()  # the lemmatizer's own memory grows too
                lemma = self.strings.add(self.lemmatizer.lemmatize(doc[i])[0])
                cache.put((pos, morph), orth, lemma)
            lemmas[i] = lemma
        doc.from_array([LEMMA], lemmas.reshape(-1, 1))


class RememberedAttributes(_StandIn):
    """The attribute ruler's annotations: one-token rules matched once per (word, tag, dependency label), longer
    rules matched where their first token matches, all applied in the ruler's order by the ruler itself.

    A word's answer is a :class:`_Rules`, shared by every word the same rules match."""

    def __init__(self, ruler):
        self.ruler = ruler
        self.vocab = ruler.vocab
        self.cache = Memory()
        self.shared: dict[tuple, _Rules] = {}

    def prepare(self) -> None:
        ruler = self.ruler
        self.single = Matcher(self.vocab)  # the one-token rules
        self.longer = Matcher(self.vocab)  # the others
        self.starts = Matcher(self.vocab)  # the first tokens of the others, as one-token rules
        self.width = 0  # tokens of the longest rule, or 0 if a rule's length varies (then it runs on whole documents)
        fixed = True
        for i, entry in enumerate(ruler.patterns):  # entry i holds the attributes ruler.attrs[i]
            for pattern in entry["patterns"]:
                if len(pattern) == 1:
                    self.single.add(str(i), [pattern])
                else:
                    self.longer.add(str(i), [pattern])
                    self.starts.add("start", [pattern[:1]])
                    self.width = max(self.width, len(pattern))
                    fixed = fixed and not any("OP" in token for token in pattern)
        self.width = self.width if fixed else 0

    def annotate(self, doc: Doc) -> None:
        rows = doc.to_array([ORTH, TAG, DEP]).tolist()
        cache = self.cache
        answers = [cache.get((tag, dep), orth) for orth, tag, dep in rows]
        missing = [i for i, answer in enumerate(answers) if answer is None]
        if missing:
            keys = list(dict.fromkeys(tuple(rows[i]) for i in missing))
            found = dict(zip(keys, self._rules(keys)))
            for (orth, tag, dep), answer in found.items():
                cache.put((tag, dep), orth, answer)
            for i in missing:
                answers[i] = found[tuple(rows[i])]
        matches = self._longer(doc, answers)
        if matches:  # the tokens a longer rule sets take every rule in the ruler's order
            indices = self.ruler.indices
            touched = {doc[start:end][indices[rule]].i for rule, _, start, end in matches}
            matches += [(rule, match_id, i, i + 1) for i in touched for rule, match_id in answers[i].rules]
            matches.sort()  # a later rule has the last word
            self.ruler.set_annotations(doc, matches)
        else:
            touched = ()
        for i, answer in enumerate(answers):
            if answer.merged and i not in touched:
                set_token_attrs(doc[i], answer.merged)

    def _longer(self, doc: Doc, answers: list[_Rules]) -> list[tuple[int, int, int, int]]:
        """The matches of the rules of more than one token, as the ruler sorts them."""
        if not len(self.longer):
            return []
        if self.width:
            width = self.width
            found = [(m, i + a, i + b) for i, answer in enumerate(answers) if answer.starts
                     for m, a, b in self.longer(doc[i : i + width], allow_missing=True) if a == 0]
        else:
            found = self.longer(doc, allow_missing=True)
        strings = self.vocab.strings
        return [(int(strings[m]), m, start, end) for m, start, end in found]

    def _rules(self, keys: list[tuple[int, int, int]]) -> list[_Rules]:
        """The one-token rules matching each (word, tag, dependency label), what they set together, and whether a
        longer rule may start there, read off one document holding a token per key."""
        strings = self.vocab.strings
        probe = Doc(self.vocab, words=[strings[orth] for orth, _, _ in keys], spaces=[False] * len(keys))
        probe.from_array([TAG, DEP, HEAD], numpy.array([[tag, dep, 0] for _, tag, dep in keys], dtype="uint64"))
        found: list[list[tuple[int, int]]] = [[] for _ in keys]
        for match_id, start, _ in self.single(probe, allow_missing=True):
            found[start].append((int(strings[match_id]), match_id))
        starts = {start for _, start, _ in self.starts(probe, allow_missing=True)} if len(self.starts) else set()
        out = []
        for k, rules in enumerate(found):
            key = (tuple(sorted(rules)), k in starts)
            if key not in self.shared:
                merged: dict = {}
                for rule, _ in key[0]:
                    merged.update(self.ruler.attrs[rule])  # each attribute takes the last rule's value
                self.shared[key] = _Rules(key[0], merged or None, key[1])
            out.append(self.shared[key])
        return out


class _Rules(NamedTuple):
    """The one-token rules matching a word (``(rule, match id)``, in the ruler's order), what they set together,
    and whether a rule of more tokens may start at the word."""

    rules: tuple[tuple[int, int], ...]
    merged: dict | None
    starts: bool
