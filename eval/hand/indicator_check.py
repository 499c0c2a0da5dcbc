"""Hand check of indicator phrases: does the phrase that names what a METRIC measures read as a
complete phrase?

    python eval/hand/indicator_check.py                 # recompute the phrases, report the share complete
    python eval/hand/indicator_check.py --show          # print the sample with the sentences, for checking
    python eval/hand/indicator_check.py --record V.tsv  # write the checks (one `row<TAB>y|n[<TAB>problem]` a line)

The sample: 200 METRIC entities drawn at random (``random.Random(SEED)``) from the rule entities of
the ``split: train`` reports of ``../shared/data/reports.jsonl`` (read at run time), in the order
(document id, paragraph, offset). A row of ``indicator_check.jsonl`` is standoff, never text:
``doc``, ``para`` (paragraph index as ``nlp.text.build_document`` reads it), ``start``/``end`` (the
METRIC's offsets in that paragraph), ``sha1`` (first 10 hex digits of the phrase that was checked),
``complete`` (the verdict) and ``problem`` when it is not complete; ``baseline`` holds the same
check of the phrase the earlier rule gave (``baseline_commit``).

A phrase is complete when it begins and ends between two words of its sentence (no word cut at
either end), and it names what the figure counts or measures where the sentence names it; extra
words of the clause (a verb, a place) do not make it incomplete. Problems: ``cut-end``,
``cut-start`` (a word cut), ``not-named`` (a fragment that does not name what is counted: a bare
verb, a function word, another list item), ``empty``.

The report flags rows whose phrase has changed since it was checked (its sha1 differs): their
verdict is stale until they are checked again (``--show --changed``, then ``--record``).
"""

from __future__ import annotations

import argparse
import bisect
import hashlib
import json
import random
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(ROOT))

from nlp.components.entities import extract_entities  # noqa: E402
from nlp.indicators import add_indicators  # noqa: E402
from nlp.text import build_document  # noqa: E402

REPORTS = ROOT.parent / "shared" / "data" / "reports.jsonl"
CHECKS = HERE / "indicator_check.jsonl"
SEED = 22
N = 200
PROBLEMS = ("cut-end", "cut-start", "not-named", "empty")


def fingerprint(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:10]


def train_metrics(path: Path = REPORTS) -> list[dict]:
    """Every rule METRIC of the ``split: train`` reports with its indicator phrase, in the order
    (doc, para, start)."""
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        rec = json.loads(line)
        if rec.get("split") != "train":
            continue
        doc = build_document(rec["text"], rec["id"])
        extract_entities(doc, None)  # the rules (what the sample was drawn from)
        add_indicators(doc)
        pstarts = [p.start for p in doc.paragraphs]
        sstarts = [s.start for s in doc.sentences]
        for e in doc.entities:
            if e.type != "METRIC":
                continue
            p = bisect.bisect_right(pstarts, e.start) - 1
            s = doc.sentences[bisect.bisect_right(sstarts, e.start) - 1]
            para = doc.paragraphs[p]
            rows.append({"doc": rec["id"], "para": p, "start": e.start - para.start, "end": e.end - para.start,
                         "phrase": (e.attrs.get("indicator") or {}).get("indicator") or "",
                         "sentence": s.text, "at": e.start - s.start, "metric": e.text})
    rows.sort(key=lambda r: (r["doc"], r["para"], r["start"]))
    return rows


def draw(rows: list[dict], n: int = N, seed: int = SEED) -> list[dict]:
    picked = sorted(random.Random(seed).sample(range(len(rows)), min(n, len(rows))))
    return [rows[i] for i in picked]


def key(r: dict) -> tuple:
    return (r["doc"], r["para"], r["start"], r["end"])


def read_checks(path: Path = CHECKS) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def score(checks: list[dict], rows: list[dict]) -> dict:
    """The share complete over the checked rows whose phrase is unchanged; the rows whose phrase
    changed (stale verdicts) or whose METRIC is gone are counted apart."""
    now = {key(r): r for r in rows}
    unchanged, changed, missing, complete = 0, [], [], 0
    for c in checks:
        r = now.get(key(c))
        if r is None:
            missing.append(c)
        elif fingerprint(r["phrase"]) != c["sha1"]:
            changed.append(c)
        else:
            unchanged += 1
            complete += bool(c["complete"])
    base = [c["baseline"] for c in checks if c.get("baseline")]
    return {"checked": len(checks), "unchanged": unchanged, "complete": complete,
            "share_complete": complete / unchanged if unchanged else None,
            "changed": [key(c) for c in changed], "missing": [key(c) for c in missing],
            "baseline_checked": len(base), "baseline_complete": sum(bool(b["complete"]) for b in base)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reports", type=Path, default=REPORTS)
    ap.add_argument("--checks", type=Path, default=CHECKS)
    ap.add_argument("--show", action="store_true", help="print the sample (row, phrase, sentence) for checking")
    ap.add_argument("--changed", action="store_true", help="with --show: only rows whose phrase changed since checked")
    ap.add_argument("--record", type=Path, help="write the checks from a TSV: row<TAB>y|n[<TAB>problem]")
    ap.add_argument("--baseline", type=Path, help="with --record: a checks file whose verdicts become the baseline")
    a = ap.parse_args(argv)
    if not a.reports.exists():
        print(f"{a.reports} is absent: nothing to check", file=sys.stderr)
        return 0
    sample = draw(train_metrics(a.reports))
    if a.show:
        old = {key(c): c for c in read_checks(a.checks)} if a.checks.exists() else {}
        for i, r in enumerate(sample):
            if a.changed and key(r) in old and old[key(r)]["sha1"] == fingerprint(r["phrase"]):
                continue
            s, k = r["sentence"], r["at"]
            print(f"{i}\t{r['phrase']}\t{s[:k]}[{r['metric']}]{s[k + len(r['metric']):]}")
        return 0
    if a.record:
        verdicts = {}
        for line in a.record.read_text(encoding="utf-8").splitlines():
            if line.strip():
                parts = line.split("\t")
                problem = parts[2].strip() if len(parts) > 2 and parts[2].strip() else None
                if problem is not None and problem not in PROBLEMS:
                    raise SystemExit(f"unknown problem {problem!r}; choose from {', '.join(PROBLEMS)}")
                verdicts[int(parts[0])] = (parts[1].strip() == "y", problem)
        base = {key(c): c for c in read_checks(a.baseline)} if a.baseline else {}
        with a.checks.open("w", encoding="utf-8") as f:
            for i, r in enumerate(sample):
                if i not in verdicts:
                    raise SystemExit(f"row {i} has no verdict")
                ok, problem = verdicts[i]
                out = {"doc": r["doc"], "para": r["para"], "start": r["start"], "end": r["end"],
                       "sha1": fingerprint(r["phrase"]), "complete": ok}
                if not ok:
                    out["problem"] = problem or ("empty" if not r["phrase"] else "not-named")
                b = base.get(key(r))
                if b:
                    out["baseline"] = {k: b[k] for k in ("sha1", "complete", "problem") if k in b}
                    if "baseline_commit" in b:
                        out["baseline_commit"] = b["baseline_commit"]
                f.write(json.dumps(out, ensure_ascii=False) + "\n")
        print(f"{len(sample)} checks → {a.checks}")
        return 0
    got = score(read_checks(a.checks), train_metrics(a.reports))
    n = got["unchanged"]
    print(f"{got['checked']} checked indicator phrases; {n} unchanged since checked: "
          f"{got['complete']} complete ({100 * (got['share_complete'] or 0):.1f} %)")
    if got["baseline_checked"]:
        print(f"baseline (the earlier rule): {got['baseline_complete']} of {got['baseline_checked']} complete "
              f"({100 * got['baseline_complete'] / got['baseline_checked']:.1f} %)")
    for what in ("changed", "missing"):
        if got[what]:
            print(f"{len(got[what])} {what} since checked (check again): "
                  + ", ".join("|".join(map(str, k)) for k in got[what][:20]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
