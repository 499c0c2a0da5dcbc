"""Does another feature set make the sentence-alone TF-IDF model (``MODEL/alone/``) better?
Document-grouped 5-fold cross-validation over the hand-labelled training sentences
(``eval/hand/train_sentences.jsonl``), macro-F1 and accuracy, for the shipped recipe (character
1–3-grams, class-balanced logistic regression, C = 16) and variants: longer character n-grams,
no class weights, and jieba word 1–2-grams added. Dev is not read.

    python eval/alone_variants.py [--hand FILE] [--data ../shared/data]
    python eval/alone_variants.py --distill models/classifier-small

With ``--distill MODEL``, the shipped recipe is trained on the hand labels plus the in-context labels
that MODEL gives every other sentence of the ``split: train`` reports and the corpus work reports,
at sample weights 0.1, 0.3 and 1 (distillation from the in-context model). In each fold the distilled
sentences of the held-out documents are left out, and so is every sentence a hand label covers.
Annotating those documents takes about 10 minutes on 2 CPU cores.
"""

from __future__ import annotations

import argparse
import time

import numpy as np


def main() -> None:
    from scipy.sparse import hstack
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GroupKFold

    from nlp.evaluate import classification_metrics
    from nlp.schema import LABELS
    from nlp.training.hand import load_hand_labels

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hand", default="eval/hand/train_sentences.jsonl")
    ap.add_argument("--data", default="../shared/data")
    ap.add_argument("--distill", metavar="MODEL", help="add MODEL's in-context labels of the training documents")
    args = ap.parse_args()
    sents = load_hand_labels(args.hand, args.data).sentences
    texts = [s.text for s in sents]
    y = np.array([LABELS.index(s.label) for s in sents])
    groups = [s.doc_id for s in sents]
    if args.distill:
        distill(args.distill, args.data, texts, y, groups)
        return

    def chars(lo: int, hi: int, max_features: int = 50000):
        return TfidfVectorizer(analyzer="char", ngram_range=(lo, hi), min_df=2, max_features=max_features,
                               sublinear_tf=True, lowercase=False)

    def words():
        import jieba

        jieba.setLogLevel(60)
        return TfidfVectorizer(tokenizer=jieba.lcut, token_pattern=None, ngram_range=(1, 2), min_df=2,
                               sublinear_tf=True, lowercase=False)

    variants = [
        ("char 1–3, balanced, C 16 (shipped)", lambda: [chars(1, 3)], 16.0, "balanced"),
        ("char 1–4 (100k features)", lambda: [chars(1, 4, 100000)], 16.0, "balanced"),
        ("char 2–4 (100k features)", lambda: [chars(2, 4, 100000)], 16.0, "balanced"),
        ("char 1–3, no class weights", lambda: [chars(1, 3)], 16.0, None),
        ("char 1–3 + jieba words 1–2", lambda: [chars(1, 3), words()], 16.0, "balanced"),
        ("char 1–3 + jieba words 1–2, C 4", lambda: [chars(1, 3), words()], 4.0, "balanced"),
    ]
    print(f"{len(texts)} hand-labelled sentences, {len(set(groups))} documents, 5 folds by document\n")
    print("| variant | macro-F1 | accuracy | seconds |\n|---|---|---|---|")
    for name, make, c, weights in variants:
        t = time.time()
        pred = np.zeros(len(y), dtype=int)
        for tr, te in GroupKFold(5).split(texts, groups=groups):
            vecs = make()
            x_tr = hstack([v.fit_transform([texts[i] for i in tr]) for v in vecs]).tocsr()
            x_te = hstack([v.transform([texts[i] for i in te]) for v in vecs]).tocsr()
            clf = LogisticRegression(C=c, max_iter=3000, class_weight=weights).fit(x_tr, y[tr])
            pred[te] = clf.predict(x_te)
        m = classification_metrics([LABELS[i] for i in y], [LABELS[i] for i in pred])
        print(f"| {name} | {m['macro_f1']:.4f} | {m['accuracy']:.4f} | {time.time() - t:.0f} |", flush=True)


def in_context_labels(model: str, data: str) -> list[tuple[str, str, str]]:
    """(document id, sentence, label) for every sentence of the ``split: train`` reports and the corpus
    work reports, as MODEL labels them in context."""
    from pathlib import Path

    from tqdm import tqdm

    from nlp.modeling import BertSentenceLabeller
    from nlp.text import build_document
    from nlp.training.data import gwr_documents_with_lines, load_reports

    lab = BertSentenceLabeller(model)
    docs = [(r["id"], r["text"]) for r in load_reports(Path(data) / "reports.jsonl", "train")]
    docs += [(d, text) for d, text, _ in gwr_documents_with_lines(Path(data) / "corpus", min_year=0)]
    out = []
    for k in tqdm(range(0, len(docs), 16), desc="annotating (16 documents a step)"):
        batch = [build_document(text, d) for d, text in docs[k:k + 16]]
        lab.label_many(batch)
        out += [(doc.id, s.text, s.label) for doc in batch for s in doc.sentences]
    return out


def distill(model: str, data: str, texts: list[str], y, groups: list[str]) -> None:
    """Grouped CV of the shipped recipe with MODEL's in-context labels added at several weights."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GroupKFold

    from nlp.evaluate import classification_metrics
    from nlp.schema import LABELS

    hand = set(texts)
    extra = [(d, t, lab) for d, t, lab in in_context_labels(model, data) if t not in hand and len(t.strip()) > 1]
    print(f"{len(texts)} hand-labelled sentences, {len(extra)} sentences labelled in context by {model}; "
          f"5 folds by document\n")
    print("| weight of the in-context labels | macro-F1 | accuracy | duty | measures | problems | plans | other |")
    print("|---|---|---|---|---|---|---|---|")
    for lam in (0.0, 0.1, 0.3, 1.0):
        pred = np.zeros(len(y), dtype=int)
        for tr, te in GroupKFold(5).split(texts, groups=groups):
            held = {groups[i] for i in te}
            dd = [(t, lab) for d, t, lab in extra if d not in held] if lam > 0 else []
            vec = TfidfVectorizer(analyzer="char", ngram_range=(1, 3), min_df=2, max_features=50000, sublinear_tf=True,
                                  lowercase=False)
            x = vec.fit_transform([texts[i] for i in tr] + [t for t, _ in dd])
            clf = LogisticRegression(C=16.0, max_iter=3000, class_weight="balanced")
            clf.fit(x, list(y[tr]) + [LABELS.index(lab) for _, lab in dd], sample_weight=[1.0] * len(tr) + [lam] * len(dd))
            pred[te] = clf.predict(vec.transform([texts[i] for i in te]))
        m = classification_metrics([LABELS[i] for i in y], [LABELS[i] for i in pred])
        per = " | ".join(f"{m['per_label'][lab]['f1']:.3f}" for lab in LABELS)
        print(f"| {lam:g} | {m['macro_f1']:.4f} | {m['accuracy']:.4f} | {per} |", flush=True)


if __name__ == "__main__":
    main()
