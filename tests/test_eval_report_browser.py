"""`nlp eval --labeller tfidf --json --html` end to end, the page rendered in headless Chromium."""

import json
import subprocess
import sys

import pytest

from conftest import CHROMIUM, ROOT, SHARED, render_in_chromium



def _gold():
    dev = SHARED / "gold" / "dev.jsonl"
    return dev if dev.exists() else ROOT / "eval" / "gold" / "seed.jsonl"


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    d = tmp_path_factory.mktemp("eval")
    r = subprocess.run([sys.executable, "-m", "nlp", "eval", str(_gold()), "--labeller", "tfidf",
                        "--json", str(d / "m.json"), "--html", str(d / "r.html"), "--md", str(d / "r.md"),
                        "--bootstrap", "50"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return d


def test_metrics_json_contract(report):
    m = json.loads((report / "m.json").read_text(encoding="utf-8"))
    for key in ("model", "n_paragraphs", "n_sentences"):
        assert key in m
    s = m["classification"]["sentence"]
    assert {"macro_f1", "accuracy", "per_label"} <= set(s)
    assert set(s["per_label"]["duty"]) >= {"precision", "recall", "f1", "support"}
    assert "sentence_alone" in m["classification"] and "macro_f1" in m["classification"]["paragraph"]
    assert "micro_f1" in m["entities"]["strict"] and "micro_f1" in m["entities"]["partial"]
    assert set(m["entities"]["strict"]["per_type"]) == {"LAW", "DOCNO", "METRIC", "DATE"}
    b = m["bootstrap"]["sentence_macro_f1"]
    assert b["low"] <= s["macro_f1"] <= b["high"]
    assert "## Confusion matrix" in (report / "r.md").read_text(encoding="utf-8")


@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (.ci/run installs Debian's chromium)")
def test_html_report_renders_in_chromium(report, tmp_path):
    dom = render_in_chromium(report / "r.html", tmp_path)
    assert 'id="confusion-matrix"' in dom and 'id="confusion-table"' in dom
    assert "data:image/png;base64," in dom  # figures are embedded: one self-contained file
