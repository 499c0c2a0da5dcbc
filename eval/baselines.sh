#!/usr/bin/env bash
# The dev scores of the shipped default BERT and the three baselines (README table): one command, `make baselines`.
set -euo pipefail
cd "$(dirname "$0")/.."
NLP=${NLP:-.venv/bin/nlp}
GOLD=${GOLD:-../shared/data/gold/dev.jsonl}
OUT=${OUT:-eval/reports}
mkdir -p "$OUT"
"$NLP" eval "$GOLD" --model models/classifier-small --json "$OUT/bert.json" --md "$OUT/bert.md" --bootstrap 1000 > /dev/null
for lab in headings rules tfidf; do
  "$NLP" eval "$GOLD" --labeller "$lab" --json "$OUT/$lab.json" --md "$OUT/$lab.md" --bootstrap 1000 > /dev/null
done
"$NLP" eval --compare "$OUT/bert.json" "$OUT/headings.json" "$OUT/rules.json" "$OUT/tfidf.json" --md "$OUT/baselines.md"
python3 - "$OUT" <<'PY'
import json, sys
out = sys.argv[1]
print("| labeller | sentence macro-F1 in context [95% CI] | sentence alone | accuracy | problems F1 | plans F1 | entity strict micro-F1 |")
print("|---|---|---|---|---|---|---|")
for lab in ("bert", "headings", "rules", "tfidf"):
    m = json.load(open(f"{out}/{lab}.json"))
    s, b = m["classification"]["sentence"], m["bootstrap"]["sentence_macro_f1"]
    print(f"| {lab} | {s['macro_f1']:.3f} [{b['low']:.3f}, {b['high']:.3f}] | {m['classification']['sentence_alone']['macro_f1']:.3f} | "
          f"{s['accuracy']:.3f} | {s['per_label']['problems']['f1']:.3f} | {s['per_label']['plans']['f1']:.3f} | "
          f"{m['entities']['strict']['micro_f1']:.3f} |")
PY
