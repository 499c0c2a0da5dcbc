"""Labelling batches of training sentences where the classifier's held-out errors are.

Two sources, neither labelled before (`eval/hand/train_sentences.jsonl` is read to skip what is):
- `split: train` reports without sentence labels, ranked by how many sentences read as
  leadership, study or assessment (the duty/measures line inside a section that marks the
  year's work), the top ones plus a random share;
- windows of the State Council government work reports in the corpus: the end of the review
  of past years, the difficulties passage and what follows it, the start of the coming year's
  tasks (each window with the document's headings, so the section can be seen).

Each batch file lists documents with their paragraphs; every sentence stands on its own line as
`doc|para|start|end<TAB>text`. Labellers write back a JSON object {key: label}, and
`python eval/hand/sentence_batches.py --merge LABELS.json …` appends the standoff records
(`nlp.training.hand.standoff_from_keys`, no text) to the hand-label file.

    python eval/hand/sentence_batches.py --out DIR [--data ../shared/data] [--reports 70] [--gwr 30] [--batches 4]
    python eval/hand/sentence_batches.py --merge DIR/batch1.labels.json [...]
"""

from __future__ import annotations

import argparse
import json
import random
import re
from pathlib import Path

from nlp.schema import LABELS
from nlp.text import build_document
from nlp.training.data import gwr_documents_with_lines, load_reports
from nlp.training.hand import standoff_from_keys

HAND = Path(__file__).resolve().parent / "train_sentences.jsonl"
DUTY_LIKE = re.compile(r"学法|法治思想|党组|党委|第一责任人|述法|主要负责|领导干部|常务会议|考核|督察|理论学习中心组|专题学习|法治建设")
DIFFICULTY = re.compile(r"清醒(地)?(看到|认识)|困难和问题|问题和不足|不足和问题|困难和挑战|突出问题|差距")
TASKS = re.compile(r"(今年|明年|\d{4}年).{0,8}(主要任务|工作任务|工作安排|重点工作|总体要求|主要预期目标|工作的总体要求)")


def _key(doc, pi: int, sid: int) -> str:
    p, s = doc.paragraphs[pi], doc.sentences[sid]
    return f"{doc.id}|{pi}|{s.start - p.start}|{s.end - p.start}"


def labelled_keys(data: Path) -> tuple[set[str], set[int]]:
    """Report documents and corpus lines that already carry hand labels."""
    recs = [json.loads(line) for line in HAND.read_text(encoding="utf-8").splitlines() if line.strip()]
    return ({r["doc"] for r in recs if r["source"] == "reports"},
            {r["line"] for r in recs if r["source"] == "corpus"})


def report_items(data: Path, done: set[str], n: int, rng: random.Random) -> list[tuple[object, list[int]]]:
    rows = [r for r in load_reports(data / "reports.jsonl", "train") if r["id"] not in done and r["kind"] == "report"]
    docs = [build_document(r["text"], r["id"]) for r in rows]
    scored = sorted(docs, key=lambda d: (-sum(bool(DUTY_LIKE.search(s.text)) for s in d.sentences), d.id))
    top = scored[: (2 * n) // 3]
    rest = [d for d in scored if d not in top]
    pick = top + rng.sample(rest, min(len(rest), n - len(top)))
    return [(d, list(range(len(d.paragraphs)))) for d in pick]


def gwr_items(data: Path, done_lines: set[int], n: int, rng: random.Random) -> list[tuple[object, list[int]]]:
    out = []
    docs = gwr_documents_with_lines(data / "corpus", min_year=1978)
    rng.shuffle(docs)
    for doc_id, text, linenos in docs:
        doc = build_document(text, doc_id)
        raw = text.split("\n")
        para_line, j = {}, 0
        for pi, p in enumerate(doc.paragraphs):  # paragraph → corpus line (as nlp.training.hand does)
            while j < len(raw) and raw[j].strip() != p.text and p.text not in raw[j]:
                j += 1
            if j < len(raw):
                para_line[pi] = linenos[j]
                j += 1
        free = [pi for pi in para_line if para_line[pi] not in done_lines and len(doc.paragraphs[pi].text) < 1500]
        diff = [pi for pi in free if DIFFICULTY.search(doc.paragraphs[pi].text)]
        task = [pi for pi in range(len(doc.paragraphs)) if TASKS.search(doc.paragraphs[pi].text[:60])]
        window: set[int] = set()
        if diff:
            d0 = diff[0]
            window |= {pi for pi in range(d0 - 2, d0 + 3) if pi in free}
        if task:
            t0 = task[0]
            window |= {pi for pi in range(t0, t0 + 4) if pi in free}
        if len(window) >= 3:
            out.append((doc, sorted(window)))
        if len(out) >= n:
            break
    return out


def write_batches(items, out: Path, n_batches: int) -> None:
    out.mkdir(parents=True, exist_ok=True)
    batches: list[list[str]] = [[] for _ in range(n_batches)]
    sizes = [0] * n_batches
    for doc, paras in items:
        b = sizes.index(min(sizes))
        lines = [f"## DOC {doc.id}  ({len(doc.paragraphs)} paragraphs)"]
        if len(paras) < len(doc.paragraphs):
            heads = [f"  [P{pi}] {p.text[:60]}" for pi, p in enumerate(doc.paragraphs) if p.heading is not None]
            lines += ["### headings of the whole document (for the section of each window)", *heads,
                      "### paragraphs to label"]
        for pi in paras:
            p = doc.paragraphs[pi]
            lines.append(f"[P{pi}]")
            for sid in p.sentence_ids:
                lines.append(f"{_key(doc, pi, sid)}\t{doc.sentences[sid].text}")
                sizes[b] += 1
        batches[b] += lines + [""]
    for i, lines in enumerate(batches, 1):
        (out / f"batch{i}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("sentences per batch:", sizes)


def merge(paths: list[str], data: Path) -> None:
    labels: dict[str, str] = {}
    for p in paths:
        got = json.loads(Path(p).read_text(encoding="utf-8"))
        bad = {k: v for k, v in got.items() if v not in LABELS}
        if bad:
            raise SystemExit(f"{p}: unknown labels {sorted(set(bad.values()))}")
        labels.update(got)
    recs = standoff_from_keys(labels, data)
    have = {(r.get("doc"), r.get("line"), r.get("para"), r["start"], r["end"])
            for r in map(json.loads, HAND.read_text(encoding="utf-8").splitlines())}
    new = [r for r in recs if (r.get("doc"), r.get("line"), r.get("para"), r["start"], r["end"]) not in have]
    with HAND.open("a", encoding="utf-8") as f:
        for r in new:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    print(f"{len(new)} new records appended to {HAND} ({len(recs) - len(new)} already there)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path)
    ap.add_argument("--merge", nargs="+")
    ap.add_argument("--data", type=Path, default=Path("../shared/data"))
    ap.add_argument("--reports", type=int, default=70)
    ap.add_argument("--gwr", type=int, default=30)
    ap.add_argument("--batches", type=int, default=4)
    ap.add_argument("--seed", type=int, default=23)
    a = ap.parse_args()
    if a.merge:
        merge(a.merge, a.data)
        return
    if not a.out:
        ap.error("give --out DIR or --merge FILES")
    rng = random.Random(a.seed)
    done_docs, done_lines = labelled_keys(a.data)
    items = report_items(a.data, done_docs, a.reports, rng) + gwr_items(a.data, done_lines, a.gwr, rng)
    write_batches(items, a.out, a.batches)


if __name__ == "__main__":
    main()
