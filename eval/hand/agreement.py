"""Agreement of the second labelling pass with the hand labels it re-labelled.

    python eval/hand/agreement.py [--second eval/hand/second_pass_sentences.jsonl]

Both files are standoff (no text); records are matched by where they are (report document and
paragraph, or corpus line, and offsets). The hand-label file holds the adjudicated labels, so a
disagreement decided for the second pass counts as agreement here.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

from sklearn.metrics import cohen_kappa_score, f1_score

HERE = Path(__file__).resolve().parent


def key(r: dict) -> tuple:
    return (r["source"], r.get("doc"), r.get("file"), r.get("line"), r.get("para"), r["start"], r["end"])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hand", type=Path, default=HERE / "train_sentences.jsonl")
    ap.add_argument("--second", type=Path, default=HERE / "second_pass_sentences.jsonl")
    a = ap.parse_args()
    first = {key(r): r["label"] for r in map(json.loads, a.hand.read_text(encoding="utf-8").splitlines()) if r}
    second = [json.loads(line) for line in a.second.read_text(encoding="utf-8").splitlines() if line.strip()]
    pairs = [(first[key(r)], r["label"]) for r in second if key(r) in first]
    x, y = [p[0] for p in pairs], [p[1] for p in pairs]
    print(f"{len(pairs)} of {len(second)} second-pass sentences matched; raw agreement "
          f"{sum(p == q for p, q in pairs) / len(pairs):.3f}, Cohen's kappa {cohen_kappa_score(x, y):.3f}, "
          f"macro-F1 {f1_score(x, y, average='macro'):.3f}")
    print("disagreements (hand label, second pass):", dict(Counter((p, q) for p, q in pairs if p != q)))


if __name__ == "__main__":
    main()
