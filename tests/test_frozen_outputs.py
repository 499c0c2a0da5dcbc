"""Behaviour kept through refactors: the sample report annotates exactly as the frozen output
(offsets, labels, entities; eval/frozen_outputs.py compares the whole reports set)."""

import json
import subprocess
import sys

from conftest import ROOT, SAMPLE

sys.path.insert(0, str(ROOT / "eval"))
from frozen_outputs import ENTITIES, FROZEN, canonical  # noqa: E402


def test_sample_report_annotates_as_frozen(tmp_path):
    out = tmp_path / "s.jsonl"
    nlp = str(ROOT / ".venv" / "bin" / "nlp") if (ROOT / ".venv" / "bin" / "nlp").exists() else "nlp"
    subprocess.run([nlp, "annotate", str(SAMPLE), "-o", str(out), *ENTITIES], check=True, capture_output=True)
    got = canonical(json.loads(out.read_text(encoding="utf-8").splitlines()[0]))
    want = json.loads((FROZEN / "suining-2023.json").read_text(encoding="utf-8"))
    assert got["text_sha1"] == want["text_sha1"]
    assert got["sentences"] == want["sentences"]
    assert got["entities"] == want["entities"]
    assert got == want


def test_sample_report_default_pipeline_adds_only_verified_entities(tmp_path):
    """The default pipeline (rules + the entity tagger) keeps every rule span of the sample."""
    out = tmp_path / "d.jsonl"
    nlp = str(ROOT / ".venv" / "bin" / "nlp") if (ROOT / ".venv" / "bin" / "nlp").exists() else "nlp"
    subprocess.run([nlp, "annotate", str(SAMPLE), "-o", str(out)], check=True, capture_output=True)
    rec = json.loads(out.read_text(encoding="utf-8").splitlines()[0])
    got = canonical(rec)
    want = json.loads((FROZEN / "suining-2023.json").read_text(encoding="utf-8"))
    assert got["sentences"] == want["sentences"]
    assert rec["meta"]["entities"] == "ner-small+rules"
    extra = [e for e in got["entities"] if e not in want["entities"]]
    assert [e for e in want["entities"] if e not in got["entities"]] == []
    assert all(x["source"] == "verified" for x in rec["entities"] if [x["start"], x["end"], x["type"], x.get("target")] in extra)
