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

