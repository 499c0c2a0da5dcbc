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

`--focus unbracketed` chooses instead the paragraphs with an unbracketed rule name: outside 《》,
a verb of making, revising or following a rule (制定, 修订, 出台, 印发, 落实, 编制, 贯彻, 执行,
实施…) followed within 45 characters by a rule suffix (办法, 规定, 规划, 纲要, 清单, 方案, 行动计划,
工作要点, 实施意见, 细则, 制度…), or a law name followed by a space. With
`--exclude-labelled-paragraphs` every `split: train` document is eligible and only the paragraphs
already labelled are left out (by document and paragraph). The report beginnings hold few such
paragraphs (about 50 unlabelled), so the rest of `--n` is filled first with paragraphs where a name
of four or more characters ends in a rule suffix outside 《》 (whatever precedes it), then with
paragraphs where the rules find any entity. At most `--per-doc` paragraphs of one document (3)
while others remain, of at most 600 characters; the batches are named batch1.txt, batch2.txt, …

    python eval/hand/entity_batches.py --out DIR --focus unbracketed --exclude-labelled-paragraphs --n 400

`--merge FILE …` appends labelled batches written back in that form to the hand file (`--hand`) as
standoff records (nlp.training.hand_entities.standoff_entities), in document and paragraph order;
a paragraph already in the hand file or in two of the files is refused.

    python eval/hand/entity_batches.py --merge DIR/batch1.labels.tsv DIR/batch2.labels.tsv
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
from nlp.training.hand_entities import read_entity_tsv, standoff_entities

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

RULE_VERB = r"(制定|修订|修改|出台|印发|落实|编制|完成|贯彻|执行|实施|起草|审议|发布|推行|清理)"
RULE_SUFFIX = (r"(管理办法|实施办法|办法|暂行规定|规定|规划|纲要|清单|实施方案|工作方案|行动方案|方案|行动计划|工作计划"
               r"|工作要点|实施意见|指导意见|实施细则|细则|制度|条例|规则|指引|准则|标准)")
UNBRACKETED = {
    # 《…》 is replaced by one placeholder character first, so that a match never reaches into a title
    "verb-rule": re.compile(RULE_VERB + r"[^，。；：！？,;:!?《》□\n]{0,45}?" + RULE_SUFFIX),
    "law-space": re.compile(r"[\u4e00-\u9fa5]{2,30}(法|条例|规定|办法|细则|规划|方案)[ \u3000\xa0]+(?=[\u4e00-\u9fa5第(（])"),
}
RULE_NAME = re.compile(r"[\u4e00-\u9fa5\d“”]{4,30}" + RULE_SUFFIX)
TIERS = ("verb-rule", "law-space"), ("rule-name",), ("rule-entity",)


def unbracketed_signals(text: str) -> list[str]:
    outside = BRACKETED.sub("□", text)
    return [k for k, rx in UNBRACKETED.items() if rx.search(outside)]


def _labelled_keys(hand: str) -> set[tuple[str, int]]:
    keys = set()
    for line in open(hand, encoding="utf-8"):
        if line.strip():
            r = json.loads(line)
            keys.add((r["doc"], int(r["para"])))
    return keys


def unbracketed_candidates(data: str, hand: str, exclude_paragraphs: bool) -> list[tuple[str, int, str, list[str]]]:
    """(doc, para, text, signals) of the `split: train` paragraphs with an unbracketed rule name,
    leaving out the labelled paragraphs (or, without ``exclude_paragraphs``, labelled documents)."""
    keys = _labelled_keys(hand)
    docs = {d for d, _ in keys}
    cands = []
    for r in load_reports(Path(data) / "reports.jsonl", "train"):
        if not exclude_paragraphs and r["id"] in docs:
            continue
        for pi, p in enumerate(build_document(r["text"], r["id"]).paragraphs):
            if (r["id"], pi) in keys or len(p.text) > 600:
                continue
            sig = unbracketed_signals(p.text)
            if not sig and RULE_NAME.search(BRACKETED.sub("□", p.text)):
                sig = ["rule-name"]
            if not sig and extract(p.text, first_paragraph=pi == 0):
                sig = ["rule-entity"]
            if sig:
                cands.append((r["id"], pi, p.text, sig))
    return cands


def pick_unbracketed(cands, n: int, per_doc: int, rng: random.Random):
    """By tier (unbracketed names after a verb or followed by a space, then other names ending
    in a rule suffix, then any rule entity), in a seeded random order within a tier, at most
    ``per_doc`` a document while other documents remain."""
    def tier(c) -> int:
        return min(i for i, t in enumerate(TIERS) if set(t) & set(c[3]))

    cands = list(cands)
    rng.shuffle(cands)
    cands.sort(key=tier)
    per: Counter = Counter()
    over = []  # 1 when the paragraph is past its document's cap: it goes after the others of its tier
    for c in cands:
        per[c[0]] += 1
        over.append(int(per[c[0]] > per_doc))
    order = sorted(range(len(cands)), key=lambda i: (tier(cands[i]), over[i]))
    return [cands[i] for i in order[:n]]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out")
    ap.add_argument("--merge", nargs="+", metavar="FILE", help="labelled batches (doc|para TAB TYPE TAB span TAB n) to append to --hand")
    ap.add_argument("--data", default="../shared/data")
    ap.add_argument("--hand", default="eval/hand/train_entities.jsonl")
    ap.add_argument("--n", type=int, default=440)
    ap.add_argument("--batches", type=int, default=4)
    ap.add_argument("--seed", type=int, default=8)
    ap.add_argument("--focus", choices=["hard", "unbracketed"], default="hard")
    ap.add_argument("--exclude-labelled-paragraphs", action="store_true")
    ap.add_argument("--per-doc", type=int, default=3)
    args = ap.parse_args()
    if args.merge:
        n_para, n_rec = merge(args.merge, args.hand, args.data)
        print(f"{n_para} paragraphs ({n_rec} records) appended to {args.hand}")
        return
    if not args.out:
        ap.error("give --out DIR to write batches, or --merge FILE … to append labelled ones")
    rng = random.Random(args.seed)
    if args.focus == "unbracketed":
        cands = unbracketed_candidates(args.data, args.hand, args.exclude_labelled_paragraphs)
        print(f"{len(cands)} candidate paragraphs;", dict(Counter(s for c in cands for s in c[3])))
        pick = pick_unbracketed(cands, args.n, args.per_doc, rng)
        pick.sort(key=lambda c: (c[0], c[1]))
        write_batches(pick, Path(args.out), args.batches, "batch{}.txt", 1)
        print(f"{len(pick)} paragraphs of {len({c[0] for c in pick})} documents in {args.batches} batches under {args.out}")
        return
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
    write_batches(pick, Path(args.out), args.batches, "batch_{}.txt", 0)
    print(f"{len(pick)} paragraphs in {args.batches} batches under {args.out}")


def merge(files: list[str], hand: str, data: str) -> tuple[int, int]:
    """Append the labelled batches ``files`` to the standoff file ``hand``; returns the number of
    paragraphs and of records appended. Refuses (ValueError) a paragraph already labelled in
    ``hand`` or given by two files, before writing anything."""
    done = _labelled_keys(hand)
    labels: dict[str, list] = {}
    for f in files:
        for key, items in read_entity_tsv(f).items():
            doc, para = key.split("|")
            if (doc, int(para)) in done:
                raise ValueError(f"{f}: {key} is already in {hand}")
            if key in labels:
                raise ValueError(f"{f}: {key} is labelled in two of the files")
            labels[key] = items
    records = standoff_entities(labels, data)
    records.sort(key=lambda r: (r["doc"], r["para"], r["start"]))
    text = Path(hand).read_text(encoding="utf-8")
    if text and not text.endswith("\n"):
        text += "\n"
    text += "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    Path(hand).write_text(text, encoding="utf-8")
    return len(labels), len(records)


def write_batches(pick, out: Path, batches: int, name: str, first: int) -> None:
    """Deal the paragraphs into ``batches`` files; each `doc|para TAB text` line is followed by the
    rule extractors' spans (`   rule: TYPE TAB span`) for the labeller to correct."""
    out.mkdir(parents=True, exist_ok=True)
    for b in range(batches):
        with open(out / name.format(b + first), "w", encoding="utf-8") as f:
            for doc, pi, text, _ in pick[b::batches]:
                f.write(f"{doc}|{pi}\t{text}\n")
                for e in extract(text, first_paragraph=pi == 0):
                    f.write(f"   rule: {e.type}\t{text[e.start:e.end]}\n")


if __name__ == "__main__":
    main()
