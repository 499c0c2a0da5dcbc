"""Acceptance scores on the shared hand-labelled sets (read at run time; skipped if absent)."""


from nlp import evaluate as ev
from nlp.pipeline import get_labeller

from conftest import ROOT, shared_data_or_skip


def test_shipped_seed_gold_matches_shared():
    data = shared_data_or_skip()
    assert (ROOT / "eval" / "gold" / "seed.jsonl").read_bytes() == (data / "gold" / "seed.jsonl").read_bytes()


def test_heading_labels_on_seed():
    docs = ev.load_gold(ROOT / "eval" / "gold" / "seed.jsonl")
    m = ev.score(docs, ev.predict(docs, get_labeller("headings")))
    assert m["classification"]["sentence"]["accuracy"] >= 0.97


def test_rule_extractors_on_dev():
    data = shared_data_or_skip()
    docs = ev.load_gold(data / "gold" / "dev.jsonl")
    m = ev.score(docs, ev.predict(docs, get_labeller("headings")))
    f1 = {t: v["f1"] for t, v in m["entities"]["strict"]["per_type"].items()}
    assert f1["LAW"] >= 0.93 and f1["DATE"] >= 0.93, f1
    assert f1["METRIC"] >= 0.90 and f1["DOCNO"] >= 0.90, f1
