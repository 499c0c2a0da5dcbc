"""The second stage of a classifier's decoding (``MODEL/stack/``): a logistic regression that
revises the decoded label of each sentence from what the decoder already knows.

The decoder (heading prior, cues, order-aware Viterbi; ``decoding.json``) weighs the classifier's
probabilities by rules whose weights are few and hand-set. The stack learns, from hand labels the
classifier never saw, how much to trust each signal where they disagree: the sentence's probabilities
in context and its neighbours', the decoded label, the mandated section heading above it, the
document's plan probability, its relative position, and the sentence-alone TF-IDF model's
probabilities (``MODEL/alone/``). It is trained by ``nlp train stack`` (``nlp.training.stack``).

Two limits keep it where it has evidence. It never moves a sentence to or from a *frozen* label:
by default ``problems`` and ``plans`` (``FROZEN``), because the hand labels it is trained on hold
few problems sentences and no plan or problem document, so those decisions (the problems cue, the
plan-document rule) stay the decoder's; ``nlp train stack --freeze`` sets them, and the stack's
config records them. Sentences a rule fixed (page chrome, the document's own title) are not revised.
Stored without pickle: ``stack_config.json`` and ``model.safetensors`` (coef, intercept).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

STACK_DIR = "stack"
CONFIG = "stack_config.json"
FROZEN = ("problems", "plans")  # the default; a stack keeps its own in stack_config.json
# per label block: p in context, decoded one-hot, mandated heading one-hot, previous and next
# sentence's p in context, TF-IDF alone; then p(plan document) and relative position
FEATURE_BLOCKS = ("log_p_context", "decoded", "mandated_heading", "log_p_previous", "log_p_next", "log_p_tfidf")


def sentence_features(log_p: np.ndarray, decoded: Sequence[int], heading: Sequence[int | None],
                      log_p_tfidf: np.ndarray, p_plan: float) -> np.ndarray:
    """The stack's features for the sentences of one document (rows in document order).

    ``log_p``: the classifier's log-probabilities in context (n × labels); ``decoded``: the label
    index the decoder chose; ``heading``: the label index of the mandated section heading a sentence
    stands under (None: none); ``log_p_tfidf``: the sentence-alone TF-IDF model's log-probabilities,
    columns in the same label order; ``p_plan``: the document's plan probability (0 without a
    document-kind model)."""
    n, k = log_p.shape
    eye = np.eye(k, dtype=np.float64)
    zeros = np.zeros((1, k))
    prev = np.vstack([zeros, log_p[:-1]]) if n else log_p
    nxt = np.vstack([log_p[1:], zeros]) if n else log_p
    dec = eye[np.asarray(decoded, dtype=int)] if n else np.zeros((0, k))
    head = np.array([eye[h] if h is not None else np.zeros(k) for h in heading]).reshape(n, k)
    pos = (np.arange(n) / max(n - 1, 1)).reshape(n, 1)
    return np.hstack([log_p, dec, head, prev, nxt, log_p_tfidf, np.full((n, 1), float(p_plan)), pos])


def n_features(n_labels: int) -> int:
    return len(FEATURE_BLOCKS) * n_labels + 2


@dataclass
class StackModel:
    """A fitted multinomial logistic regression over ``sentence_features`` (columns: ``labels``);
    ``frozen``: the labels it never moves a sentence to or from."""

    labels: list[str]
    coef: np.ndarray
    intercept: np.ndarray
    config: dict
    frozen: tuple[str, ...] = FROZEN

    def revise(self, features: np.ndarray, decoded: Sequence[int], fixed: Sequence[bool]) -> list[int]:
        """The revised label index of each sentence: the stack's best label other than a frozen
        one, except where the decoder chose a frozen label or a rule fixed the sentence (``fixed``)."""
        if not len(decoded):
            return []
        z = features @ self.coef.T + self.intercept
        frozen = [self.labels.index(lab) for lab in self.frozen if lab in self.labels]
        z[:, frozen] = -np.inf
        best = z.argmax(axis=1)
        return [int(d) if f or int(d) in frozen else int(b) for d, b, f in zip(decoded, best, fixed)]

    def save(self, out: str | Path) -> None:
        from safetensors.numpy import save_file

        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        save_file({"coef": np.ascontiguousarray(self.coef, dtype=np.float32),
                   "intercept": np.ascontiguousarray(self.intercept, dtype=np.float32)}, str(out / "model.safetensors"))
        cfg = dict(self.config, labels=list(self.labels), feature_blocks=list(FEATURE_BLOCKS), frozen=list(self.frozen))
        (out / CONFIG).write_text(json.dumps(cfg, ensure_ascii=False, indent=1), encoding="utf-8")


def load_stack(model_dir: str | Path, labels: Sequence[str] | None = None) -> StackModel | None:
    """``MODEL/stack/`` of a classifier directory, or None where it has none. ``labels``: the
    classifier's label order, which the stack's must equal."""
    from safetensors.numpy import load_file

    d = Path(model_dir) / STACK_DIR
    if not (d / CONFIG).exists():
        return None
    cfg = json.loads((d / CONFIG).read_text(encoding="utf-8"))
    arrays = load_file(str(d / "model.safetensors"))
    m = StackModel(list(cfg["labels"]), arrays["coef"].astype(np.float64), arrays["intercept"].astype(np.float64), cfg,
                   tuple(cfg.get("frozen", ("problems",))))  # stacks saved before the setting froze problems only
    if not set(m.frozen) <= set(m.labels):
        raise OSError(f"{d}: frozen labels {list(m.frozen)} are not among the stack's labels {m.labels}")
    if labels is not None and list(labels) != m.labels:
        raise OSError(f"{d}: stack labels {m.labels} are not the classifier's {list(labels)}")
    if list(cfg.get("feature_blocks", [])) != list(FEATURE_BLOCKS) or m.coef.shape != (len(m.labels), n_features(len(m.labels))):
        raise OSError(f"{d}: stack features {cfg.get('feature_blocks')} / {m.coef.shape} are not this version's "
                      f"{list(FEATURE_BLOCKS)}; retrain it with `nlp train stack`")
    return m
