"""Baseline sentence labellers for the evaluation harness (inference only).

- ``rules``: content cues on each sentence alone, no document structure.
- ``tfidf``: character n-gram TF-IDF + logistic regression, trained on weak labels by
  ``nlp train classify --baseline tfidf``; stored as JSON + safetensors (no pickle).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np

from .rules.cues import ALONE_RULES
from .rules.chrome import chrome_reason
from .components.base import SentenceLabeller
from .schema import Document
from .text import match_heading_marker

_ALONE_MEASURES = next(r for r in ALONE_RULES if r.name == "alone:measures")


def rules_label(text: str) -> tuple[str, str]:
    """Label one sentence from its own words (the ``rules`` baseline): (label, rule name)."""
    t = text.strip()
    chrome = chrome_reason(t)
    if chrome:
        return "other", chrome
    for rule in ALONE_RULES:
        # a measures sentence also shows itself by a digit or a heading enumerator
        if rule.matches(t) or rule is _ALONE_MEASURES and (re.search(r"\d", t) or match_heading_marker(t)):
            return rule.label, rule.name
    raise AssertionError("the last alone rule matches every sentence")


class RulesLabeller(SentenceLabeller):
    name = "rules"

    def label(self, doc: Document) -> None:
        for s in doc.sentences:
            s.label, s.reason = rules_label(s.text)
            s.label_source = self.name

    def label_alone(self, texts: list[str]) -> list[str]:
        return [rules_label(t)[0] for t in texts]


def load_tfidf_logreg(path: Path, config_name: str) -> tuple[dict[str, Any], Any, np.ndarray, np.ndarray]:
    """(config, fitted TfidfVectorizer, coef, intercept) from a directory holding
    ``config_name``, ``vocab.json`` and ``model.safetensors`` (idf, coef, intercept)."""
    from safetensors.numpy import load_file
    from sklearn.feature_extraction.text import TfidfVectorizer

    cfg = json.loads((path / config_name).read_text(encoding="utf-8"))
    vocab = json.loads((path / "vocab.json").read_text(encoding="utf-8"))
    arrays = load_file(str(path / "model.safetensors"))
    vec = TfidfVectorizer(analyzer="char", ngram_range=tuple(cfg["ngram_range"]), vocabulary=vocab,
                          sublinear_tf=cfg["sublinear_tf"], lowercase=False)
    vec.idf_ = arrays["idf"]
    return cfg, vec, arrays["coef"], arrays["intercept"]


def softmax_scores(vec: Any, coef: np.ndarray, intercept: np.ndarray, texts: list[str]) -> np.ndarray:
    z = np.asarray(vec.transform(texts) @ coef.T) + intercept
    z -= z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


class TfidfLabeller(SentenceLabeller):
    """Char n-gram TF-IDF + logistic regression, loaded from a directory written by
    ``nlp.training.tfidf.train_tfidf``."""

    def __init__(self, path: str | Path):
        p = Path(path)
        if not (p / "tfidf_config.json").exists():
            raise OSError(f"{p}: not a TF-IDF baseline directory (no tfidf_config.json); "
                          f"make one with `nlp train classify --baseline tfidf --output {p}`")
        cfg, self.vectorizer, self.coef, self.intercept = load_tfidf_logreg(p, "tfidf_config.json")
        self.labels: list[str] = cfg["labels"]
        self.name = f"tfidf:{p.name}"

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        return softmax_scores(self.vectorizer, self.coef, self.intercept, texts)

    def label_alone(self, texts: list[str]) -> list[str]:
        if not texts:
            return []
        return [self.labels[i] for i in self.predict_proba(texts).argmax(axis=1)]

    def label(self, doc: Document) -> None:
        labs = self.label_alone([s.text for s in doc.sentences])
        for s, lab in zip(doc.sentences, labs):
            s.label, s.label_source, s.reason = lab, self.name, "tfidf"

