"""Sentence errors of a labeller by document kind (`kind` of reports.jsonl: report, plans,
problems, mixed; documents not in it, such as the sample report, count as `other sources`).

    nlp eval ../shared/data/gold/dev.jsonl --json m.json
    python eval/errors_by_kind.py m.json [--gold ../shared/data/gold/dev.jsonl] [--reports ../shared/data/reports.jsonl]
"""

from __future__ import annotations

import argparse
import json
from collections import Counter


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
    errors, total = Counter(), Counter()
    for doc, labels in zip(docs, pred):
        gold = [s["label"] for p in doc.paragraphs for s in p.sentences]
        k = kinds.get(doc.doc_id, "other sources")
        errors[k] += sum(a != b for a, b in zip(gold, labels))
        total[k] += len(gold)
    print("| kind | documents | sentences | errors | share wrong |\n|---|---|---|---|---|")
    ndocs = Counter(kinds.get(d.doc_id, "other sources") for d in docs)
    for k in sorted(total, key=lambda k: -errors[k] / total[k]):
        print(f"| {k} | {ndocs[k]} | {total[k]} | {errors[k]} | {errors[k] / total[k]:.0%} |")


if __name__ == "__main__":
    main()
