"""How good are the weak labels? Scores them against the team's hand labels.

    python eval/weak_vs_hand.py [--data ../shared/data] [--hand eval/hand/train_sentences.jsonl]

Prints sentence macro-F1 / accuracy of the heading-derived weak labels on the hand-labelled
training sentences, overall and per source (reports, plans documents, government work
reports), with the confusion matrix. Used to improve the weak-label rules (nlp.weak).
"""

from __future__ import annotations

import argparse
from collections import defaultdict
from pathlib import Path

from nlp.evaluate import classification_metrics
from nlp.schema import LABELS
from nlp.training.data import weak_gwr_sentences, weak_sentences
from nlp.training.hand import load_hand_labels


def main() -> None:
    ap = argparse.ArgumentParser()
    root = Path(__file__).resolve().parent.parent
    ap.add_argument("--data", default=str(root.parent / "shared" / "data"))
    ap.add_argument("--hand", default=str(root / "eval" / "hand" / "train_sentences.jsonl"))
    a = ap.parse_args()
    data = Path(a.data)
    hand = load_hand_labels(a.hand, data)
    weak = {(w.doc_id, w.text): w for w in weak_sentences(data / "reports.jsonl") + weak_gwr_sentences(data / "corpus")}
    groups: dict[str, tuple[list[str], list[str]]] = defaultdict(lambda: ([], []))
    for s in hand.sentences:
        w = weak[(s.doc_id, s.text)]
        for g in ("all", w.source):
            groups[g][0].append(s.label)
            groups[g][1].append(w.label)
    for g, (gold, pred) in sorted(groups.items()):
        m = classification_metrics(gold, pred)
        per = " ".join(f"{k} {v['f1']:.2f}" for k, v in m["per_label"].items() if v["support"])
        print(f"{g:14s} n={len(gold):5d} macro-F1 {m['macro_f1']:.3f} acc {m['accuracy']:.3f} | {per}")
    gold, pred = groups["all"]
    m = classification_metrics(gold, pred)
    print("confusion (rows gold, columns weak):", LABELS)
    for lab, row in zip(LABELS, m["confusion"]["matrix"]):
        print(f"  {lab:9s}", row)


if __name__ == "__main__":
    main()
