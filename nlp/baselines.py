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

from .schema import Document
from .text import chrome_rule, match_heading_marker
from .weak import DUTY_CUES, PLANS_CUES, PROBLEMS_CUES

_MEASURES_CUES = re.compile(r"全年|累计|共(计|办理|开展|审查|受理|组织)|完成|开展|组织|印发|制定|出台|办理|办结|建立|健全|推行|"
                            r"落实|实现|获评|荣获|修订|审查|培训|举办|设立|率达|同比")
_OTHER_CUES = re.compile(r"^(.{0,30}(报告|通知|意见|方案)|.{0,12}[:：]|\d{4}年\d{1,2}月\d{1,2}日|.{2,20}(人民政府|办公室|局))$|"
                         r"现将.{0,30}(报告|通知)如下|特此报告")


def rules_label(text: str) -> tuple[str, str]:
    """Label one sentence from its own words (the ``rules`` baseline)."""
    t = text.strip()
    if chrome_rule(t) or _OTHER_CUES.search(t):
        return "other", "cue:other"
    if PROBLEMS_CUES.search(t) and re.search(r"问题|不足|有待|短板|差距|薄弱|不够|不到位", t):
        return "problems", "cue:problems"
    if PLANS_CUES.search(t):
        return "plans", "cue:plans"
    if DUTY_CUES.search(t):
        return "duty", "cue:duty"
    if _MEASURES_CUES.search(t) or re.search(r"\d", t) or match_heading_marker(t):
        return "measures", "cue:measures"
    return "other", "no cue"


class RulesLabeller:
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


class TfidfLabeller:
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

