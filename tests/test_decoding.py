"""The decoding is chosen on hand-labelled training documents; the development set is not read."""

import builtins
import io
import json
from pathlib import Path

import pytest

from conftest import ROOT, TOY_REPORT
from nlp.text import build_document
from nlp.training.hand import hand_gold_documents, standoff_from_keys

SHIPPED = ROOT / "models" / "classifier-small"


def _labels(doc):
    out = {}
    for pi, p in enumerate(doc.paragraphs):
        for sid in p.sentence_ids:
            s = doc.sentences[sid]
            lab = "problems" if "有待" in s.text or "不足" in s.text else "plans" if "下一步" in s.text or "力争" in s.text \
                else "duty" if "常务会议" in s.text or "学法" in s.text else "measures" if pi > 2 else "other"
            out[f"{doc.id}|{pi}|{s.start - p.start}|{s.end - p.start}"] = lab
    return out


@pytest.fixture
def data_dir(tmp_path):
    rows = [{"id": f"toy-{i}", "split": "train", "kind": "report", "text": TOY_REPORT} for i in range(3)]
    (tmp_path / "reports.jsonl").write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    (tmp_path / "gold").mkdir()
    (tmp_path / "gold" / "dev.jsonl").write_text("not json: reading this file is a bug\n", encoding="utf-8")
    return tmp_path


def test_hand_gold_documents_are_the_wholly_labelled_training_documents(data_dir, tmp_path):
    labels = {}
    for i in range(3):
        labels.update(_labels(build_document(TOY_REPORT, f"toy-{i}")))
    labels.pop(next(k for k in labels if k.startswith("toy-2|")))  # toy-2 is not labelled whole
    hand = tmp_path / "hand.jsonl"
    hand.write_text("\n".join(json.dumps(r) for r in standoff_from_keys(labels, data_dir)), encoding="utf-8")
    docs = hand_gold_documents(hand, data_dir)
    assert [d.doc_id for d in docs] == ["toy-0", "toy-1"]
    assert all(len(d.sentence_labels) == len(build_document(TOY_REPORT, "x").sentences) for d in docs)
    assert {"problems", "plans", "duty"} <= set(docs[0].sentence_labels)


def test_decoding_choice_never_reads_dev(data_dir, tmp_path, monkeypatch):
    if not (SHIPPED / "config.json").exists():
        pytest.skip("the shipped classifier is needed")
    from nlp.training.decoding import tune_decoding

    labels = {}
    for i in range(3):
        labels.update(_labels(build_document(TOY_REPORT, f"toy-{i}")))
    hand = tmp_path / "hand.jsonl"
    hand.write_text("\n".join(json.dumps(r) for r in standoff_from_keys(labels, data_dir)), encoding="utf-8")
    opened = []
    real_open = builtins.open

    def spy(file, *a, **k):
        opened.append(str(file))
        if "dev.jsonl" in str(file):
            raise AssertionError(f"the development set was read: {file}")
        return real_open(file, *a, **k)

    monkeypatch.setattr(builtins, "open", spy)
    monkeypatch.setattr(io, "open", spy)  # pathlib's read_text and open go through io.open
    with pytest.raises(AssertionError, match="development set was read"):  # the spy sees pathlib reads
        (data_dir / "gold" / "dev.jsonl").read_text(encoding="utf-8")
    opened.clear()
    docs = hand_gold_documents(hand, data_dir)
    best, trials, cv = tune_decoding(SHIPPED, docs, write=False, progress=False, cv=3)
    assert not [f for f in opened if "dev.jsonl" in f]
    assert len(trials) > 100 and cv is not None and cv.folds == 3 and len(cv.per_fold) == 3
    assert trials[0].config == best and 0 <= cv.macro_f1 <= 1
