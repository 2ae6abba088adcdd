"""Finding the mentions of a spaCy Doc: NER, gazetteer and rules, cleaned and typed.

The statistical NER is the starting point; rules fix what it misses or
mistypes in news text: armed groups and units named by a head noun
("... Legion", "... Corps"), lowercase branch names after a country
("Ukraine's ground forces"), acronyms defined in the text, places made
explicit by their context ("the city of X", "the X region"), and names the
NER finds only in a headline or a page footer, which are dropped.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from spacy.tokens import Doc, Token

from ..records import Mention
from . import lexicon as lx
from .nlp import GAZETTEER, RULER_PREFIX
from .words import Words

_NER_TYPES = {"PERSON": "Person", "ORG": "Organization", "GPE": "Settlement", "LOC": "Location", "FAC": "Location"}
_LOCATION_TYPES = {"Location", "Country", "AdministrativeArea", "Settlement"}
_ACRONYM = re.compile(r"^[A-Z][A-Z0-9&.\-]{1,9}$")
_APOS = ("'s", "’s", "'", "’")
#: Words of a title ("Deputy Prime Minister", "Lt. Gen.", "Mr"), and the parts of them the rules test.
_TITLE_WORDS = lx.TITLE_HEADS | lx.TITLE_MODIFIERS | lx.RANKS | lx.HONORIFICS
_HEADS_AND_RANKS = lx.TITLE_HEADS | lx.RANKS
_HEADS_RANKS_MODIFIERS = lx.TITLE_HEADS | lx.RANKS | lx.TITLE_MODIFIERS
_RANKS_AND_HONORIFICS = lx.RANKS | lx.HONORIFICS
#: Words between a comma and the title of an apposition: "X, the Ukrainian commander", "X, its spokesman".
_APPOSITION_LEAD = frozenset({"the", "a", "an", "its", "his", "her"}) | lx.TITLE_MODIFIERS


@dataclass(slots=True)
class Draft:
    """A mention being built: token span plus type evidence."""

    start: int  # token index
    end: int
    type: str
    source: str
    name: str | None = None
    qid: str | None = None
    weight: float = 1.0


_BYLINE = re.compile(
    r"^\s*[(\[]?\s*(?:by|reporting by|additional reporting by|writing by|editing by|compiled by|photo(?:graph)? by)\s",
    re.IGNORECASE,
)


def boilerplate(text: str) -> list[tuple[int, int]]:
    r"""Character ranges of page furniture in a text: bylines, credit lines, and the footer from "Check Also" on.

    >>> boilerplate("By Jane Roe\nKyiv was calm.\n(Reporting by Jane Roe; Editing by Tom Poe)")
    [(0, 12), (27, 70)]
    """
    ranges = []
    offset = 0
    for line in text.splitlines(keepends=True):
        stripped = line.strip().lower().rstrip(":")
        if stripped in lx.BOILERPLATE_LINES and offset > len(text) * 0.5:
            ranges.append((offset, len(text)))
            break
        if _BYLINE.match(line) and len(line.split()) <= 16:
            ranges.append((offset, offset + len(line)))
        offset += len(line)
    return ranges


def is_headline(sent: Sequence[str]) -> bool:
    """Whether a sentence (its tokens' text) is a title-case line without final punctuation: NER is unreliable there.

    >>> is_headline("Zelensky Meets Allies in Kyiv Amid Talks".split()), is_headline("Zelensky met allies in Kyiv .".split())
    (True, False)
    """
    words = [w for w in sent if w.isalpha() and len(w) > 3]  # what spaCy calls alphabetic (Token.is_alpha)
    if len(words) < 3 or sent[-1] in {".", "?", "!", "\u201d", '"'}:
        return False
    capitalized = sum(1 for w in words if w[0].isupper())
    return capitalized / len(words) >= 0.6


def skip_time_adjunct(doc: Doc, k: int) -> int:
    """Index after a time phrase starting at ``k`` ("over the weekend", "on Monday"), else ``k``.

    >>> import spacy
    >>> doc = spacy.blank("en")("X over the weekend and Y")
    >>> doc[2].ent_type_ = doc[3].ent_type_ = "DATE"
    >>> skip_time_adjunct(doc, 1)
    4
    """
    j = k
    while j < len(doc) and j - k < 2 and doc[j].pos_ in {"ADP", "DET", ""} and doc[j].ent_type_ not in {"DATE", "TIME"}:
        j += 1
    if j >= len(doc) or doc[j].ent_type_ not in {"DATE", "TIME"}:
        return k
    while j < len(doc) and doc[j].ent_type_ in {"DATE", "TIME"}:
        j += 1
    return j


def _counted(tok: Token) -> bool:
    """A cardinal number that counts what follows it ("20 HIMARS"), not a year nor a score ("Arsenal 1 Chelsea 2")."""
    if not tok.like_num or tok.ent_type_ == "DATE" or tok.lower_ in {"one", "1"} or tok.text.isdigit() and len(tok.text) == 4:
        return False
    doc = tok.doc
    if tok.i + 1 >= len(doc) or tok.dep_ != "nummod" or tok.head.i != tok.i + 1:
        return False
    before = doc[tok.i - 1] if tok.i > 0 else None
    after = doc[tok.i + 2] if tok.i + 2 < len(doc) else None
    if before is None or before.is_punct or before.pos_ in {"PROPN", "NUM"} or "\n" in before.whitespace_:
        return False  # a table or a results line
    return not (after is not None and after.like_num)


def _abbreviates(acronym: str, words: list[str]) -> bool:
    """Do ``words`` spell ``acronym``: same first letter, its letters in order?

    >>> _abbreviates("OSINT", ["open", "source", "intelligence"])
    True
    >>> _abbreviates("UAV", ["armed", "drone"])
    False
    """
    letters = "".join(words).lower()
    target = acronym.replace(".", "").lower()
    if not words or not target or words[0][:1].lower() != target[0]:
        return False
    pos = 0
    for ch in target:
        pos = letters.find(ch, pos) + 1
        if pos == 0:
            return False
    return True


def concept_acronyms(doc: Doc, words: Words | None = None) -> set[str]:
    """Acronyms the text spells out in lowercase words: a kind of thing, not a name.

    "open-source intelligence (OSINT)", "UAV [unmanned aerial vehicle]".

    >>> import spacy
    >>> sorted(concept_acronyms(spacy.blank("en")("Some open-source intelligence (OSINT) accounts and the UAV [unmanned aerial vehicle] debris.")))
    ['OSINT', 'UAV']
    """
    out = set()
    for i, text in enumerate((words or Words(doc)).text):
        if not text.isupper() or not _ACRONYM.match(text):
            continue
        tok = doc[i]
        # "(X)" after lowercase words
        if 0 < i and i + 1 < len(doc) and doc[i - 1].text in {"(", "["} and doc[i + 1].text in {")", "]"}:
            spelled: list[str] = []
            k = i - 2
            while k >= 0 and len(spelled) < 6 and (doc[k].is_lower and doc[k].is_alpha or doc[k].text == "-"):
                if doc[k].is_alpha:
                    spelled.insert(0, doc[k].text)
                k -= 1
            if len(spelled) >= 2 and _abbreviates(tok.text, spelled[-len(tok.text):] if len(spelled) > len(tok.text) else spelled):
                out.add(tok.text)
        # "X (lowercase words)" or "X [lowercase words]"
        if i + 3 < len(doc) and doc[i + 1].text in {"(", "["}:
            k = i + 2
            spelled = []
            while k < len(doc) and k - i < 9 and (doc[k].is_lower and doc[k].is_alpha or doc[k].text == "-"):
                if doc[k].is_alpha:
                    spelled.append(doc[k].text)
                k += 1
            if k < len(doc) and doc[k].text in {")", "]"} and len(spelled) >= 2 and _abbreviates(tok.text, spelled):
                out.add(tok.text)
    return out


def _trim(words: Words, start: int, end: int) -> tuple[int, int]:
    """Drop determiners, possessive endings and punctuation at a span's edges.

    Words before an article inside the span go too when none is a name: "Later the X Army".
    """
    lower = words.lower
    for k in range(start + 1, min(end - 1, start + 4)):
        if lower[k] in {"the", "a", "an"}:
            if not any(words.pos[j] in {"PROPN", "NUM"} or words.text[j] in _APOS for j in range(start, k)):
                start = k
            break
    while start < end and (lower[start] in {"the", "a", "an"} or words.punct[start] or words.space[start]):
        start += 1
    while end > start and (words.text[end - 1] in _APOS or words.punct[end - 1] or words.space[end - 1]
                           or lower[end - 1] in {"and", "or", "of", "the", "for", "in"}):
        end -= 1
    return start, end


class MentionFinder:
    """Turns one parsed Doc into cleaned, typed mention drafts."""

    def __init__(self, doc: Doc, kb=None, words: Words | None = None):
        self.doc = doc
        self.kb = kb
        self.words = words if words is not None else Words(doc)
        self.furniture = boilerplate(self.words.string)
        self.headlines = [(a, b) for a, b in self.words.sentences if is_headline(self.words.text[a:b])]  # token ranges
        self.drafts: list[Draft] = []
        self.kb_tokens: dict[int, str] = {}
        self.concepts = concept_acronyms(doc, self.words)

    # -- sources -------------------------------------------------------------------------

    def from_entities(self) -> None:
        doc, words = self.doc, self.words
        for span in doc.spans.get(GAZETTEER, []):
            type_ = span.label_[len(RULER_PREFIX):]
            if type_ == "Position":
                continue  # offices are read by the title rules, which also find their holder
            first = span.start
            if len(span) == 1 and (words.lower[first] in lx.COMMON_PLACE_WORDS or words.pos[first] not in {"PROPN"}
                                   and doc[first].is_sent_start is False and words.pos[first] in {"ADJ", "ADV", "VERB", "NOUN"}):
                continue  # "West", "Split": a place name that is an ordinary word here
            self._add(span.start, span.end, type_, "kb", qid=span.id_ or None, weight=3.0)
            for i in range(span.start, span.end):
                self.kb_tokens[i] = type_
        for ent in doc.ents:
            label = ent.label_
            if label in _NER_TYPES:
                for start, end, type_ in self._split_titles(ent.start, ent.end, _NER_TYPES[label]):
                    self._add(start, end, type_, "ner", weight=1.0)
            elif label == "NORP" and ent.end < len(doc) and words.lower[ent.end] in lx.AREA_NOUNS \
                    and words.lower[ent.end - 1] not in lx.NOT_AREA_MODIFIERS:
                self._add(ent.start, ent.end, "Location", "ner", weight=1.0)  # "the Belgorod region"

    def _split_titles(self, start: int, end: int, type_: str) -> list[tuple[int, int, str]]:
        """An NER span that swallowed a title: "Kremlin Spokesman Dmitry Peskov" -> Kremlin, Dmitry Peskov."""
        words = self.words
        # "Abuja, Nigeria": a place and the place it is in
        for k in range(start + 1, end - 1):
            if words.text[k] == "," and type_ in _LOCATION_TYPES:
                return [(start, k, type_), *self._split_titles(k + 1, end, type_)]
        # "Italy's Eni": the owner and the owned are two mentions
        for k in range(start + 1, end - 1):
            if words.text[k] in _APOS:
                return [(start, k, "Location"), *self._split_titles(k + 1, end, "Organization" if type_ != "Person" else type_)]
        if end - start == 1 and words.lower[start] in lx.CHANNELS and type_ == "Person":
            return [(start, end, "Organization")]
        # "the Prime Minister of Peru Gustavo Adrianzen": a country the model ran into the name
        k = start
        while k < end and self.kb_tokens.get(k) == "Country":
            k += 1
        if type_ == "Person" and start < k and end - k >= 2:
            return [(start, k, "Country"), (k, end, "Person")]
        heads = [i for i in range(start, end) if words.lower[i] in _HEADS_AND_RANKS or words.lower[i] == "staff"]
        if not heads or type_ not in {"Person", "Organization"}:
            return [(start, end, type_)]
        out = []
        last = heads[-1]
        if last + 1 < end:  # a name after the title: the person
            out.append((last + 1, end, "Person"))
        first = heads[0]
        while first > start and words.lower[first - 1] in _TITLE_WORDS:
            first -= 1
        if first > start and type_ == "Organization" or first > start and last + 1 == end:
            out.append((start, first, "Organization" if type_ == "Organization" or last + 1 == end else type_))
        return out

    def from_head_nouns(self) -> None:
        """Capitalized names ending in a unit or organization head noun."""
        doc, words = self.doc, self.words
        i = 0
        while i < len(doc):
            low = words.lower[i]
            if words.text[i][:1].isupper() and (low in lx.MILITARY_HEADS or low in lx.ORG_HEADS or low in lx.PLACE_HEADS) and i > 0:
                tok = doc[i]
                start = i
                j = i - 1
                while j >= 0 and (self._name_part(doc[j]) or doc[j].lower_ == "the" and j > 1 and doc[j - 1].lower_ == "of"
                                  and doc[j - 2].text[:1].isupper() and doc[j + 1].text[:1].isupper()):
                    start = j  # "Army Aviation of the Land Forces"
                    j -= 1
                k = start  # "Chief of the General Staff": an office of the body, not part of its name
                while k < i and (doc[k].lower_ in _HEADS_AND_RANKS or doc[k].lower_ in {"of", "the"}) \
                        and any(doc[x].lower_ == "of" for x in range(k, i)):
                    k += 1
                if k > start and doc[k - 1].lower_ in {"of", "the"}:
                    start = k
                # "National Guard of Russia", "Ministry of Defence": take a capitalized of-complement
                end = i + 1
                if end + 1 < len(doc) and doc[end].lower_ == "of":
                    k = end + 1
                    if k + 1 < len(doc) and doc[k].lower_ == "the" and doc[k + 1].text[:1].isupper():
                        k += 1  # "the General Staff of the Ukrainian Armed Forces"
                    if doc[k].text[:1].isupper():
                        while k < len(doc) and (doc[k].text[:1].isupper() or doc[k].lower_ == "of" and k + 1 < len(doc)
                                                and doc[k + 1].text[:1].isupper()) and not doc[k].is_sent_start:
                            k += 1
                        end = k
                start, end = _trim(words, start, end)
                if end - start >= 2 or (end - start == 1 and low in lx.MILITARY_HEADS and tok.tag_ == "NNPS"):
                    type_ = ("MilitaryUnit" if low in lx.MILITARY_HEADS else "Location" if low in lx.PLACE_HEADS
                             else "Organization")
                    self._add(start, end, type_, "rule", weight=2.0)
                i = max(i + 1, end)
                continue
            i += 1

    def _name_part(self, tok: Token) -> bool:
        """Can ``tok`` be part of a capitalized name that ends in a head noun?"""
        if tok.is_alpha and tok.text[:1].isupper() or re.match(r"^\d+(st|nd|rd|th)$", tok.text):
            return not (tok.is_sent_start and tok.pos_ not in {"PROPN", "ADJ", "NUM"})
        if tok.lower_ == "of" and tok.i > 0:
            before = tok.nbor(-1)
            return before.is_alpha and before.text[:1].isupper() and not before.is_sent_start
        return False

    def from_phrases(self) -> None:
        """Lowercase branch and body names tied to a country: "Ukraine's ground forces"."""
        doc = self.doc
        lowers = self.words.lower
        starts: dict[str, list[int]] = {}  # where each word occurs, so a phrase is tried only where it can start
        for i, word in enumerate(lowers):
            starts.setdefault(word, []).append(i)
        for phrases, type_ in ((lx.MILITARY_PHRASES, "MilitaryUnit"), (lx.BODY_PHRASES, "Organization")):
            for phrase in phrases:
                n = len(phrase)
                for i in starts.get(phrase[0], ()):
                    if tuple(lowers[i : i + n]) != phrase or doc[i].text[:1].isupper() and i > 0 and not doc[i].is_sent_start:
                        continue
                    owner = self._owner(i, n)
                    if owner is None:
                        continue
                    name = doc[owner : i + n].text.replace("\u2019", "'") if owner < i else None
                    self._add(i, i + n, type_, "phrase", name=name, weight=2.0)

    def _owner(self, i: int, n: int) -> int | None:
        """Start of what ties a branch phrase at token i to a country, or None.

        "Ukraine's ground forces" and "Ukrainian ground forces" start at the
        country; "the airborne forces" (two words or more) starts at the phrase.
        """
        doc = self.doc
        j = i - 1
        if j >= 1 and doc[j].text in _APOS and self._is_place_token(doc[j - 1]):
            k = j - 1
            while k > 0 and doc[k].ent_iob_ == "I":
                k -= 1
            return k
        if j >= 0 and self.kb is not None and doc[j].text[:1].isupper() and self.kb.demonym(doc[j].text):
            return j
        if j >= 0 and doc[j].lower_ == "the" and n >= 2:
            return i
        return None

    def _is_place_token(self, tok: Token) -> bool:
        return tok.ent_type_ in {"GPE", "LOC"} or tok.i in self.kb_tokens

    def from_cues(self) -> None:
        """Names the NER misses where the words around them say what they are.

        "Russia's Gazprom" (a country's named thing: an organization),
        "according to Insider" (a source), "/TASS/" (an agency's dateline).
        """
        doc, words = self.doc, self.words
        for i in sorted({*words.where("text", {*_APOS, "/"}), *words.where("lower", {"to"})}):
            tok = doc[i]
            start = None
            if tok.text in _APOS and i > 0 and self.kb_tokens.get(i - 1) == "Country":
                start = i + 1
            elif tok.lower_ == "to" and i > 0 and doc[i - 1].lower_ == "according":
                start = i + 1
                if start < len(doc) and doc[start].lower_ == "the" and start + 1 < len(doc) and doc[start + 1].text[:1].isupper():
                    start += 1
            elif tok.text == "/" and i + 2 < len(doc) and doc[i + 2].text == "/" and _ACRONYM.match(doc[i + 1].text):
                self._add(i + 1, i + 2, "Organization", "rule", weight=1.5)
                continue
            if start is None or start < len(doc) and self.kb is not None and self.kb.demonym(doc[start].text):
                continue  # "Ukraine's Russian-occupied plant": a demonym, not a name
            end = start
            while end < len(doc) and end - start < 5 and doc[end].text[:1].isupper() and doc[end].pos_ in {"PROPN", "NOUN"} \
                    and doc[end].lower_ not in lx.TITLE_HEADS | lx.TITLE_MODIFIERS:
                end += 1
            if end > start and not any(t in self.kb_tokens for t in range(start, end)):
                self._add(start, end, "Organization", "rule", weight=0.9)

    def from_acronyms(self) -> None:
        """ "Russian Volunteer Corps (RVC)": the acronym becomes another name of the entity."""
        doc = self.doc
        defined: dict[str, Draft] = {}
        for d in list(self.drafts):
            e = d.end
            if e + 2 < len(doc) and doc[e].text == "(" and doc[e + 2].text == ")" and _ACRONYM.match(doc[e + 1].text):
                acronym = doc[e + 1].text
                words = [t.text for t in doc[d.start : d.end] if t.text[:1].isupper() and t.lower_ not in {"of", "the"}]
                initials = "".join(w[0] for w in words).upper()
                if initials.startswith(acronym[0]) and (initials == acronym.replace(".", "") or len(acronym) <= len(words) + 1):
                    defined[acronym] = d
        if not defined:
            return
        for i in self.words.where("text", defined):
            tok = doc[i]
            d = defined.get(tok.text)
            if d is not None:
                name = doc[d.start : d.end].text
                self._add(tok.i, tok.i + 1, d.type, "acronym", name=name, weight=2.0)

    def from_title_appositions(self, heads: frozenset[str]) -> None:
        """ "Valeriy Zaluzhniy, commander-in-chief of ..." : a name in apposition to a title is a person."""
        words = self.words
        text, lower, pos, n = words.text, words.lower, words.pos, len(words.text)
        for i in words.where("text", {","}):
            if i < 2 or i + 1 >= n:
                continue
            k = i + 1
            while k < n and (lower[k] in _APPOSITION_LEAD or pos[k] == "PROPN" and k + 1 < n and text[k + 1] in _APOS
                             or text[k] in _APOS and k > i + 1):
                k += 1  # "X, Ukraine's top commander"
            if k >= n or lower[k].split("-")[0] not in heads and lower[k] not in heads:
                continue
            # walk back over a capitalized name before the comma
            end = i
            start = end
            while start > 0 and pos[start - 1] == "PROPN" and text[start - 1][:1].isupper():
                start -= 1
            while start < end and lower[start] in _RANKS_AND_HONORIFICS:
                start += 1
            if 2 <= end - start <= 4:
                self._add(start, end, "Person", "title", weight=2.5)

    def from_title_prefix(self, heads: frozenset[str]) -> None:
        """ "President Ilona Vardanyan", "General Jan Novak": capitalized names right after a title or rank."""
        doc = self.doc
        skip = lx.RANKS | lx.HONORIFICS | lx.TITLE_MODIFIERS | heads | lx.ORG_HEADS  # words between a title and the name
        for i, low in enumerate(self.words.lower):
            if low not in heads and low not in lx.RANKS and ("-" not in low or low.split("-")[-1] not in heads):
                continue
            tok = doc[i]
            start = tok.i + 1
            while start < len(doc) and (doc[start].lower_ in skip or doc[start].text == "-"):
                start += 1
            if start > tok.i + 1 and doc[start - 1].lower_ not in skip and doc[start - 1].lower_ != "-":
                continue
            end = start
            while end < len(doc) and end - start < 5 and not doc[end].is_sent_start and (
                doc[end].pos_ == "PROPN" and doc[end].is_alpha and doc[end].text[:1].isupper()
                or doc[end].text == "-" and not doc[end].whitespace_ and end > start and end + 1 < len(doc) and doc[end + 1].text[:1].isupper()
            ):
                end += 1
            if end - start >= 2 and not any(self.kb_tokens.get(k) == "Country" for k in range(start, end)):
                self._add(start, end, "Person", "title", weight=1.5)

    # -- assembly ------------------------------------------------------------------------

    def _add(self, start: int, end: int, type_: str, source: str, *, name=None, qid=None, weight=1.0) -> None:
        start, end = _trim(self.words, start, end)
        if end <= start:
            return
        self.drafts.append(Draft(start, end, type_, source, name=name, qid=qid, weight=weight))

    def _keep(self, d: Draft) -> bool:
        doc, words = self.doc, self.words
        n = len(words.text)
        text = words.span_text(d.start, d.end)
        begin = words.idx[d.start]
        if any(a <= begin < b for a, b in self.furniture):
            return False
        if not any(c.isalpha() for c in text):
            return False
        if d.source not in {"phrase"} and not any(w[:1].isupper() for w in words.text[d.start : d.end]):
            return False
        if words.lower[d.end - 1] in lx.NON_ENTITY_HEADS:
            return False
        if d.source == "ner" and "\n" in text:
            return False
        if d.source == "ner" and any(a <= d.start < b for a, b in self.headlines) and any(
            t.pos_ in {"VERB", "ADV", "ADP", "AUX", "PRON", "DET", "SCONJ"} or t.is_stop for t in doc[d.start : d.end]
        ):
            # title case makes the model read ordinary words as names: "... to Compete Strategically"
            return False
        if d.source in {"ner"} and self.kb is not None and (d.type != "Person" or d.end - d.start == 1) and self.kb.demonym(text):
            return False
        if d.type == "Person" and d.source == "ner" and (any(c.isdigit() for c in text) or doc[d.end - 1].tag_ == "NNPS"):
            return False
        if d.source == "ner" and text in self.concepts:  # "20 HIMARS", "open-source intelligence (OSINT)"
            return False
        if d.end - d.start == 1 and d.source in {"ner", "kb"} and 0 < d.start and d.end + 1 < n and words.text[d.start - 1] == "(" \
                and words.text[d.end] == ")" and words.pos[d.end + 1] == "PROPN" and words.text[d.end + 1][:1].isupper():
            return False  # "President (Vladimir) Putin": a first name, not a place
        if d.source == "ner" and d.end < n and words.text[d.end] == "-" and not doc[d.end - 1].whitespace_ and not doc[d.end].whitespace_:
            return False  # part of a compound name: "IRIS-T", "F-16"
        if d.end < n and words.lower[d.end] in lx.MEDIA_WORKS:
            return False  # "the BBC's Newshour programme"
        if d.source == "ner" and d.end - d.start == 1 and words.lower[d.start] in lx.COMMON_PLACE_WORDS:
            return False
        if d.end - d.start == 1 and d.source == "ner" and words.lower[d.start] in _HEADS_RANKS_MODIFIERS:
            return False
        # a name that modifies a date or an observance: "Marine Corps Day"
        if d.end < n and words.lower[d.end] in lx.NON_ENTITY_HEADS and words.text[d.end][:1].isupper():
            return False
        return True

    def resolve_overlaps(self) -> list[Draft]:
        """Keep one draft per token region: longer and stronger evidence wins."""
        kept: list[Draft] = []
        # a longer name wins over a shorter one inside it ("Freedom of Russia Legion" over "Russia"),
        # stronger evidence breaks ties
        order = sorted((d for d in self.drafts if self._keep(d)), key=lambda d: (-(d.end - d.start), -d.weight, d.start))
        taken: set[int] = set()
        for d in order:
            toks = set(range(d.start, d.end))
            if toks & taken:
                continue
            taken |= toks
            kept.append(d)
        kept.sort(key=lambda d: d.start)
        return kept

    def nested(self, kept: list[Draft]) -> list[Draft]:
        """Names inside a name's "of" complement: "the General Staff of [the Ukrainian Armed Forces]".

        The inner name is a mention of its own (its tokens stay with the outer
        name for every other rule), so the two entities and their relation
        can both be read.
        """
        doc = self.doc
        out = []
        heads = lx.MILITARY_HEADS | lx.ORG_HEADS
        for d in kept:
            if d.type not in {"Organization", "MilitaryUnit"} or d.end - d.start < 3:
                continue
            skipped = False
            for k in range(d.start + 1, d.end - 1):
                if doc[k].lower_ != "of":
                    continue
                # "Freedom of Russia Legion": the head comes after, the complement is not a name
                # (but "Army Aviation of the Land Forces" names the forces)
                if doc[k - 1].lower_ not in heads and not skipped and doc[k + 1].lower_ != "the":
                    break
                start = k + 2 if doc[k + 1].lower_ == "the" else k + 1
                if start >= d.end:
                    break
                inner_of = next((j for j in range(start + 1, d.end - 1) if doc[j].lower_ == "of"), None)
                if inner_of is not None and doc[inner_of - 1].lower_ not in heads:
                    skipped = True
                    continue  # "Ministry of Defence of the Russian Federation": the name is after the next "of"
                head = doc[d.end - 1].lower_
                country = self.kb_tokens.get(start) == "Country" and all(self.kb_tokens.get(t) for t in range(start, d.end))
                if country:
                    out.append(Draft(start, d.end, "Country", "kb", weight=3.0))
                elif d.end - start >= 2 and (head in lx.MILITARY_HEADS or head in lx.ORG_HEADS):
                    out.append(Draft(start, d.end, "MilitaryUnit" if head in lx.MILITARY_HEADS else "Organization", "rule", weight=2.0))
                break
        return out

    def extend_with_head(self, d: Draft, places_only: bool = False) -> None:
        """ "the Wagner mercenary group", "the Zaporizhzhia nuclear power plant": a name and its lowercase head.

        A name the model read as a person extends only to a place head ("the Zaporizhzhia plant").
        """
        doc = self.doc
        k = d.end
        while k < len(doc) and k - d.end < 4 and doc[k].is_lower and doc[k].pos_ in {"NOUN", "ADJ", "PROPN"}:
            low = doc[k].lower_
            if places_only and low not in lx.PLACE_HEADS:
                k += 1
                continue
            if low in lx.MILITARY_HEADS or low == "group" and k > d.end and doc[k - 1].lower_ in {"army", "mercenary", "militia"}:
                d.end, d.type, d.weight = k + 1, "MilitaryUnit", max(d.weight, 2.0)
                return
            if low in {"group"}:
                d.end, d.type, d.weight = k + 1, "Organization", max(d.weight, 2.0)
                return
            if low in lx.PLACE_HEADS:
                d.end, d.type, d.weight = k + 1, "Location", max(d.weight, 2.5)
                return
            k += 1

    def context_type(self, d: Draft) -> tuple[str, float] | None:
        """Type evidence from the words around a mention."""
        doc, words = self.doc, self.words
        lower, lemma, pos = words.lower, words.lemma, words.pos
        prev = d.start - 1 if d.start > 0 else None  # the tokens before and after the mention, and its last one
        nxt = d.end if d.end < len(doc) else None
        last = d.end - 1
        if d.end - d.start >= 2 and words.text[last][:1].isupper() and lower[last] in lx.AREA_NOUNS and d.type != "Country" \
                and lower[d.end - 2] not in lx.NOT_AREA_MODIFIERS:
            return "AdministrativeArea", 3.0  # "Gezira State", "North Waziristan District" (not "Islamic State")
        cls = self._class_noun_before(d.start, allow_list=d.type != "Person")
        if cls is None and d.type != "Country":
            cls = self._copular_class(d)
        if cls is not None:
            return cls
        # "the regional capital Zaporizhzhia", "the town Bakhmut"
        if prev is not None and lemma[prev] in lx.SETTLEMENT_NOUNS and pos[prev] == "NOUN" and d.type != "Country":
            return "Settlement", 4.0
        # "Avdiivka, the previously contested town"
        k = d.end
        if k + 1 < len(doc) and words.text[k] == "," and lower[k + 1] == "the" and d.type != "Country":
            for t in range(k + 2, min(k + 7, len(doc))):
                if lemma[t] in lx.SETTLEMENT_NOUNS and pos[t] == "NOUN":
                    return "Settlement", 4.0
                if pos[t] not in {"ADV", "ADJ", "VERB"}:
                    break
        if nxt is not None and lower[nxt] == "and" and d.type != "Country":
            k = d.end + 1
            while k < len(doc) and pos[k] == "PROPN":
                k += 1
            if k < len(doc) and k > d.end + 1 and lemma[k] in lx.AREA_NOUNS and doc[k].tag_ == "NNS":
                return "AdministrativeArea", 4.0
        if nxt is not None and lemma[nxt] in lx.AREA_NOUNS and doc[nxt].tag_ == "NNS" and d.type != "Country" and d.start > 0 and lower[d.start - 1] == "and":
            return "AdministrativeArea", 4.0
        if nxt is not None and lower[nxt] in lx.AREA_NOUNS and (d.type in _LOCATION_TYPES | {"Organization"} or d.source == "ner"):
            if d.type != "Country":
                d.end += 1
            return "AdministrativeArea", 2.0
        if nxt is not None and lower[nxt] in {"city", "town", "village"} and d.type != "Country":
            return "Settlement", 5.0  # "Kherson city"
        if prev is not None and lower[prev] in {"near", "outside", "around", "toward", "towards"} and d.type == "Person" \
                and d.source == "ner" and doc[last].dep_ == "pobj" and not (nxt is not None and words.text[nxt] in _APOS):
            return "Settlement", 1.5  # "the situation near Chasiv Yar"
        if prev is not None and lower[prev] in lx.LOCATIVE_PREPS and d.type == "Organization" and d.source == "ner":
            # "fighting in X" (not "in X's force", "in X grants", "near X University")
            if lower[prev] in {"in", "near", "around", "outside", "into"} and doc[last].dep_ == "pobj" \
                    and lower[last] not in lx.ORG_HEADS | lx.MILITARY_HEADS and not (nxt is not None and words.text[nxt] in _APOS):
                return "Settlement", 1.5
        return None

    def _copular_class(self, d: Draft) -> tuple[str, float] | None:
        """ "Kherson and Luhansk are regions ...", "Bakhmut is a town ...": the class a copula gives its subject (or subjects)."""
        tok = self.doc[d.start : d.end].root
        while tok.dep_ == "conj" and tok.head is not tok:  # one of a list of subjects
            tok = tok.head
        if tok.dep_ != "nsubj" or tok.head.lemma_ != "be":
            return None
        for attr in tok.head.children:
            if attr.dep_ == "attr" and attr.pos_ == "NOUN":
                if attr.lemma_ in lx.AREA_NOUNS:
                    return "AdministrativeArea", 4.0
                if attr.lemma_ in lx.SETTLEMENT_NOUNS:
                    return "Settlement", 4.0
        return None

    def _class_noun_before(self, i: int, allow_list: bool = True) -> tuple[str, float] | None:
        """ "the city of X", "the villages of X, Y and Z", "the mayor of X": the class the text gives X."""
        words = self.words
        k = i - 1
        # walk back over a list: "X, Y and" before this mention
        while allow_list and k >= 1 and (words.text[k] == "," or words.lower[k] == "and"):
            k -= 1
            while k >= 0 and (words.pos[k] == "PROPN" or words.text[k] == "-"):
                k -= 1
        if k < 1 or words.lower[k] != "of":
            return None
        lemma = words.lemma[k - 1]
        if lemma in lx.SETTLEMENT_NOUNS or lemma in {"mayor"}:
            return "Settlement", 5.0
        if lemma in lx.AREA_NOUNS or lemma in {"governor"}:
            return "AdministrativeArea", 5.0
        return None

    def run(self, title_heads: frozenset[str] = lx.TITLE_HEADS) -> list[Draft]:
        self.from_entities()
        self.from_head_nouns()
        self.from_phrases()
        self.from_title_appositions(title_heads)
        self.from_title_prefix(title_heads)
        self.from_cues()
        self.from_acronyms()
        doc = self.doc
        # things counted are not named actors: "20 HIMARS", "90 Shaheds" (and so neither is "a HIMARS strike")
        self.concepts |= {doc[d.start : d.end].text for d in self.drafts if d.source == "ner" and d.type in {"Organization", "Person"}
                          and d.start > 0 and _counted(doc[d.start - 1])}
        self.concepts |= {doc[i].text for i in self.words.where("pos", {"PROPN"})
                          if i > 0 and _counted(doc[i - 1]) and doc[i].dep_ != "compound"}
        kept = self.resolve_overlaps()
        taken = {t for d in kept for t in range(d.start, d.end)}
        for d in kept:
            if d.source in {"ner", "kb"} and (d.end >= len(self.doc) or d.end not in taken):
                before = d.end
                self.extend_with_head(d, places_only=d.type == "Person")
                if d.end != before:
                    d.source, d.qid = "rule", None
        kept += self.nested(kept)
        for d in kept:
            ctx = self.context_type(d)
            if ctx is not None and d.type == "Country":
                pass
            elif ctx is not None and (ctx[1] > d.weight or d.source == "ner"):
                changed = d.type != ctx[0]
                d.type, d.weight = ctx[0], max(d.weight, ctx[1])
                if d.source == "ner" or d.source == "kb" and ctx[1] >= 4.0:  # the text names the class: "Kherson city"
                    d.source = "context"
                    if changed:
                        d.qid = None
            elif d.source in {"ner"} and d.type in {"Organization", "Person"}:
                head = self.doc[d.end - 1].lower_
                if head in lx.MILITARY_HEADS and d.type == "Organization":
                    d.type = "MilitaryUnit"
                elif head in lx.MILITARY_HEADS | lx.ORG_HEADS and d.type == "Person":
                    d.type = "MilitaryUnit" if head in lx.MILITARY_HEADS else "Organization"
        self.agree_with_list(kept)
        return kept

    def _listed_with(self, d: Draft, at: dict[int, Draft]) -> list[Draft]:
        """The drafts listed with ``d``: "X, Y and Z", and conjuncts the parser links to it."""
        doc = self.doc
        out = []
        k = skip_time_adjunct(doc, d.end)  # forward: ", Y", " and Y", ", and Y", "X on Monday and Y"
        while k < len(doc) and doc[k].text in {",", "and", "or"} and k - d.end < 2:
            k += 1
        if k > d.end and doc[k - 1].text in {",", "and", "or"} and k in at and at[k] is not d:
            out.append(at[k])
        k = d.start - 1  # backward
        while k >= 0 and doc[k].text in {",", "and", "or"} and d.start - k <= 2:
            k -= 1
        if k < d.start - 1 and doc[k].ent_type_ in {"DATE", "TIME"}:  # "X over the weekend and Y"
            j = k
            while j >= 0 and doc[j].ent_type_ in {"DATE", "TIME"}:
                j -= 1
            while j >= 0 and k - j < 6 and doc[j].pos_ in {"ADP", "DET"}:
                j -= 1
            if j >= 0 and skip_time_adjunct(doc, j + 1) == k + 1:
                k = j
        if k < d.start - 1 and k in at and at[k] is not d:
            out.append(at[k])
        for c in doc[d.start : d.end].root.conjuncts:
            if c.i in at and at[c.i] is not d and at[c.i] not in out:
                out.append(at[c.i])
        return out

    def agree_with_list(self, kept: list[Draft]) -> None:
        """Names listed with known places are places: "between Kostiantynivka and Pokrovsk".

        The model often reads a little-known town as an organization; a list
        puts like with like, so a name the NER alone typed takes the type of a
        place it is listed with (one the knowledge base or the context types).
        Countries do not count: "Ukraine, Russia and NATO" lists actors.
        """
        at = {t: d for d in kept for t in range(d.start, d.end)}
        places = {id(d) for d in kept if d.type in {"Settlement", "AdministrativeArea"} and d.source in {"kb", "context"}}
        for d in kept:
            if d.source != "ner" or d.type not in {"Organization", "Person"}:
                continue
            if d.type == "Person" and d.end - d.start > 1 or self.doc[d.end - 1].lower_ in lx.MILITARY_HEADS | lx.ORG_HEADS:
                continue
            types = [n.type for n in self._listed_with(d, at) if id(n) in places]
            if types:
                d.type, d.source, d.weight = max(sorted(set(types)), key=types.count), "context", max(d.weight, 2.0)


def to_mentions(drafts: list[Draft], words: Words) -> list[Mention]:
    out = []
    for d in drafts:
        start, end = words.offsets(d.start, d.end)
        text = words.string[start:end]
        out.append(
            Mention(
                start=start,
                end=end,
                text=text,
                type=d.type,
                sentence=words.sentence[d.start],
                name=d.name or text,
                source=d.source,
                confidence=min(0.99, 0.55 + 0.12 * d.weight),
                qid=d.qid,
            )
        )
    return out
