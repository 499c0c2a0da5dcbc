"""Section headings: the wordings of the four mandated sections of an annual report and their
usual variants (LABELING.md: section wins). A sentence labelled for its section has the heading
rule's name as its reason (``heading:duty`` …); the names of these mandated-section rules start
with ``heading:``, which is how the model's decoder (``nlp.modeling``) tells a mandated heading."""

from __future__ import annotations

import re

from .base import HeadingRule

_DUTY = re.compile(
    r"第一责任人|主要负责(人|同志)|主要领导|党政(主要)?负责人|履行.{0,12}(职责|责任)|"
    r"履职情况|述法|加强(党对|党的).{0,10}领导|坚持党的(全面)?领导|组织领导")

# checked in this order: plans before measures (下一步工作打算 mentions 工作 and would look like
# measures); a duty wording about results and measures without the first responsibility opens measures
SECTION_HEADINGS: tuple[HeadingRule, ...] = (
    HeadingRule("heading:problems", "problems", "存在的不足和原因 / 存在的问题 and variants", re.compile(
        r"存在的?(主要)?(问题|不足|困难|短板)|(问题|不足|困难)(和|及|与)?(其)?(原因|差距|挑战)|"
        r"(不足|问题)之处|^.{0,8}(问题|不足|短板|差距)$|面临的(问题|困难|挑战)")),
    HeadingRule("heading:plans", "plans", "下一年度…主要安排 / 下步工作打算 / 2024年工作安排 and variants", re.compile(
        r"下一?步|下一?(年度|阶段)|(工作|主要|重点)?(安排|打算|计划|思路|设想|展望|目标)$|"
        r"\d{4}年.{0,10}(工作)?(安排|打算|计划|思路|重点|要点|任务)|今后.{0,6}(工作|打算|方向)|"
        r"(工作|努力)(方向|重点)|(明年|来年).{0,8}(工作|安排)|主要任务$|重点任务$")),
    HeadingRule("heading:results", "measures",
                "a duty wording that speaks of results or measures (成效, 举措) without the first responsibility",
                _DUTY, requires=re.compile(r"成效|举措"), unless=re.compile(r"第一责任人|主要负责")),
    HeadingRule("heading:duty", "duty", "主要负责人履行推进法治建设第一责任人职责情况 and variants (party leadership)", _DUTY),
    HeadingRule("heading:measures", "measures", "推进法治政府建设的主要举措和成效 and variants", re.compile(
        r"(主要|工作)?(举措|做法|措施|工作)(和|及|与)?(成效|成绩|成果)|主要举措|主要做法|主要成效|工作成效|"
        r"取得的?(主要)?成效|(推进|建设).{0,12}(主要)?(举措|成效)$")),
)

# generic top-level headings (一、工作开展情况): the sections under them are labelled by content
GENERIC_HEADING = re.compile(r"^.{0,6}(工作|建设|推进).{0,8}(情况|开展情况|进展)$|^.{0,6}\d{4}年.{0,14}情况$")

_HEADING_PREFIX = re.compile(r"^[\s一二三四五六七八九十第章部分、.．()（）\d]+")


def heading_body(text: str) -> str:
    """A heading's words: the enumerator stripped, and a closing 。 or colon."""
    return _HEADING_PREFIX.sub("", text).rstrip("。:：")


def section_heading_rule(text: str) -> HeadingRule | None:
    """The mandated-section rule a heading matches, or None."""
    body = heading_body(text)
    for rule in SECTION_HEADINGS:
        if rule.matches(body):
            return rule
    return None
