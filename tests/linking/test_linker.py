"""The linker on hand-made documents over the real default knowledge base.

Every expected QID is read from the bundled source files (conftest helpers), never written here.
"""

from __future__ import annotations

import pytest

from kg.linking.linker import CALIBRATION, DEFAULT_THRESHOLD, FEATURES, FUZZY_CAP, confidence, exclusive, link, score_candidates

from .conftest import country_qid, place_qid, resolution_of, state_qid


def linked(kb, entities, text=None) -> dict[str, str | None]:
    return {e.key: e.link.qid for e in link(resolution_of(entities, text), kb).entities}


def features(kb, entities, key="e0") -> dict[str, dict[str, float]]:
    return {s.candidate.qid: dict(zip(FEATURES, s.features)) for s in score_candidates(resolution_of(entities), kb)[key]}


def test_link_region_phrase_and_bare_name(default_kb) -> None:
    assert linked(default_kb, [("Belgorod region", "AdministrativeArea")])["e0"] == state_qid("Belgorod", "RU")
    assert linked(default_kb, [("Belgorod", "Settlement")])["e0"] == place_qid("Belgorod", "RU")


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


def test_link_containment_picks_the_namesake_in_the_documents_places(default_kb) -> None:
    odessa_ua, odessa_us = place_qid("Odessa", "UA"), place_qid("Odessa", "US")
    assert linked(default_kb, [("Odessa", "Settlement")])["e0"] == odessa_ua
    assert linked(default_kb, [("Odessa", "Settlement"), ("Texas", "AdministrativeArea")])["e0"] == odessa_us
    assert features(default_kb, [("Odessa", "Settlement"), ("Texas", "AdministrativeArea")])[odessa_us]["containment"] == 1.0
    georgia_country, georgia_state = country_qid("GE"), state_qid("Georgia", "US")
    assert linked(default_kb, [("Georgia", "Location"), ("Tbilisi", "Settlement")])["e0"] == georgia_country
    assert linked(default_kb, [("Georgia", "Location"), ("Atlanta", "Settlement")])["e0"] == georgia_state


def test_link_country_of_the_document_supports_a_place(default_kb) -> None:
    mariupol = place_qid("Mariupol", "UA")
    row = features(default_kb, [("Mariupol", "Settlement"), ("Ukraine", "Country")])[mariupol]
    assert row["country_in_doc"] == 1.0


def test_link_fuzzy_match_alone_is_nil_but_kept(default_kb) -> None:
    mariupol = place_qid("Mariupol", "UA")
    alone = link(resolution_of([("Marupol", "Settlement")]), default_kb).entities[0]
    assert alone.link.qid is None and [c.qid for c in alone.link.candidates] == [mariupol]
    assert alone.link.candidates[0].score <= FUZZY_CAP
    supported = linked(default_kb, [("Marupol", "Settlement"), ("Donetsk Oblast", "AdministrativeArea")])
    assert supported["e0"] == mariupol


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
    for name in ("hint", "same_class", "country_in_doc", "containment", "description"):
        assert confidence(tuple((base | {name: 1.0}).values())) > p, name
    for name in ("other_class", "org_as_place", "part_of_person"):
        assert confidence(tuple((base | {name: 1.0}).values())) < p, name
    assert CALIBRATION[0] > 0
    assert exclusive([0.8, 0.6]) == pytest.approx([0.8 / 1.4, 0.6 / 1.4])


def test_link_where_the_text_says_a_place_is(default_kb) -> None:
    pokrovsk = place_qid("Pokrovsk", "RU")  # the only Pokrovsk the default knowledge base holds
    text = "Russian forces neared Pokrovsk in eastern Ukraine, Russia said."
    entities = [("Pokrovsk", "Settlement", pokrovsk), ("Ukraine", "Country"), ("Russia", "Country")]
    assert linked(default_kb, entities, text)["e0"] == pokrovsk  # nothing says otherwise
    said = link(resolution_of(entities, text, relations=[(0, "country", 1)]), default_kb).entities[0]
    assert said.link.qid is None and said.link.candidates[0].qid == pokrovsk  # the text puts it in another country
    kept = link(resolution_of(entities, text, relations=[(0, "country", 2)]), default_kb).entities[0]
    assert kept.link.qid == pokrovsk
