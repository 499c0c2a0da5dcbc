"""Structured indicators (METRIC → indicator, value, unit, qualifier, target), regulation
tables, and the `nlp indicators` / `nlp regulations` commands. Sentences are written for
the tests; the end-to-end check uses the sample report."""

import csv
import json
import subprocess
import sys

import pytest

from conftest import SAMPLE
from nlp.indicators import (Indicator, RegulationCount, indicator_rows, indicators_in, law_kind, normalise_law,
                            parse_quantity, regulation_counts, structure_metric)
from nlp.pipeline import annotate_text
from nlp.schema import Entity


def run(*args):
    return subprocess.run([sys.executable, "-m", "nlp", *args], capture_output=True, text=True)


def one(text: str, label: str | None = None) -> Indicator:
    inds = indicators_in(text, label)
    assert len(inds) == 1, (text, inds)
    return inds[0]


# --------------------------------------------------------------------------- values


def test_chinese_numerals_via_cn2an():
    i = one("全年办结行政复议案件三十余件。")
    assert (i.value, i.unit, i.qualifier, i.indicator) == (30.0, "件", "余", "办结行政复议案件")
    assert (one("分两批次实施培训。").value, one("分两批次实施培训。").unit) == (2.0, "批次")
    assert one("组织专题讲座十二场。").value == 12.0


def test_decimals_magnitudes_and_money():
    assert (one("行政复议纠错率为18.5%。").value, one("行政复议纠错率为18.5%。").unit) == (18.5, "%")
    i = one("全年新增参训人员1.5万人次。")
    assert (i.value, i.unit) == (15000.0, "人次")
    i = one("累计挽回经济损失248.01万元。")  # money keeps 万元 as its unit
    assert (i.value, i.unit, i.indicator) == (248.01, "万元", "挽回经济损失")
    i = one("减免税费7500多亿元。")
    assert (i.value, i.unit, i.qualifier) == (7500.0, "亿元", "多")
    assert parse_quantity("1.37万亿斤").value == pytest.approx(1.37e12)


def test_ranges_lower_bound_and_value_max():
    i = one("群众满意度保持在90%-95%之间。")
    assert (i.text, i.value, i.value_max, i.unit) == ("90%-95%", 90.0, 95.0, "%")
    i = one("每个调解室配备3至5个调解员。")
    assert (i.value, i.value_max, i.unit) == (3.0, 5.0, "个")
    i = one("每村配备三至五名法律明白人。")
    assert (i.value, i.value_max, i.unit) == (3.0, 5.0, "名")
    i = one("计划投入资金1.2-1.5亿元。")
    assert (i.value, i.value_max, i.unit) == (1.2, 1.5, "亿元")
    assert one("全年办结案件88件。").value_max is None


def test_qualifiers_outside_and_inside_the_span():
    i = one("行政机关负责人出庭应诉率达到95%以上。")
    assert (i.text, i.qualifier, i.indicator) == ("95%", "以上", "行政机关负责人出庭应诉率")
    assert one("法律顾问覆盖约300人。").qualifier == "约"
    assert one("参与企业超过20家。").qualifier == "超过"
    assert one("居民消费价格涨幅3%左右。").qualifier == "左右"
    i = one("行政许可办理时限压缩至3个工作日以内。")
    assert (i.value, i.unit, i.qualifier, i.indicator) == (3.0, "个工作日", "以内", "行政许可办理时限")
    assert one("开展普法讲座30余次。").qualifier == "余"
    assert one("全年办结案件88件。").qualifier is None


def test_indicator_phrase_trims_linkers_and_uses_the_noun_after():
    assert one("全市行政机关负责人出庭应诉率达93.16%。").indicator == "行政机关负责人出庭应诉率"
    assert one("2023年累计共发放执法证件1600份。").indicator == "发放执法证件"
    assert one("复议纠错率提升至21%。").indicator == "复议纠错率"
    # nothing usable before the number: the noun phrase after the measure word completes it
    assert one("办结142件行政复议案件。").indicator == "办结行政复议案件"
    # list items: each number gets its own item
    inds = indicators_in("受理治安案件120件、交通案件80件、消防案件16件。")
    assert [(x.indicator, x.value) for x in inds] == [("受理治安案件", 120.0), ("交通案件", 80.0), ("消防案件", 16.0)]


def test_indicator_phrase_ends_between_two_words():
    # the noun phrase after the measure word stops before the next verb, never inside a word
    assert one("组织全县120名领导干部参加任前法律知识考试。").indicator == "组织领导干部"
    assert one("对35名科级以上干部进行集中考核。").indicator == "对科级以上干部"
    assert one("全县18个单位参与社会信用体系共建。").indicator == "单位"
    assert one("全县300余名执法人员全部换发了新证件。").indicator == "执法人员"
    # a linker is trimmed only where it is a word of its own: 平均 stays whole, 削减至 goes
    assert one("各乡镇办理事项平均56项。").indicator.endswith("办理事项平均")
    assert [i.indicator for i in indicators_in("审批事项从120项削减至45项。")] == ["审批事项", "审批事项"]
    assert one("办件占比达98%。").indicator == "办件占比"
    # a conjunction left at the end goes; a verb of the noun phrase (调解组织) stays
    assert [i.indicator for i in indicators_in("推荐2个示范乡镇和4个示范项目。")][0] == "推荐示范乡镇"
    assert [i.indicator for i in indicators_in("新增3家调解组织和2家仲裁机构。")][0] == "新增调解组织"


def test_long_indicator_phrase_keeps_a_title_or_quote_whole():
    i = one("签署《东湖县与西山县政务服务协作框架协议》等6个协议。")
    assert i.indicator == "《东湖县与西山县政务服务协作框架协议》等协议"
    i = one("先后获评“东湖县法治政府建设工作优秀组织单位”等市级以上荣誉5项。")
    assert i.indicator == "“东湖县法治政府建设工作优秀组织单位”等市级以上荣誉"


def test_word_boundaries_come_from_the_dictionary():
    from nlp.indicators import word_boundaries, words

    assert word_boundaries("行政复议纠错率为") >= {0, 7, 8}  # 率为 is split: the linker 为 is a word
    assert 5 not in word_boundaries("配合事项平均")  # 平均 is one word
    assert "".join(w for w, _ in words("东湖县办理审批事项")) == "东湖县办理审批事项"


def test_hand_checked_indicator_phrases_are_complete():
    """The hand-checked sample of eval/hand/indicator_check.jsonl: at least 97 % of its phrases are
    complete, and no checked phrase has changed since it was checked."""
    import importlib.util

    from conftest import ROOT, shared_data_or_skip

    shared = shared_data_or_skip()
    spec = importlib.util.spec_from_file_location("indicator_check", ROOT / "eval" / "hand" / "indicator_check.py")
    check = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(check)
    checks = check.read_checks()
    assert len(checks) == 200
    got = check.score(checks, check.train_metrics(shared / "reports.jsonl"))
    assert got["changed"] == [] and got["missing"] == [], got
    assert got["share_complete"] >= 0.97, got


# --------------------------------------------------------------------------- target


def test_target_from_goal_cues_and_plans_sentences():
    assert one("力争行政复议纠错率达到95%以上。").target is True
    assert one("确保执法人员持证率100%。").target is True
    assert one("全年办结行政复议案件142件。").target is False
    assert one("新建人民调解室20个。", "plans").target is True
    assert one("新建人民调解室20个。", "measures").target is False
    # an entity without a flag (from a model, say) is decided as the extractor decides
    t = "新建人民调解室20个。"
    e = Entity(7, 10, "METRIC", "20个")
    assert structure_metric(t, e, "plans").target is True
    assert structure_metric(t, e, "measures").target is False
    assert structure_metric(t, Entity(7, 10, "METRIC", "20个", target=True), "measures").target is True


def test_structure_metric_checks_offsets():
    with pytest.raises(ValueError):
        structure_metric("新建人民调解室20个。", Entity(0, 3, "METRIC", "20个"))


# --------------------------------------------------------------------------- exclusions (LABELING.md)

EXCLUDED = [
    "召开第四次联席会议。",  # ordinal
    "评选第三批示范点。",
    "畅通12345热线。",  # identifier with digits
    "推广“521”模式。",
    "每年召开一次专题会议。",  # frequency
    "每半年听取一次工作汇报。",
    "近四年来持续推进依法行政。",  # time frames and streaks
    "连续2年获评先进单位。",
    "有效期不超过5年。",  # rule threshold
    "落实“四个百分百”要求。",  # slogan
    "2023年法治建设取得新成效。",  # a year is a DATE
    "建立三级调解网络。",  # tier
    "一是加强学习。",  # enumerator
]


@pytest.mark.parametrize("text", EXCLUDED)
def test_metric_exclusions_give_no_indicator_row(text):
    assert indicators_in(text) == []
    assert indicator_rows([annotate_text(text, "x")]) == []


def test_exclusion_check_is_not_vacuous():
    rows = indicator_rows([annotate_text("全年办结行政复议案件142件。", "x")])
    assert [(r["indicator"], r["value"], r["unit"]) for r in rows] == [("办结行政复议案件", 142.0, "件")]


# --------------------------------------------------------------------------- documents and records


def test_annotated_records_carry_the_indicator(toy_report):
    rec = annotate_text(toy_report, "toy").to_dict()
    metrics = [e for e in rec["entities"] if e["type"] == "METRIC"]
    assert metrics and all(set(e["indicator"]) == {"indicator", "value", "value_max", "unit", "qualifier"}
                           for e in metrics)
    for e in rec["entities"]:
        assert ("indicator" in e) == (e["type"] == "METRIC")
    by_text = {e["text"]: e for e in metrics}
    assert by_text["三十余件"]["indicator"] == {"indicator": "办结行政复议案件", "value": 30.0, "value_max": None,
                                             "unit": "件", "qualifier": "余"}
    assert by_text["95%"]["target"] is True and by_text["95%"]["indicator"]["qualifier"] == "以上"
    json.dumps(rec, ensure_ascii=False)  # still plain JSON


def test_indicator_rows_with_and_without_stored_structure(toy_report):
    rec = annotate_text(toy_report, "toy").to_dict()
    rows = indicator_rows([rec])
    assert len(rows) == sum(e["type"] == "METRIC" for e in rec["entities"])
    r = next(r for r in rows if r["metric"] == "95%")
    assert r["doc_id"] == "toy" and r["year"] == 2023 and r["sentence_label"] == "plans"
    assert r["indicator"] == "行政机关负责人出庭应诉率" and r["target"] is True
    assert rec["sentences"][r["sentence"]]["start"] <= r["start"] < r["end"] <= rec["sentences"][r["sentence"]]["end"]
    # a record written before METRICs were structured gives the same rows
    for e in rec["entities"]:
        e.pop("indicator", None)
    assert indicator_rows([rec]) == rows


# --------------------------------------------------------------------------- regulations


def test_normalise_law():
    assert normalise_law("《法治政府建设实施纲要(2021-2025年)》") == "法治政府建设实施纲要（2021—2025年）"
    assert normalise_law(" 《 东湖县行政执法公示办法 》") == "东湖县行政执法公示办法"
    assert normalise_law("东湖县规范性文件管理办法（试行）") == normalise_law("东湖县规范性文件管理办法(试行)")


@pytest.mark.parametrize("name,kind", [
    ("行政复议法", "法"), ("民法典", "法"), ("东湖县规范性文件管理办法（试行）", "办法"),
    ("东湖县物业管理条例", "条例"), ("重大行政决策程序暂行规定", "规定"), ("关于加强行政执法监督的意见", "意见"),
    ("关于开展专项检查的通知", "通知"), ("东湖县法治宣传实施方案", "方案"), ("东湖县法治建设规划（2021—2025年）", "规划"),
    ("法治政府建设实施纲要（2021—2025年）", "纲要"), ("行政执法文书制作标准", "标准"), ("两地政务服务合作协议", "协议"),
    ("关于修改部分规章的决定", "决定"), ("行政处罚裁量基准实施细则", "细则"), ("年度立法计划", "计划"),
    ("2024年普法工作要点", "要点"), ("涉企免罚清单", "清单"), ("行政执法工作指引", "other"),
])
def test_law_kind(name, kind):
    assert law_kind(name) == kind


def test_regulation_counts():
    recs = [
        {"id": "a", "entities": [{"type": "LAW", "text": "行政复议法"}, {"type": "LAW", "text": "行政复议法"},
                                 {"type": "LAW", "text": "东湖县规范性文件管理办法(试行)"}, {"type": "METRIC", "text": "3件"}]},
        {"id": "b", "entities": [{"type": "LAW", "text": "东湖县规范性文件管理办法（试行）"}, {"type": "LAW", "text": "行政复议法"}]},
    ]
    assert regulation_counts(recs) == [
        RegulationCount("行政复议法", "法", 3, 2, ("a", "b")),
        RegulationCount("东湖县规范性文件管理办法（试行）", "办法", 2, 2, ("a", "b")),
    ]


# --------------------------------------------------------------------------- command line


@pytest.fixture(scope="module")
def annotated(tmp_path_factory):
    out = tmp_path_factory.mktemp("ann") / "x.jsonl"
    r = run("annotate", str(SAMPLE), "-o", str(out))
    assert r.returncode == 0, r.stderr
    return out


def test_cli_indicators_csv_acceptance(annotated, tmp_path):
    out = tmp_path / "t.csv"
    r = run("indicators", str(annotated), "-o", str(out))
    assert r.returncode == 0, r.stderr
    rows = list(csv.DictReader(out.open(encoding="utf-8-sig", newline="")))
    assert rows and all(r["doc_id"] == "suining-2023" for r in rows)
    hit = [r for r in rows if r["value"] and float(r["value"]) == 93.16]
    assert len(hit) == 1
    assert hit[0]["unit"] == "%" and hit[0]["target"] == "False" and "出庭应诉率" in hit[0]["indicator"]
    assert hit[0]["year"] == "2023" and hit[0]["metric"] == "93.16%"
    assert not (tmp_path / "t.csv.part").exists()


def test_cli_indicators_parquet_reads_back(annotated, tmp_path):
    import pyarrow.parquet as pq

    out = tmp_path / "t.parquet"
    r = run("indicators", str(annotated), str(annotated), "-o", str(out))
    assert r.returncode == 0, r.stderr
    table = pq.read_table(out)
    assert table.schema.field("value").type == "double" and table.schema.field("target").type == "bool"
    rows = table.to_pylist()
    hit = [r for r in rows if r["value"] == 93.16]
    assert len(hit) == 2  # the file was given twice
    assert hit[0]["unit"] == "%" and hit[0]["target"] is False and "出庭应诉率" in hit[0]["indicator"]


def test_cli_regulations(annotated, tmp_path):
    out = tmp_path / "laws.csv"
    r = run("regulations", str(annotated), "-o", str(out))
    assert r.returncode == 0, r.stderr
    rows = list(csv.DictReader(out.open(encoding="utf-8-sig", newline="")))
    assert list(rows[0]) == ["name", "kind", "mentions", "n_documents", "documents"]
    by_name = {r["name"]: r for r in rows}
    assert by_name["遂宁市重大行政决策程序规定"]["kind"] == "规定"
    assert all(not r["name"].startswith("《") and int(r["n_documents"]) == 1 for r in rows)
    assert {r["documents"] for r in rows} == {"suining-2023"}  # the ids, not a count


def test_cli_bad_input_one_line_error(tmp_path, annotated):
    bad_json = tmp_path / "bad.jsonl"
    bad_json.write_text("{not json\n", encoding="utf-8")
    not_annotated = tmp_path / "gold.jsonl"
    not_annotated.write_text(json.dumps({"doc_id": "d", "text": "t"}) + "\n", encoding="utf-8")
    empty = tmp_path / "empty.jsonl"
    empty.write_text("", encoding="utf-8")
    for cmd in ("indicators", "regulations"):
        for target in (tmp_path / "missing.jsonl", bad_json, not_annotated, empty):
            out = tmp_path / "o.csv"
            r = run(cmd, str(target), "-o", str(out))
            assert r.returncode == 1
            lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
            assert len(lines) == 1 and lines[0].startswith(f"error: {target}: "), r.stderr
            assert not out.exists() and not (tmp_path / "o.csv.part").exists()
        r = run(cmd, str(annotated), "-o", str(tmp_path / "o.xlsx"))
        assert r.returncode == 1 and r.stderr.startswith("error: ")


def test_table_commands_read_the_parquet_that_annotate_writes(tmp_path, toy_report):
    import subprocess
    import sys

    src = tmp_path / "r.txt"
    src.write_text(toy_report, encoding="utf-8")
    nlp = [sys.executable, "-m", "nlp"]
    for suffix in (".jsonl", ".parquet"):
        out = tmp_path / f"a{suffix}"
        subprocess.run(nlp + ["annotate", str(src), "-o", str(out), "--labeller", "headings"], check=True,
                       capture_output=True)
        for cmd in ("indicators", "regulations"):
            table = tmp_path / f"{cmd}{suffix}.csv"
            r = subprocess.run(nlp + [cmd, str(out), "-o", str(table)], capture_output=True, text=True)
            assert r.returncode == 0, r.stderr
            assert table.read_text(encoding="utf-8-sig").count("\n") >= 2  # header and at least one row
