"""Small frozen records passed between pipeline stages.

Offsets are plain character offsets into :attr:`Document.text`. No spaCy or
rdflib object ever appears in a record, so stages can run in other processes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: Entity classes of the ontology that a mention can carry (local names).
ENTITY_TYPES = (
    "Person",
    "Organization",
    "MilitaryUnit",
    "Location",
    "Country",
    "AdministrativeArea",
    "Settlement",
    "Position",
)


@dataclass(frozen=True, slots=True)
class Document:
    """One input document.

    >>> Document("a", "Kyiv is in Ukraine.").id
    'a'
    """

    id: str
    text: str
    source: str = ""
    date: str | None = None  # ISO 8601 date (YYYY-MM-DD) the text was published
    title: str | None = None


@dataclass(frozen=True, slots=True)
class Sentence:
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Mention:
    """A span of text that names (or refers to) an entity.

    ``name`` is the canonical name the span stands for: the surface text for
    a plain name, the expansion for an acronym, or an office name such as
    ``"President of Ukraine"`` for a title.
    """

    start: int
    end: int
    text: str
    type: str
    sentence: int
    name: str
    source: str = "ner"  # what produced it: ner, kb, rule, phrase, title, acronym, demonym, context
    confidence: float = 0.8
    qid: str | None = None  # a QID the gazetteer matched, a hint for linking


@dataclass(frozen=True, slots=True)
class Relation:
    """A fact read from text between two mentions (indexes into the mention tuple).

    ``property`` is the local name of an ontology property (``positionHeld``).
    """

    subject: int
    property: str
    object: int
    confidence: float
    sentence: int
    claim: int | None = None  # index of the claim whose content holds it, if any
    asserted: bool = True  # False: only reported by the claim, not stated by the text as fact


@dataclass(frozen=True, slots=True)
class Event:
    """An event read from text: a trigger word, its class and its arguments."""

    type: str  # ontology class local name (Incursion, Visit, Call, ...)
    trigger_start: int
    trigger_end: int
    trigger: str
    sentence: int
    participants: tuple[int, ...] = ()
    places: tuple[int, ...] = ()
    date: str | None = None  # ISO date when it could be normalized
    date_text: str | None = None
    confidence: float = 0.7
    claim: int | None = None


@dataclass(frozen=True, slots=True)
class Claim:
    """Someone's statement reported in the text: "X said/denied that ...".

    ``claimant`` indexes a mention; ``content_start``/``content_end`` delimit
    the reported content; ``stance`` is ``"asserts"`` or ``"denies"``.
    """

    claimant: int
    cue: str
    stance: str
    sentence: int
    content_start: int
    content_end: int
    channel: str | None = None
    date: str | None = None
    about: tuple[int, ...] = ()
    confidence: float = 0.7


@dataclass(frozen=True, slots=True)
class Extraction:
    """Everything extraction found in one document."""

    document: Document
    sentences: tuple[Sentence, ...]
    mentions: tuple[Mention, ...]
    relations: tuple[Relation, ...] = ()
    events: tuple[Event, ...] = ()
    claims: tuple[Claim, ...] = ()


@dataclass(frozen=True, slots=True)
class Candidate:
    """A knowledge-base entry proposed for a name, with its score."""

    qid: str
    label: str
    type: str
    score: float
    description: str = ""


@dataclass(frozen=True, slots=True)
class Link:
    """The Wikidata identifier chosen for an entity, or NIL (``qid is None``)."""

    qid: str | None
    confidence: float
    candidates: tuple[Candidate, ...] = ()


@dataclass(frozen=True, slots=True)
class Entity:
    """One real-world entity of a document: a cluster of mentions."""

    key: str  # document-local key
    type: str
    name: str  # preferred label
    aliases: tuple[str, ...]
    mentions: tuple[int, ...]
    link: Link = field(default_factory=lambda: Link(None, 0.0))
    jurisdiction: str | None = None  # for positions: key of the entity the office belongs to


@dataclass(frozen=True, slots=True)
class Resolution:
    """The entities of one document and which entity each mention belongs to."""

    extraction: Extraction
    entities: tuple[Entity, ...]
    mention_entity: tuple[str | None, ...]  # per mention: entity key, or None if dropped
