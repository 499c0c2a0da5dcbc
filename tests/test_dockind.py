"""The document-kind model (report or plan document) and the decoder's plan-document rule."""

import json
import subprocess
import sys

import numpy as np
import pytest

from nlp.schema import LABELS

from conftest import ROOT, save_tiny_bert

COUNTIES = ["东湖", "西山", "南河", "北岭", "青石", "白水", "红岩", "金沙", "云溪", "松林", "梅岭", "竹园"]


def report_text(name: str, i: int) -> str:
    return (f"{name}县2023年法治政府建设情况的报告\n2023年,{name}县坚持依法行政,各项工作取得新成效。现将有关情况报告如下。\n"
            f"一、主要负责人履行推进法治建设第一责任人职责情况\n县政府常务会议专题研究法治政府建设{i + 2}次,组织会前学法{i + 8}场次。\n"
            f"二、推进法治政府建设的主要举措和成效\n全年办结行政复议案件{30 + i}件,行政机关负责人出庭应诉率达{90 + i % 9}%。")


def plan_text(name: str, i: int) -> str:
    return (f"关于印发《{name}县2024年法治政府建设工作要点》的通知\n各乡镇人民政府,县政府各部门:\n"
            f"现将《{name}县2024年法治政府建设工作要点》印发给你们,请认真贯彻执行。\n一、加强党对法治政府建设的领导\n"
            f"要推动党政主要负责人切实履行第一责任人职责,全年安排会前学法不少于{i + 4}次。\n二、深化行政执法体制改革\n"
            "持续推进综合行政执法,力争行政执法案卷合格率达到95%以上。")


@pytest.fixture(scope="module")
def kind_reports(tmp_path_factory):
    d = tmp_path_factory.mktemp("kind")
    rows = []
    for i, name in enumerate(COUNTIES):
        rows.append({"id": f"r-{i}", "kind": "report", "split": "train", "title": f"{name}县2023年法治政府建设情况的报告",
                     "text": report_text(name, i)})
        rows.append({"id": f"p-{i}", "kind": "plans", "split": "train", "title": f"{name}县2024年法治政府建设工作要点",
                     "text": plan_text(name, i)})
    rows.append({"id": "dev-1", "kind": "plans", "split": "dev", "title": "", "text": "不应被用于训练"})
    p = d / "reports.jsonl"
    p.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    return p


@pytest.fixture(scope="module")
def kind_model(kind_reports, tmp_path_factory):
    out = tmp_path_factory.mktemp("kind-model") / "doc_kind"
    r = subprocess.run([sys.executable, "-m", "nlp", "train", "doc-kind", "--reports", str(kind_reports), "--output", str(out)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "reports taken for plans" in r.stderr
    return out


def test_doc_kind_training_cross_validation_and_prediction(kind_model):
    from nlp.dockind import DocKindClassifier

    cfg = json.loads((kind_model / "doc_kind_config.json").read_text(encoding="utf-8"))
    assert cfg["train_documents"] == 24 and cfg["labels"] == ["report", "plans"]  # split: train only
    cv = cfg["cross_validation"]
    assert cv["plans"] == 12 and cv["reports"] == 12
    assert cv["without_title"]["plans_hit"] >= 10 and cv["without_title"]["reports_hit"] <= 2
    assert not list(kind_model.glob("*.pkl")) and (kind_model / "model.safetensors").exists()
    m = DocKindClassifier(kind_model)
    assert m.plan_probability(plan_text("玉泉", 3)) > 0.5 > m.plan_probability(report_text("玉泉", 3))
    # the stated overall requirement of a plan (LABELING.md) decides on its own
    assert m.plan_probability("2024年全县法治工作的总体要求是:坚持以习近平法治思想为指导。") == 1.0
    with pytest.raises(OSError, match="not a document-kind model"):
        DocKindClassifier(kind_model.parent)


def test_doc_kind_training_needs_both_kinds(tmp_path):
    p = tmp_path / "reports.jsonl"
    p.write_text(json.dumps({"id": "a", "kind": "report", "split": "train", "text": "报告"}, ensure_ascii=False), encoding="utf-8")
    r = subprocess.run([sys.executable, "-m", "nlp", "train", "doc-kind", "--reports", str(p), "--output", str(tmp_path / "k")],
                       capture_output=True, text=True)
    assert r.returncode != 0 and "both reports and plan documents" in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "k").exists()


def test_plan_document_duty_goes_to_plans(kind_model, tmp_path):
    """A plan document's sentences that the model reads as duty are decoded as plans; a report
    keeps its duty sentences; without the threshold nothing changes."""
    import shutil

    from transformers import AutoModelForSequenceClassification

    from nlp.modeling import BertSentenceLabeller
    from nlp.text import build_document

    text = plan_text("玉泉", 1) + report_text("玉泉", 1)
    enc = save_tiny_bert(tmp_path / "enc", sorted(set(text) - set("\n ")))
    clf = tmp_path / "clf"
    model = AutoModelForSequenceClassification.from_pretrained(
        str(enc), num_labels=len(LABELS), id2label=dict(enumerate(LABELS)), label2id={k: i for i, k in enumerate(LABELS)})
    model.save_pretrained(str(clf))
    for f in enc.glob("*token*"):
        shutil.copy2(f, clf / f.name)
    for f in enc.glob("vocab.txt"):
        shutil.copy2(f, clf / f.name)
    shutil.copytree(kind_model, clf / "doc_kind")

    def decode(doc_text: str, threshold: float) -> tuple[list[str], dict]:
        (clf / "decoding.json").write_text(json.dumps({"backward_penalty": 2.0, "heading_weight": 0.0, "use_viterbi": False,
                                                       "plan_document_threshold": threshold}), encoding="utf-8")
        lab = BertSentenceLabeller(clf)
        doc = build_document(doc_text)
        probs = np.full((len(doc.sentences), len(LABELS)), 0.05, dtype=np.float32)
        probs[:, LABELS.index("duty")] = 0.8  # the model reads every sentence as duty
        lab.decode(doc, probs)
        return [s.label for s in doc.sentences], doc.meta

    # (the first line is the document's title, which is always other)
    labels, meta = decode(plan_text("玉泉", 1), 0.5)
    assert meta["document_kind"]["kind"] == "plans" and labels[0] == "other" and set(labels[1:]) == {"plans"}
    labels, meta = decode(report_text("玉泉", 1), 0.5)
    assert meta["document_kind"]["kind"] == "report" and labels[0] == "other" and set(labels[1:]) == {"duty"}
    labels, meta = decode(plan_text("玉泉", 1), 0.0)
    assert "document_kind" not in meta and labels[0] == "other" and set(labels[1:]) == {"duty"}
    # page chrome left in a document (gold files keep it) is other, whatever the model reads into it
    from nlp.text import document_from_paragraphs

    (clf / "decoding.json").write_text(json.dumps({"use_viterbi": True}), encoding="utf-8")
    lab = BertSentenceLabeller(clf)
    paras = ["县政府常务会议专题研究法治政府建设4次。", "扫一扫在手机打开当前页"]
    doc = document_from_paragraphs(paras, "chrome-doc", [[(0, len(p))] for p in paras])
    probs = np.full((2, len(LABELS)), 0.05, dtype=np.float32)
    probs[:, LABELS.index("duty")] = 0.8
    lab.decode(doc, probs)
    assert [s.label for s in doc.sentences] == ["duty", "other"] and doc.sentences[1].reason == "chrome:scan_qr"
    # the document's own title is other (LABELING.md), also a proposal's title; body sentences are not
    doc = build_document("当前位置:首页 / 政协提案\n关于加强基层综合执法的提案\n日期:2024-01-23\n"
                         "基层执法力量不足。\n关于加强基层综合执法的提案已经提出。\n")
    assert doc.title == "关于加强基层综合执法的提案"
    probs = np.full((len(doc.sentences), len(LABELS)), 0.05, dtype=np.float32)
    probs[:, LABELS.index("duty")] = 0.8
    lab.decode(doc, probs)
    got = {s.text: (s.label, s.reason) for s in doc.sentences}
    assert got["关于加强基层综合执法的提案"] == ("other", "title")
    assert got["关于加强基层综合执法的提案已经提出。"][0] == "duty"
    # a sentence stating a shortcoming gets the problems prior, except under a mandated heading (section wins)
    (clf / "decoding.json").write_text(json.dumps({"use_viterbi": False, "heading_weight": 0.5,
                                                   "problem_cue_weight": 0.7}), encoding="utf-8")
    lab = BertSentenceLabeller(clf)
    doc = build_document("一、主要举措和成效\n对培训不够深入的单位开展了补训。\n二、强化执法监督\n"
                         "基层执法力量仍然不足。\n组织执法培训3期。\n")
    by_text = {s.text: i for i, s in enumerate(doc.sentences)}
    probs = np.full((len(doc.sentences), len(LABELS)), 0.05, dtype=np.float32)
    probs[:, LABELS.index("duty")] = 0.8
    lab.decode(doc, probs)
    got = {s.text: (s.label, s.reason) for s in doc.sentences}
    assert got["对培训不够深入的单位开展了补训。"][0] == "measures"  # the measures section decides
    assert got["基层执法力量仍然不足。"] == ("problems", "model+cue:problems")
    assert got["组织执法培训3期。"][0] == "duty"
    assert len(by_text) == len(doc.sentences)
    # sentence alone: the same sentence-level rules, no headings
    lab.predict_proba = lambda texts, contexts=None: np.tile(probs[:1], (len(texts), 1))
    assert lab.label_alone(["基层执法力量仍然不足。", "组织执法培训3期。", "扫一扫在手机打开当前页"]) == ["problems", "duty", "other"]
    # the decoding search tries the plan-document rule when the model has a doc_kind/ folder
    r = subprocess.run([sys.executable, "-m", "nlp", "train", "decoding", "--model", str(clf), "--gold",
                        str(ROOT / "eval" / "gold" / "seed.jsonl"), "--dry-run", "--top", "200"],
                       capture_output=True, text=True, env={**__import__("os").environ, "COLUMNS": "200"})
    assert r.returncode == 0, r.stderr[-2000:]
    assert "P ≥ 0.5" in r.stderr and "off" in r.stderr
