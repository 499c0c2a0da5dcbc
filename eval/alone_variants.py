"""Does another feature set make the sentence-alone TF-IDF model (``MODEL/alone/``) better?
Document-grouped 5-fold cross-validation over the hand-labelled training sentences
(``eval/hand/train_sentences.jsonl``), macro-F1 and accuracy, for the shipped recipe (character
1–3-grams, class-balanced logistic regression, C = 16) and variants: longer character n-grams,
no class weights, and jieba word 1–2-grams added. Dev is not read.

    python eval/alone_variants.py [--hand FILE] [--data ../shared/data]
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
    args = ap.parse_args()
    sents = load_hand_labels(args.hand, args.data).sentences
    texts = [s.text for s in sents]
    y = np.array([LABELS.index(s.label) for s in sents])
    groups = [s.doc_id for s in sents]

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


if __name__ == "__main__":
    main()
