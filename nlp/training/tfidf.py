"""Train the TF-IDF + logistic-regression baseline on weak labels; saved without pickle."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np

from ..schema import LABELS
from .data import weak_gwr_sentences, weak_sentences


def full_coefficients(clf, n_features: int) -> tuple[np.ndarray, np.ndarray]:
    """A fitted logistic regression as a softmax over every label of ``LABELS`` (its classes are
    label indices): a label absent from the training data is never chosen; with two classes the
    second's logit is the binary decision function and the first's is 0, so the softmax is its sigmoid."""
    coef = np.zeros((len(LABELS), n_features), dtype=np.float32)
    intercept = np.full((len(LABELS),), -1e4, dtype=np.float32)
    if len(clf.classes_) == 2:
        coef[clf.classes_[0]], intercept[clf.classes_[0]] = 0.0, 0.0
        coef[clf.classes_[1]], intercept[clf.classes_[1]] = clf.coef_[0], clf.intercept_[0]
        return coef, intercept
    for row, cls in enumerate(clf.classes_):
        coef[cls], intercept[cls] = clf.coef_[row], clf.intercept_[row]
    return coef, intercept


def save_tfidf_logreg(out: Path, vec, coef: np.ndarray, intercept: np.ndarray) -> None:
    """Write a fitted char TF-IDF vectoriser and linear weights without pickle: ``vocab.json``
    and ``model.safetensors`` (idf, coef, intercept); ``nlp.baselines.load_tfidf_logreg`` reads them."""
    from safetensors.numpy import save_file

    out.mkdir(parents=True, exist_ok=True)
    vocab = {k: int(v) for k, v in vec.vocabulary_.items()}
    (out / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
    save_file({"idf": vec.idf_.astype(np.float64), "coef": np.ascontiguousarray(coef, dtype=np.float32),
               "intercept": np.ascontiguousarray(intercept, dtype=np.float32)}, str(out / "model.safetensors"))


def train_tfidf(reports_path: str | Path, output: str | Path, *, corpus_dir: str | Path | None = None,
                ngram_range=(1, 3), max_features: int = 30000, c: float = 4.0, seed: int = 0) -> dict:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    data = weak_sentences(reports_path, "train")
    sources = [f"{Path(reports_path).name} split=train"]
    if corpus_dir is not None and (Path(corpus_dir) / "gov_work_reports.txt.gz").exists():
        data += weak_gwr_sentences(corpus_dir)
        sources.append("corpus/gov_work_reports.txt.gz (1990 on)")
    texts = [d.text for d in data]
    y = [LABELS.index(d.label) for d in data]
    vec = TfidfVectorizer(analyzer="char", ngram_range=ngram_range, min_df=2, max_features=max_features,
                          sublinear_tf=True, lowercase=False)
    x = vec.fit_transform(texts)
    clf = LogisticRegression(C=c, max_iter=3000, class_weight="balanced", random_state=seed)
    clf.fit(x, y)
    coef, intercept = full_coefficients(clf, x.shape[1])
    out = Path(output)
    save_tfidf_logreg(out, vec, coef, intercept)
    counts = Counter(d.label for d in data)
    cfg = {"type": "tfidf-logreg", "labels": list(LABELS), "ngram_range": list(ngram_range),
           "sublinear_tf": True, "max_features": max_features, "C": c, "seed": seed,
           "train_sentences": len(data), "train_label_counts": dict(counts),
           "train_data": " + ".join(sources) + ", weak labels from nlp.weak"}
    (out / "tfidf_config.json").write_text(json.dumps(cfg, ensure_ascii=False, indent=1), encoding="utf-8")
    (out / "README.md").write_text(_card(cfg), encoding="utf-8")
    return cfg


def _card(cfg: dict) -> str:
    counts = ", ".join(f"{k} {v}" for k, v in sorted(cfg["train_label_counts"].items()))
    return f"""# TF-IDF + logistic regression baseline

Character {cfg['ngram_range'][0]}–{cfg['ngram_range'][1]}-gram TF-IDF (sublinear tf, at most
{cfg['max_features']} features) and a class-balanced logistic regression (C={cfg['C']}), trained on
weak labels (`nlp.weak`: section headings; document kind for plan documents and government
work reports) of {cfg['train_data'].split(', weak')[0]} ({cfg['train_sentences']} sentences: {counts}).
Labels each sentence alone.

Stored without pickle: `vocab.json`, `tfidf_config.json`, `model.safetensors` (idf, coef, intercept).

Made by:

    nlp train classify --baseline tfidf --output models/tfidf-baseline

Scores: see the baselines table in the project README (`make baselines`).
"""
