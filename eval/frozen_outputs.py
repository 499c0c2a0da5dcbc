"""Frozen annotation outputs: does `nlp annotate` still give the same sentences, labels and
entities as the commit the manifest was written at?

    python eval/frozen_outputs.py --write      # annotate, write eval/frozen/manifest.json
    python eval/frozen_outputs.py              # annotate again and compare (exit 1 on a change)
    python eval/frozen_outputs.py --sample-only

Inputs: the sample report `examples/suining-2023.txt` and every document of
`../shared/data/reports.jsonl` (read at run time; skipped with a note when absent). Compared per
document: the text, paragraph and sentence offsets, sentence labels, entity spans, types and
METRIC target flags. Timing and provenance fields (label source, reason, scores, model names)
are left out, so a refactor that keeps behaviour passes. The manifest holds hashes only (no
shared-data text); the sample's canonical output is kept in full (`eval/frozen/suining-2023.json`)
so that a change to it can be read as a diff. `--save DIR` keeps every canonical output for diffing.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FROZEN = ROOT / "eval" / "frozen"
MANIFEST = FROZEN / "manifest.json"
SAMPLE = ROOT / "examples" / "suining-2023.txt"
REPORTS = ROOT.parent / "shared" / "data" / "reports.jsonl"
# The manifest was written when the default entities were the rules alone; the default pipeline
# now combines them with the entity tagger, so the comparison asks for the rules explicitly.
ENTITIES = ["--entities", "rules"]


def canonical(rec: dict) -> dict:
    """The behaviour of one annotated record: offsets, labels, entities; no provenance."""
    return {
        "id": rec["id"],
        "text_sha1": hashlib.sha1(rec["text"].encode("utf-8")).hexdigest(),
        "paragraphs": [[p["start"], p["end"]] for p in rec["paragraphs"]],
        "sentences": [[s["start"], s["end"], s["label"]] for s in rec["sentences"]],
        "entities": [[e["start"], e["end"], e["type"], e.get("target")] for e in rec["entities"]],
    }


def digest(c: dict) -> str:
    return hashlib.sha256(json.dumps(c, ensure_ascii=False, sort_keys=True).encode("utf-8")).hexdigest()[:16]


def annotate(inputs: list[Path], nlp: str) -> list[dict]:
    with tempfile.TemporaryDirectory() as d:
        out = Path(d) / "out.jsonl"
        subprocess.run([nlp, "annotate", *map(str, inputs), "-o", str(out), *ENTITIES], check=True)
        return [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines() if line.strip()]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--write", action="store_true", help="write the manifest from this commit's outputs")
    ap.add_argument("--sample-only", action="store_true", help="only the sample report")
    ap.add_argument("--save", type=Path, help="keep every canonical output in this directory")
    ap.add_argument("--nlp", default=str(Path(sys.executable).parent / "nlp"))
    a = ap.parse_args(argv)
    inputs = [SAMPLE]
    if not a.sample_only:
        if REPORTS.exists():
            inputs.append(REPORTS)
        else:
            print(f"{REPORTS} is absent: only the sample report is compared", file=sys.stderr)
    got = {}
    for rec in annotate(inputs, a.nlp):
        c = canonical(rec)
        got[c["id"]] = c
    if a.save:
        a.save.mkdir(parents=True, exist_ok=True)
        for i, c in got.items():
            (a.save / f"{i}.json").write_text(json.dumps(c, ensure_ascii=False, indent=1), encoding="utf-8")
    sample_id = SAMPLE.stem
    if a.write:
        FROZEN.mkdir(parents=True, exist_ok=True)
        MANIFEST.write_text(json.dumps({k: digest(v) for k, v in sorted(got.items())}, indent=1) + "\n")
        (FROZEN / f"{sample_id}.json").write_text(json.dumps(got[sample_id], ensure_ascii=False, indent=1) + "\n",
                                                   encoding="utf-8")
        print(f"wrote {MANIFEST} ({len(got)} documents)")
        return 0
    want = json.loads(MANIFEST.read_text())
    changed = [k for k, v in got.items() if want.get(k) != digest(v)]
    missing = [k for k in want if k not in got and (not a.sample_only or k == sample_id)]
    for k in changed:
        print(f"changed: {k}")
    for k in missing:
        print(f"missing: {k}")
    print(f"{len(got) - len(changed)} of {len(got)} documents unchanged; {len(changed)} changed, {len(missing)} missing")
    return 1 if changed or missing else 0


if __name__ == "__main__":
    sys.exit(main())
