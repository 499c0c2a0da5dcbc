"""Sentence errors and macro-F1 of a labeller by document kind (`kind` of reports.jsonl: report,
plans, problems, mixed; other documents by the gold's `source`: `gwr` a government work report of
the corpus, `seed` the sample report). Macro-F1 is over the labels the kind's gold holds.

    nlp eval ../shared/data/gold/dev.jsonl --json m.json
    python eval/errors_by_kind.py m.json [--gold ../shared/data/gold/dev.jsonl] [--reports ../shared/data/reports.jsonl]
    python eval/errors_by_kind.py new.json --against old.json   # also: the sentences whose label differs

With ``--against``, the sentences labelled differently by the two runs are listed (document, kind,
sentence index, gold, old, new) with a count of those fixed, broken and wrong either way.
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
    ap.add_argument("--against", help="an earlier metrics JSON of the same gold: list the sentences that changed")
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
    if args.against:
        old = json.load(open(args.against, encoding="utf-8"))["predictions"]["context"]
        if len(old) != len(pred):
            raise SystemExit(f"{args.against}: {len(old)} documents of predictions, {args.metrics} has {len(pred)}")
        fate = Counter()
        print("\n| document | kind | sentence | gold | before | now |\n|---|---|---|---|---|---|")
        for doc, before, now in zip(docs, old, pred):
            gold = [s["label"] for p in doc.paragraphs for s in p.sentences]
            for i, (g, b, n) in enumerate(zip(gold, before, now)):
                if b != n:
                    fate["fixed" if n == g else "broken" if b == g else "wrong either way"] += 1
                    print(f"| {doc.doc_id} | {kind(doc)} | {i} | {g} | {b} | {n} |")
        print(f"\n{sum(fate.values())} sentences changed: " + ", ".join(f"{v} {k}" for k, v in sorted(fate.items())))


if __name__ == "__main__":
    main()
