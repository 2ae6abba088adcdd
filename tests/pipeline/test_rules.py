"""kg_attributes and kg_lemmas annotate exactly as the model's attribute ruler and lemmatizer do."""

from __future__ import annotations

import pytest
import spacy
from spacy.attrs import DEP, HEAD, LEMMA, MORPH, ORTH, POS, TAG

import kg.extraction.nlp as nlp_module
from kg.extraction import rules
from kg.extraction.nlp import load_pipeline
from kg.paths import SEEDS_DIR

COLUMNS = [ORTH, POS, TAG, MORPH, LEMMA, DEP, HEAD]
# the model's ruler has rules of two tokens ("gon na", "there is", "let 's", "y' all") and for spaces
SPOKEN = (
    "There is no doubt, the commander said: \"We ain't gonna stop, y'all. Let's go!\"  He added that there were "
    "2,000 troops.\n\nThey'd gotta leave by 5 p.m.; c'mon, she'd said. I told him what you'd seen."
)


@pytest.fixture(scope="module")
def texts() -> list[str]:
    seed = min(SEEDS_DIR.glob("*.txt")).read_text(encoding="utf-8")
    return [seed, SPOKEN, seed[: len(seed) // 3] + "\n" + SPOKEN]


@pytest.fixture(scope="module")
def stock(texts):
    """The annotations of the same pipeline with the model's own components."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(nlp_module, "install_rules", lambda nlp: [])
        nlp = load_pipeline()
    assert "attribute_ruler" in nlp.pipe_names and "kg_lemmas" not in nlp.pipe_names
    return [doc.to_array(COLUMNS).tolist() for doc in nlp.pipe(texts)]


def test_kg_rules_stand_in_for_the_models_components():
    nlp = load_pipeline()
    assert {"kg_attributes", "kg_lemmas"} <= set(nlp.pipe_names)
    assert {"attribute_ruler", "lemmatizer"} <= set(nlp.disabled)
    assert nlp.pipe_names.index("kg_attributes") < nlp.pipe_names.index("kg_lemmas") < nlp.pipe_names.index("ner")


def test_kg_rules_annotate_as_the_model_does(texts, stock):
    nlp = load_pipeline()
    for _ in range(2):  # remembered answers give the same annotations as fresh ones
        assert [doc.to_array(COLUMNS).tolist() for doc in nlp.pipe(texts)] == stock
    doc = nlp(SPOKEN)
    assert [t.lemma_ for t in doc if t.lower_ in {"gon", "na", "ai"}] == ["be", "go", "to"]


def test_kg_rules_annotate_as_the_model_does_when_their_memory_is_full(texts, stock, monkeypatch):
    monkeypatch.setattr(rules, "CACHE_SIZE", 16)
    nlp = load_pipeline()
    assert [doc.to_array(COLUMNS).tolist() for doc in nlp.pipe(texts)] == stock
    assert len(nlp.get_pipe("kg_attributes").cache) <= 16 + len(nlp(texts[-1]))


def test_kgs_pipeline_saves_and_loads_with_its_rule_components(tmp_path, texts, stock):
    nlp = load_pipeline()
    nlp.to_disk(tmp_path / "nlp")
    again = spacy.load(tmp_path / "nlp")
    assert {"kg_attributes", "kg_lemmas"} <= set(again.pipe_names)
    assert [doc.to_array(COLUMNS).tolist() for doc in again.pipe(texts)] == stock


def _ruler_pipeline(patterns: list[dict]):
    nlp = spacy.blank("en")
    nlp.add_pipe("attribute_ruler").add_patterns(patterns)
    return nlp


def test_a_ruler_with_rules_of_varying_length_runs_them_on_whole_documents():
    patterns = [
        {"patterns": [[{"LOWER": "new"}, {"LOWER": "york", "OP": "?"}]], "attrs": {"LEMMA": "NYC"}, "index": 0},
        {"patterns": [[{"LOWER": {"IN": ["new", "old"]}}]], "attrs": {"LEMMA": "age"}},
        {"patterns": [[{"LOWER": "city"}, {"IS_PUNCT": True}]], "attrs": {"LEMMA": "stop"}, "index": -1},
    ]
    text = "New York is a new city. Old city, new town."
    expected = [t.lemma_ for t in _ruler_pipeline(patterns)(text)]
    nlp = _ruler_pipeline(patterns)
    assert rules.install(nlp) == ["attribute_ruler"]
    assert [t.lemma_ for t in nlp(text)] == expected
    assert nlp.get_pipe("kg_attributes").width == 0
    assert expected[:2] == ["age", ""] and expected[6] == "stop"


@pytest.mark.parametrize("token", [{"ENT_TYPE": "GPE"}, {"NORM": "going"}])
def test_components_that_do_not_fit_are_kept(token):
    nlp = _ruler_pipeline([{"patterns": [[token]], "attrs": {"LEMMA": "place"}}])
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    assert rules.install(nlp) == []
    assert nlp.pipe_names == ["attribute_ruler", "lemmatizer"]
