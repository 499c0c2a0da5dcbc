"""Train the stack of a classifier (``MODEL/stack/``, read by ``nlp.stack``).

The stack is fitted on hand labels the classifier never saw: the records of the hand-label file
from ``unseen_from`` on (the labels made after the classifier was trained; the model card says
which). Trained on labels it had seen, the stack would learn to trust the classifier's confident
probabilities, which it only has on its own training sentences.

Choices, on training data only (the development gold is never read):

- each of those documents is decoded whole by the classifier's decoder (``decoding.json``), and its
  hand-labelled sentences become rows of ``nlp.stack.sentence_features``; the TF-IDF block comes
  from a sentence-alone model refitted without the document's fold (out of fold, as at inference on
  a new document);
- ``C`` by document-grouped K-fold cross-validation of the stack's revision (frozen labels and
  rule-fixed sentences as at inference), against the decoder alone on the same folds.

The stack kept is refitted on every row.

    nlp train stack --model models/classifier-small --unseen-from 2797
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..schema import LABELS

C_GRID = (0.01, 0.03, 0.1, 0.3, 1.0)


@dataclass
class StackResult:
    output: Path
    c: float
    cv: dict[float, dict]  # C → {"macro_f1", "accuracy", "per_label"} of the stack, out of fold
    decoder: dict  # the same for the decoder alone on the same sentences
    sentences: int
    documents: int


def _scores(y_true: list[str], y_pred: list[str]) -> dict:
    """Macro-F1 (``nlp.evaluate.classification_metrics``: over the labels with support or
    predictions), accuracy and per-label F1 of those labels, rounded for the config."""
    from ..evaluate import classification_metrics

    m = classification_metrics(y_true, y_pred)
    present = set(y_true) | set(y_pred)
    return {"macro_f1": round(m["macro_f1"], 4), "accuracy": round(m["accuracy"], 4),
            "per_label": {lab: round(v["f1"], 4) for lab, v in m["per_label"].items() if lab in present}}


def _fit_stack(x: np.ndarray, y: np.ndarray, labels: list[str], c: float, seed: int, frozen: tuple[str, ...]):
    from sklearn.linear_model import LogisticRegression

    from ..stack import StackModel

    clf = LogisticRegression(C=c, max_iter=5000, random_state=seed).fit(x, y)
    coef = np.zeros((len(labels), x.shape[1]))
    intercept = np.full(len(labels), -1e4)
    if len(clf.classes_) == 2:  # one row: the second class's logit against the first's 0
        coef[clf.classes_[0]], intercept[clf.classes_[0]] = 0.0, 0.0
        coef[clf.classes_[1]], intercept[clf.classes_[1]] = clf.coef_[0], clf.intercept_[0]
    else:
        for row, cls in enumerate(clf.classes_):
            coef[cls], intercept[cls] = clf.coef_[row], clf.intercept_[row]
    return StackModel(list(labels), coef, intercept, {}, tuple(frozen))


def train_stack(model_dir: str | Path, hand: str | Path, data_dir: str | Path, unseen_from: int, *, folds: int = 5,
                seed: int = 0, frozen: tuple[str, ...] | None = None, progress: bool = True) -> StackResult:
    """Fit ``MODEL/stack/`` on the hand labels from record ``unseen_from`` (1-based) on. ``frozen``: the
    labels the stack never moves a sentence to or from (default ``nlp.stack.FROZEN``)."""
    from sklearn.model_selection import GroupKFold

    from ..modeling import BertSentenceLabeller, sentence_contexts
    from ..stack import FROZEN, STACK_DIR
    from .alone import _fit as fit_alone
    from .hand import hand_label_sites, unseen_by_document

    frozen = tuple(FROZEN if frozen is None else frozen)
    unknown = [lab for lab in frozen if lab not in LABELS]
    if unknown:
        raise ValueError(f"--freeze {unknown[0]}: not a label (labels: {', '.join(LABELS)})")

    model_dir = Path(model_dir)
    lab = BertSentenceLabeller(model_dir)
    if lab.alone is None:
        raise ValueError(f"{model_dir}: no sentence-alone model (MODEL/alone/); make it first with `nlp train alone`")
    lab.stack = None  # the decoder alone
    sites, _ = hand_label_sites(hand, data_dir)
    docs, labelled = unseen_by_document(sites, unseen_from)
    if not docs:
        raise ValueError(f"{hand}: no hand label from record {unseen_from} on")
    doc_ids = sorted(docs)
    k = min(folds, len(doc_ids))
    if k < 2:
        raise ValueError(f"{hand}: the stack needs hand labels in 2 documents at least from record {unseen_from} on")
    fold_of = {}
    for f, (_, te) in enumerate(GroupKFold(k).split(doc_ids, groups=doc_ids)):
        for i in te:
            fold_of[doc_ids[i]] = f
    # the sentence-alone model of each fold: every hand label outside the fold's documents
    c_alone = float(lab.alone.config.get("C", 16.0))
    all_texts = [s.doc.sentences[s.sentence].text for s in sites]
    all_y = np.array([LABELS.index(s.label) for s in sites])
    all_doc = [s.doc.id for s in sites]
    alone_by_fold = []
    for f in range(k):
        keep = [i for i, d in enumerate(all_doc) if fold_of.get(d) != f]
        alone_by_fold.append(fit_alone([all_texts[i] for i in keep], all_y[keep], c_alone, seed))
    rows, ys, groups, decoded, fixed = [], [], [], [], []
    it = doc_ids
    if progress:
        from tqdm import tqdm

        it = tqdm(doc_ids, desc="documents")
    for doc_id in it:
        doc = docs[doc_id]
        probs = lab.predict_proba([s.text for s in doc.sentences], sentence_contexts(doc))
        d = lab.decode_steps(doc, probs, for_stack=True)
        lab.alone = alone_by_fold[fold_of[doc_id]]
        x = lab.stack_features(doc, probs, d)
        for sid, label in sorted(labelled[doc_id].items()):
            rows.append(x[sid])
            ys.append(lab.labels.index(label))
            groups.append(fold_of[doc_id])
            decoded.append(d.path[sid])
            fixed.append(d.fixed[sid])
    x, y, groups = np.array(rows), np.array(ys), np.array(groups)
    gold = [lab.labels[i] for i in y]
    decoder = _scores(gold, [lab.labels[i] for i in decoded])
    cv: dict[float, dict] = {}
    for c in C_GRID:
        pred = np.zeros(len(y), dtype=int)
        for f in range(k):
            tr, te = groups != f, groups == f
            m = _fit_stack(x[tr], y[tr], lab.labels, c, seed, frozen)
            pred[te] = m.revise(x[te], [decoded[i] for i in np.where(te)[0]], [fixed[i] for i in np.where(te)[0]])
        cv[c] = _scores(gold, [lab.labels[i] for i in pred])
        if progress:
            print(f"C={c:g}: stack {cv[c]['macro_f1']:.4f} macro-F1, {cv[c]['accuracy']:.4f} accuracy "
                  f"(decoder alone {decoder['macro_f1']:.4f}, {decoder['accuracy']:.4f})", flush=True)
    c_best = max(C_GRID, key=lambda c: (cv[c]["macro_f1"], cv[c]["accuracy"], -c))
    final = _fit_stack(x, y, lab.labels, c_best, seed, frozen)
    final.config = {"type": "stack-logreg", "C": c_best, "seed": seed, "hand_labels": str(hand),
                    "unseen_from_record": unseen_from, "train_sentences": len(y), "train_documents": len(doc_ids),
                    "train_label_counts": dict(Counter(gold)), "folds": k,
                    "cv_by_C": {str(c): v for c, v in cv.items()}, "cv_decoder_alone": decoder,
                    "frozen": list(frozen)}
    out = model_dir / STACK_DIR
    final.save(out)
    (out / "README.md").write_text(_card(final.config, model_dir), encoding="utf-8")
    return StackResult(out, c_best, cv, decoder, len(y), len(doc_ids))


def _card(cfg: dict, model_dir: Path) -> str:
    best = cfg["cv_by_C"][str(cfg["C"])]
    dec = cfg["cv_decoder_alone"]
    labs = sorted(set(best["per_label"]) | set(dec["per_label"]), key=lambda lab: LABELS.index(lab))
    table = "\n".join(f"| {lab} | {dec['per_label'].get(lab, 0):.3f} | {best['per_label'].get(lab, 0):.3f} |" for lab in labs)
    by_c = ", ".join(f"C={c} → {v['macro_f1']:.3f}" for c, v in cfg["cv_by_C"].items())
    from ..stack import FROZEN

    freeze = "" if tuple(cfg["frozen"]) == tuple(FROZEN) else "".join(f" --freeze {lab}" for lab in cfg["frozen"]) or " --freeze none"
    return f"""# Stack of {model_dir.name}

A multinomial logistic regression (C={cfg['C']:g}) that revises the decoded label of each sentence
(`nlp.stack`): features are the classifier's probabilities in context (the sentence's and its
neighbours'), the decoded label, the mandated section heading above the sentence, the document's plan
probability, the relative position and the sentence-alone TF-IDF model's probabilities. It never
moves a sentence to or from {' or '.join(f'`{lab}`' for lab in cfg['frozen']) or 'no label'} (frozen: the labels it
has too little evidence on), and leaves sentences a rule fixed (page chrome, title).

Trained on the {cfg['train_sentences']} hand labels of `{cfg['hand_labels']}` from record
{cfg['unseen_from_record']} on ({cfg['train_documents']} documents), made after the classifier
was trained; label counts {json.dumps(cfg['train_label_counts'], ensure_ascii=False)}.

Document-grouped {cfg['folds']}-fold cross-validation on them (the TF-IDF block out of fold too):
macro-F1 {by_c}. At the chosen C, against the decoder alone on the same sentences:

| label | decoder alone | with the stack |
|---|---|---|
{table}
| macro-F1 | {dec['macro_f1']:.3f} | {best['macro_f1']:.3f} |
| accuracy | {dec['accuracy']:.3f} | {best['accuracy']:.3f} |

Made by `nlp train stack --model {model_dir} --hand {cfg['hand_labels']} --unseen-from {cfg['unseen_from_record']}{freeze}`.
"""
