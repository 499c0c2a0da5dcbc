"""Labelling batches of entity paragraphs that are hard for the rules (the second entity batch
of eval/hand/train_entities.jsonl was chosen this way).

From the `split: train` documents without hand entity labels yet, paragraphs of at most 700
characters with at least one signal: an unbracketed title after a verb (印发/制定/贯彻…
…方案/办法/条例/清单/的通知), a plan period in parentheses ((2023—2025年)), a damaged or odd
document number, a bare year, a 《》 title with a nested title inside. Every paragraph with a
rarer signal is kept (up to 200), the rest are filled with title ones, 440 in all, dealt into
batch files; each paragraph line (`doc|para TAB text`) is followed by the rule spans to correct.
Labellers write back `doc|para TAB TYPE TAB span TAB n` (nlp.training.hand_entities.read_entity_tsv).

    python eval/hand/entity_batches.py --out DIR [--data ../shared/data] [--n 440] [--batches 4]
"""

from __future__ import annotations

import argparse
import json
import random
import re
from collections import Counter
from pathlib import Path

from nlp.extract import extract
from nlp.text import build_document
from nlp.training.data import load_reports

BRACKETED = re.compile(r"《[^《》]*》")
SIGNALS = {
    "title": re.compile(r"(印发|出台|制定|修订|修改|贯彻|落实|实施|执行|根据|按照|依据|依照|学习|宣传|起草|审议|通过|发布|编制)(了)?"
                        r"[\u4e00-\u9fa5“”\d（）()—\-]{4,45}(实施方案|工作方案|行动方案|工作要点|实施意见|实施细则|办法|条例|规定|清单|规划|纲要|计划"
                        r"|的通知|的意见|的决定|法)"),
    "period": re.compile(r"[(（]20\d\d\s*[—\-–～~至]+\s*20\d\d年?[)）]"),
    "docno": re.compile(r"〔20\d\d[^〕]|[\[(（【]20\d\d[\]）)】]\s*\d+号|令.{0,6}第\d+号|\d{5,}号"),
    "bareyear": re.compile(r"(?<!\d)20\d\d(?![年\d\-./〕\]）)】])"),
    "nested": re.compile(r"《[^》]*[〈<“][^》]*》"),
}
WHOLE_TEXT = ("period", "docno", "nested")  # the others look outside 《》 only


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--data", default="../shared/data")
    ap.add_argument("--hand", default="eval/hand/train_entities.jsonl")
    ap.add_argument("--n", type=int, default=440)
    ap.add_argument("--batches", type=int, default=4)
    ap.add_argument("--seed", type=int, default=8)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    done = {json.loads(line)["doc"] for line in open(args.hand, encoding="utf-8")}
    rows = [r for r in load_reports(Path(args.data) / "reports.jsonl", "train") if r["id"] not in done]
    cands = []
    for r in rows:
        for pi, p in enumerate(build_document(r["text"], r["id"]).paragraphs):
            outside = BRACKETED.sub("", p.text)
            sig = [k for k, rx in SIGNALS.items() if rx.search(p.text if k in WHOLE_TEXT else outside)]
            if sig and len(p.text) <= 700:
                cands.append((r["id"], pi, p.text, sig))
    print(f"{len(rows)} documents, {len(cands)} candidate paragraphs;", dict(Counter(s for c in cands for s in c[3])))
    rng.shuffle(cands)
    rare = [c for c in cands if set(c[3]) - {"title"}]
    title = [c for c in cands if not set(c[3]) - {"title"}]
    pick = rare[:200] + title[:max(0, args.n - min(200, len(rare)))]
    pick.sort(key=lambda c: (c[0], c[1]))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for b in range(args.batches):
        with open(out / f"batch_{b}.txt", "w", encoding="utf-8") as f:
            for doc, pi, text, _ in pick[b::args.batches]:
                f.write(f"{doc}|{pi}\t{text}\n")
                for e in extract(text, first_paragraph=pi == 0):
                    f.write(f"   rule: {e.type}\t{text[e.start:e.end]}\n")
    print(f"{len(pick)} paragraphs in {args.batches} batches under {out}")


if __name__ == "__main__":
    main()
