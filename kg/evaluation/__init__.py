"""Evaluation: scoring an exported graph against gold annotations (the metrics of ``shared/eval/score.py``)."""

from .gold import read_gold
from .score import Issue, Score, evaluate, load_ontology, normalize, render, score_graph

__all__ = ["Issue", "Score", "evaluate", "load_ontology", "normalize", "read_gold", "render", "score_graph"]
