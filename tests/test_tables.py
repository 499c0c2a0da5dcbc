"""Analysis-ready tables and small CLI conveniences: ``nlp --version``, the sentence CSV
(scores, heading path, title, year, entity offsets, BOM) and ``nlp entities``."""

import csv
import subprocess
import sys

import nlp


def run(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "nlp", *args], capture_output=True, text=True, cwd=cwd)


def test_version_prints_the_package_version():
    r = run("--version")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == f"govreport-nlp {nlp.__version__}"


# --------------------------------------------------------------------------- the sentence CSV

# an invented annotated record: two headings, three sentences, entities, scores on two sentences
TEXT = "一、加强领导\n2023年办结案件12件。\n(一)完善制度\n=出台规定3项。"
RECORD = {
    "id": "d1", "source_path": "d1.txt", "title": "某市2023年度法治政府建设情况报告", "text": TEXT, "meta": {},
    "paragraphs": [
        {"start": 0, "end": 6, "heading": {"level": 1, "marker": "一、", "start": 0, "end": 6, "text": "一、加强领导"},
         "sentences": [0]},
        {"start": 7, "end": 20, "heading": None, "sentences": [1]},
        {"start": 21, "end": 28, "heading": {"level": 2, "marker": "(一)", "start": 21, "end": 28, "text": "(一)完善制度"},
         "sentences": [2]},
        {"start": 29, "end": 38, "heading": None, "sentences": [3]},
    ],
    "sentences": [
        {"start": 0, "end": 6, "text": "一、加强领导", "paragraph": 0, "label": "duty", "label_source": "headings",
         "reason": "heading", "is_heading": True},
        {"start": 7, "end": 20, "text": "2023年办结案件12件。", "paragraph": 1, "label": "measures",
         "label_source": "model:m", "reason": "model", "is_heading": False,
         "scores": {"duty": 0.1, "measures": 0.8, "problems": 0.05, "plans": 0.03, "other": 0.02}},
        {"start": 21, "end": 28, "text": "(一)完善制度", "paragraph": 2, "label": "measures", "label_source": "headings",
         "reason": "heading", "is_heading": True},
        {"start": 29, "end": 38, "text": "=出台规定3项。", "paragraph": 3, "label": "measures",
         "label_source": "model:m", "reason": "model", "is_heading": False,
         "scores": {"duty": 0.02, "measures": 0.9, "problems": 0.03, "plans": 0.03, "other": 0.02}},
    ],
    "entities": [
        {"start": 7, "end": 12, "type": "DATE", "text": "2023年", "source": "rules"},
        {"start": 16, "end": 19, "type": "METRIC", "text": "12件", "target": False, "source": "rules"},
        {"start": 34, "end": 36, "type": "METRIC", "text": "3项", "target": False, "source": "rules"},
    ],
}


def test_sentence_rows_carry_score_heading_path_title_year_and_entity_offsets():
    from nlp.io import SENTENCE_CSV_FIELDS, sentence_rows

    for e in RECORD["entities"]:
        assert TEXT[e["start"]:e["end"]] == e["text"]
    rows = list(sentence_rows(RECORD))
    assert [list(r) for r in rows] == [SENTENCE_CSV_FIELDS] * 4
    assert [r["score"] for r in rows] == [None, 0.8, None, 0.9]
    assert [r["heading_path"] for r in rows] == ["一、加强领导", "一、加强领导", "一、加强领导 > (一)完善制度",
                                                 "一、加强领导 > (一)完善制度"]
    assert {r["title"] for r in rows} == {RECORD["title"]} and {r["year"] for r in rows} == {2023}
    assert rows[1]["entities"] == "DATE:7-12:2023年; METRIC:16-19:12件"
    assert rows[3]["entities"] == "METRIC:34-36:3项" and rows[0]["entities"] == ""
    untitled = {**RECORD, "title": "某市法治政府建设情况报告"}
    assert {r["year"] for r in sentence_rows(untitled)} == {None}


def test_sentence_csv_has_a_bom_the_new_columns_and_escapes_formulas(tmp_path):
    from nlp.io import SENTENCE_CSV_FIELDS, write_sentence_csv
    from nlp.outputs import CsvWriter

    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    assert write_sentence_csv([RECORD], a) == 4
    w = CsvWriter(b)
    w.write([RECORD])
    w.commit()
    assert a.read_bytes() == b.read_bytes()
    data = a.read_bytes()
    assert data.startswith(b"\xef\xbb\xbfdoc_id,") and data.count(b"\xef\xbb\xbf") == 1
    rows = list(csv.DictReader(a.open(encoding="utf-8-sig", newline="")))
    assert list(rows[0]) == SENTENCE_CSV_FIELDS
    assert rows[1]["score"] == "0.8" and rows[0]["score"] == "" and rows[0]["year"] == "2023"
    assert rows[3]["heading_path"] == "一、加强领导 > (一)完善制度" and rows[3]["text"] == "'=出台规定3项。"
    assert rows[1]["entities"] == "DATE:7-12:2023年; METRIC:16-19:12件"


def test_resumed_sentence_csv_has_one_bom_and_equals_an_uninterrupted_run(tmp_path):
    from nlp.outputs import CsvWriter

    second = {**RECORD, "id": "d2", "source_path": "d2.txt"}
    ref = tmp_path / "ref.csv"
    w = CsvWriter(ref)
    w.write([RECORD])
    w.write([second])
    w.commit()
    out = tmp_path / "o.csv"
    w = CsvWriter(out)
    w.write([RECORD])
    w.close()  # interrupted after the first chunk
    w = CsvWriter(out, resume=True)
    assert w.finished == {("d1", "d1.txt")}
    w.write([second])
    w.commit()
    assert out.read_bytes() == ref.read_bytes()
    # a finished output resumed with nothing new keeps its keys and its single byte order mark
    w = CsvWriter(out, resume=True)
    assert w.finished == {("d1", "d1.txt"), ("d2", "d2.txt")}
    w.commit()
    assert out.read_bytes() == ref.read_bytes() and out.read_bytes().count(b"\xef\xbb\xbf") == 1


def test_resuming_a_csv_with_other_columns_is_refused(tmp_path):
    from nlp.outputs import CsvWriter, ResumeMismatchError

    out = tmp_path / "o.csv"
    out.write_text("doc_id,source_path,sentence\nd0,d0.txt,0\n", encoding="utf-8")
    try:
        CsvWriter(out, resume=True)
    except ResumeMismatchError as e:
        assert "columns" in str(e)
    else:
        raise AssertionError("an older column layout was resumed")
    assert out.read_text(encoding="utf-8").startswith("doc_id,source_path,sentence\n")  # left as it was


# --------------------------------------------------------------------------- nlp entities


def test_entities_command_one_row_per_entity_csv_and_parquet(tmp_path):
    import json

    import pyarrow.parquet as pq

    ann = tmp_path / "a.jsonl"
    ann.write_text(json.dumps(RECORD, ensure_ascii=False) + "\n", encoding="utf-8")
    out = tmp_path / "e.csv"
    r = run("entities", str(ann), "-o", str(out))
    assert r.returncode == 0, r.stderr
    assert out.read_bytes().startswith(b"\xef\xbb\xbfdoc_id,")
    rows = list(csv.DictReader(out.open(encoding="utf-8-sig", newline="")))
    assert len(rows) == 3
    assert list(rows[0])[:6] == ["doc_id", "entity", "start", "end", "type", "text"]
    assert {"target", "source", "rule", "sentence_label", "sentence_text"} <= set(rows[0])
    assert rows[1]["type"] == "METRIC" and rows[1]["text"] == "12件" and (rows[1]["start"], rows[1]["end"]) == ("16", "19")
    assert rows[1]["target"] == "False" and rows[0]["target"] == ""
    assert rows[1]["sentence"] == "1" and rows[1]["sentence_label"] == "measures"
    assert rows[1]["sentence_text"] == "2023年办结案件12件。"
    assert rows[2]["sentence_text"] == "'=出台规定3项。"  # formula escaping kept

    pq_out = tmp_path / "e.parquet"
    r = run("entities", str(ann), str(ann), "-o", str(pq_out))
    assert r.returncode == 0, r.stderr
    table = pq.read_table(pq_out)
    assert table.num_rows == 6
    assert str(table.schema.field("start").type) == "int64" and str(table.schema.field("target").type) == "bool"
    got = table.to_pylist()
    assert got[1]["target"] is False and got[0]["target"] is None and got[2]["sentence_text"] == "=出台规定3项。"


def test_entities_command_reads_the_parquet_that_annotate_writes(tmp_path, toy_report):
    src = tmp_path / "r.txt"
    src.write_text(toy_report, encoding="utf-8")
    ann = tmp_path / "a.parquet"
    r = run("annotate", str(src), "-o", str(ann), "--labeller", "headings", "--entities", "rules")
    assert r.returncode == 0, r.stderr
    out = tmp_path / "e.csv"
    r = run("entities", str(ann), "-o", str(out))
    assert r.returncode == 0, r.stderr
    rows = list(csv.DictReader(out.open(encoding="utf-8-sig", newline="")))
    docs = nlp.read(ann)
    assert len(rows) == len(docs[0].entities) > 0
    for row in rows:
        s, e = int(row["start"]), int(row["end"])
        assert docs[0].text[s:e] == row["text"].removeprefix("'")


def test_entities_command_bad_input_is_one_line(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text("{not json\n", encoding="utf-8")
    empty = tmp_path / "empty.jsonl"
    empty.write_text("", encoding="utf-8")
    for target in (tmp_path / "missing.jsonl", bad, empty):
        out = tmp_path / "o.csv"
        r = run("entities", str(target), "-o", str(out))
        assert r.returncode == 1
        lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
        assert len(lines) == 1 and lines[0].startswith(f"error: {target}: "), r.stderr
        assert not out.exists()
    r = run("entities", str(bad), "-o", str(tmp_path / "o.xlsx"))
    assert r.returncode == 1 and r.stderr.startswith("error: ")


# --------------------------------------------------------------------------- quiet model loading


def test_annotate_with_a_model_prints_no_weight_loading_bar(tmp_path):
    import os

    from conftest import ROOT

    model = ROOT / "models" / "classifier-small"
    if not (model / "config.json").exists():
        import pytest

        pytest.skip("the shipped classifier is not in this checkout")
    src = tmp_path / "r.txt"
    src.write_text("一、主要工作\n我们完成了三项改革任务，办结案件120件。\n二、存在问题\n执法规范化水平仍需提升。\n",
                   encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "HF_HUB_DISABLE_PROGRESS_BARS"}
    r = subprocess.run([sys.executable, "-m", "nlp", "annotate", str(src), "--model", str(model),
                        "-o", str(tmp_path / "a.jsonl")], capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr
    assert "Loading weights" not in r.stderr and "annotated 1 document(s)" in r.stderr


# --------------------------------------------------------------------------- the regulations table

def _law_record(doc_id: str, text: str) -> dict:
    """An invented annotated record whose LAW entities are the 《…》 titles of ``text`` (the span
    inside the brackets, as the rule extractor gives it)."""
    import re

    ents = [{"start": m.start(1), "end": m.end(1), "type": "LAW", "text": m.group(1)}
            for m in re.finditer(r"《([^《》]+)》", text)]
    return {"id": doc_id, "text": text, "sentences": [], "entities": ents}


def test_short_forms_defined_in_the_document_resolve_to_the_full_name():
    from nlp.indicators import regulation_counts, resolve_laws

    rec = _law_record("d1", "东湖县认真贯彻《东湖县法治建设实施纲要(2021-2025年)》（以下简称《纲要》），对照《纲要》逐项落实；"
                            "印发《东湖县行政执法监督办法》（东政发〔2023〕5号，以下简称《办法》），落实《办法》。")
    got = [name for _, name in resolve_laws(rec)]
    # the short form inside its own definition is no mention of its own
    assert got == ["东湖县法治建设实施纲要（2021—2025年）", None, "东湖县法治建设实施纲要（2021—2025年）",
                   "东湖县行政执法监督办法", None, "东湖县行政执法监督办法"]
    counts = regulation_counts([rec])
    assert [(c.name, c.mentions) for c in counts] == [("东湖县法治建设实施纲要（2021—2025年）", 2),
                                                      ("东湖县行政执法监督办法", 2)]
    quoted = _law_record("d2", "西山县制定《西山县法治宣传规划（2021—2025年）》（简称“规划”），推动《规划》落地。")
    assert [name for _, name in resolve_laws(quoted)] == ["西山县法治宣传规划（2021—2025年）"] * 2


def test_bare_kind_names_resolve_to_the_one_full_name_of_their_kind_or_are_dropped():
    from nlp.indicators import is_generic_law, regulation_counts

    assert all(is_generic_law(n) for n in ("纲要", "《规划》", "条例", "實施綱要", "实施方案", "本规划", "五年规划"))
    assert not any(is_generic_law(n) for n in ("东湖县物业管理条例", "上海规划", "民法典", "法治政府建设实施纲要"))
    one = _law_record("a", "修订《东湖县物业管理条例》，宣传《条例》，落实《意见》。")  # one 条例 cited, no 意见
    two = _law_record("b", "学习《东湖县物业管理条例》《东湖县电梯安全条例》，宣传《条例》和《纲要》。")  # two 条例
    ending = _law_record("c", "落实《东湖县法治政府建设实施方案》《东湖县普法工作方案》的《实施方案》。")
    counts = {c.name: (c.mentions, c.documents) for c in regulation_counts([one, two, ending])}
    assert counts == {"东湖县物业管理条例": (3, ("a", "b")), "东湖县电梯安全条例": (1, ("b",)),
                      "东湖县法治政府建设实施方案": (2, ("c",)), "东湖县普法工作方案": (1, ("c",))}


def test_periods_that_lost_their_dash_merge_with_the_written_period():
    from nlp.indicators import normalise_law, regulation_counts

    written = "东湖县法治建设规划（2021—2025年）"
    for variant in ("东湖县法治建设规划（20212025年）", "东湖县法治建设规划(2021-2025年)", "东湖县法治建设规划（2021—2025）",
                    "东湖县法治建设规划（2021年—2025年）", "《东湖县法治建设规划(2021~2025年)》"):
        assert normalise_law(variant) == written, variant
    assert normalise_law("东湖县条例（20252021年）") == "东湖县条例（20252021年）"  # no period: left as written
    recs = [_law_record("a", "落实《东湖县法治建设规划（20212025年）》。"), _law_record("b", "落实《东湖县法治建设规划（2021—2025年）》。")]
    assert [(c.name, c.mentions, c.n_documents, c.documents) for c in regulation_counts(recs)] == [
        (written, 2, 2, ("a", "b"))]


def test_regulations_table_lists_document_ids_csv_and_parquet(tmp_path):
    import json

    import pyarrow.parquet as pq

    ann = tmp_path / "a.jsonl"
    recs = [_law_record("a", "修订《东湖县物业管理条例》。"), _law_record("b", "宣传《东湖县物业管理条例》，落实《纲要》。")]
    for r in recs:
        r.update(paragraphs=[], meta={})
    ann.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in recs), encoding="utf-8")
    out = tmp_path / "laws.csv"
    r = run("regulations", str(ann), "-o", str(out))
    assert r.returncode == 0, r.stderr
    rows = list(csv.DictReader(out.open(encoding="utf-8-sig", newline="")))
    assert rows == [{"name": "东湖县物业管理条例", "kind": "条例", "mentions": "2", "n_documents": "2", "documents": "a;b"}]
    out = tmp_path / "laws.parquet"
    r = run("regulations", str(ann), "-o", str(out))
    assert r.returncode == 0, r.stderr
    table = pq.read_table(out)
    import pyarrow as pa

    field = table.schema.field("documents").type
    assert pa.types.is_list(field) and field.value_type == pa.string()
    assert str(table.schema.field("n_documents").type) == "int64"
    assert table.to_pylist() == [{"name": "东湖县物业管理条例", "kind": "条例", "mentions": 2, "n_documents": 2,
                                  "documents": ["a", "b"]}]


def test_indicator_table_year_is_an_integer_everywhere(tmp_path):
    import json

    import pyarrow.parquet as pq

    from nlp.indicators import indicator_rows

    for year in (2023, 2023.0, "2023"):
        rec = {**RECORD, "meta": {"year": year}}
        assert {r["year"] for r in indicator_rows([rec])} == {2023}
    ann = tmp_path / "a.jsonl"
    ann.write_text(json.dumps({**RECORD, "meta": {"year": 2023.0}}, ensure_ascii=False) + "\n", encoding="utf-8")
    out = tmp_path / "i.parquet"
    r = run("indicators", str(ann), "-o", str(out))
    assert r.returncode == 0, r.stderr
    table = pq.read_table(out)
    assert str(table.schema.field("year").type) == "int64" and set(table.column("year").to_pylist()) == {2023}
    df = nlp.to_frame(nlp.read(ann), level="indicator")
    assert str(df["year"].dtype) == "Int64" and set(df["year"]) == {2023}


def test_regulations_table_of_the_train_reports_has_no_bare_names_and_no_dash_lost_duplicates():
    """Built from ../shared/data when present: the `split: train` reports, read and their LAW
    entities extracted by the rules (the default pipeline's LAW policy), counted as `nlp regulations` does."""
    import json
    import re

    from conftest import shared_data_or_skip

    from nlp.components.entities import extract_entities
    from nlp.indicators import is_generic_law, regulation_counts
    from nlp.text import build_document

    shared = shared_data_or_skip()
    docs = []
    for line in (shared / "reports.jsonl").read_text(encoding="utf-8").splitlines():
        rec = json.loads(line) if line.strip() else {}
        if rec.get("split") == "train":
            doc = build_document(rec["text"], rec["id"])
            extract_entities(doc, None)
            docs.append(doc)
    counts = regulation_counts(docs)
    names = [c.name for c in counts]
    assert len(docs) > 200 and len(names) > 100
    assert not [n for n in names if n in ("纲要", "规划", "条例") or is_generic_law(n)]
    assert not [n for n in names if re.search(r"（(?:19|20)\d{2}(?:19|20)\d{2}", n)]  # no period without its dash
    undashed: dict[str, list[str]] = {}
    for n in names:
        undashed.setdefault(re.sub(r"[—年]", "", n), []).append(n)
    assert [v for v in undashed.values() if len(v) > 1] == []
    top = counts[0]
    assert top.name == "法治政府建设实施纲要（2021—2025年）" and top.n_documents == len(top.documents) > 20


# --------------------------------------------------------------------------- links to the nlp show pages

REPORT_A = ("北岭市人民政府关于2023年度法治政府建设情况的报告\n一、主要负责人履行推进法治建设第一责任人职责情况\n"
            "市长主持召开常务会议研究法治工作5次。\n二、推进法治政府建设的主要举措和成效\n全年办结行政复议案件80件。\n"
            "三、存在的问题及原因\n基层执法人员数量不足。部分执法文书制作不规范。\n"
            "四、下一年度工作安排\n加强执法人员培训。力争复议纠错率降至8%以下。")
REPORT_B = ("南溪县人民政府关于2023年度法治政府建设情况的报告\n一、主要负责人履行推进法治建设第一责任人职责情况\n"
            "县委书记带头述法。\n二、推进法治政府建设的主要举措和成效\n新建调解室12个。\n"
            "三、存在的问题及原因\n乡村法律服务覆盖不全。合法性审查力量薄弱。\n"
            "四、下一年度工作安排\n推进村级法律顾问全覆盖。充实合法性审查人员。")


def test_corpus_report_links_scorecards_and_theme_examples_to_show_pages(tmp_path):
    import json
    import re

    from nlp.show import page_name

    rows = tmp_path / "rows.jsonl"
    rows.write_text("".join(json.dumps({"id": i, "text": t}, ensure_ascii=False) + "\n"
                            for i, t in (("North Ling", REPORT_A), ("nanxi-2023", REPORT_B))), encoding="utf-8")
    ann = tmp_path / "ann.jsonl"
    r = run("annotate", str(rows), "--text-column", "text", "--id-column", "id", "-o", str(ann),
            "--labeller", "headings", "--entities", "rules")
    assert r.returncode == 0, r.stderr
    report = tmp_path / "out" / "report.html"
    r = run("report", str(ann), "-o", str(report), "--clusters", "1", "--pages", str(tmp_path / "pages"))
    assert r.returncode == 0, r.stderr
    assert "2 of 2 report(s) have no page" in r.stderr  # not written yet: said, not fatal
    r = run("show", str(ann), "-o", str(tmp_path / "pages"))
    assert r.returncode == 0, r.stderr
    r = run("report", str(ann), "-o", str(report), "--clusters", "1", "--pages", str(tmp_path / "pages"))
    assert r.returncode == 0, r.stderr
    assert "no page" not in r.stderr
    html = report.read_text(encoding="utf-8")
    cards = html.split('id="scorecards-table"')[1]
    card_links = re.findall(r'<a class="page" href="([^"#]+)">([^<]+)</a>', cards)
    assert card_links == [("../pages/" + page_name("North Ling"), "North Ling"),
                          ("../pages/" + page_name("nanxi-2023"), "nanxi-2023")]
    examples = re.findall(r'<li id="[a-z]+-\d+-ex\d+">.*?<a class="page" href="([^"#]+)#s(\d+)">', html)
    assert len(examples) >= 4  # problems and plans examples, one per report at least
    docs = {d.id: d for d in nlp.read(ann)}
    by_page = {page_name(i): i for i in docs}
    for href, _ in card_links:
        assert (report.parent / href).is_file()
    for href, sentence in examples:
        page = report.parent / href
        assert page.is_file()  # a page nlp show wrote, and the sentence's anchor on it
        assert f'id="s{sentence}"' in page.read_text(encoding="utf-8")
        assert docs[by_page[page.name]].sentences[int(sentence)].label in ("problems", "plans")
    # without --pages the report names the documents without links
    r = run("report", str(ann), "-o", str(report), "--clusters", "1")
    assert r.returncode == 0, r.stderr
    assert 'class="page"' not in report.read_text(encoding="utf-8")
