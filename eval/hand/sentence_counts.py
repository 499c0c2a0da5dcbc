"""Hand-labelled training sentences per kind of document and label (the table in eval/README.md).

    python eval/hand/sentence_counts.py [eval/hand/train_sentences.jsonl]
"""

from __future__ import annotations

import json
import sys
from collections import Counter, defaultdict
from pathlib import Path

LABELS = ("duty", "measures", "problems", "plans", "other")


def kind(r: dict) -> str:
    if r["source"] == "corpus":
        return "government work reports (corpus excerpts)"
    return "plan documents" if r["doc"].startswith("pp-") else "reports"


def main() -> None:
    path = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).resolve().parent / "train_sentences.jsonl")
    recs = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    table: dict[str, Counter] = defaultdict(Counter)
    for r in recs:
        table[kind(r)][r["label"]] += 1
        table["all"][r["label"]] += 1
    docs = {k: len({r.get("doc") for r in recs if kind(r) == k}) for k in ("reports", "plan documents")}
    print("| kind | sentences | " + " | ".join(LABELS) + " |")
    print("|---|---|" + "---|" * len(LABELS))
    for k in ("reports", "plan documents", "government work reports (corpus excerpts)", "all"):
        c = table[k]
        name = f"{k} ({docs[k]})" if k in docs else k
        print(f"| {name} | {sum(c.values()):,} | " + " | ".join(f"{c[lab]:,}" for lab in LABELS) + " |")


if __name__ == "__main__":
    main()
