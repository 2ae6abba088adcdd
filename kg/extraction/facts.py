"""Relations, events and claims read from a parsed Doc whose mentions are known.

Rules are general patterns over tokens and the dependency parse:

* titles and offices: "Ukrainian President X", "NATO Secretary-General X",
  "X, commander of Y", "the governor of Y, X" give positionHeld, the office's
  jurisdiction, and the holder's employer or military branch;
* citizenship where it is stated: "X, a Russian citizen", "Russian national X";
* containment: "Russia's Belgorod region", "the Ukrainian city of X",
  "X in the Y region", "X, Y";
* events: a trigger word (incursion, visit, conversation, ...) with the
  subjects of its clause as participants, the places in its clause, and a date;
* claims: a reporting verb (say, claim, deny, reject, ...) with its subject as
  claimant, its complement as content, and the channel it names.
"""

from __future__ import annotations

from dataclasses import replace

from spacy.tokens import Doc, Span, Token

from ..records import Claim, Event, Mention, Relation
from . import lexicon as lx
from .dates import normalize_date
from .mentions import skip_time_adjunct
from .words import Words

_LOC = {"Location", "Country", "AdministrativeArea", "Settlement"}
_ORGS = {"Organization", "MilitaryUnit"}
_APOS = {"'s", "’s", "'", "’"}
_HEADS_AND_MODIFIERS = lx.TITLE_HEADS | lx.TITLE_MODIFIERS
_RANKS_AND_HONORIFICS = lx.RANKS | lx.HONORIFICS
_DIRECTIONS = frozenset(
    "eastern western northern southern central southeastern northeastern southwestern northwestern east west north south"
    .split()
)
#: Relations the rules read from descriptive syntax: asserted even inside reported speech.
_DESCRIPTIVE = frozenset(
    "positionHeld jurisdiction citizenship employer militaryBranch country locatedIn partOf headquarters capitalOf leader"
    .split()
)
#: Nouns that, after "the", refer back to the last entity of these classes.
_DESCRIPTION_CLASSES = {
    "group": {"MilitaryUnit", "Organization"},
    "militia": {"MilitaryUnit"},
    "unit": {"MilitaryUnit"},
    "ministry": {"Organization"},
    "alliance": {"Organization"},
    "agency": {"Organization"},
    "company": {"Organization"},
    "city": {"Settlement"},
    "town": {"Settlement"},
    "village": {"Settlement"},
    "region": {"AdministrativeArea"},
    "oblast": {"AdministrativeArea"},
    "province": {"AdministrativeArea"},
}
_GROUP_NOUNS = frozenset(
    "delegation side officer soldier troop force fighter unit member representative official government".split()
)
_PRONOUNS = {"he": "Person", "she": "Person", "him": "Person", "her": "Person", "it": "Org", "they": "Org", "its": "Org",
             "their": "Org"}


class FactReader:
    """Reads facts from one Doc; ``mentions`` may grow (demonyms, positions)."""

    def __init__(self, doc: Doc, mentions: list[Mention], kb=None, doc_date=None, words: Words | None = None):
        self.doc = doc
        self.words = words if words is not None else Words(doc)
        self.mentions = mentions
        self.kb = kb
        self.doc_date = doc_date
        self.relations: list[Relation] = []
        self.events: list[Event] = []
        self.claims: list[Claim] = []
        self.tok2m: dict[int, int] = {}
        self._spans: dict[tuple[int, int], range] = {}  # a mention's characters -> its tokens
        self._reindex()
        self.title_of: dict[int, int] = {}  # title head token -> person mention
        self.title_tokens: set[int] = set()
        self._dates: dict[int, Span] | None = None  # the date entities by first token, read on first use

    # -- helpers ------------------------------------------------------------------------

    def _reindex(self) -> None:
        self.tok2m.clear()
        for idx, m in enumerate(self.mentions):
            if m.source in {"demonym", "title"} and m.type in {"Country", "Position"}:
                continue
            for i in self._tokens(idx):
                self.tok2m.setdefault(i, idx)

    def _tokens(self, idx: int) -> range:
        m = self.mentions[idx]
        found = self._spans.get((m.start, m.end))
        if found is None:
            span = self.doc.char_span(m.start, m.end, alignment_mode="expand")
            found = self._spans[(m.start, m.end)] = range(span.start, span.end)
        return found

    def _sent(self, tok: Token) -> int:
        return self.words.sentence[tok.i]

    def _add_mention(self, start_tok: int, end_tok: int, type_: str, name: str, source: str, conf: float) -> int:
        start, end = self.words.offsets(start_tok, end_tok)
        for idx, m in enumerate(self.mentions):
            if m.start == start and m.end == end and m.type == type_ and m.name == name:
                return idx
        self.mentions.append(
            Mention(start, end, self.words.string[start:end], type_, self.words.sentence[start_tok], name, source, conf)
        )
        return len(self.mentions) - 1

    def _canonical(self, idx: int) -> str:
        """The name an office is named after: the knowledge base's label ("President of United States of America", never "of U.S.")."""
        m = self.mentions[idx]
        if m.qid and self.kb is not None:
            record = self.kb.get(m.qid)
            if record is not None:
                return record.label
        return m.name

    def _demonym(self, tok: Token) -> int | None:
        """A Country mention for a demonym or country-abbreviation token ("Ukrainian", "U.S.")."""
        if self.kb is None or not tok.text[:1].isupper():
            return None
        cand = self.kb.demonym(tok.text)
        if cand is None:
            return None
        return self._add_mention(tok.i, tok.i + 1, "Country", cand.label, "demonym", 0.8)

    def _entity_at(self, i: int) -> int | None:
        idx = self.tok2m.get(i)
        if idx is not None:
            return idx
        return self._demonym(self.doc[i])

    def _rel(self, s: int, prop: str, o: int, conf: float, tok: Token) -> None:
        if s == o:
            return
        r = Relation(s, prop, o, round(conf, 3), self._sent(tok))
        if r not in self.relations:
            self.relations.append(r)

    def _person_at(self, tok: Token) -> int | None:
        """The person a token denotes: a Person mention, a title standing for one, or a pronoun."""
        idx = self.tok2m.get(tok.i)
        if idx is not None and self.mentions[idx].type in {"Person"} | _ORGS | _LOC:
            return idx
        if tok.i in self.title_of:
            return self.title_of[tok.i]
        if tok.lower_ in _PRONOUNS:
            return self._antecedent(tok)
        if tok.pos_ == "NOUN":
            return self._owner_of(tok)
        return None

    def _owner_of(self, noun: Token) -> int | None:
        """Whose a group noun is: "Russia's delegation", "the Ukrainian side", "officers of the 36th Army"."""
        for c in noun.children:
            if c.dep_ == "poss":
                idx = self.tok2m.get(c.i)
                if idx is None and c.lower_ in _PRONOUNS:
                    idx = self._antecedent(c)
                if idx is not None and self.mentions[idx].type in _ORGS | {"Country", "Person"}:
                    return idx
        for c in noun.children:
            if c.dep_ in {"amod", "compound"}:
                idx = self.tok2m.get(c.i)
                if idx is not None and self.mentions[idx].type in _ORGS | {"Country"}:
                    return idx
                d = self._demonym(c)
                if d is not None:
                    return d
        if noun.lemma_ in _GROUP_NOUNS:
            for c in noun.children:
                if c.dep_ == "prep" and c.lower_ == "of":
                    for o in c.children:
                        idx = self.tok2m.get(o.i)
                        if o.dep_ == "pobj" and idx is not None and self.mentions[idx].type in _ORGS | {"Country"}:
                            return idx
        return None

    def _antecedent(self, tok: Token) -> int | None:
        """The mention a pronoun most likely refers to: a subject of this or the previous sentence, nearest first."""
        want = _PRONOUNS[tok.lower_]
        s = self._sent(tok)
        best, best_key = None, None
        for idx, m in enumerate(self.mentions):
            if m.start >= tok.idx or m.sentence < s - 1 or m.source == "demonym" or m.type == "Position":
                continue
            if want == "Person":
                ok = m.type == "Person"
            elif tok.lower_ in {"they", "their"}:
                ok = m.type in _ORGS
            else:
                ok = m.type in _ORGS | {"Country"}
            if not ok:
                continue
            span = self.doc.char_span(m.start, m.end, alignment_mode="expand")
            subject = span is not None and span.root.dep_ in {"nsubj", "nsubjpass"}
            key = (subject, m.start)
            if best_key is None or key > best_key:
                best, best_key = idx, key
        return best

    # -- titles -------------------------------------------------------------------------

    def _is_head(self, a: int, text: str) -> bool:
        low = text.lower()
        if not (low in lx.TITLE_HEADS or "-" in low and low.split("-")[0] in lx.TITLE_HEADS):
            return False
        return not (a in self.tok2m and self.mentions[self.tok2m[a]].type != "Position")

    def _title_phrase(self, lo: int, hi: int) -> tuple[int, int, int] | None:
        """(start, end, head) of a title phrase within [lo, hi).

        The head is the last title word of the first run of title words
        ("Deputy Defense Minister", "special adviser" in "special adviser to
        President X"); the phrase starts at the article or modifiers before it.
        """
        units = self._units(lo, hi)
        first = next((k for k, (a, _, text) in enumerate(units) if self._is_head(a, text)), None)
        if first is None:
            return None
        head = units[first][0]
        for a, _, text in units[first + 1 :]:
            low = text.lower()
            if self._is_head(a, text):
                head = a
            elif low not in lx.TITLE_MODIFIERS:
                break
        start = units[first][0]
        k = start - 1
        while k >= lo and (self._title_word(self.doc[k]) or self.doc[k].lower_ in {"the", "a", "an"}
                           or self.doc[k].is_lower and self.doc[k].dep_ in {"compound", "amod"} and self.doc[k].head.i > k):
            start = k  # "the EU's foreign policy chief"
            k -= 1
        return start, hi, head

    def coordinated_titles(self) -> set[int]:
        """ "the presidents of Turkey and Azerbaijan, X and Y": each office to its holder, in order."""
        doc = self.doc
        done: set[int] = set()
        for a in [i for i, m in enumerate(self.mentions) if m.type == "Person"]:
            ta = self._tokens(a)
            b = self.tok2m.get(ta.stop + 1) if ta.stop + 1 < len(doc) and doc[ta.stop].lower_ == "and" else None
            if b is None or self.mentions[b].type != "Person" or ta.start < 5 or doc[ta.start - 1].text != ",":
                continue
            y = self.tok2m.get(ta.start - 2)
            if y is None:
                continue
            ty = self._tokens(y)
            x = self.tok2m.get(ty.start - 2) if doc[ty.start - 1].lower_ == "and" else None
            if x is None or {self.mentions[x].type, self.mentions[y].type} - ({"Country"} | _ORGS):
                continue
            k = self._tokens(x).start - 1
            if doc[k].lower_ == "the":
                k -= 1
            head = doc[k - 1] if doc[k].lower_ == "of" else None
            if head is None or head.tag_ != "NNS" or head.lemma_.lower() not in lx.TITLE_HEADS:
                continue
            title = head.lemma_.lower().capitalize()
            for person, juris in ((a, x), (b, y)):
                self._hold(person, head.i, head.i + 1, f"{title} of {self._canonical(juris)}", juris, 0.85, head)
            self.title_tokens.update(range(head.i, ta.start))
            done |= {a, b}
        return done

    def titles(self) -> None:
        doc = self.doc
        done = self.coordinated_titles()
        for idx in [i for i, m in enumerate(self.mentions) if m.type == "Person" and i not in done]:
            toks = self._tokens(idx)
            ps, pe = toks.start, toks.stop
            # pre-nominal: "Ukrainian President X", "NATO Secretary-General X", "President X"
            if ps >= 3 and doc[ps - 1].text == ")" and doc[ps - 3].text == "(" and doc[ps - 2].text[:1].isupper():
                ps -= 3  # "President (Vladimir) Putin"
            j = self._skip_ranks(ps - 1)
            te = j + 1
            k = j
            while k >= 0:
                if self._title_word(doc[k]):
                    k -= 1
                    continue
                m = k  # "Chief of the General Staff X": an office named by its body
                while m >= 0 and k - m < 2 and doc[m].lower_ in {"of", "the"}:
                    m -= 1
                if m < k and doc[m + 1].lower_ == "of" and m >= 0 and self._is_head(m, doc[m].text):
                    k = m
                    continue
                break
            if te - (k + 1) >= 1:
                # "Governor X of the Kharkiv region": the jurisdiction after the name
                of = pe + 1 if pe < len(doc) and doc[pe].lower_ == "of" else None
                if of is not None and of < len(doc) and doc[of].lower_ == "the":
                    of += 1
                after = self.tok2m.get(of) if of is not None else None
                if after is not None and self.mentions[after].type in _LOC | _ORGS and self._tokens(after).start == of:
                    self._title_after_name(idx, k + 1, te, after, conf=0.85)
                else:
                    self._title(idx, k + 1, te, conf=0.9)
            # post-nominal apposition: "X, commander of Y,"
            if pe + 1 < len(doc) and doc[pe].text in {",", "-", "–", "—"}:
                end = pe + 1
                while end < len(doc) and not self._separator(doc[end]) and doc[end].pos_ not in {"VERB", "AUX"} and end - pe < 14:
                    end += 1
                if end - pe >= 2 and (end >= len(doc) or self._separator(doc[end]) or doc[end].pos_ in {"VERB", "AUX"}):
                    self._title(idx, pe + 1, end, conf=0.85)
            # pre-posed apposition: "the governor of the Belgorod region, X"
            j = self._skip_ranks(ps - 1)
            if j >= 1 and doc[j].text == ",":
                start = j
                while start > 0 and doc[start - 1].text not in {",", ";", ":", "(", "\u201c", '"'} and not (
                    doc[start - 1].pos_ in {"VERB", "AUX"} and doc[start - 1].dep_ != "amod"
                ) and not doc[start].is_sent_start and j - start < 14:
                    start -= 1
                while start < j and doc[start].pos_ == "ADP" and doc[start].lower_ not in {"of"}:
                    start += 1
                if any(self.mentions[self.tok2m[t]].type == "Person" for t in range(start, j) if t in self.tok2m):
                    continue
                self._title(idx, start, j, conf=0.85)

    def _title_after_name(self, person: int, lo: int, hi: int, juris: int, conf: float) -> None:
        """ "Governor Oleh Syniehubov of the Kharkiv region": a bare title before the name, its jurisdiction after."""
        doc = self.doc
        words = [t.text for t in doc[lo:hi] if t.lower_ not in {"the", "a", "an"}]
        if not words or not any(self._is_head(t.i, t.text) for t in doc[lo:hi]):
            return
        title = " ".join(words)
        title = title[0].upper() + title[1:]
        head = next(t for t in reversed(doc[lo:hi]) if self._is_head(t.i, t.text))
        self.title_of[head.i] = person
        self.title_tokens.update(range(lo, hi))
        self._hold(person, lo, hi, f"{title} of {self._canonical(juris)}", juris, conf, head)

    @staticmethod
    def _separator(tok: Token) -> bool:
        """Punctuation that closes an apposition: a comma, a bracket, or a dash set off by spaces."""
        if tok.text in {",", ";", ".", "(", ")"}:
            return True
        return tok.text in {"-", "–", "—"} and (bool(tok.whitespace_) or tok.i > 0 and bool(tok.nbor(-1).whitespace_))

    def _skip_ranks(self, j: int) -> int:
        """Index of the last token before a run of ranks/honorifics ending at j ("General" in "Gen. X")."""
        doc = self.doc
        while j >= 0 and doc[j].lower_ in _RANKS_AND_HONORIFICS:
            if j > 0 and doc[j - 1].text == "-" and not doc[j - 1].whitespace_:
                break  # "Secretary-General": part of a title, not a rank
            j -= 1
        return j

    def _units(self, lo: int, hi: int) -> list[tuple[int, int, str]]:
        """Words of [lo, hi) with hyphenated compounds joined: (start, end, text)."""
        doc, words = self.doc, self.words
        out: list[tuple[int, int, str]] = []
        i = lo
        while i < hi:
            j = i + 1
            while j + 1 < hi and words.text[j] == "-" and not doc[j - 1].whitespace_ and not doc[j].whitespace_:
                j += 2
            out.append((i, j, words.span_text(i, j)))
            i = j
        return out

    def _title_word(self, tok: Token) -> bool:
        low = tok.lower_
        if tok.i in self.tok2m:
            return self.mentions[self.tok2m[tok.i]].type != "Person"
        if low in lx.TITLE_HEADS or low in lx.TITLE_MODIFIERS or tok.text in _APOS:
            return True
        if tok.text == "-" and not tok.whitespace_ and tok.i > 0 and not tok.nbor(-1).whitespace_:
            return True
        if low in {"in", "of"} and tok.i > 0 and tok.nbor(-1).text == "-":
            return True
        return bool(self.kb is not None and tok.text[:1].isupper() and self.kb.demonym(tok.text))

    def _title(self, person: int, lo: int, hi: int, conf: float) -> None:
        doc = self.doc
        found = self._title_phrase(lo, hi)
        if found is None:
            return
        lo, hi, head = found
        pre, post = [], []
        # "their commander X": the owner a possessive pronoun stands for
        owner = next((t for t in doc[max(0, lo - 1) : head] if t.lower_ in {"its", "their"} and t.dep_ == "poss"), None)
        if owner is not None:
            antecedent = self._antecedent(owner)
            if antecedent is not None and self.mentions[antecedent].type in _ORGS:
                pre.append(antecedent)
        while lo < hi and doc[lo].lower_ in {"the", "a", "an", "his", "her", "its", "their"}:
            lo += 1
        # entities inside the phrase: after the head (jurisdiction) and before it (owner, nationality)
        i = lo
        while i < hi:
            idx = self._entity_at(i)
            if idx is not None and self.mentions[idx].type != "Person":
                (pre if i < head else post).append(idx)
                i = max(i + 1, self._tokens(idx).stop if self.mentions[idx].source != "demonym" else i + 1)
                continue
            i += 1
        # the office's own words: the phrase without entities, articles and possessives
        ent_toks = {t for idx in pre + post for t in self._tokens(idx)}
        words: list[str] = []
        prep = None
        tail_start = None
        for a, b, text in self._units(lo, hi):
            tok = doc[a]
            if a in ent_toks or text in _APOS or tok.lower_ in {"the", "a", "an"}:
                continue
            if a > head and prep is None and tok.lower_ in {"of", "in", "for", "to", "at", "with"}:
                prep = tok.lower_
                tail_start = b
                continue
            if a > head and (prep is not None or text.lower() not in _HEADS_AND_MODIFIERS):
                break
            words.append(text)
        title = " ".join(words).strip()
        if not title or not any(w.lower() in lx.TITLE_HEADS or w.lower().split("-")[0] in lx.TITLE_HEADS for w in words):
            return
        # "commander of Ukraine's ground forces": the possessor is not the jurisdiction
        post = [i for i in post if not (self._tokens(i).stop < len(doc) and doc[self._tokens(i).stop].text in _APOS
                                        and any(j != i for j in post))]
        if prep is not None:
            post = [i for i in post if self._tokens(i).start >= (tail_start or hi)]
        juris = post[0] if post else (pre[-1] if pre else None)
        title = title[0].upper() + title[1:]
        tok = doc[head]
        self.title_of[head] = person
        self.title_tokens.update(range(lo, hi))
        if tok.lower_ in lx.JOB_HEADS:
            # a job, not an office: "Cyril Payen, senior reporter for FRANCE 24"
            if juris is not None and self.mentions[juris].type in _ORGS:
                self._rel(person, "employer", juris, conf - 0.1, tok)
            return
        if juris is not None and juris in pre and prep is not None and tail_start is not None and tail_start < hi \
                and not any(t in ent_toks for t in range(tail_start, hi)):
            label = f"{title} {prep} {doc[tail_start:hi].text} of {self._canonical(juris)}"  # "Secretary of State of ..."
        elif juris is not None:
            label = f"{title} {prep or 'of'} {self._canonical(juris)}"
        elif prep is not None and tail_start is not None and tail_start < hi:
            label = f"{title} {prep} {doc[tail_start:hi].text}"  # "special adviser to President X"
        elif len(words) == 1 and tok.lower_ in lx.GENERIC_HEADS:
            return  # a bare "commander": no office to name
        else:
            label = title
        self._hold(person, lo, hi, label, juris, conf, tok)
        if juris is not None and self.mentions[juris].type in _ORGS and tok.lower_ in lx.LEADER_HEADS \
                and not any(w.lower() in {"deputy", "vice", "assistant"} for w in words) \
                and all(w.lower() in lx.TITLE_MODIFIERS or self._is_head(-1, w) for w in words):  # not "foreign policy chief"
            self._rel(juris, "leader", person, conf - 0.1, tok)

    def _hold(self, person: int, lo: int, hi: int, label: str, juris: int | None, conf: float, tok: Token) -> None:
        """The office named ``label`` (tokens lo:hi) held by ``person``, its jurisdiction, and what they imply.

        The jurisdiction makes the holder an employee of an organization or a member of a military branch.
        A country the title names is the office's, not a statement of the holder's citizenship ("Russian-installed
        governor X"); citizenship is read where the text states it (see ``citizenship``).
        """
        pos = self._add_mention(lo, hi, "Position", label, "title", conf)
        self._rel(person, "positionHeld", pos, conf, tok)
        if juris is not None:
            self._rel(pos, "jurisdiction", juris, conf - 0.05, tok)
            jt = self.mentions[juris].type
            if jt == "Organization":
                self._rel(person, "employer", juris, conf - 0.1, tok)
            elif jt == "MilitaryUnit":
                self._rel(person, "militaryBranch", juris, conf - 0.1, tok)

    # -- containment --------------------------------------------------------------------

    def containment(self) -> None:
        doc = self.doc
        text, lower, pos = self.words.text, self.words.lower, self.words.pos
        for idx, m in list(enumerate(self.mentions)):
            if m.source in {"demonym", "title"}:
                continue
            toks = self._tokens(idx)
            s, e = toks.start, toks.stop
            # possessive: "Russia's Belgorod region", "Italy's Eni"
            if e + 1 < len(doc) and text[e] in _APOS and m.type in {"Country", "AdministrativeArea"}:
                k = e + 1
                while k < len(doc) and k - e <= 5 and k not in self.tok2m and (
                    pos[k] in {"ADJ", "VERB", "ADV"} or text[k] == "-" or lower[k] in _DIRECTIONS
                    or self.kb is not None and self.kb.demonym(text[k]) is not None
                ):
                    k += 1  # "Ukraine's Russian-occupied Zaporizhzhia plant"
                inner = self.tok2m.get(k)
                if inner is not None and inner != idx and self.mentions[inner].type not in {"Person", "Country", "Position"}:
                    self._contain(inner, idx, 0.85, doc[e])
            # "the U.S. Army's 101st Airborne Division": a unit of the owner's
            if m.type in _ORGS and e + 1 < len(doc) and text[e] in _APOS:
                inner = self.tok2m.get(e + 1)
                if inner is not None and inner != idx and self.mentions[inner].type == "MilitaryUnit":
                    self._rel(inner, "partOf", idx, 0.75, doc[e])
            # "the United States-based Institute for the Study of War"
            if m.type in {"Country", "AdministrativeArea", "Settlement"} and e + 2 < len(doc) and text[e] == "-" and lower[e + 1] == "based":
                org = self.tok2m.get(e + 2)
                if org is not None and self.mentions[org].type in _ORGS:
                    self._contain(org, idx, 0.8, doc[e + 1])
            # demonym first word of a unit or body: "Russian Defense Ministry", "Ukrainian Air Force"
            if m.type in _ORGS and s < len(doc):
                c = self._demonym(doc[s]) if text[s] != m.text else None
                if c is not None:
                    self._rel(idx, "country", c, 0.75, doc[s])
            if m.type in _ORGS and s > 0 and m.source == "phrase":
                c = self._demonym(doc[s - 1])
                if c is not None:
                    self._rel(idx, "country", c, 0.75, doc[s - 1])
            # "X in (the) (eastern) Y (region)"
            if m.type == "Settlement" and e + 1 < len(doc) and lower[e] == "in":
                k = e + 1
                while k < len(doc) and (lower[k] in {"the"} | _DIRECTIONS):
                    k += 1
                outer = self.tok2m.get(k)
                if outer is not None and self.mentions[outer].type in {"Country", "AdministrativeArea"}:
                    self._contain(idx, outer, 0.7, doc[e])
            # "the 47th Brigade, part of Ukraine's ground forces", "X, which is part of the Y"
            k = e
            words = []
            while k < len(doc) and k - e < 7 and lower[k] in {",", "which", "is", "was", "a", "itself", "now", "part", "of", "the"}:
                words.append(lower[k])
                k += 1
            if "part" in words and words[-2:] in (["part", "of"], ["of", "the"]) and words[0] == "," and m.type in _ORGS | _LOC:
                outer = self.tok2m.get(k)
                if outer is not None and self.mentions[outer].type == "Country" and self._tokens(outer).stop + 1 < len(doc) \
                        and text[self._tokens(outer).stop] in _APOS:
                    outer = self.tok2m.get(self._tokens(outer).stop + 1, outer)  # "part of Ukraine's ground forces"
                if outer is not None and outer != idx:
                    ot = self.mentions[outer].type
                    if m.type in _ORGS and ot in _ORGS:
                        self._rel(idx, "partOf", outer, 0.8, doc[k - 1])
                    elif m.type in _LOC:
                        self._contain(idx, outer, 0.75, doc[k - 1])
            # "X, Y" dateline style: "Kramatorsk, Ukraine"
            if m.type == "Settlement" and e + 1 < len(doc) and text[e] == ",":
                outer = self.tok2m.get(e + 1)
                if outer is not None and self.mentions[outer].type == "Country" and self._tokens(outer).stop < len(doc) and text[self._tokens(outer).stop] in {",", ".", ";", "\n"}:
                    self._contain(idx, outer, 0.6, doc[e])
        self._collective_places()
        self._regional_capitals()

    def _regional_capitals(self) -> None:
        """ "Kherson city, the regional capital", "the regional capital Zaporizhzhia": in the region of its name."""
        doc = self.doc
        regions = {self.mentions[i].name.split()[0].lower(): i for i in range(len(self.mentions))  # "the X region"
                   if self.mentions[i].type == "AdministrativeArea" and len(self.mentions[i].name.split()) > 1}
        for idx, m in enumerate(self.mentions):
            if m.type != "Settlement" or m.name.split()[0].lower() not in regions:
                continue
            toks = self._tokens(idx)
            before = doc[max(0, toks.start - 2) : toks.start].text.lower()
            after = doc[toks.stop : toks.stop + 5].text.lower().removeprefix("city").strip()
            if before.endswith("regional capital") or after.startswith((", the regional capital", ", a regional capital")):
                region = regions[m.name.split()[0].lower()]
                self._contain(idx, region, 0.75, doc[toks.start])

    _LIST_CUES = frozenset({"including", "like", "with", "namely", "-", "–", "—", ":"})

    def _place_list(self, k: int, limit: int = 30) -> list[int]:
        """Place mentions listed from token k on: "X, Y and Z", "X on Monday and Y"."""
        doc = self.doc
        out: list[int] = []
        start = k
        while k < len(doc) and k - start < limit:
            idx = self.tok2m.get(k)
            if idx is None or self.mentions[idx].type not in _LOC - {"Country"} and self.mentions[idx].source != "ner":
                break  # (a name the model alone typed: the list says what it is; resolution checks)
            out.append(idx)
            k = skip_time_adjunct(doc, self._tokens(idx).stop)
            if k < len(doc) and doc[k].text in {",", "and", "or"}:
                k += 1
                if k < len(doc) and doc[k].text in {"and", "or"}:
                    k += 1
                continue
            break
        return out

    def _collective_places(self) -> None:
        """Places named as members of a class noun that says where they are.

        "the Ukrainian villages of X and Y", "18 settlements in the Zaporizhzhia
        region, including X", "two cities in the Donetsk region - X and Y",
        "X is part of a belt of four Ukrainian cities".
        """
        doc = self.doc
        nouns = lx.SETTLEMENT_NOUNS | lx.AREA_NOUNS
        words = self.words
        for i in words.where("pos", {"NOUN"}):
            low = words.lower[i].rstrip("s") if words.lower[i].endswith("s") else words.lower[i]
            if low not in nouns and words.lemma[i] not in nouns:
                continue
            tok = doc[i]
            owner = None
            j = tok.i - 1  # "the (southern) Ukrainian city"
            while j >= 0 and doc[j].pos_ in {"ADJ", "PROPN", "ADV", "VERB", "NUM"} and doc[j].lower_ != "of":
                c = self._demonym(doc[j])
                if c is not None:
                    owner = c
                    break
                j -= 1
            after = tok.i + 1
            if owner is None:  # "settlements in the Zaporizhzhia region"
                k = tok.i + 1
                while k < len(doc) and k - tok.i <= 6 and doc[k].lower_ != "in" and not doc[k].is_punct:
                    k += 1
                if k < len(doc) and doc[k].lower_ == "in":
                    k += 1
                    while k < len(doc) and doc[k].lower_ in {"the"} | _DIRECTIONS:
                        k += 1
                    idx = self.tok2m.get(k)
                    if idx is not None and self.mentions[idx].type in {"Country", "AdministrativeArea"}:
                        owner, after = idx, self._tokens(idx).stop
            members: list[int] = []
            if after == tok.i + 1 and after < len(doc) and doc[after].lower_ == "of":
                members += self._place_list(after + 1)
            # a list the noun introduces: ", including X", " - X and Y", ": X"
            k = after
            while k < len(doc) and k - after < 4 and doc[k].text in {",", "the"}:
                k += 1
            cued = False
            while k < len(doc) and k - after < 4 and (doc[k].lower_ in self._LIST_CUES or doc[k].lower_ == "such" and k + 1 < len(doc) and doc[k + 1].lower_ == "as"):
                k += 2 if doc[k].lower_ == "such" else 1  # ", including", " – with", ": "
                cued = True
            if cued:
                members += self._place_list(k)
            # "X is (part) of ... cities": the subject of a copula whose complement holds the noun
            if tok.tag_ == "NNS":
                verb, t = None, tok  # "X is (the end) of (a belt) of ... cities": only of-phrases up to the copula
                while t.dep_ in {"pobj", "prep", "attr"} and (t.dep_ != "prep" or t.lower_ == "of") and t.head != t:
                    t = t.head
                    if t.lemma_ == "be":
                        verb = t
                        break
                if verb is not None:
                    for child in verb.children:
                        if child.dep_ == "nsubj":  # "X, Y and Z are the four regions"
                            for c in [child, *child.conjuncts]:
                                idx = self.tok2m.get(c.i)
                                if idx is not None and (self.mentions[idx].type in _LOC - {"Country"} or self.mentions[idx].source == "ner"):
                                    members.append(idx)
            kind = "AdministrativeArea" if low in lx.AREA_NOUNS or words.lemma[i] in lx.AREA_NOUNS else "Settlement"
            for idx in dict.fromkeys(members):
                if idx == owner:
                    continue
                m = self.mentions[idx]
                # the text says what each member is, which the model or the gazetteer could only guess
                if m.type != kind and (m.source == "ner" or m.source == "context" and m.type in _LOC - {"Country"}):
                    self.mentions[idx] = replace(m, type=kind, source="context")
                if owner is not None:
                    self._contain(idx, owner, 0.8 if self.mentions[owner].type == "Country" else 0.75, tok)

    def nesting(self) -> None:
        """A name inside another's "of" complement: the outer is part of (or in) the inner."""
        doc = self.doc
        for b, mb in enumerate(self.mentions):
            if mb.source in {"demonym", "title", "coref"}:
                continue
            for a, ma in enumerate(self.mentions):
                if a == b or not (ma.start < mb.start and mb.end == ma.end) or ma.type not in _ORGS:
                    continue
                between = doc.text[ma.start : mb.start].lower()
                if not between.rstrip().endswith((" of", " of the")):
                    continue
                tok = doc.char_span(mb.start, mb.end, alignment_mode="expand")[0]
                if mb.type in _ORGS:
                    self._rel(a, "partOf", b, 0.8, tok)
                else:
                    self._contain(a, b, 0.8, tok)

    def _contain(self, inner: int, outer: int, conf: float, tok: Token) -> None:
        it, ot = self.mentions[inner].type, self.mentions[outer].type
        if it == "Country" or inner == outer:
            return
        if ot == "Country":
            self._rel(inner, "country", outer, conf, tok)
        elif ot in {"AdministrativeArea", "Settlement", "Location"} and (it in _LOC | _ORGS or self.mentions[inner].source == "ner"):
            self._rel(inner, "locatedIn", outer, conf, tok)

    # -- events -------------------------------------------------------------------------

    def _clause_verb(self, tok: Token) -> Token | None:
        t = tok
        for _ in range(6):
            if t.pos_ in {"VERB", "AUX"}:
                return t
            if t.head == t:
                return None
            t = t.head
        return None

    def _subjects(self, verb: Token) -> list[int]:
        out = []
        for child in verb.children:
            if child.dep_ in {"nsubj", "nsubjpass", "agent"}:
                heads = [child] + [c for c in child.conjuncts]
                for h in heads:
                    if h.dep_ == "agent":
                        h = next((c for c in h.children if c.dep_ == "pobj"), h)
                    p = self._person_at(h)
                    if p is not None and self.mentions[p].type in {"Person"} | _ORGS | {"Country"}:
                        out.append(p)
        if not out and verb.dep_ in {"xcomp", "conj"} and verb.head != verb:
            if any(ch.dep_ in {"nsubj", "expl"} and ch.lower_ == "it" for ch in verb.head.children):
                return []
            return self._subjects(verb.head)
        return out

    def _date(self, root: Token) -> tuple[str | None, str | None]:
        """The first date named in root's own phrase: (ISO date or None, its text)."""
        if self._dates is None:
            self._dates = {e.start: e for e in self.doc.ents if e.label_ == "DATE"}  # by first token
        if self._dates:
            for t in sorted(self._phrase_tokens(root), key=lambda t: t.i):
                ent = self._dates.get(t.i)
                if ent is not None:
                    return normalize_date(ent.text, self.doc_date), ent.text
        return None, None

    _CLAUSES = frozenset({"advcl", "ccomp", "xcomp", "relcl", "acl", "conj", "parataxis", "csubj", "nsubj", "nsubjpass"})

    def _phrase_tokens(self, root: Token):
        """Tokens of root's own phrase: its subtree without embedded clauses and subjects."""
        stack = [root]
        while stack:
            t = stack.pop()
            yield t
            stack.extend(c for c in t.children if c.dep_ not in self._CLAUSES)

    def _places(self, root: Token, exclude: set[int]) -> list[int]:
        out = []
        for t in sorted(self._phrase_tokens(root), key=lambda t: t.i):
            if t.i in exclude or t.i in self.title_tokens:
                continue
            idx = self.tok2m.get(t.i)
            if idx is None or self.mentions[idx].type not in _LOC or idx in out:
                continue
            anc = [a for a in t.ancestors if a.dep_ == "prep"][:1]
            if anc and anc[0].lower_ in {"in", "into", "on", "at", "near", "around", "across", "inside", "outside", "of", "to"}:
                out.append(idx)
        return out

    def _negated(self, tok: Token) -> bool:
        return any(c.dep_ == "neg" or (c.dep_ == "det" and c.lower_ == "no") for c in tok.children)

    def events_(self) -> None:
        doc = self.doc
        kinds: list[str] = []  # per event: what a definite mention must match to refer back to it
        for i in self.words.where("lemma", lx.EVENT_TRIGGERS):
            tok = doc[i]
            lemma = self.words.lemma[i]
            cls = lx.EVENT_TRIGGERS[lemma]
            if tok.pos_ not in {"NOUN", "VERB"} or self._negated(tok):
                continue
            if lemma == "operation" and not any(c.lower_ in {"military", "offensive", "counteroffensive"} for c in tok.children):
                continue
            if cls == "Call" and tok.pos_ != "NOUN":
                continue
            if tok.pos_ == "VERB" and any(c.dep_ == "prt" for c in tok.children):
                continue  # "hit back", "called off"
            if tok.pos_ == "VERB" and cls in {"Meeting"} and lemma == "talk":
                continue
            participants: list[int] = []
            object_places: list[int] = []
            root = tok
            if tok.pos_ == "VERB":
                participants += self._subjects(tok)
                for c in tok.children:
                    if c.dep_ == "dobj":
                        p = self._person_at(c)
                        if p is not None and self.mentions[p].type not in _LOC:
                            participants.append(p)
                        elif p is not None and cls in {"Attack", "Visit", "Incursion", "Battle"}:
                            object_places.append(p)  # "Russia targeted Kyiv", "Tusk visited Kyiv"
            else:
                for c in tok.children:
                    if c.dep_ in {"poss", "amod", "compound"}:
                        p = self._person_at(c) if c.lower_ not in _PRONOUNS else self._antecedent(c)
                        if p is None:
                            p = self._demonym(c)
                        if p is not None and self.mentions[p].type not in {"Position"}:
                            participants.append(p)
                    if c.dep_ == "acl":  # "the rebellion led by X"
                        for a in c.children:
                            if a.dep_ == "agent":
                                for o in a.children:
                                    p = self._person_at(o)
                                    if p is not None and self.mentions[p].type not in _LOC | {"Position"}:
                                        participants.append(p)
                    if c.dep_ == "prep" and c.lower_ in {"with", "between", "by", "of"}:
                        for o in c.children:
                            for h in [o, *o.conjuncts]:
                                p = self._person_at(h)
                                if p is not None and self.mentions[p].type in {"Person"} | _ORGS | {"Country"}:
                                    participants.append(p)
                verb = self._clause_verb(tok)
                role = tok.head if tok.dep_ == "conj" and tok.head.pos_ == "NOUN" else tok  # "a missile and drone attack"
                if verb is not None and role.dep_ in {"dobj", "pobj"}:
                    participants += self._subjects(verb)
                    root = role
            places = object_places + [p for p in self._places(root, set()) if p not in participants]
            if not places and tok.pos_ == "NOUN":
                places = self._sentence_places(tok)
            date, date_text = self._date(self._clause_verb(tok) or tok)
            participants = list(dict.fromkeys(participants))
            kind = lx.EVENT_KINDS.get(lemma, lemma) if cls == "Event" else cls
            # "the strike", "Prigozhin's rebellion", "the group's mutiny": the event told before
            definite = any(c.dep_ == "det" and c.lower_ in {"the", "this", "that"} or c.dep_ == "poss" for c in tok.children)
            if definite and tok.pos_ == "NOUN":
                same = [k for k in range(len(self.events) - 1, -1, -1) if kinds[k] == kind]
                names = set(self._entity_names(participants))
                prev = next((k for k in same if names & set(self._entity_names(self.events[k].participants))), None)
                if prev is None and same:
                    prev = same[0]
                if prev is not None:
                    e = self.events[prev]
                    self.events[prev] = Event(
                        e.type, e.trigger_start, e.trigger_end, e.trigger, e.sentence,
                        tuple(dict.fromkeys(e.participants + tuple(participants))),
                        tuple(dict.fromkeys(e.places + tuple(places))),
                        e.date or date, e.date_text or date_text, e.confidence, e.claim,
                    )
                    continue
            if not participants and not places and tok.pos_ == "VERB":
                continue
            self.events.append(
                Event(cls, tok.idx, tok.idx + len(tok), tok.text, self._sent(tok), tuple(participants), tuple(places),
                      date, date_text, 0.75 if participants else 0.6)
            )
            kinds.append(kind)

    def _merge_events(self, events: list[Event]) -> list[Event]:
        """One event per class and participant set: "visited the front" and "traveled to the front"."""
        out: list[Event] = []
        for e in events:
            same = next((k for k, o in enumerate(out) if o.type == e.type and e.participants and o.participants
                         and set(self._entity_names(e.participants)) & set(self._entity_names(o.participants))
                         and (o.date is None or e.date is None or o.date == e.date) and o.claim == e.claim), None)
            if same is None:
                out.append(e)
                continue
            o = out[same]
            out[same] = Event(o.type, o.trigger_start, o.trigger_end, o.trigger, o.sentence,
                              tuple(dict.fromkeys(o.participants + e.participants)), tuple(dict.fromkeys(o.places + e.places)),
                              o.date or e.date, o.date_text or e.date_text, max(o.confidence, e.confidence), o.claim)
        return out

    def _entity_names(self, idxs) -> list[str]:
        names = {self.mentions[i].name.split()[-1].lower() for i in idxs}
        return sorted(names)

    def _sentence_places(self, tok: Token) -> list[int]:
        """Places of a sentence that no other event of it claims (a fallback for nominal triggers)."""
        doc, words = self.doc, self.words
        sent = range(*words.sentences[words.sentence[tok.i]])
        claimed = set()
        for i in sent:
            if i != tok.i and words.lemma[i] in lx.EVENT_TRIGGERS and words.pos[i] == "VERB":
                claimed |= {x.i for x in self._phrase_tokens(doc[i])}
        out = []
        for i in sent:
            if i in claimed or i in self.title_tokens:
                continue
            idx = self.tok2m.get(i)
            if idx is not None and self.mentions[idx].type in _LOC - {"Country"} and idx not in out:
                prep = [a for a in doc[i].ancestors if a.dep_ == "prep"][:1]
                if prep and prep[0].lower_ in {"in", "around", "near", "into", "inside"}:
                    out.append(idx)
        return out

    # -- claims -------------------------------------------------------------------------

    def claims_(self) -> None:
        doc = self.doc
        for i in self.words.where("lemma", lx.CLAIM_VERBS):
            tok = doc[i]
            stance = lx.CLAIM_VERBS[self.words.lemma[i]]
            if tok.pos_ != "VERB" or self._negated(tok):
                continue
            claimants = self._subjects(tok)
            if not claimants:
                continue
            content = [c for c in tok.children if c.dep_ in {"ccomp", "dobj"} and c.lower_ not in _PRONOUNS
                       and not (c.dep_ == "dobj" and c.lower_ in {"reporters", "journalists"})]
            if content:
                lo = min(c.left_edge.i for c in content)
                hi = max(c.right_edge.i for c in content) + 1
            else:
                # a quotation: the sentence minus the attribution
                sent = tok.sent
                lo, hi = sent.start, sent.end
                if not any(t.text in {"\u201c", "\u201d", '"'} for t in sent):
                    continue
            channel = None
            for c in tok.children:
                if c.dep_ == "prep" and c.lower_ in {"on", "in", "via", "to"}:
                    words = [t for t in c.subtree]
                    if any(t.lower_ in lx.CHANNELS or t.lemma_ in lx.CHANNELS for t in words):
                        channel = doc[words[0].i + 1 : words[-1].i + 1].text
                        if channel.lower().startswith(("a ", "an ", "the ")):
                            channel = channel.split(" ", 1)[1]
                if c.dep_ == "dobj" and c.lower_ in {"reporters", "journalists"} and tok.lemma_ == "tell":
                    channel = doc[tok.i : c.right_edge.i + 1].text
            date, _ = self._date(tok)
            start, end = doc[lo].idx, doc[hi - 1].idx + len(doc[hi - 1])
            about = tuple(dict.fromkeys(self.tok2m[t] for t in range(lo, hi) if t in self.tok2m and self.tok2m[t] not in claimants))
            for c in claimants[:1]:
                self.claims.append(Claim(c, tok.text, stance, self._sent(tok), start, end, channel, date, about, 0.75))
            # "rejected claims by the Kremlin that ...": the reported claim is a claim of its own
            for c in content:
                if c.lemma_ in {"claim", "allegation", "assertion", "statement"}:
                    agent = next((g for p in c.children if p.dep_ == "prep" and p.lower_ in {"by", "from"} for g in p.children if g.dep_ == "pobj"), None)
                    if agent is not None:
                        who = self._person_at(agent)
                        if who is not None:
                            sub = [x for x in c.children if x.dep_ in {"acl", "ccomp", "relcl"}]
                            if sub:
                                a, b = sub[0].left_edge.i, sub[0].right_edge.i + 1
                                self.claims.append(Claim(who, c.text, "asserts", self._sent(c), doc[a].idx,
                                                         doc[b - 1].idx + len(doc[b - 1]), None, None,
                                                         tuple(dict.fromkeys(self.tok2m[t] for t in range(a, b) if t in self.tok2m)), 0.7))

    def attach_to_claims(self) -> None:
        """Link facts whose words lie inside a claim's content to that claim.

        Relations read from descriptive syntax (titles, possessives, "the city
        of X") are the writer's own description and stay asserted; the claim
        still links to them. Events inside a claim's content are what the
        claimant reports.
        """
        if not self.claims:
            return
        for k, r in enumerate(self.relations):
            ms, mo = self.mentions[r.subject], self.mentions[r.object]
            for ci, c in enumerate(self.claims):
                if c.content_start <= min(ms.start, mo.start) and max(ms.end, mo.end) <= c.content_end:
                    self.relations[k] = Relation(r.subject, r.property, r.object, r.confidence, r.sentence, ci,
                                                 asserted=r.property in _DESCRIPTIVE)
                    break
        for k, e in enumerate(self.events):
            for ci, c in enumerate(self.claims):
                if c.content_start <= e.trigger_start < c.content_end:
                    self.events[k] = Event(e.type, e.trigger_start, e.trigger_end, e.trigger, e.sentence, e.participants,
                                           e.places, e.date, e.date_text, e.confidence, ci)
                    break

    def descriptions(self) -> None:
        """Definite descriptions that refer back: "the governor", "the group", "the city".

        Each becomes a mention of its antecedent (source ``coref``), so facts
        read from its sentence attach to the named entity.
        """
        doc = self.doc
        title_heads = {(doc[h].lemma_.lower(), p) for h, p in self.title_of.items()}
        words = self.words
        for j in words.where("lower", {"the", "this"}):
            i = j + 1  # a noun right after "the" or "this"
            if i >= len(doc) or words.pos[i] != "NOUN" or i in self.tok2m or i in self.title_tokens \
                    or i + 1 < len(doc) and words.lower[i + 1] == "of":
                continue
            tok, det = doc[i], doc[j]
            lemma = tok.lemma_.lower()
            antecedent = None
            if lemma in lx.TITLE_HEADS:
                people = [p for h, p in title_heads if h == lemma and self.mentions[p].start < tok.idx]
                antecedent = max(people, key=lambda p: self.mentions[p].start) if len(set(people)) == 1 else None
            else:
                want = _DESCRIPTION_CLASSES.get(lemma)
                if want is not None:
                    earlier = [i for i, m in enumerate(self.mentions) if m.type in want and m.end <= tok.idx
                               and m.source not in {"demonym", "coref"} and (lemma not in lx.ORG_HEADS or lemma in m.name.lower())]
                    antecedent = max(earlier, key=lambda i: self.mentions[i].start) if earlier else None
            if antecedent is None:
                continue
            a = self.mentions[antecedent]
            self.mentions.append(Mention(det.idx, tok.idx + len(tok), doc[det.i : tok.i + 1].text, a.type,
                                         self._sent(tok), a.name, "coref", 0.6, a.qid))

    _JOIN = frozenset({"join", "accede", "rejoin"})
    _NOT_YET = frozenset({"will", "would", "could", "may", "might", "should", "must", "can", "shall"})

    def affiliations(self) -> None:
        """Membership and headquarters the text states.

        "Finland and Sweden joined NATO", "Hungary, a member of the EU",
        "NATO, the Brussels-based alliance", "the group, headquartered in X".
        A wish, a plan or a future is not membership: "Ukraine wants to join NATO".
        """
        doc = self.doc
        members = {"Country", "Organization", "MilitaryUnit", "Person"}
        for i in self.words.where("lemma", self._JOIN):
            tok = doc[i]
            if tok.pos_ == "VERB" and tok.tag_ in {"VBD", "VBN"} and not self._negated(tok) \
                    and tok.dep_ not in {"xcomp", "ccomp", "advcl", "relcl", "pcomp"} \
                    and not any(c.dep_ in {"aux", "auxpass"} and c.lower_ in self._NOT_YET for c in tok.children):
                group = next((self.tok2m.get(c.i) for c in tok.children if c.dep_ == "dobj"), None)
                if group is not None and self.mentions[group].type in _ORGS:
                    for member in self._subjects(tok):
                        if self.mentions[member].type in members:
                            self._rel(member, "memberOf", group, 0.75, tok)
        for idx, m in enumerate(self.mentions):
            if m.source in {"demonym", "title"} or m.type not in members:
                continue
            e = self._tokens(idx).stop
            # "Hungary, a member of the European Union"
            following = self.words.lower[e : e + 6]
            if following[:1] == [","] and "member" in following[:4]:
                k = e + following.index("member") + 1
                if k < len(doc) and doc[k].lower_ == "of":
                    k += 2 if k + 1 < len(doc) and doc[k + 1].lower_ == "the" else 1
                    group = self.tok2m.get(k)
                    if group is not None and group != idx and self.mentions[group].type in _ORGS:
                        self._rel(idx, "memberOf", group, 0.75, doc[k])
            if m.type not in _ORGS:
                continue
            # "NATO, the Brussels-based alliance"; "the group, headquartered in St Petersburg"
            k = e + 1 if e < len(doc) and doc[e].text == "," else None
            if k is None:
                continue
            while k < len(doc) and k - e < 4 and doc[k].lower_ in {"the", "a", "an", "which", "is"}:
                k += 1
            place = None
            if k + 2 < len(doc) and doc[k + 1].text == "-" and doc[k + 2].lower_ == "based":
                place = self.tok2m.get(k)
            elif k + 1 < len(doc) and doc[k].lower_ in {"headquartered", "based"} and doc[k + 1].lower_ in {"in", "at"}:
                place = self.tok2m.get(k + 2)
            if place is not None and self.mentions[place].type in _LOC - {"Country"}:
                self._rel(idx, "headquarters", place, 0.75, doc[k])

    _CITIZEN_NOUNS = frozenset({"citizen", "national"})
    _ACQUIRE = frozenset({"have", "hold", "obtain", "receive", "acquire", "get", "gain", "take"})

    def _nationalities(self, noun: Token) -> list[int]:
        """Countries a citizenship word names: "a Russian citizen", "dual Russian-Israeli citizenship", "citizen of X"."""
        out: list[int] = []
        stack = [c for c in noun.children if c.dep_ in {"amod", "compound", "nmod"}]
        if noun.i > 0 and noun.dep_ == "compound" and self.doc[noun.i - 1].head.i == noun.head.i:
            stack.append(self.doc[noun.i - 1])  # "Latvian national X": the parser may hang both words on the name
        while stack:
            t = stack.pop()
            idx = self._entity_at(t.i)
            if idx is not None and self.mentions[idx].type == "Country":
                out.append(idx)
            stack.extend(c for c in t.children if c.dep_ in {"amod", "compound", "nmod"})
        for prep in (c for c in noun.children if c.dep_ == "prep" and c.lower_ == "of"):
            for obj in (c for c in prep.children if c.dep_ == "pobj"):
                idx = self._entity_at(obj.i)
                if idx is not None and self.mentions[idx].type == "Country":
                    out.append(idx)
        return sorted(set(out), key=lambda i: self.mentions[i].start)

    def _clause_subject(self, verb: Token) -> int | None:
        """The person a clause is about, through a relative pronoun ("X, who is a citizen") to its antecedent."""
        for child in verb.children:
            if child.dep_ in {"nsubj", "nsubjpass"}:
                if child.lower_ in {"who", "that"} and verb.dep_ == "relcl":
                    return self._person_at(verb.head)
                return self._person_at(child)
        return None

    def citizenship(self) -> None:
        """Citizenship where the text states it, never inferred from an office.

        "X, a Russian citizen", "X is a U.S. citizen", "Russian national X",
        "a British national, X", "X, a citizen of Ukraine", "X, who holds dual
        Russian-Israeli citizenship". Negated statements and losing or
        renouncing a citizenship are not read.
        """
        doc = self.doc
        for i in self.words.where("lemma", self._CITIZEN_NOUNS | {"citizenship"}):
            tok, lemma = doc[i], self.words.lemma[i]
            if i in self.tok2m:
                continue
            countries = self._nationalities(tok)
            if not countries:
                continue
            people: list[int | None] = []
            if lemma == "citizenship":
                if tok.dep_ == "dobj" and tok.head.lemma_.lower() in self._ACQUIRE and not self._negated(tok.head):
                    people.append(self._clause_subject(tok.head))
            else:
                if tok.dep_ in {"appos", "compound", "nmod"} and tok.head.i in self.tok2m:
                    people.append(self._person_at(tok.head))  # "X, a Russian citizen"; "Russian national X"
                if tok.dep_ == "attr" and tok.head.lemma_.lower() in {"be", "become"} and not self._negated(tok.head):
                    people.append(self._clause_subject(tok.head))  # "X is a U.S. citizen"
                people.extend(self._person_at(c) for c in tok.children if c.dep_ == "appos" and c.i in self.tok2m)
            for person in people:
                if person is None or self.mentions[person].type != "Person":
                    continue
                for country in countries:
                    self._rel(person, "citizenship", country, 0.8, tok)

    def run(self) -> None:
        self.titles()
        self.descriptions()
        self._reindex()
        self.containment()
        self.nesting()
        self.affiliations()
        self.citizenship()
        self.events_()
        self.events = self._merge_events([e for e in self.events if e.participants or e.places])
        self.claims_()
        self.attach_to_claims()
