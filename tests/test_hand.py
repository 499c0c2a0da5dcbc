"""Standoff hand labels: written from batch keys, joined with the text at run time."""

import gzip
import json

import pytest

from conftest import TOY_REPORT, shared_data_or_skip
from nlp.text import build_document
from nlp.training.hand import fingerprint, load_hand_labels, standoff_from_keys

GWR = """1998年国务院政府工作报告
各位代表：
一、过去五年的工作回顾
五年来，我们完成了各项改革任务。
我们也清醒看到，工作中还存在不少问题。一些地方执法不严。
二、今年的主要任务
今年要继续深化改革。力争粮食产量达到5亿吨。
"""


@pytest.fixture
def data_dir(tmp_path):
    rows = [{"id": "toy-1", "split": "train", "kind": "report", "text": TOY_REPORT},
            {"id": "toy-dev", "split": "dev", "kind": "report", "text": TOY_REPORT}]
    (tmp_path / "reports.jsonl").write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    (tmp_path / "corpus").mkdir()
    with gzip.open(tmp_path / "corpus" / "gov_work_reports.txt.gz", "wt", encoding="utf-8") as f:
        f.write("前言\n" + GWR)
    return tmp_path


def _keys(doc):
    out = {}
    for pi, p in enumerate(doc.paragraphs):
        for sid in p.sentence_ids:
            s = doc.sentences[sid]
            out[f"{doc.id}|{pi}|{s.start - p.start}|{s.end - p.start}"] = s
    return out


def test_round_trip_reports_and_corpus(data_dir, tmp_path):
    doc = build_document(TOY_REPORT, "toy-1")
    keys = _keys(doc)
    labels = {k: ("problems" if "有待" in s.text else "measures") for k, s in keys.items()}
    gwr = build_document(GWR.strip(), "gwr-corpus-1998")
    gkeys = _keys(gwr)
    labels.update({k: ("problems" if "清醒" in s.text or "执法不严" in s.text else "plans") for k, s in gkeys.items()})
    recs = standoff_from_keys(labels, data_dir)
    assert len(recs) == len(labels)
    assert all("text" not in r for r in recs)
    corpus = [r for r in recs if r["source"] == "corpus"]
    assert {r["line"] for r in corpus} >= {5, 6}  # 0-based lines of the file, after its 前言 line
    path = tmp_path / "hand.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in recs), encoding="utf-8")
    h = load_hand_labels(path, data_dir)
    assert not h.mismatched
    assert len(h.sentences) == len(labels)
    got = {(s.doc_id, s.text): s.label for s in h.sentences}
    assert got[("gwr-corpus-1998", "一些地方执法不严。")] == "problems"
    assert [lab for (d, t), lab in got.items() if d == "toy-1" and "有待" in t] == ["problems"]
    # the context is the one the model reads at inference
    s = next(s for s in h.sentences if s.text == "一些地方执法不严。")
    assert "我们也清醒看到" in s.context


def test_changed_text_is_detected_not_mislabelled(data_dir, tmp_path):
    doc = build_document(TOY_REPORT, "toy-1")
    k, s = next(iter(_keys(doc).items()))
    rec = standoff_from_keys({k: "other"}, data_dir)[0]
    rec["sha1"] = fingerprint(s.text + "x")
    path = tmp_path / "hand.jsonl"
    path.write_text(json.dumps(rec), encoding="utf-8")
    h = load_hand_labels(path, data_dir)
    assert h.sentences == [] and len(h.mismatched) == 1


def test_dev_documents_are_refused(data_dir, tmp_path):
    path = tmp_path / "hand.jsonl"
    path.write_text(json.dumps({"source": "reports", "doc": "toy-dev", "para": 0, "start": 0, "end": 4,
                                "label": "other", "sha1": "0"}), encoding="utf-8")
    with pytest.raises(ValueError, match="split: train"):
        load_hand_labels(path, data_dir)


def test_shipped_hand_labels_join_and_meet_the_counts():
    data = shared_data_or_skip()
    from collections import Counter
    from pathlib import Path

    h = load_hand_labels(Path(__file__).parent.parent / "eval" / "hand" / "train_sentences.jsonl", data)
    assert not h.mismatched
    c = Counter(s.label for s in h.sentences)
    assert len(h.sentences) >= 1500 and c["problems"] >= 150 and c["plans"] >= 300 and c["duty"] >= 200


def test_a_corpus_report_that_dev_holds_is_refused(data_dir, tmp_path):
    from nlp.training.data import DevOverlapError, weak_gwr_sentences

    (data_dir / "gold").mkdir()
    gwr = build_document(GWR.strip(), "gwr-corpus-1998")
    sents = [s.text for s in gwr.sentences if len(s.text) >= 10]
    text = "".join(sents)
    dev = {"id": "d-p0", "doc_id": "d", "text": text, "label": "problems", "entities": [],
           "sentences": [{"start": text.index(t), "end": text.index(t) + len(t), "label": "problems"} for t in sents]}
    (data_dir / "gold" / "dev.jsonl").write_text(json.dumps(dev, ensure_ascii=False), encoding="utf-8")
    assert len(sents) == 6  # more than a report may share with dev through recurring formulas
    with pytest.raises(DevOverlapError, match="gwr-corpus-1998"):
        weak_gwr_sentences(data_dir / "corpus", min_year=0)
    path = tmp_path / "hand.jsonl"
    path.write_text(json.dumps({"source": "corpus", "file": "gov_work_reports.txt.gz", "line": 1, "start": 0,
                                "end": 4, "label": "other", "sha1": "0"}), encoding="utf-8")
    with pytest.raises(DevOverlapError):
        load_hand_labels(path, data_dir)


def test_no_shipped_hand_label_or_weak_training_sentence_comes_from_a_dev_document():
    data = shared_data_or_skip()
    from pathlib import Path

    from nlp.training.data import dev_sentences, weak_gwr_sentences, weak_sentences

    from collections import Counter

    from nlp.training.data import MAX_SHARED_SENTENCES

    dev = dev_sentences(data)
    assert len(dev) > 300
    h = load_hand_labels(Path(__file__).parent.parent / "eval" / "hand" / "train_sentences.jsonl", data)
    # formulas (现将有关情况报告如下, thanks) recur across documents; a document of dev shares dozens
    weak = weak_sentences(data / "reports.jsonl") + weak_gwr_sentences(data / "corpus")  # refuses a dev report
    for sents in (h.sentences, weak):
        shared = Counter(s.doc_id for s in sents if s.text.strip() in dev)
        assert max(shared.values(), default=0) <= MAX_SHARED_SENTENCES, shared.most_common(3)
