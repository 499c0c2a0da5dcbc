"""Document kind: is a document a plan (实施方案, 工作要点, 规划, 立法工作计划 …) or a report?

The sentence classifier reads each sentence with its title and heading path, but a plan
document's forward-looking arrangements (坚持把习近平法治思想作为…学习的重要内容, 推动党政主要负责人
切实履行第一责任人职责) read like a report's duty section, and scraped plan documents often
come without their title. LABELING.md labels such a document's arrangements ``plans`` (a
plan's overall requirement is ``plans``), so the decoder needs the document's kind.

``DocKindClassifier`` is a character n-gram TF-IDF + logistic regression over the beginning
of the document (``document_head``: title and first ``HEAD_CHARS`` characters), trained by
``nlp train doc-kind`` on the ``kind`` field of the ``split: train`` rows of
``reports.jsonl`` (report against plans); it is stored like the TF-IDF baseline (JSON +
safetensors, no pickle). ``plan_probability`` adds one explicit cue from LABELING.md: a
plan's overall requirement (总体要求是：…) in the document's beginning makes it a plan.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from .baselines import load_tfidf_logreg, softmax_scores
from .doc import Document

CONFIG_FILE = "doc_kind_config.json"
KINDS = ("report", "plans")
HEAD_CHARS = 1200  # the training rows are document beginnings of about 1,000 characters
PLAN_FRAME = re.compile(r"总体要求(是|为)?[:：]")


def with_plan_cue(heads: list[str], p_model: np.ndarray) -> np.ndarray:
    """P(plans) of each head: the model's, or 1 where the head states a plan's overall requirement."""
    return np.where([bool(PLAN_FRAME.search(h)) for h in heads], 1.0, p_model)


def document_head(doc: Document | str, title: str | None = None) -> str:
    """The text the kind is read from: the title (unless the text already starts with it)
    and the first ``HEAD_CHARS`` characters."""
    text = doc if isinstance(doc, str) else doc.text
    title = title if isinstance(doc, str) else (title or doc.title)
    head = text[:HEAD_CHARS]
    if title and title.strip() and title.strip() not in head[:300]:
        head = title.strip() + "\n" + head
    return head


class DocKindClassifier:
    """Probability that a document is a plan document (see the module docstring)."""

    def __init__(self, path: str | Path):
        p = Path(path)
        if not (p / CONFIG_FILE).exists():
            raise OSError(f"{p}: not a document-kind model (no {CONFIG_FILE}); make one with `nlp train doc-kind`")
        self.config, self.vectorizer, self.coef, self.intercept = load_tfidf_logreg(p, CONFIG_FILE)
        if list(self.config.get("labels", [])) != list(KINDS):
            raise OSError(f"{p}: document-kind labels {self.config.get('labels')} are not {list(KINDS)}")
        self.path = p

    def plan_probabilities(self, heads: list[str]) -> np.ndarray:
        """P(plans) of each document head (the model alone, without the explicit cue)."""
        if not heads:
            return np.zeros(0)
        return softmax_scores(self.vectorizer, self.coef, self.intercept, heads)[:, KINDS.index("plans")]

    def plan_probability(self, doc: Document | str) -> float:
        head = document_head(doc)
        return float(with_plan_cue([head], self.plan_probabilities([head]))[0])


def load_doc_kind(model_dir: str | Path, subdir: str = "doc_kind") -> DocKindClassifier | None:
    """The document-kind model stored with a classifier (``MODEL/doc_kind/``), if any."""
    p = Path(model_dir) / subdir
    return DocKindClassifier(p) if (p / CONFIG_FILE).exists() else None
