"""The linker on hand-made documents over the real default knowledge base.

Every expected QID is read from the bundled source files (conftest helpers), never written here.
"""

from __future__ import annotations

import pytest

from kg.linking.linker import (
    CALIBRATION,
    DEFAULT_THRESHOLD,
    FEATURES,
    WEAK_CAP,
    confidence,
    confidences,
    link,
    proper_names,
    score_candidates,
)
from kg.records import Document, Entity, Extraction, Mention, Resolution, Sentence

from .conftest import country_qid, place_qid, resolution_of, source_rows, state_qid


def linked(kb, entities, text=None, relations=()) -> dict[str, str | None]:
    return {e.key: e.link.qid for e in link(resolution_of(entities, text, relations), kb).entities}


def features(kb, entities, key="e0", text=None) -> dict[str, dict[str, float]]:
    return {s.candidate.qid: dict(zip(FEATURES, s.features)) for s in score_candidates(resolution_of(entities, text), kb)[key]}


def verified_qid(label: str) -> str:
    """A verified entity's QID, from data/kb-sources/verified/entities.tsv."""
    return next(r["qid"] for r in source_rows("verified/entities.tsv", "\t") if r["label"] == label)


def person(text: str, full: str, surname: str) -> Resolution:
    """A one-sentence document naming a person by full name then by surname: one entity with both names."""
    a = text.index(full)
    b = text.index(surname, a + len(full))
    mentions = (Mention(a, a + len(full), full, "Person", 0, full), Mention(b, b + len(surname), surname, "Person", 0, surname))
    ex = Extraction(Document("d", text), (Sentence(0, len(text)),), mentions)
    return Resolution(ex, (Entity("e0", "Person", full, (surname,), (0, 1)),), ("e0", "e0"))


def test_link_region_phrase_and_bare_name(default_kb) -> None:
    city = place_qid("Belgorod", "RU")
    assert linked(default_kb, [("Belgorod region", "AdministrativeArea")])["e0"] == state_qid("Belgorod", "RU")
    assert linked(default_kb, [("Belgorod", "Settlement", city)])["e0"] == city  # as the gazetteer spots it in text


def test_link_the_texts_class_beats_the_gazetteers_namesake(default_kb) -> None:
    city, oblast = place_qid("Donetsk", "UA"), state_qid("Donetska", "UA")
    text = "Ukraine: the eastern regions of Luhansk and Donetsk."
    # the gazetteer matched the city's name; the text says the name is of a region
    region = [("Ukraine", "Country"), ("Donetsk", "AdministrativeArea", city)]
    assert linked(default_kb, region, text)["e1"] == oblast
    assert linked(default_kb, [("Ukraine", "Country"), ("Donetsk", "Settlement", city)], text)["e1"] == city
    assert linked(default_kb, region[1:], text)["e0"] != city  # with nothing else to go by: not the city either
    res = link(resolution_of(region, text), default_kb)
    assert {c.qid for c in res.entities[1].link.candidates} >= {city, oblast}  # the alternative stays reviewable


def test_link_a_class_the_gazetteer_guessed_is_no_evidence(default_kb) -> None:
    # "Montreal, Quebec, Canada": the gazetteer reads "Quebec" as the city (and types it so); Montreal lies in the province
    quebec_city, montreal = place_qid("Québec", "CA"), place_qid("Montreal", "CA")
    text = "A shooting in Montreal, Quebec, Canada."
    entities = [("Montreal", "Settlement", montreal), ("Quebec", "Settlement", quebec_city), ("Canada", "Country")]
    assert linked(default_kb, entities, text)["e1"] == state_qid("Quebec", "CA")
    assert features(default_kb, entities, "e1", text)[quebec_city]["same_class"] == 0.0
    # the text's own class word does count: "Quebec City"
    assert linked(default_kb, [("Quebec City", "Settlement", quebec_city), ("Canada", "Country")])["e0"] == quebec_city


def test_link_the_gazetteers_choice_among_equal_namesakes_is_no_evidence(default_kb) -> None:
    pakistan, india = state_qid("Punjab", "PK"), state_qid("Punjab", "IN")
    hint = min(pakistan, india)  # the gazetteer breaks the tie between two equally likely items by QID
    for country, right in (("Pakistan", pakistan), ("India", india)):
        text = f"A bombing in Punjab, {country}."
        rows = features(default_kb, [("Punjab", "AdministrativeArea", hint), (country, "Country")], text=text)
        assert rows[pakistan]["hint"] == rows[india]["hint"] == 1.0
        assert linked(default_kb, [("Punjab", "AdministrativeArea", hint), (country, "Country")], text)["e0"] == right


def test_link_containment_picks_the_namesake_in_the_documents_places(default_kb) -> None:
    odessa_ua, odessa_us = place_qid("Odessa", "UA"), place_qid("Odessa", "US")
    assert linked(default_kb, [("Odessa", "Settlement", odessa_ua)])["e0"] == odessa_ua
    assert linked(default_kb, [("Odessa", "Settlement", odessa_ua), ("Texas", "AdministrativeArea")])["e0"] == odessa_us
    assert features(default_kb, [("Odessa", "Settlement"), ("Texas", "AdministrativeArea")])[odessa_us]["containment"] == 1.0
    georgia_country, georgia_state = country_qid("GE"), state_qid("Georgia", "US")
    assert linked(default_kb, [("Georgia", "Location"), ("Tbilisi", "Settlement")])["e0"] == georgia_country
    assert linked(default_kb, [("Georgia", "Location"), ("Atlanta", "Settlement")])["e0"] == georgia_state


def test_link_country_of_the_document_supports_a_place(default_kb) -> None:
    mariupol = place_qid("Mariupol", "UA")
    row = features(default_kb, [("Mariupol", "Settlement"), ("Ukraine", "Country")])[mariupol]
    assert row["country_in_doc"] == 1.0
    # a place named unambiguously gives its country too ("Minneapolis", "England"), not a place's own name
    qom = place_qid("Qom", "IR")
    assert features(default_kb, [("Qom", "Settlement"), ("Ukraine", "Country")])[qom]["country_in_doc"] == 0.0


def test_link_fuzzy_match_needs_the_document_to_name_it(default_kb) -> None:
    mariupol = place_qid("Mariupol", "UA")
    alone = link(resolution_of([("Marupol", "Settlement")]), default_kb).entities[0]
    assert alone.link.qid is None and [c.qid for c in alone.link.candidates] == [mariupol]
    assert alone.link.candidates[0].score <= WEAK_CAP
    # the world's towns the knowledge base lacks are many: a town one letter off is no evidence, even in its region
    assert linked(default_kb, [("Marupol", "Settlement"), ("Donetsk Oblast", "AdministrativeArea")])["e0"] is None
    laiyang = place_qid("Laiyang", "CN")
    near = link(resolution_of([("Leiyang", "Settlement"), ("China", "Country")]), default_kb).entities[0]
    assert near.link.qid is None and near.link.candidates[0].qid == laiyang
    # a misspelling of a name the document uses is linked; so is a region's, in its country (few regions per country)
    assert linked(default_kb, [("Marupol", "Settlement"), ("Mariupol", "Settlement", mariupol)])["e0"] == mariupol
    kherson = state_qid("Khersonska", "UA")
    assert linked(default_kb, [("Kheson region", "AdministrativeArea"), ("Ukraine", "Country")])["e0"] == kherson


def test_link_a_surname_under_another_first_name_needs_context(default_kb) -> None:
    zelenskyy = verified_qid("Volodymyr Zelenskyy")
    bare = link(person("Igor Zelensky spoke. Zelensky left.", "Igor Zelensky", "Zelensky"), default_kb).entities[0]
    assert bare.link.qid is None and bare.link.candidates[0].qid == zelenskyy
    told = person("Ukrainian President Vladimir Zelensky spoke in Ukraine. Zelensky left.", "Vladimir Zelensky", "Zelensky")
    assert link(told, default_kb).entities[0].link.qid == zelenskyy  # the description's words are in the sentence
    full = person("Volodymyr Zelenskyy spoke. Zelenskyy left.", "Volodymyr Zelenskyy", "Zelenskyy")
    assert link(full, default_kb).entities[0].link.qid == zelenskyy


def test_link_generic_names_and_impossible_classes_are_not_looked_up(default_kb) -> None:
    assert proper_names(["the city council", "Capital", "North", "Kyiv"]) == ["Kyiv"]
    out = link(resolution_of([("Capital", "AdministrativeArea"), ("city council", "Organization")]), default_kb).entities
    assert all(e.link.qid is None and e.link.candidates == () for e in out)
    kharkiv = place_qid("Kharkiv", "UA")
    assert link(resolution_of([("Kharkiv", "MilitaryUnit")]), default_kb).entities[0].link.candidates == ()
    assert kharkiv in {c.qid for c in link(resolution_of([("Kharkiv", "Organization")]), default_kb).entities[0].link.candidates}


def test_link_a_bare_name_shared_by_a_town_and_its_region_is_the_town(default_kb) -> None:
    city, province = place_qid("Qom", "IR"), state_qid("Qom", "IR")
    rows = features(default_kb, [("Qom", "Settlement"), ("Iran", "Country")])
    assert rows[province]["bare_region"] == 1.0 and rows[city]["bare_region"] == 0.0
    assert linked(default_kb, [("Qom", "Settlement"), ("Iran", "Country")])["e0"] == city
    assert linked(default_kb, [("Qom province", "AdministrativeArea"), ("Iran", "Country")])["e0"] == province


def test_link_a_minor_town_of_a_country_the_document_never_names_is_nil(default_kb) -> None:
    wyndham = place_qid("Wyndham", "AU")
    text = "A hotel in Wyndham, Dominican Republic."
    nil = link(resolution_of([("Wyndham", "Settlement"), ("Dominican Republic", "Country")], text), default_kb).entities[0]
    assert nil.link.qid is None and nil.link.candidates[0].qid == wyndham
    assert features(default_kb, [("Wyndham", "Settlement"), ("Dominican Republic", "Country")], text=text)[wyndham]["foreign"] > 0.5
    assert features(default_kb, [("Wyndham", "Settlement"), ("Australia", "Country")])[wyndham]["foreign"] == 0.0


def test_link_a_name_written_before_a_persons_name_is_no_place(default_kb) -> None:
    city = place_qid("Vladimir", "RU")
    text = "President (Vladimir) Putin said."
    entities = [("Vladimir", "Settlement", city), ("Putin", "Person")]
    assert linked(default_kb, entities, text)["e0"] is None
    assert linked(default_kb, [("Vladimir", "Settlement", city)], "They drove to Vladimir.")["e0"] == city


def test_link_people_never_link_to_places(default_kb) -> None:
    out = link(resolution_of([("Belgorod", "Person")]), default_kb).entities[0]
    assert out.link.qid is None and out.link.candidates == ()


@pytest.mark.parametrize("threshold", [DEFAULT_THRESHOLD, 0.999])
def test_link_confidences_are_exclusive_probabilities(default_kb, threshold: float) -> None:
    res = link(resolution_of([("Odessa", "Settlement"), ("Texas", "AdministrativeArea"), ("Georgia", "Location"),
                              ("Springfield", "Settlement")]), default_kb, threshold=threshold)
    for e in res.entities:
        scores = [c.score for c in e.link.candidates]
        assert scores == sorted(scores, reverse=True) and all(0.0 <= s <= 1.0 for s in scores)
        assert sum(scores) <= 1.0 + 5e-4 * len(scores)  # confidences are rounded to 3 places
        assert (e.link.qid is not None) == (bool(scores) and scores[0] >= threshold)
        if e.link.qid:
            assert e.link.confidence == scores[0] and e.link.qid == e.link.candidates[0].qid
    if threshold > 0.99:
        assert all(e.link.qid is None and e.link.candidates for e in res.entities)


def test_confidence_is_monotone_in_the_evidence() -> None:
    base = dict.fromkeys(FEATURES, 0.0) | {"match": 1.0, "prior": 0.5, "lead": 1.0}
    p = confidence(tuple(base.values()))
    for name in ("hint", "same_class", "country_in_doc", "containment", "description", "named_elsewhere"):
        assert confidence(tuple((base | {name: 1.0}).values())) > p, name
    for name in ("other_class", "org_as_place", "part_of_person", "bare_region", "foreign", "unsupported"):
        assert confidence(tuple((base | {name: 1.0}).values())) < p, name
    assert CALIBRATION[0] > 0


def test_confidences_share_what_rivals_take_from_nil() -> None:
    f = dict.fromkeys(FEATURES, 0.0)
    strong = tuple((f | {"match": 1.0, "prior": 0.9, "hint": 1.0, "lead": 1.0}).values())
    weaker = tuple((f | {"match": 1.0, "prior": 0.5, "hint": 1.0}).values())
    alone = confidences([strong])[0]
    assert alone == pytest.approx(confidence(strong))
    pair = confidences([strong, weaker])
    assert pair[0] > pair[1] and pair[0] < alone and sum(pair) < 1.0  # the rest is NIL
    assert confidences([strong, strong])[0] == pytest.approx(confidences([strong, strong])[1]) and confidences([strong, strong])[0] < 0.5
    capped = confidences([tuple((f | {"match": 1.0, "prior": 0.9, "hint": 1.0, "lead": 1.0, "unsupported": 1.0}).values())])
    assert capped[0] <= WEAK_CAP


def test_link_where_the_text_says_a_place_is(default_kb) -> None:
    pokrovsk = place_qid("Pokrovsk", "RU")  # the only Pokrovsk the default knowledge base holds
    text = "Russian forces neared Pokrovsk in eastern Ukraine, Russia said."
    entities = [("Pokrovsk", "Settlement", pokrovsk), ("Ukraine", "Country"), ("Russia", "Country")]
    assert linked(default_kb, entities, text)["e0"] == pokrovsk  # nothing says otherwise
    said = link(resolution_of(entities, text, relations=[(0, "country", 1)]), default_kb).entities[0]
    assert said.link.qid is None and said.link.candidates[0].qid == pokrovsk  # the text puts it in another country
    kept = link(resolution_of(entities, text, relations=[(0, "country", 2)]), default_kb).entities[0]
    assert kept.link.qid == pokrovsk


def test_calibration_samples_nil_mentions_from_the_gold(default_kb) -> None:
    """Certain negatives: a place outside the country the gold puts the entity in, and every candidate left when the
    right item, one the knowledge base might lack (a minor town), is hidden."""
    from kg.evaluation.linking import Without, decisions, fit, predict, samples

    springfield, pokrovsk_ru = place_qid("Springfield", "US"), place_qid("Pokrovsk", "RU")
    us, ukraine = country_qid("US"), country_qid("UA")
    gold = {"id": "g", "entities": [
        {"key": "s", "name": "Springfield", "type": "Location", "qid": springfield},
        {"key": "us", "name": "United States", "type": "Country", "qid": us},
        {"key": "p", "name": "Pokrovsk", "type": "Location", "qid": None},
        {"key": "ua", "name": "Ukraine", "type": "Country", "qid": ukraine}],
        "relations": [{"subject": "p", "property": ["P17", "P131"], "object": "ua"}]}  # fmt: skip
    res = resolution_of([("Springfield", "Settlement"), ("United States", "Country"), ("Pokrovsk", "Settlement"),
                         ("Ukraine", "Country")], "Springfield, United States. Pokrovsk, Ukraine.")
    data = samples([(gold, res)], default_kb)
    by = {(s.entity, s.qid): s.label for s in data}
    assert by[("Springfield", springfield)] == 1 and by[("United States", us)] == 1
    assert by[("Pokrovsk", pokrovsk_ru)] == 0  # not in Ukraine
    hidden = {q: label for (entity, q), label in by.items() if entity == f"Springfield (without {springfield})"}
    assert hidden and springfield not in hidden and set(hidden.values()) == {0}
    assert not any(entity.endswith(f"(without {us})") for entity, _ in by)  # the knowledge base lacks no country
    assert springfield not in {c.qid for c in Without(default_kb, {springfield}).lookup("Springfield")}
    d = decisions(data, predict(data))
    assert d["nil"] == 2 and d["entities"] == 5 and d["recall"] <= 1.0
    scale, _ = fit(data)
    assert scale > 0
