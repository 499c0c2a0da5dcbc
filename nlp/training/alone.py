"""Train the sentence-alone model of a classifier (``MODEL/alone/``, read by ``nlp.alone``).

A character TF-IDF + logistic regression on the hand-labelled training sentences, combined with
the classifier read without context. Choices, on training data only:

- ``C`` of the logistic regression: document-grouped K-fold cross-validation over the hand-labelled
  sentences (the TF-IDF model alone);
- the weight ``w`` of the combination: on the documents the classifier was not trained on
  (``MODEL/validation.json``, written by ``nlp train classify``), with a TF-IDF model fitted
  without them, so neither model has seen what the weight is chosen on.

The model kept is then refitted on every hand-labelled sentence. The development gold is never read.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..schema import LABELS

C_GRID = (1.0, 4.0, 16.0)
WEIGHTS = tuple(round(0.1 * i, 1) for i in range(11))


@dataclass
class AloneResult:
    output: Path
    c: float
    weight: float
    cv_macro_f1: dict[float, float]  # C → grouped-CV macro-F1 of the TF-IDF model alone
    held_out: dict[float, float]  # w → macro-F1 of the combination on the held-out documents
    held_out_sentences: int
    train_sentences: int
    label_counts: dict[str, int] = field(default_factory=dict)


def _fit(texts, labels, c: float, seed: int, weight: float = 0.0):
    """The TF-IDF model fitted on ``texts`` (an ``AloneModel`` with combination weight ``weight``)."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    from ..alone import AloneModel
    from .tfidf import full_coefficients

    vec = TfidfVectorizer(analyzer="char", ngram_range=(1, 3), min_df=2, max_features=50000, sublinear_tf=True,
                          lowercase=False)
    x = vec.fit_transform(texts)
    clf = LogisticRegression(C=c, max_iter=3000, class_weight="balanced", random_state=seed)
    clf.fit(x, labels)
    return AloneModel(list(LABELS), weight, vec, *full_coefficients(clf, x.shape[1]), config={})


def _macro(y_true, y_pred) -> float:
    from sklearn.metrics import f1_score

    return float(f1_score(y_true, y_pred, labels=sorted(set(y_true)), average="macro"))


def train_alone(model_dir: str | Path, hand: str | Path, data_dir: str | Path, *, folds: int = 5, seed: int = 0,
                progress: bool = True) -> AloneResult:
    from sklearn.model_selection import GroupKFold

    from ..alone import ALONE_DIR, CONFIG
    from ..modeling import BertSentenceLabeller
    from .hand import load_hand_labels
    from .tfidf import save_tfidf_logreg

    model_dir = Path(model_dir)
    vpath = model_dir / "validation.json"
    if not vpath.exists():
        raise ValueError(f"{model_dir}: no validation.json (the documents held out from the classifier's training, "
                         "written by nlp train classify); the combination weight is chosen on them")
    held = set(json.loads(vpath.read_text(encoding="utf-8"))["documents"])
    sents = load_hand_labels(hand, data_dir).sentences
    if not sents:
        raise ValueError(f"{hand}: no hand-labelled sentences")
    texts = [s.text for s in sents]
    y = np.array([LABELS.index(s.label) for s in sents])
    groups = [s.doc_id for s in sents]
    train_idx = np.array([i for i, g in enumerate(groups) if g not in held])
    test_idx = np.array([i for i, g in enumerate(groups) if g in held])
    if len(test_idx) == 0:
        raise ValueError(f"{vpath}: none of its documents has hand labels in {hand}")
    # C: grouped cross-validation of the TF-IDF model over the training sentences (not the held-out ones)
    cv: dict[float, float] = {}
    k = min(folds, len({groups[i] for i in train_idx}))
    for c in C_GRID:
        pred = np.zeros(len(train_idx), dtype=int)
        for tr, te in GroupKFold(k).split(train_idx, groups=[groups[i] for i in train_idx]):
            m = _fit([texts[i] for i in train_idx[tr]], y[train_idx[tr]], c, seed)
            pred[te] = m.predict_proba([texts[i] for i in train_idx[te]]).argmax(1)
        cv[c] = round(_macro(y[train_idx], pred), 4)
        if progress:
            print(f"C={c:g}: grouped {k}-fold macro-F1 of the TF-IDF model alone {cv[c]:.4f}", flush=True)
    c_best = max(C_GRID, key=lambda c: (cv[c], -c))
    # w: on the held-out documents, neither model trained on them
    lab = BertSentenceLabeller(model_dir)
    test_texts = [texts[i] for i in test_idx]
    lab.alone = None
    bert = lab.predict_proba(test_texts)
    lab.alone = _fit([texts[i] for i in train_idx], y[train_idx], c_best, seed)
    gold = [LABELS[i] for i in y[test_idx]]
    scores: dict[float, float] = {}
    for w in WEIGHTS:
        lab.alone.weight = w
        scores[w] = round(_macro(gold, lab.alone_labels(test_texts, bert)), 4)
    w_best = max(WEIGHTS, key=lambda w: (scores[w], -abs(w - 0.5)))
    if progress:
        print("weight on the held-out documents: " + ", ".join(f"{w:g} → {s:.4f}" for w, s in scores.items()), flush=True)
    final = _fit(texts, y, c_best, seed, w_best)
    out = model_dir / ALONE_DIR
    save_tfidf_logreg(out, final.vectorizer, final.coef, final.intercept)
    cfg = {"type": "tfidf-logreg", "labels": list(LABELS), "ngram_range": [1, 3], "sublinear_tf": True,
           "max_features": 50000, "C": c_best, "weight": w_best, "seed": seed, "hand_labels": str(hand),
           "train_sentences": len(texts), "train_label_counts": dict(Counter(LABELS[i] for i in y)),
           "cv_macro_f1_by_C": {str(c): v for c, v in cv.items()},
           "held_out_macro_f1_by_weight": {str(w): v for w, v in scores.items()},
           "held_out_documents": len(held), "held_out_sentences": len(test_idx)}
    (out / CONFIG).write_text(json.dumps(cfg, ensure_ascii=False, indent=1), encoding="utf-8")
    (out / "README.md").write_text(_card(cfg, model_dir), encoding="utf-8")
    return AloneResult(out, c_best, w_best, cv, scores, len(test_idx), len(texts), cfg["train_label_counts"])


def _card(cfg: dict, model_dir: Path) -> str:
    by_w = ", ".join(f"{w} → {s:.3f}" for w, s in cfg["held_out_macro_f1_by_weight"].items())
    by_c = ", ".join(f"C={c} → {s:.3f}" for c, s in cfg["cv_macro_f1_by_C"].items())
    return f"""# Sentence-alone model of {model_dir.name}

Character 1–3-gram TF-IDF and a class-balanced logistic regression (C={cfg['C']:g}) on the
{cfg['train_sentences']} hand-labelled sentences of `{cfg['hand_labels']}`, combined with the classifier
read without context: `(1 − {cfg['weight']:g})·log p_bert + {cfg['weight']:g}·log p_tfidf` (`nlp.alone`).
Used only where a sentence is labelled alone (no document around it).

- C by document-grouped cross-validation of the TF-IDF model over the hand-labelled training
  sentences: {by_c}.
- The weight on the {cfg['held_out_documents']} documents held out from the classifier's training
  ({cfg['held_out_sentences']} sentences; the TF-IDF model refitted without them): {by_w}.

Made by `nlp train alone --model {model_dir} --hand {cfg['hand_labels']}`.
"""
