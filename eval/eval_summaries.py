"""Evaluate the extractive summaries (`nlp summarize`): centrality, lead and TextRank.

1. Character-level ROUGE-1/2/L (precision, recall, F1; ``nlp.summarize.char_rouge``: letters,
   digits and CJK characters, punctuation dropped) of each method's summary of the sample
   report against the hand-written reference ``eval/summary_reference_suining-2023.md``
   (its text below the first ``## `` heading, heading lines left out). Two settings: ``k``
   sentences per part, and a character budget equal to the reference's length.
2. On the hand-labelled dev set (``../shared/data/gold/dev.jsonl``; documents rebuilt from
   the gold sentence spans, labelled by the default model): the share of selected
   sentences whose gold label is the part they were selected for, per method, and for
   centrality at several ``--min-confidence`` thresholds.

    python eval/eval_summaries.py [--k 3] [--gold GOLD.jsonl] [--json OUT.json]

Prints Markdown tables (the "Summaries" section of docs/experiments.md). When the ``rouge-chinese``
package is installed, its scores on the same characters are printed as a cross-check.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from nlp.schema import SECTION_LABELS  # noqa: E402
from nlp.summarize import METHODS, char_rouge, rouge_tokens, summarize  # noqa: E402

SAMPLE = ROOT / "examples" / "suining-2023.txt"
REFERENCE = ROOT / "eval" / "summary_reference_suining-2023.md"
THRESHOLDS = (0.0, 0.5, 0.8, 0.9, 0.95)


def reference_text(path: Path = REFERENCE) -> str:
    """The reference summary: the lines below the first ``## `` heading, headings left out."""
    lines = path.read_text(encoding="utf-8").splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith("## ")), 0)
    return "\n".join(line for line in lines[start:] if line.strip() and not line.startswith("#"))


def shared_gold() -> Path | None:
    from nlp.lexicon import shared_data_dir

    d = shared_data_dir()
    return d / "gold" / "dev.jsonl" if d is not None and (d / "gold" / "dev.jsonl").exists() else None


def md_table(rows: list[list[str]]) -> str:
    out = ["| " + " | ".join(rows[0]) + " |", "|" + "---|" * len(rows[0])]
    return "\n".join(out + ["| " + " | ".join(r) + " |" for r in rows[1:]])


def rouge_chinese_check(cand: str, ref: str) -> dict | None:
    try:
        from rouge_chinese import Rouge
    except ImportError:
        return None
    return Rouge().get_scores(" ".join(rouge_tokens(cand)), " ".join(rouge_tokens(ref)))[0]


def eval_rouge(doc, encoder, k: int, ref: str) -> tuple[list[list[str]], dict]:
    n_ref = len(ref.replace("\n", ""))
    rows = [["method", "setting", "summary chars", "ROUGE-1 P/R/F", "ROUGE-2 P/R/F", "ROUGE-L P/R/F"]]
    res: dict = {}
    checks = []
    for setting, kw in ((f"k={k}", {"k": k}), (f"budget={n_ref} chars", {"k": 20, "budget": n_ref})):
        for m in METHODS:
            s = summarize(doc, method=m, encoder=encoder if m == "centrality" else None, **kw)
            text = s.text()
            r = char_rouge(text, ref)
            res[f"{m} {setting}"] = {"chars": len(text), **r}
            rows.append([m, setting, str(len(text))] + [
                f"{r[x]['p']:.3f}/{r[x]['r']:.3f}/**{r[x]['f']:.3f}**" for x in ("rouge-1", "rouge-2", "rouge-l")])
            rc = rouge_chinese_check(text, ref)
            if rc is not None:
                checks.append(max(abs(rc["rouge-l"]["p"] - r["rouge-l"]["p"]), abs(rc["rouge-l"]["r"] - r["rouge-l"]["r"])))
    if checks:
        res["rouge_chinese_rouge_l_max_abs_diff"] = max(checks)
    return rows, res


def eval_lengths(doc, encoder, ref: str) -> tuple[list[list[str]], dict]:
    """ROUGE-L F1 of each method over summary lengths (k per part; character budgets)."""
    settings = [(f"k={k}", {"k": k}) for k in (1, 2, 3, 4, 5)] + [
        (f"budget={b}", {"k": 20, "budget": b}) for b in (300, 450, 600, 800, 1000)]
    rows = [["setting"] + list(METHODS)]
    res: dict = {}
    for name, kw in settings:
        f = {m: char_rouge(summarize(doc, method=m, encoder=encoder if m == "centrality" else None, **kw).text(),
                           ref)["rouge-l"]["f"] for m in METHODS}
        res[name] = f
        best = max(f.values())
        rows.append([name] + [(f"**{f[m]:.3f}**" if f[m] == best else f"{f[m]:.3f}") for m in METHODS])
    return rows, res


def eval_gold(gold: Path, labeller, encoder, k: int) -> tuple[list[list[str]], list[list[str]], dict]:
    from nlp.evaluate import load_gold
    from nlp.pipeline import finish_document, label_documents

    gds = load_gold(gold)
    docs = [g.to_document() for g in gds]
    label_documents(docs, labeller)
    for d in docs:
        finish_document(d, labeller)
    gold_parts = sum(1 for g, d in zip(gds, docs) for lab in SECTION_LABELS
                     if any(gl == lab and not s.is_heading for gl, s in zip(g.sentence_labels, d.sentences)))

    def run(method: str, min_conf: float) -> dict:
        hits: Counter = Counter()
        tot: Counter = Counter()
        parts = 0
        for g, d in zip(gds, docs):
            s = summarize(d, method=method, k=k, encoder=encoder if method == "centrality" else None,
                          min_confidence=min_conf)
            gl = g.sentence_labels
            for lab, sel in s.categories.items():
                parts += bool(sel)
                for x in sel:
                    tot[lab] += 1
                    hits[lab] += gl[x.sentence] == lab
        n = sum(tot.values())
        return {"precision": sum(hits.values()) / n if n else 0.0, "selected": n, "parts": parts,
                "per_part": {lab: (hits[lab] / tot[lab] if tot[lab] else None, tot[lab]) for lab in SECTION_LABELS}}

    res: dict = {"documents": len(gds), "gold_parts": gold_parts, "methods": {}, "thresholds": {}}
    rows = [["method", "selected sentences", "parts summarised", "gold label = part"]
            + [f"{lab}" for lab in SECTION_LABELS]]
    for m in METHODS:
        r = run(m, 0.5)
        res["methods"][m] = r
        rows.append([m, str(r["selected"]), f"{r['parts']} (gold: {gold_parts})", f"**{r['precision']:.3f}**"]
                    + [("–" if p is None else f"{p:.2f} ({n})") for p, n in (r["per_part"][lab] for lab in SECTION_LABELS)])
    trows = [["--min-confidence", "selected sentences", "parts summarised", "gold label = part"]]
    for t in THRESHOLDS:
        r = run("centrality", t)
        res["thresholds"][str(t)] = r
        trows.append([f"{t:g}", str(r["selected"]), str(r["parts"]), f"{r['precision']:.3f}"])
    return rows, trows, res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--k", type=int, default=3)
    ap.add_argument("--gold", type=Path, default=None, help="default: ../shared/data/gold/dev.jsonl")
    ap.add_argument("--json", type=Path, default=None)
    a = ap.parse_args()

    from nlp.pipeline import annotate_file, default_labeller
    from nlp.summarize import load_encoder

    t0 = time.time()
    lab = default_labeller()
    enc = load_encoder(labeller=lab)
    ref = reference_text()
    doc = annotate_file(SAMPLE, lab)
    out: dict = {"labeller": lab.name, "encoder": enc.name, "k": a.k,
                 "reference_chars": len(ref.replace("\n", "")), "reference_content_chars": len(rouge_tokens(ref))}
    rows, out["rouge"] = eval_rouge(doc, enc, a.k, ref)
    print(f"### ROUGE (characters) on the sample report against `{REFERENCE.relative_to(ROOT)}` "
          f"({out['reference_content_chars']} content characters)\n")
    print(md_table(rows))
    if "rouge_chinese_rouge_l_max_abs_diff" in out["rouge"]:
        print(f"\n`rouge-chinese` on the same characters gives the same ROUGE-L precision and recall (largest difference "
              f"{out['rouge']['rouge_chinese_rouge_l_max_abs_diff']:.1e}); its ROUGE-1/2 count distinct n-grams (sets), "
              "these count n-grams with clipping as the original ROUGE does.")
    rows, out["rouge_l_by_length"] = eval_lengths(doc, enc, ref)
    print("\n### ROUGE-L F1 over summary lengths (best in bold)\n")
    print(md_table(rows))
    gold = a.gold or shared_gold()
    if gold is None or not gold.exists():
        print("\n(dev gold not found: ../shared/data/gold/dev.jsonl is read at run time; set GOVREPORT_DATA)")
    else:
        rows, trows, out["gold"] = eval_gold(gold, lab, enc, a.k)
        print(f"\n### Gold label of the selected sentences on `{gold.name}` ({out['gold']['documents']} documents; "
              f"k={a.k}, --min-confidence 0.5; per part: share (selected))\n")
        print(md_table(rows))
        print("\n### Centrality: label precision against coverage\n")
        print(md_table(trows))
    print(f"\n({lab.name}; embeddings {enc.name}; {time.time() - t0:.0f} s)")
    if a.json:
        a.json.write_text(json.dumps(out, ensure_ascii=False, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
