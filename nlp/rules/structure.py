"""Rules that label a sentence by where it stands in the document: before the first section,
the closing lines, formulas, the parts of a plan document and of a government work report, and
the sentence rules of the model's decoder. Each rule's name is the reason of the labels it gives."""

from __future__ import annotations

import re

from .base import SentenceRule

# --- annual reports (nlp.weak.label_document)
BEFORE_FIRST_SECTION = SentenceRule(
    "structure:before-first-section", "other", "the title, addressee and preamble before the first section heading")
FORMULA = SentenceRule(
    "structure:formula", "other", "a formula: 特此报告, thanks, 附件/抄送 lines, 请审议, 现将…报告如下",
    re.compile(r"特此(报告|通知)|表示(诚挚|衷心)?(的)?感谢|^(附件|抄送|印发|主送)\s*[:：]|请审议|现将.{0,30}(报告|通知)如下"))
CLOSING = SentenceRule(
    "structure:closing", "other", "the short paragraphs after the last long one: signature, date, page chrome")
OUTER_HEADING = SentenceRule(
    "structure:outer-heading", "other",
    "under a heading of a higher level than the theme section headings (第X部分 above 一、)")
# the same after a mandated section: its name starts with heading:, so the model's decoder takes it,
# as it takes the mandated headings, as a heading-backed label (other)
HEADING_OUTER = SentenceRule(
    "heading:outer", "other", "under a heading of a higher level than the mandated section headings")

# --- plan documents (工作要点, 实施方案: nlp.weak)
PLANS_TITLE = re.compile(r"(工作要点|工作计划|工作安排|重点工作|实施方案|行动方案|工作方案|立法(工作)?计划|任务分工)")
PLANS_DOC_LEADIN = SentenceRule(
    "plans-doc:lead-in", "other", "a plan document before its first heading or its lead-in (现印发, 如下:)",
    re.compile(r"印发给你们|现印发|请认真(贯彻|组织|抓好)|如下[:：。]?$|制定本(方案|计划|要点)"))
PLANS_DOC_BODY = SentenceRule("plans-doc:body", "plans", "a plan document after its lead-in: arrangements")
PLANS_DOC_SIGNATURE = SentenceRule(
    "plans-doc:signature", "other", "an issuer or date line among a plan document's last three sentences",
    re.compile(r"^(\d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日|[二〇○零一三四五六七八九十]{4}年.{1,3}月.{1,3}日|\d{6,8}|"
               r".{2,30}(人民政府|委员会|办公室|局|厅|街道办事处|街道|镇|乡|司法局|政府))$"))

# --- government work reports (政府工作报告: nlp.weak)
GWR_OPENING = SentenceRule("gwr:opening", "other", "a government work report before its first section")
GWR_SALUTATION = SentenceRule("gwr:salutation", "other", "各位代表 …", re.compile(r"^各位代表"))
GWR_REVIEW = SentenceRule("gwr:review", "measures", "the review of the past year(s) (回顾, 过去, 成就 in the section heading)",
                          re.compile(r"回顾|过去|成就"))
GWR_DIFFICULTIES = SentenceRule(
    "gwr:difficulties", "problems", "a paragraph of the review that opens on its difficulties (我们也清醒看到 …)",
    re.compile(r"清醒(地)?(看到|认识到)|也要看到|(存在|面临).{0,10}(问题|不足|困难|挑战)|不足之处|困难和挑战|"
               r"工作中还(存在|有)|差距和不足|问题和不足"))
GWR_TASKS = SentenceRule("gwr:tasks", "plans", "the sections after the review: the coming year's work")

# --- the model's decoder (nlp.modeling), which writes these names into its reasons
TITLE = SentenceRule("title", "other", "decoder: the document's own title")
PLAN_DOCUMENT = SentenceRule("plan-document", "plans",
                             "decoder prior: a document the document-kind model reads as a plan (duty moves to plans)")

STRUCTURE_RULES: tuple[SentenceRule, ...] = (
    BEFORE_FIRST_SECTION, FORMULA, CLOSING, OUTER_HEADING, HEADING_OUTER,
    PLANS_DOC_LEADIN, PLANS_DOC_BODY, PLANS_DOC_SIGNATURE,
    GWR_OPENING, GWR_SALUTATION, GWR_REVIEW, GWR_DIFFICULTIES, GWR_TASKS,
    TITLE, PLAN_DOCUMENT,
)
