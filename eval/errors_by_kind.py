"""Sentence errors and macro-F1 of a labeller by document kind (`kind` of reports.jsonl: report,
plans, problems, mixed; other documents by the gold's `source`: `gwr` a government work report of
the corpus, `seed` the sample report). Macro-F1 is over the labels the kind's gold holds.

    nlp eval ../shared/data/gold/dev.jsonl --json m.json
    python eval/errors_by_kind.py m.json [--gold ../shared/data/gold/dev.jsonl] [--reports ../shared/data/reports.jsonl]
"""

from __future__ import annotations

import argparse
import json
from collections import Counter, defaultdict


def main() -> None:
    from nlp.evaluate import load_gold

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("metrics", help="metrics JSON written by `nlp eval --json` (it keeps the predictions)")
    ap.add_argument("--gold", default="../shared/data/gold/dev.jsonl")
    ap.add_argument("--reports", default="../shared/data/reports.jsonl")
    args = ap.parse_args()
    kinds = {}
    with open(args.reports, encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            kinds[r["id"]] = r["kind"]
    pred = json.load(open(args.metrics, encoding="utf-8"))["predictions"]["context"]
    docs = load_gold(args.gold)
    if len(docs) != len(pred):
        raise SystemExit(f"{args.metrics}: {len(pred)} documents of predictions, {args.gold} has {len(docs)}")
    from sklearn.metrics import f1_score

    def kind(doc) -> str:
        return kinds.get(doc.doc_id) or getattr(doc, "source", None) or "other sources"

    errors, total = Counter(), Counter()
    gold_by, pred_by = defaultdict(list), defaultdict(list)
    for doc, labels in zip(docs, pred):
        gold = [s["label"] for p in doc.paragraphs for s in p.sentences]
        k = kind(doc)
        errors[k] += sum(a != b for a, b in zip(gold, labels))
        total[k] += len(gold)
        gold_by[k] += gold
        pred_by[k] += list(labels)
    print("| kind | documents | sentences | errors | share wrong | macro-F1 (labels present) |\n|---|---|---|---|---|---|")
    ndocs = Counter(kind(d) for d in docs)
    for k in sorted(total, key=lambda k: -errors[k] / total[k]):
        f1 = f1_score(gold_by[k], pred_by[k], labels=sorted(set(gold_by[k])), average="macro", zero_division=0)
        print(f"| {k} | {ndocs[k]} | {total[k]} | {errors[k]} | {errors[k] / total[k]:.0%} | {f1:.3f} |")


if __name__ == "__main__":
    main()
