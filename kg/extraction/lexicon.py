"""Word lists the extraction rules use: general vocabulary of news text.

Nothing here names an entity: names come from the knowledge base. These are
the common nouns and adjectives of titles, military units, events and
reporting verbs.
"""

from __future__ import annotations

#: Head words of an office or role held by a person (lowercase).
TITLE_HEADS = frozenset(
    """
    president vice-president premier chancellor minister secretary secretary-general spokesman spokeswoman
    spokesperson governor mayor commander commander-in-chief chief head director director-general chairman
    chairwoman chair leader ambassador envoy aide adviser advisor senator lawmaker deputy speaker prosecutor
    prosecutor-general ombudsman king queen prince emperor monarch pope patriarch foreman founder boss
    representative official officer coordinator administrator executive ceo reporter correspondent editor
    analyst negotiator inspector lieutenant-governor councillor councilor legislator mp journalist columnist
    photographer producer researcher economist
    """.split()
)

#: Title heads that name a job rather than an office: they give an employer, not a position.
JOB_HEADS = frozenset(
    "reporter correspondent editor analyst journalist columnist photographer producer researcher economist".split()
)

#: Title heads of whoever leads the organization they name ("the director of the IAEA").
LEADER_HEADS = frozenset(
    "director director-general chief head leader chairman chairwoman chair commander commander-in-chief president"
    " secretary-general boss".split()
)

#: Title heads too generic to name an office without saying whose it is ("their commander").
GENERIC_HEADS = frozenset(
    """
    commander chief head leader official officer spokesman spokesperson spokeswoman representative director
    aide adviser advisor executive coordinator administrator boss founder deputy member envoy ambassador
    """.split()
)

#: Words that may precede or join a title head inside a title phrase.
TITLE_MODIFIERS = frozenset(
    """
    deputy first vice acting former prime foreign defense defence interior finance economy justice health
    energy trade education culture home general supreme allied senior chief top regional military
    presidential press foreign-affairs national state federal executive special assistant principal
    permanent associate attorney security intelligence
    political presidential-office defence-ministry interim district local provincial
    """.split()
)

#: Military and police ranks: they precede a name but are not offices.
RANKS = frozenset(
    """
    general gen gen. lieutenant lt lt. colonel col col. major maj maj. admiral adm adm. captain capt capt.
    sergeant sgt sgt. marshal brigadier commander-general colonel-general lieutenant-general major-general
    private corporal
    """.split()
)

#: Honorifics before a name.
HONORIFICS = frozenset("mr mr. mrs mrs. ms ms. dr dr. sir dame madam".split())

#: Head nouns that make a name a military unit or armed group.
MILITARY_HEADS = frozenset(
    """
    corps legion brigade brigades battalion battalions regiment regiments army armies forces guard guards
    division divisions militia militias fleet navy force squadron platoon marines
    paratroopers commandos rangers
    """.split()
)

#: Lowercase phrases that name a branch of a country's armed forces in news text.
MILITARY_PHRASES = (
    ("ground", "forces"),
    ("land", "forces"),
    ("airborne", "forces"),
    ("armed", "forces"),
    ("air", "force"),
    ("air", "forces"),
    ("special", "forces"),
    ("national", "guard"),
    ("border", "guard"),
    ("border", "guards"),
    ("marine", "corps"),
    ("marines",),
    ("navy",),
    ("military",),
    ("paratroopers",),
    ("army", "group"),
)

#: Head nouns that make a name a place that is neither a country, a region nor a settlement.
PLACE_HEADS = frozenset(
    """
    river sea lake reservoir mountains mountain bay gulf strait island islands peninsula canal desert valley
    plant station airport port bridge dam base
    """.split()
)

#: Place names from the gazetteer that are ordinary words when they stand alone.
COMMON_PLACE_WORDS = frozenset(
    "west east north south central western eastern northern southern middle mobile reading split nice bath"
    " march may police university".split()
)

#: Lowercase phrases that name a state body in news text.
BODY_PHRASES = (
    ("general", "staff"),
    ("military", "general", "staff"),
    ("defense", "ministry"),
    ("defence", "ministry"),
    ("foreign", "ministry"),
    ("interior", "ministry"),
    ("presidential", "administration"),
    ("government",),
)

#: Head nouns that make a name an organization.
ORG_HEADS = frozenset(
    """
    ministry council committee commission agency office service services administration institute party
    bank court parliament assembly government cabinet union alliance organization organisation
    association federation foundation company corporation group network bureau directorate department
    authority staff secretariat duma rada senate congress police
    university college school academy hospital clinic museum
    """.split()
)

#: Words before "State" that make it a movement or a kind of state, not an administrative area ("Islamic State").
NOT_AREA_MODIFIERS = frozenset("islamic jewish christian sovereign deep nation police welfare rogue failed member "
                               "client buffer puppet vassal".split())

#: Words that end a name that is a date or an observance, not an entity.
NON_ENTITY_HEADS = frozenset("day week month year anniversary eve holiday festival".split())

#: Nouns after a name that make it a programme or publication title, not an organization.
MEDIA_WORKS = frozenset("programme program show podcast series documentary column newsletter".split())

#: Lines that start page boilerplate (related links, share bars, newsletters).
BOILERPLATE_LINES = (
    "check also",
    "read more",
    "read also",
    "related",
    "related articles",
    "related posts",
    "related stories",
    "you may also like",
    "share this",
    "share this article",
    "subscribe",
    "sign up",
    "advertisement",
    "most read",
    "more from",
    "recommended",
)

#: Settlement class words: "the city of X", "the southern Ukrainian town of X".
SETTLEMENT_NOUNS = frozenset("city town village settlement port capital hamlet suburb township".split())
#: Administrative area class words: "the X region", "X oblast".
AREA_NOUNS = frozenset("region oblast province state district county territory krai republic governorate".split())
#: Locative prepositions: "in X", "near X" make X a place.
LOCATIVE_PREPS = frozenset("in near around outside inside into across toward towards from at".split())

#: Trigger words of the generic Event class that name the same kind of event ("the mutiny" after "a rebellion").
EVENT_KINDS = {"rebellion": "uprising", "mutiny": "uprising", "uprising": "uprising", "revolt": "uprising"}

#: Event trigger lemmas -> ontology event class.
EVENT_TRIGGERS = {
    "incursion": "Incursion",
    "raid": "Incursion",
    "invasion": "Incursion",
    "invade": "Incursion",
    "attack": "Attack",
    "strike": "Attack",
    "airstrike": "Attack",
    "bombardment": "Attack",
    "shelling": "Attack",
    "offensive": "Attack",
    "counteroffensive": "Attack",
    "assault": "Attack",
    "barrage": "Attack",
    "target": "Attack",
    "operation": "Attack",
    "hit": "Attack",
    "shell": "Attack",
    "bomb": "Attack",
    "bombing": "Attack",
    "rebellion": "Event",
    "mutiny": "Event",
    "uprising": "Event",
    "coup": "Event",
    "referendum": "Event",
    "election": "Event",
    "evacuation": "Event",
    "battle": "Battle",
    "fighting": "Battle",
    "clash": "Battle",
    "visit": "Visit",
    "trip": "Visit",
    "travel": "Visit",
    "tour": "Visit",
    "meeting": "Meeting",
    "meet": "Meeting",
    "talk": "Meeting",
    "summit": "Meeting",
    "negotiation": "Meeting",
    "conversation": "Call",
    "call": "Call",
    "appoint": "Appointment",
    "appointment": "Appointment",
    "dismiss": "Dismissal",
    "dismissal": "Dismissal",
    "sack": "Dismissal",
    "oust": "Dismissal",
    "resign": "Dismissal",
    "resignation": "Dismissal",
    "name": "Appointment",
    "nominate": "Appointment",
}

#: Reporting verbs -> stance of the claim they introduce.
CLAIM_VERBS = {
    "say": "asserts",
    "claim": "asserts",
    "state": "asserts",
    "report": "asserts",
    "announce": "asserts",
    "confirm": "asserts",
    "add": "asserts",
    "write": "asserts",
    "tell": "asserts",
    "insist": "asserts",
    "assert": "asserts",
    "allege": "asserts",
    "accuse": "asserts",
    "warn": "asserts",
    "deny": "denies",
    "reject": "denies",
    "dismiss": "denies",
    "refute": "denies",
    "dispute": "denies",
}

#: Channels through which a claim is made.
CHANNELS = frozenset(
    "telegram facebook twitter x instagram youtube tiktok vk website television tv radio statement"
    " interview briefing post video".split()
)
