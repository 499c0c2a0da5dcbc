"""The sentence-alone path of a classifier: its BERT read without context, combined with a
character TF-IDF model trained on hand-labelled sentences (``MODEL/alone/``).

Without a document the classifier sees a sentence only; a linear model over character n-grams,
trained on the team's hand labels, knows the wording of each category well where BERT without
context is unsure. The two are combined by a weighted geometric mean of their probabilities,
``(1 − w)·log p_bert + w·log p_tfidf``, with ``w`` chosen on documents neither model was
trained on (``nlp.training.alone``). Stored without pickle, like the TF-IDF baseline.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

ALONE_DIR = "alone"
CONFIG = "alone_config.json"


@dataclass
class AloneModel:
    """A fitted char TF-IDF + logistic regression and its weight in the combination."""

    labels: list[str]
    weight: float
    vectorizer: Any
    coef: np.ndarray
    intercept: np.ndarray
    config: dict

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        from .baselines import softmax_scores

        return softmax_scores(self.vectorizer, self.coef, self.intercept, list(texts))

    def combine(self, texts: Sequence[str], probs: np.ndarray, labels: Sequence[str]) -> np.ndarray:
        """``probs`` (the classifier's, columns in ``labels`` order) combined with this model's."""
        if not len(texts):
            return probs
        mine = self.predict_proba(texts)[:, [self.labels.index(lab) for lab in labels]]
        z = (1 - self.weight) * np.log(np.clip(probs, 1e-6, 1.0)) + self.weight * np.log(np.clip(mine, 1e-6, 1.0))
        z -= z.max(axis=1, keepdims=True)
        e = np.exp(z)
        return (e / e.sum(axis=1, keepdims=True)).astype(np.float32)


def load_alone(model_dir: str | Path) -> AloneModel | None:
    """``MODEL/alone/`` of a classifier directory, or None where it has none."""
    from .baselines import load_tfidf_logreg

    d = Path(model_dir) / ALONE_DIR
    if not (d / CONFIG).exists():
        return None
    cfg, vec, coef, intercept = load_tfidf_logreg(d, CONFIG)
    return AloneModel(list(cfg["labels"]), float(cfg["weight"]), vec, coef, intercept, cfg)

