"""Summaries (`nlp summarize`), scorecards, character ROUGE and the corpus report (`nlp report`)."""

import json
import subprocess
import sys

import numpy as np
import pytest

from conftest import CHROMIUM, ROOT, SAMPLE, render_in_chromium

from nlp.pipeline import HeadingsLabeller, annotate_text
from nlp.schema import SECTION_LABELS
from nlp import summarize as sm



def _nlp(*args, cwd=ROOT):
    r = subprocess.run([sys.executable, "-m", "nlp", *map(str, args)], capture_output=True, text=True, cwd=cwd)
    assert r.returncode == 0, r.stderr[-3000:]
    return r


# --------------------------------------------------------------------------- the sample, end to end


@pytest.fixture(scope="module")
def sample_summary(tmp_path_factory):
    d = tmp_path_factory.mktemp("summ")
    _nlp("summarize", SAMPLE, "-o", d / "s.md", "--json", d / "s.json")
    return (d / "s.md").read_text(encoding="utf-8"), json.loads((d / "s.json").read_text(encoding="utf-8"))


def test_summarize_sample_four_parts(sample_summary):
    md, js = sample_summary
    for lab in SECTION_LABELS:
        assert f"## {sm.CATEGORY_TITLES[lab]} ({lab})" in md
        sel = js["categories"][lab]
        assert 1 <= len(sel) <= 3
        assert all(s["label"] == lab for s in sel)
        assert [s["start"] for s in sel] == sorted(s["start"] for s in sel)  # document order
    assert js["method"] == "centrality" and "encoder-mini" in js["encoder"]
    assert js["overview"].startswith("全文约") and len(js["overview"]) > 60


def test_summarize_sample_key_figures_regulations_scorecard(sample_summary):
    md, js = sample_summary
    metrics = [f["metric"] for f in js["key_figures"]]
    assert "93.16%" in metrics and "100%" in metrics
    assert any(f["indicator"] == "行政机关负责人出庭应诉率" and f["value"] == 93.16 for f in js["key_figures"])
    names = {r["name"]: r for r in js["regulations"]}
    assert "遂宁市重大行政决策程序规定" in names and names["遂宁市重大行政决策程序规定"]["kind"] == "规定"
    assert "遂宁市地方性法规（规章）调研起草重点工作推进流程表" in names  # normalised brackets
    sc = js["scorecard"]
    assert sc["n_parts_present"] == 4 and sc["all_parts_present"]
    assert sc["n_regulations"] == len(js["regulations"])
    assert sc["problems_sentences"] == 3 and sc["plans_with_targets"] == 0
    assert abs(sum(sc["label_shares"].values()) - 1) < 1e-9
    assert "## Key figures" in md and "93.16%" in md and "## Scorecard" in md


@pytest.fixture(scope="module")
def sample_doc():
    from nlp.pipeline import annotate_file, default_labeller

    lab = default_labeller()
    return annotate_file(SAMPLE, lab), lab


def test_lead_and_textrank(sample_doc):
    doc, _ = sample_doc
    lead = sm.summarize(doc, method="lead", k=2)
    for lab in SECTION_LABELS:
        assert [s.sentence for s in lead.categories[lab]] == sm.candidates(doc, lab, sm.MIN_CONFIDENCE)[:2]
    tr = sm.summarize(doc, method="textrank", k=3)
    assert tr.encoder is None
    for lab in SECTION_LABELS:
        sel = tr.categories[lab]
        assert len(sel) == 3 and [s.start for s in sel] == sorted(s.start for s in sel)
        assert {s.rank for s in sel} == {0, 1, 2}


def test_budget_and_encoder(sample_doc):
    doc, lab = sample_doc
    s = sm.summarize(doc, method="lead", k=5, budget=400)
    assert 0 < len(s.text()) <= 400
    assert all(s.categories[lab_] for lab_ in SECTION_LABELS)  # parts take turns: each gets one first
    enc = sm.load_encoder(labeller=lab)
    assert "encoder-mini" in enc.name  # the classifier's base encoder
    own = sm.BertEncoder.from_labeller(lab)
    texts = [doc.sentences[i].text for i in (8, 9, 30)]
    import torch

    with torch.inference_mode():  # the same as mean-pooling hidden_states[-1] of the classifier
        encd = own.tokenizer(texts, padding=True, return_tensors="pt")
        h = own.model(**encd, output_hidden_states=True).hidden_states[-1]
        m = encd["attention_mask"].unsqueeze(-1).float()
        ref = ((h * m).sum(1) / m.sum(1)).numpy()
    assert np.allclose(own.encode(texts), ref, atol=1e-5)


def test_cli_summarize_lead_budget_and_errors(tmp_path):
    _nlp("summarize", SAMPLE, "-o", tmp_path / "l.md", "--method", "lead", "--k", "2", "--budget", "300",
         "--json", tmp_path / "l.json")
    js = json.loads((tmp_path / "l.json").read_text(encoding="utf-8"))
    assert js["method"] == "lead" and js["budget"] == 300
    assert sum(len(s["text"]) for ss in js["categories"].values() for s in ss) <= 300
    r = subprocess.run([sys.executable, "-m", "nlp", "summarize", str(SAMPLE), "-o", str(tmp_path / "x.md"),
                        "--method", "nope"], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode != 0 and "unknown --method" in r.stderr


# --------------------------------------------------------------------------- scorecard on an invented report

INVENTED = """西湖县人民政府关于2023年度法治政府建设情况的报告
一、主要负责人履行推进法治建设第一责任人职责情况
县政府常务会议专题研究法治政府建设4次。严格落实《西湖县法治政府建设考核办法》。
二、推进法治政府建设的主要举措和成效
全年办理审批事项3200件，办结率达100%。修订《西湖县行政规范性文件管理办法》。
三、存在的问题及原因
个别单位对法治建设重要性的认识还需加强。部分乡镇执法人员数量不足。少数领导干部学法的主动性有待提升。
四、下一年度工作安排
力争行政机关负责人出庭应诉率达到95%以上。持续深化法治政府建设各项工作。
"""


def test_scorecard_invented_report():
    doc = annotate_text(INVENTED, "xihu", HeadingsLabeller())
    sc = sm.scorecard(doc)
    assert sc.parts_present == {"duty": True, "measures": True, "problems": True, "plans": True}
    assert sc.n_parts_present == 4 and sc.all_parts_present
    assert sc.year == 2023 and sc.issuer_level is None
    # problems: only 部分乡镇执法人员数量不足 names a concrete object (乡镇, 执法)
    assert (sc.problems_sentences, sc.problems_specific) == (3, 1)
    assert sc.problems_specificity == pytest.approx(1 / 3)
    # plans: the 95% target sentence, not the generic one
    assert (sc.plans_sentences, sc.plans_with_targets, sc.plans_target_share) == (2, 1, 0.5)
    assert sc.n_regulations == 2 and sc.n_regulation_mentions == 2
    metrics = [e.text for e in doc.entities if e.type == "METRIC"]
    assert metrics == ["4次", "3200件", "100%", "95%"]
    n_chars = sum(len(s.text) for s in doc.sentences)
    assert sc.n_chars == n_chars
    assert sc.metrics_per_1000_chars == pytest.approx(4000 / n_chars)
    assert sum(sc.label_shares.values()) == pytest.approx(1.0)
    assert sm.scorecard(doc.to_dict()) == sc  # records and Documents give the same card
    s = sm.summarize(doc, method="lead", k=1)
    assert s.key_figures[0].metric == "95%" and s.key_figures[0].target  # a target is the most salient figure


def test_specific_problem_rule():
    assert not sm.is_specific_problem("思想认识还需加强，工作主动性有待提升。")
    assert sm.is_specific_problem("行政复议案件纠错率偏高。")
    assert sm.is_specific_problem("有关规定落实不够。", ["LAW"])
    assert sm.is_specific_problem("培训覆盖率仅为60%。", ["METRIC"])


# --------------------------------------------------------------------------- ROUGE


def test_char_rouge_hand_computed():
    r = sm.char_rouge("我爱北京", "我爱天津")
    assert r["rouge-1"] == pytest.approx({"p": 0.5, "r": 0.5, "f": 0.5})
    assert r["rouge-2"] == pytest.approx({"p": 1 / 3, "r": 1 / 3, "f": 1 / 3})
    assert r["rouge-l"] == pytest.approx({"p": 0.5, "r": 0.5, "f": 0.5})
    # repeats are clipped: candidate 的的的法, reference 的法治
    r = sm.char_rouge("的的的法", "的法治")
    assert r["rouge-1"]["p"] == pytest.approx(2 / 4) and r["rouge-1"]["r"] == pytest.approx(2 / 3)
    assert r["rouge-1"]["f"] == pytest.approx(2 * 0.5 * (2 / 3) / (0.5 + 2 / 3))
    assert r["rouge-2"]["p"] == pytest.approx(1 / 3) and r["rouge-2"]["r"] == pytest.approx(1 / 2)
    assert r["rouge-2"]["f"] == pytest.approx(0.4)
    assert (r["rouge-l"]["p"], r["rouge-l"]["r"]) == pytest.approx((0.5, 2 / 3))
    # punctuation and spaces are not characters of the summary
    assert all(v["f"] == pytest.approx(1.0) for v in sm.char_rouge("我爱，北京。", "我爱 北京").values())
    assert all(v == {"p": 0.0, "r": 0.0, "f": 0.0} for v in sm.char_rouge("", "我爱北京").values())
    assert sm.lcs_length("ABCBDAB", "BDCABA") == 4


def test_ranking_helpers():
    pr = sm.pagerank(np.array([[0, 1, 1], [1, 0, 0], [1, 0, 0]], dtype=float))
    assert pr.sum() == pytest.approx(1.0) and pr[0] > pr[1] == pytest.approx(pr[2])
    sim = np.array([[1, 0.99, 0], [0.99, 1, 0], [0, 0, 1]])
    assert sm.mmr_order(np.array([1.0, 0.95, 0.5]), sim, lam=0.5) == [0, 2, 1]  # the near-duplicate waits
    assert sm.mmr_order(np.array([1.0, 0.95, 0.5]), sim, lam=1.0) == [0, 1, 2]


# --------------------------------------------------------------------------- corpus report

REPORTS = [
    ("r1", "北山市人民政府关于2022年度法治政府建设情况的报告\n一、主要负责人履行推进法治建设第一责任人职责情况\n"
           "市政府常务会议研究法治工作6次。\n二、推进法治政府建设的主要举措和成效\n全年办结行政复议案件120件，纠错率15%。\n"
           "三、存在的问题及原因\n基层执法队伍人员不足，执法装备保障不到位。部分规范性文件合法性审查不够严格。\n"
           "四、下一年度工作安排\n力争行政复议纠错率控制在10%以内。加强基层执法队伍建设，配齐执法装备。"),
    ("r2", "南河市人民政府关于2023年度法治政府建设情况的报告\n一、主要负责人履行推进法治建设第一责任人职责情况\n"
           "主要负责人带头述法，组织会前学法8次。\n二、推进法治政府建设的主要举措和成效\n审查规范性文件45件，备案率100%。\n"
           "三、存在的问题及原因\n乡镇执法人员专业能力不强，执法程序不够规范。个别单位对法治建设认识还需加强。\n"
           "四、下一年度工作安排\n开展乡镇执法人员轮训，年内培训500人次。健全规范性文件合法性审查机制。"),
    ("r3", "东岭县人民政府关于2023年度法治政府建设情况的报告\n一、主要负责人履行推进法治建设第一责任人职责情况\n"
           "县政府党组专题研究法治政府建设3次。\n二、推进法治政府建设的主要举措和成效\n全县行政机关负责人出庭应诉率达98%。\n"
           "三、存在的问题及原因\n行政机关负责人出庭应诉后的实质性化解效果不明显。基层法律顾问作用发挥不充分。\n"
           "四、下一年度工作安排\n确保行政机关负责人出庭应诉率保持100%。推动法律顾问参与重大行政决策全覆盖。"),
    ("r4", "西川县人民政府关于2022年度法治政府建设情况的报告\n一、主要负责人履行推进法治建设第一责任人职责情况\n"
           "县长带头学习宪法和行政复议法。\n二、推进法治政府建设的主要举措和成效\n新建公共法律服务站30个，调解纠纷860件。\n"
           "三、存在的问题及原因\n公共法律服务平台覆盖不均衡，偏远村居服务不足。矛盾纠纷调解人员数量不够。\n"
           "四、下一年度工作安排\n新增村级公共法律服务点20个。培育专职人民调解员队伍。"),
]
META = [{"id": "r1", "year": 2022, "issuer_level": "city"}, {"id": "r2", "year": 2023, "issuer_level": "city"},
        {"id": "r3", "year": 2023, "issuer_level": "county"}, {"id": "r4", "year": 2022, "issuer_level": "county"}]


@pytest.fixture(scope="module")
def corpus_report(tmp_path_factory):
    d = tmp_path_factory.mktemp("corpus")
    with open(d / "rows.jsonl", "w", encoding="utf-8") as f:
        for i, t in REPORTS:
            f.write(json.dumps({"id": i, "text": t, "year": 1999}, ensure_ascii=False) + "\n")
    with open(d / "meta.jsonl", "w", encoding="utf-8") as f:
        for m in META:
            f.write(json.dumps(m, ensure_ascii=False) + "\n")
    _nlp("annotate", d / "rows.jsonl", "--text-column", "text", "--id-column", "id", "-o", d / "ann.jsonl")
    r = _nlp("report", d / "ann.jsonl", "-o", d / "report.html", "--meta", d / "meta.jsonl", "--json", d / "report.json",
             "--clusters", "2")
    assert "4 report(s)" in r.stderr
    return d


def test_annotate_table_does_not_carry_columns(corpus_report):
    recs = [json.loads(line) for line in (corpus_report / "ann.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in recs] == ["r1", "r2", "r3", "r4"]
    assert all("year" not in r["meta"] for r in recs)  # hence --meta


def test_report_tables_and_themes(corpus_report):
    js = json.loads((corpus_report / "report.json").read_text(encoding="utf-8"))
    assert [g["group"] for g in js["by_issuer_level"]] == ["city", "county"]
    assert [(g["group"], g["reports"]) for g in js["by_year"]] == [("2022", 2), ("2023", 2)]
    assert all(g["all_parts"] == 1.0 for g in js["by_issuer_level"])
    for cat in ("problems", "plans"):
        themes = js["themes"][cat]
        assert len(themes) == 2 and sum(t["n_sentences"] for t in themes) == 8
        assert all(t["keywords"] and t["examples"] for t in themes)
    html = (corpus_report / "report.html").read_text(encoding="utf-8")
    assert html.count('<img class="plot"') >= 3 and html.count("data:image/png;base64,") >= 3
    assert 'id="themes-table"' in html and 'href="#problems-1"' in html and '<h3 id="problems-1">' in html
    assert 'id="problems-1-ex1"' in html
    assert "Metadata joined by id" in html and "(4 of 4 reports matched)" in html


def test_meta_join_and_fallbacks():
    from nlp.corpus_report import apply_meta, group_stats

    recs = [annotate_text(t, i, HeadingsLabeller()).to_dict() for i, t in REPORTS[:2]]
    cards = [sm.scorecard(r) for r in recs]
    assert [c.year for c in cards] == [2022, 2023]  # from the titles
    assert [g.group for g in group_stats(cards, "issuer_level")] == ["unknown"]
    assert apply_meta(recs, {"r1": {"issuer_level": "city", "year": "2021"}}) == 1
    assert sm.scorecard(recs[0]).year == 2021 and sm.scorecard(recs[0]).issuer_level == "city"


@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (.ci/run installs Debian's chromium)")
def test_corpus_report_renders_in_chromium(corpus_report, tmp_path):
    dom = render_in_chromium(corpus_report / "report.html", tmp_path)
    assert 'id="themes-table"' in dom and "data:image/png;base64," in dom


def test_plan_documents_are_scorecarded_but_not_grouped():
    """A plan document (the decoder's document kind, or the kind column of --meta) keeps its
    scorecard row but stays out of the statistics by issuer level and year."""
    import numpy as np

    from nlp.corpus_report import apply_meta, build_report, render_corpus_html

    class RandomEncoder:  # test double for sentence embeddings (themes are not under test here)
        name = "random"

        def encode(self, texts):
            return np.random.default_rng(0).normal(size=(len(texts), 8))

    recs = [annotate_text(t, i, HeadingsLabeller()).to_dict() for i, t in REPORTS]
    recs[0]["meta"]["document_kind"] = {"kind": "plans", "p_plans": 0.9}
    recs[1]["meta"]["document_kind"] = {"kind": "report", "p_plans": 0.1}
    apply_meta(recs, {"r3": {"kind": "problems"}, "r4": {"kind": "report"}})
    assert [sm.record_document_kind(r) for r in recs] == ["plans", "report", "plans", "report"]
    rep = build_report(recs, RandomEncoder(), n_clusters=2)
    assert [c.document_kind for c in rep.cards] == ["plans", "report", "plans", "report"]
    assert sum(g.reports for g in rep.by_year) == 2 and {g.group for g in rep.by_year} == {"2023", "2022"}
    html = render_corpus_html(rep, ["x.jsonl"], "random")
    assert "2 of them are plan or problem documents" in html and "<th>kind</th>" in html
    assert sm.record_document_kind({"meta": {}}) is None
