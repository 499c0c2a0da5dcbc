"""The entity rules against the team's hand-labelled training paragraphs
(eval/hand/train_entities.jsonl, text joined from ../shared/data at run time): strict F1 per type
and every disagreement (MISS: a hand span the rules do not give; FALSE: a rule span the hand
labels do not have). A view of where the rules fail beyond dev, on data a model may train on.

    python eval/rules_vs_hand_entities.py [--keys FILE] [--show]
"""

from __future__ import annotations

import argparse
from collections import Counter


def main() -> None:
    from nlp.extract import extract
    from nlp.schema import ENTITY_TYPES
    from nlp.training.hand_entities import load_hand_entities

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hand", default="eval/hand/train_entities.jsonl")
    ap.add_argument("--data", default="../shared/data")
    ap.add_argument("--keys", help="only these paragraphs (a file of doc|para lines)")
    ap.add_argument("--show", action="store_true", help="list every disagreement")
    args = ap.parse_args()
    only = set(open(args.keys, encoding="utf-8").read().split()) if args.keys else None
    tp, n_pred, n_gold = Counter(), Counter(), Counter()
    diffs = []
    h = load_hand_entities(args.hand, args.data)
    paras = [p for p in h.paragraphs if only is None or f"{p.doc}|{p.para}" in only]
    for p in paras:
        gold = set(p.spans)
        rules = {(e.start, e.end, e.type) for e in extract(p.text, first_paragraph=p.para == 0)}
        for x in gold:
            n_gold[x[2]] += 1
        for x in rules:
            n_pred[x[2]] += 1
            tp[x[2]] += x in gold
        diffs += [("MISS", x, p) for x in gold - rules] + [("FALSE", x, p) for x in rules - gold]

    def f1(t, pr, go):
        return 2 * t / (pr + go) if pr + go else 0.0

    print(f"{len(paras)} hand-labelled paragraphs; rules strict micro-F1 "
          f"{f1(sum(tp.values()), sum(n_pred.values()), sum(n_gold.values())):.3f}")
    for t in ENTITY_TYPES:
        print(f"  {t}: F1 {f1(tp[t], n_pred[t], n_gold[t]):.3f} ({n_gold[t]} hand spans, {n_pred[t]} rule spans)")
    if args.show:
        for kind, (a, b, t), p in sorted(diffs, key=lambda d: (d[1][2], d[0], d[2].doc, d[2].para)):
            print(f"{kind}\t{t}\t{p.text[a:b]}\t…{p.text[max(0, a - 8):b + 8]}…\t{p.doc}|{p.para}")


if __name__ == "__main__":
    main()
