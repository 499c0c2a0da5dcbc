"""The named rule tables (nlp.rules): names, registry, provenance in labels and entities."""

import re

import pytest

from nlp.rules import ENTITY, SENTENCE, all_rules, get_rule, word_lists
from nlp.schema import ENTITY_TYPES, LABELS


def test_registry_names_unique_and_described():
    rules = all_rules()
    names = [r.name for r in rules]
    assert len(names) == len(set(names))
    for r in rules:
        assert r.kind in (SENTENCE, ENTITY)
        assert r.gives in (LABELS if r.kind == SENTENCE else ENTITY_TYPES), r
        assert r.description and re.fullmatch(r"[a-z-]+(:[a-z_-]+)?", r.name), r
        assert r.family == r.name.split(":")[0]
        assert set(r.to_dict()) == {"name", "kind", "gives", "family", "description"}
    assert get_rule("chrome:scan_qr").gives == "other"
    with pytest.raises(KeyError):
        get_rule("no-such:rule")


def test_heading_rules_fit_the_decoder_reason():
    # the model's decoder appends a heading reason cut to 24 characters (nlp.modeling)
    for r in all_rules():
        if r.name.startswith("heading:"):
            assert len(r.name) <= 24 and not r.name.endswith(("theme", "generic")), r.name


def test_problems_cues_written_once():
    from nlp import baselines, weak
    from nlp.rules import cues

    assert weak.PROBLEMS_CUES is cues.PROBLEMS_CUES and weak.PROBLEM_STATEMENT is cues.PROBLEM_STATEMENT
    # every problems rule uses the one cue list; the confirming words extend the one base list
    for rule in (*cues.CONTENT_RULES, *cues.NO_STRUCTURE_RULES, *cues.ALONE_RULES):
        if rule.label == "problems":
            assert rule.cues is cues.PROBLEMS_CUES
            assert rule.confirm.pattern.startswith("|".join(cues.PROBLEM_WORDS.words))
    assert cues.PROBLEM_STATEMENT.pattern.startswith(cues.PROBLEMS_CUES.pattern + "|")
    assert not hasattr(baselines, "_MEASURES_CUES") and not hasattr(weak, "_FORMULA")
    assert {w.name for w in word_lists()} >= {"duty", "problems", "problem-words", "plans", "measures", "other"}


def test_rules_baseline_reasons_are_rule_names():
    from nlp.baselines import rules_label

    cases = {
        "扫一扫在手机打开当前页": ("other", "chrome:scan_qr"),
        "东湖县人民政府": ("other", "alone:other"),
        "基层执法力量不够,问题仍然存在。": ("problems", "alone:problems"),
        "下一步,将继续推进依法行政。": ("plans", "alone:plans"),
        "县政府常务会议研究法治工作。": ("duty", "alone:duty"),
        "全年办理许可事项120件。": ("measures", "alone:measures"),
        "天气晴好。": ("other", "alone:none"),
    }
    for text, want in cases.items():
        assert rules_label(text) == want, text
        assert get_rule(want[1]).gives == want[0]


def test_chrome_rules_keep_short_names():
    from nlp.rules.chrome import CHROME_RULES, chrome_reason, chrome_rule

    assert chrome_rule("扫一扫在手机打开当前页") == "scan_qr"
    assert chrome_reason("扫一扫在手机打开当前页") == "chrome:scan_qr"
    assert chrome_reason("县政府常务会议研究法治工作。") is None
    assert {f"chrome:{r.name}" for r in CHROME_RULES} <= {r.name for r in all_rules()}


def test_section_heading_table_order():
    from nlp.rules.headings import section_heading_rule

    assert section_heading_rule("四、下步工作打算").name == "heading:plans"
    assert section_heading_rule("一、党政主要负责人履行职责情况").name == "heading:duty"
    # a duty wording about results without the first responsibility opens the measures section
    assert section_heading_rule("二、履行法治建设职责的举措和成效").name == "heading:results"
    assert section_heading_rule("二、履行法治建设职责的举措和成效").label == "measures"
    assert section_heading_rule("一、工作开展情况") is None


def _toy_gold(tmp_path):
    import json

    paras = [
        ("东湖县人民政府关于2023年度法治政府建设情况的报告", [("other", None)], []),
        ("一、主要负责人履行推进法治建设第一责任人职责情况", [("duty", None)], []),
        ("县政府常务会议专题研究法治政府建设4次。", [("duty", None)], [("4次", "METRIC")]),
        ("二、推进法治政府建设的主要举措和成效", [("measures", None)], []),
        # the gold calls this sentence other: the heading rule is wrong once
        ("严格执行《东湖县行政执法公示办法》,受理案件142件。", [("other", None)], [("东湖县行政执法公示办法", "LAW"), ("142件", "METRIC")]),
        ("扫一扫在手机打开当前页", [("other", None)], []),
    ]
    path = tmp_path / "gold.jsonl"
    with path.open("w", encoding="utf-8") as f:
        for i, (text, sents, ents) in enumerate(paras):
            rec = {"id": f"toy-p{i}", "doc_id": "toy", "source": "test", "text": text,
                   "sentences": [{"start": 0, "end": len(text), "label": sents[0][0]}],
                   "entities": [{"start": text.index(w), "end": text.index(w) + len(w), "type": t, "text": w}
                                for w, t in ents]}
            f.write(json.dumps(rec, ensure_ascii=False) + "\n")
    return path


def test_score_rules_counts_and_precision(tmp_path):
    from nlp import evaluate as ev
    from nlp.pipeline import get_labeller
    from nlp.rules.score import score_rules

    docs = ev.load_gold(_toy_gold(tmp_path))
    pred = ev.predict(docs, get_labeller("headings"))
    rs = score_rules(docs, pred)
    rows = {r.name: r for r in rs.rules}
    assert [r.name for r in rs.rules] == [r.name for r in all_rules()]  # every rule listed, zeros included
    assert (rows["heading:duty"].fired, rows["heading:duty"].correct) == (2, 2)
    assert (rows["heading:measures"].fired, rows["heading:measures"].correct) == (2, 1)
    assert rows["heading:measures"].precision == 0.5
    assert rows["structure:before-first-section"].fired == 1
    assert rows["heading:plans"].fired == 0 and rows["heading:plans"].precision is None
    assert (rows["law:bracket-title"].fired, rows["law:bracket-title"].correct) == (1, 1)
    assert (rows["metric:arabic"].fired, rows["metric:arabic"].correct) == (2, 2)
    assert rs.n_sentences == 6 and rs.components == []
    d = rs.to_dict()
    assert d["rules"][0].keys() == {"name", "kind", "gives", "fired", "correct", "precision"}
    text = rs.to_text()
    assert "heading:measures" in text and "0.500" in text and "—" in text
    md = rs.to_markdown()
    assert md.count("\n| ") == len(rs.rules) + 1


def test_score_rules_model_reasons_and_components(tmp_path):
    from nlp import evaluate as ev
    from nlp.rules.score import score_rules

    docs = ev.load_gold(_toy_gold(tmp_path))
    n = sum(len(p.sentences) for p in docs[0].paragraphs)
    reasons = ["title", "model+heading:duty", "model+heading:duty+cue:problems", "model", "model", "chrome:scan_qr"]
    labels = ["other", "duty", "problems", "measures", "measures", "other"]
    ents = [[] for _ in docs[0].paragraphs]
    ents[4] = [{"start": 5, "end": 16, "type": "LAW", "source": "model", "rule": None}]
    pred = ev.Predictions([labels], None, [ents], "toy-model", reasons=[reasons])
    assert len(reasons) == n
    rs = score_rules(docs, pred)
    rows = {r.name: r for r in rs.rules}
    assert (rows["title"].fired, rows["title"].correct) == (1, 1)
    assert (rows["heading:duty"].fired, rows["heading:duty"].correct) == (2, 2)
    assert (rows["cue:problems"].fired, rows["cue:problems"].correct) == (1, 0)
    assert rows["chrome:scan_qr"].fired == 1
    comps = {(c.kind, c.name): c for c in rs.components}
    # the model's own part: precision is the share it got right (measures: 1 of 2 … of 4 sentences)
    assert (comps[("sentence", "model")].fired, comps[("sentence", "model")].correct) == (4, 2)
    assert (comps[("entity", "model")].fired, comps[("entity", "model")].correct) == (1, 1)


def test_eval_by_rule_cli(tmp_path):
    import json
    import subprocess
    import sys

    gold = _toy_gold(tmp_path)
    out = tmp_path / "m.json"
    r = subprocess.run([sys.executable, "-m", "nlp", "eval", str(gold), "--labeller", "headings", "--by-rule",
                        "--bootstrap", "0", "--json", str(out)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert "heading:measures" in r.stdout and "candidate:docno-damaged" in r.stdout
    m = json.loads(out.read_text(encoding="utf-8"))
    assert {x["name"] for x in m["by_rule"]["rules"]} == {x.name for x in all_rules()}
