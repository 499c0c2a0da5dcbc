"""Train the document-kind model (report or plan document) read by ``nlp.dockind``.

Training rows are the ``split: train`` documents of ``reports.jsonl`` with their ``kind``
(``report`` against everything else, which in the training split is ``plans``). Each
document is used twice, with its title in front of its text and without it, because gold
files and many scraped pages have no separate title. Five-fold cross-validation over the
training documents (both variants of a document in the same fold) is written into the
config and the model card: how many plan documents reach the threshold and how many
reports do (a report taken for a plan loses its duty section, so that count must stay 0).

    nlp train doc-kind --output models/classifier-small/doc_kind
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..dockind import CONFIG_FILE, HEAD_CHARS, KINDS, document_head
from ..io import iter_jsonl
from .tfidf import save_tfidf_logreg

DEFAULT_THRESHOLD = 0.5


def _rows(reports_path: str | Path, split: str = "train") -> list[dict]:
    rows = [r for r in iter_jsonl(reports_path) if r.get("split") == split and r.get("text")]
    if not rows:
        raise ValueError(f"{reports_path}: no rows with split {split!r} and a text")
    return rows


def _examples(rows: list[dict]) -> tuple[list[str], list[int], list[int]]:
    """(head, kind index, document index): each document with and without its title."""
    texts, ys, groups = [], [], []
    for i, r in enumerate(rows):
        y = KINDS.index("report") if r.get("kind", "report") == "report" else KINDS.index("plans")
        heads = {document_head(r["text"], r.get("title")), document_head(r["text"])}
        for h in sorted(heads):
            texts.append(h)
            ys.append(y)
            groups.append(i)
    return texts, ys, groups


def _fit(texts: list[str], ys: list[int], c: float, max_features: int, seed: int):
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    vec = TfidfVectorizer(analyzer="char", ngram_range=(1, 3), min_df=2, max_features=max_features,
                          sublinear_tf=True, lowercase=False)
    x = vec.fit_transform(texts)
    clf = LogisticRegression(C=c, max_iter=3000, class_weight="balanced", random_state=seed)
    clf.fit(x, ys)
    # a binary LogisticRegression has one row for class 1 (plans); store both rows so that
    # the softmax over [report, plans] gives the same probability
    w = clf.coef_[0]
    coef = np.stack([-w / 2, w / 2]).astype(np.float32)
    b = float(clf.intercept_[0])
    intercept = np.array([-b / 2, b / 2], dtype=np.float32)
    return vec, coef, intercept


def cross_validate(rows: list[dict], c: float, max_features: int, threshold: float, seed: int = 0,
                   folds: int = 5) -> dict:
    """Out-of-fold P(plans) of every training document, without and with its title."""
    from sklearn.model_selection import StratifiedKFold

    from ..baselines import softmax_scores
    from ..dockind import with_plan_cue

    kinds = np.array([0 if r.get("kind", "report") == "report" else 1 for r in rows])
    res = {"without_title": {"plans_hit": 0, "reports_hit": 0}, "with_title": {"plans_hit": 0, "reports_hit": 0}}
    skf = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for tr, te in skf.split(np.zeros(len(rows)), kinds):
        texts, ys, _ = _examples([rows[i] for i in tr])
        vec, coef, intercept = _fit(texts, ys, c, max_features, seed)
        for key, heads in (("without_title", [document_head(rows[i]["text"]) for i in te]),
                           ("with_title", [document_head(rows[i]["text"], rows[i].get("title")) for i in te])):
            p = with_plan_cue(heads, softmax_scores(vec, coef, intercept, heads)[:, KINDS.index("plans")])
            hit = p >= threshold
            res[key]["plans_hit"] += int((hit & (kinds[te] == 1)).sum())
            res[key]["reports_hit"] += int((hit & (kinds[te] == 0)).sum())
    res["plans"] = int(kinds.sum())
    res["reports"] = int((kinds == 0).sum())
    res["folds"] = folds
    return res


def train_doc_kind(reports_path: str | Path, output: str | Path, *, c: float = 10.0, max_features: int = 20000,
                   threshold: float = DEFAULT_THRESHOLD, seed: int = 0) -> dict:
    """Fit on all training documents, cross-validate, and write the model directory."""
    rows = _rows(reports_path)
    texts, ys, _ = _examples(rows)
    if len(set(ys)) < 2:
        raise ValueError(f"{reports_path}: the training split needs both reports and plan documents")
    cv = cross_validate(rows, c, max_features, threshold, seed)
    vec, coef, intercept = _fit(texts, ys, c, max_features, seed)
    out = Path(output)
    save_tfidf_logreg(out, vec, coef, intercept)
    cfg = {"type": "doc-kind-tfidf-logreg", "labels": list(KINDS), "ngram_range": [1, 3], "sublinear_tf": True,
           "max_features": max_features, "C": c, "seed": seed, "head_chars": HEAD_CHARS, "threshold": threshold,
           "train_documents": len(rows), "train_data": f"{Path(reports_path).name} split=train, field kind",
           "cross_validation": cv}
    (out / CONFIG_FILE).write_text(json.dumps(cfg, ensure_ascii=False, indent=1), encoding="utf-8")
    (out / "README.md").write_text(_card(cfg), encoding="utf-8")
    return cfg


def _card(cfg: dict) -> str:
    cv = cfg["cross_validation"]
    rows = "\n".join(f"| {k.replace('_', ' ')} | {cv[k]['plans_hit']} of {cv['plans']} | {cv[k]['reports_hit']} of {cv['reports']} |"
                     for k in ("without_title", "with_title"))
    return f"""# Document kind: report or plan document

Character 1–3-gram TF-IDF (sublinear tf, at most {cfg['max_features']} features) and a
class-balanced logistic regression (C={cfg['C']}) over a document's title and first
{cfg['head_chars']} characters, trained on the `kind` of the {cfg['train_documents']}
`split: train` documents of `reports.jsonl` (each with and without its title). A stated
overall requirement (总体要求是：…) also makes a document a plan (LABELING.md). The sentence
classifier's decoder treats a document with P(plan) ≥ {cfg['threshold']} as a plan document
(`plan_document_threshold` in `decoding.json`). Stored without pickle (`vocab.json`,
`{CONFIG_FILE}`, `model.safetensors`).

{cv['folds']}-fold cross-validation on the training documents, P(plan) ≥ {cfg['threshold']}:

| document head | plan documents found | reports taken for plans |
|---|---|---|
{rows}

Made by:

    nlp train doc-kind --reports ../shared/data/reports.jsonl --output DIR
"""


def summary_line(cfg: dict, output: str) -> str:
    """One line on a trained document-kind model (``train_doc_kind``'s config)."""
    cv = cfg["cross_validation"]
    return (f"trained on {cfg['train_documents']} documents; {cv['folds']}-fold CV at P ≥ {cfg['threshold']}: "
            f"plans found {cv['without_title']['plans_hit']}/{cv['plans']} (no title), "
            f"{cv['with_title']['plans_hit']}/{cv['plans']} (title); reports taken for plans "
            f"{cv['without_title']['reports_hit']}/{cv['reports']} (no title), "
            f"{cv['with_title']['reports_hit']}/{cv['reports']} (title) → {output}")
