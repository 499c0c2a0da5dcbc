"""Weak (silver) sentence labels from document structure.

Section headings are mapped to the four mandated sections of an annual report (duty,
measures, problems, plans); every sentence gets the label of the section it stands in
("section wins", LABELING.md rule 1) and the reason for it. Reports organised by theme
rather than by the mandated headings are labelled by content cues (duty for party
leadership, first responsibility, leaders' study of law, rule-of-law assessment; measures
for other domain work). Sentences before the first section are ``other``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .schema import Document
from .text import chrome_rule

LABELLER_NAME = "headings"

# heading wordings of the four mandated sections and their usual variants
SECTION_HEADING_PATTERNS: dict[str, re.Pattern] = {
    "duty": re.compile(
        r"第一责任人|主要负责(人|同志)|主要领导|党政(主要)?负责人|履行.{0,12}(职责|责任)|"
        r"履职情况|述法|加强(党对|党的).{0,10}领导|坚持党的(全面)?领导|组织领导"),
    "problems": re.compile(
        r"存在的?(主要)?(问题|不足|困难|短板)|(问题|不足|困难)(和|及|与)?(其)?(原因|差距|挑战)|"
        r"(不足|问题)之处|^.{0,8}(问题|不足|短板|差距)$|面临的(问题|困难|挑战)"),
    "plans": re.compile(
        r"下一?步|下一?(年度|阶段)|(工作|主要|重点)?(安排|打算|计划|思路|设想|展望|目标)$|"
        r"\d{4}年.{0,10}(工作)?(安排|打算|计划|思路|重点|要点|任务)|今后.{0,6}(工作|打算|方向)|"
        r"(工作|努力)(方向|重点)|(明年|来年).{0,8}(工作|安排)|主要任务$|重点任务$"),
    "measures": re.compile(
        r"(主要|工作)?(举措|做法|措施|工作)(和|及|与)?(成效|成绩|成果)|主要举措|主要做法|主要成效|工作成效|"
        r"取得的?(主要)?成效|(推进|建设).{0,12}(主要)?(举措|成效)$"),
}
# generic top-level headings (一、工作开展情况) are labelled by content below them
GENERIC_HEADING = re.compile(r"^.{0,6}(工作|建设|推进).{0,8}(情况|开展情况|进展)$|^.{0,6}\d{4}年.{0,14}情况$")

DUTY_CUES = re.compile(
    r"第一责任人|主要负责(人|同志)|党政主要负责|常务会议?.{0,10}(研究|审议|学法|听取|部署)|会前学法|"
    r"学法(制度|清单|计划)|述法|党的领导|党对.{0,8}领导|党委(统一)?领导|组织领导|领导小组|"
    r"法治(建设|政府建设)?(考核|督察|督查|督导)|督察|考核|责任(落实|清单|制)|(统筹|谋划|部署)推进|领导干部.{0,6}学法|"
    r"习近平法治思想|学习(宣传)?贯彻.{0,12}(精神|思想)|理论学习|思想引领|党建(引领|统领)|政治(统领|引领)|"
    r"压(实|紧).{0,8}责任|责任.{0,4}压(实|紧)|法治(建设)?责任|关键少数")
PROBLEMS_CUES = re.compile(
    r"有待|不够|不足|仍需|仍然?存在|还存在|尚未|尚不|不到位|不平衡|不充分|短板|差距|薄弱|欠缺|滞后|"
    r"缺乏|不高|不强|不健全|不完善|不规范|问题(依然|仍然|还)|个别|少数")
# a sentence that states a shortcoming, for the decoder's optional problems prior: the content
# cues above, or a negated quality (不深入, 不严不实, 不及时), 偏差, a closing …的问题 / …等问题,
# 存在…问题. Chosen on the hand-labelled train sentences outside mandated headings (precision 0.79,
# recall 0.40; the content cues alone 0.83 / 0.36).
PROBLEM_STATEMENT = re.compile(
    PROBLEMS_CUES.pattern + r"|不(够|足|深入|全面|严|实|高|强|到位|健全|完善|规范|平衡|充分|明显|及时|细)|偏差|"
    r"(的|等)问题[。;；]?$|存在.{0,20}问题")
PLANS_CUES = re.compile(
    r"^(下一步|下步|今后|明年|\d{4}年[,，]?(我|全|本|市|区|县|将))|将(继续|进一步|持续|着力|重点|全面|深入|加快|加大|坚持|推动|"
    r"强化|完善|围绕|以)|力争|确保|计划(于|在|到)|拟(于|在)?|要(以|把|在|进一步|继续|持续|加快|坚持|全面)")

_SIGNATURE = re.compile(r"^(\d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日|[二〇○零一三四五六七八九十]{4}年.{1,3}月.{1,3}日|\d{6,8}|"
                        r".{2,30}(人民政府|委员会|办公室|局|厅|街道办事处|街道|镇|乡|司法局|政府))$")
_FORMULA = re.compile(r"特此(报告|通知)|表示(诚挚|衷心)?(的)?感谢|^(附件|抄送|印发|主送)\s*[:：]|请审议|现将.{0,30}(报告|通知)如下")


@dataclass
class WeakLabel:
    label: str
    reason: str


def section_of_heading(text: str) -> str | None:
    """The mandated section a heading opens, 'generic' for generic headings, else None."""
    body = re.sub(r"^[\s一二三四五六七八九十第章部分、.．()（）\d]+", "", text)
    body = body.rstrip("。:：")
    # plans first: 下一步工作打算 mentions 工作 and would look like measures
    for label in ("problems", "plans", "duty", "measures"):
        if SECTION_HEADING_PATTERNS[label].search(body):
            if label == "duty" and re.search(r"成效|举措", body) and not re.search(r"第一责任人|主要负责", body):
                return "measures"
            return label
    if GENERIC_HEADING.search(body):
        return "generic"
    return None


def content_label(text: str, default: str = "measures") -> tuple[str, str]:
    """Label by content cues (used under generic or theme headings)."""
    if PROBLEMS_CUES.search(text) and re.search(r"问题|不足|有待|短板|差距|薄弱", text):
        return "problems", "cue:problems"
    m = DUTY_CUES.search(text)
    if m:
        return "duty", f"cue:duty({m.group(0)})"
    return default, f"default:{default}"


GWR_PROBLEMS_OPENING = re.compile(r"清醒(地)?(看到|认识到)|也要看到|(存在|面临).{0,10}(问题|不足|困难|挑战)|不足之处|困难和挑战|"
                                  r"工作中还(存在|有)|差距和不足|问题和不足")
_PLANS_DOC_LEADIN = re.compile(r"印发给你们|现印发|请认真(贯彻|组织|抓好)|如下[:：。]?$|制定本(方案|计划|要点)")


_PLANS_TITLE = re.compile(r"(工作要点|工作计划|工作安排|重点工作|实施方案|行动方案|工作方案|立法(工作)?计划|任务分工)")


def infer_kind(doc: Document) -> str:
    """``plans`` for a work plan or plan document (by its title), else ``report``."""
    title = doc.title or ""
    if _PLANS_TITLE.search(title) and "报告" not in title:
        return "plans"
    if not title:
        for p in doc.paragraphs[:4]:
            if len(p.text) <= 80 and _PLANS_TITLE.search(p.text) and re.search(r"印发.*(通知|的函)$", p.text):
                return "plans"
    return "report"


def label_document(doc: Document, kind: str | None = None) -> list[WeakLabel]:
    """Weak label and reason for every sentence of ``doc``; also writes them onto the sentences.

    ``kind`` names the document type when it is known (``reports.jsonl`` has it): ``plans``
    documents (work plans, 工作要点) are plans after their lead-in; ``gwr`` (government work
    reports) are measures in the review section, problems in its difficulties paragraphs,
    and plans from the first section after the review."""
    if kind is None:
        kind = infer_kind(doc)
    if kind == "plans":
        return _label_plans_document(doc)
    if kind == "gwr":
        return _label_gwr(doc)
    heads = [(pi, p.heading, section_of_heading(p.heading.text)) for pi, p in enumerate(doc.paragraphs) if p.heading]
    mandated = [(pi, h, s) for pi, h, s in heads if s in ("duty", "measures", "problems", "plans")]
    if mandated:
        top_level = min(h.level for _, h, _ in mandated)
        mode = "mandated"
    elif heads:
        top_level = min(h.level for _, h, _ in heads)
        mode = "theme"
    else:
        top_level = None
        mode = "none"

    # the tail after the last long paragraph: signature, date, page chrome
    tail_from = len(doc.paragraphs)
    for pi in range(len(doc.paragraphs) - 1, -1, -1):
        p = doc.paragraphs[pi]
        if len(p.text) > 30 or p.heading is not None or p.text.endswith("。"):
            break
        tail_from = pi
    out: list[WeakLabel] = []
    section: str | None = None  # current top-level section label, or generic/theme
    section_reason = ""
    sub_label: str | None = None  # label decided by a sub-heading under a generic/theme section
    seen_section = False
    last_para = -1
    for si, sent in enumerate(doc.sentences):
        para = doc.paragraphs[sent.paragraph]
        new_para = sent.paragraph != last_para
        last_para = sent.paragraph
        h = para.heading if (new_para and para.heading) else None
        if h is not None and top_level is not None:
            sec = section_of_heading(h.text)
            if h.level == top_level:
                seen_section = True
                if mode == "theme" or sec in ("generic", None):
                    lab, why = content_label(h.text)
                    section, section_reason = "generic", f"heading:{h.marker}{'generic' if sec == 'generic' else 'theme'}"
                    sub_label = lab
                else:
                    section, section_reason = sec, f"heading:{h.text[:20]}"
                    sub_label = None
            elif h.level > top_level and section == "generic":
                lab, _ = content_label(h.text)
                sub_label = lab
            elif h.level < top_level:
                section, sub_label = None, None
        text = sent.text
        if not seen_section:
            label, reason = "other", ("before first section" if mode != "none" else "no section headings")
            if mode == "none":
                label, reason = _no_structure_label(doc, si)
        elif _FORMULA.search(text):
            label, reason = "other", "formula"
        elif sent.paragraph >= tail_from:
            label, reason = "other", "closing (signature, date, page chrome)"
        elif chrome_rule(para.text):
            label, reason = "other", f"page chrome ({chrome_rule(para.text)})"
        elif section == "generic":
            label, reason = sub_label or "measures", section_reason
        else:
            label, reason = section or "other", section_reason
        out.append(WeakLabel(label, reason))
        sent.label, sent.label_source, sent.reason = label, LABELLER_NAME, reason
    return out


def _no_structure_label(doc: Document, si: int) -> tuple[str, str]:
    """A document with no section headings at all: content cues, otherwise ``other``."""
    text = doc.sentences[si].text
    if PROBLEMS_CUES.search(text) and re.search(r"问题|不足|有待|短板|差距|薄弱|不够", text):
        return "problems", "cue:problems"
    if PLANS_CUES.search(text):
        return "plans", "cue:plans"
    return "other", "no section headings"


def _set(doc: Document, labels: list[WeakLabel]) -> list[WeakLabel]:
    for sent, w in zip(doc.sentences, labels):
        sent.label, sent.label_source, sent.reason = w.label, LABELLER_NAME, w.reason
    return labels


def _label_plans_document(doc: Document) -> list[WeakLabel]:
    """A plans document: before its first heading or lead-in sentence ``other``; then plans."""
    out: list[WeakLabel] = []
    body = False
    n = len(doc.sentences)
    for i, sent in enumerate(doc.sentences):
        para = doc.paragraphs[sent.paragraph]
        if not body and (para.heading is not None and para.heading.level <= 2):
            body = True
        if chrome_rule(para.text) or _FORMULA.search(sent.text) or (i >= n - 3 and _SIGNATURE.match(para.text)):
            out.append(WeakLabel("other", "formula, signature or page chrome"))
        elif body:
            out.append(WeakLabel("plans", "plans document body"))
        else:
            out.append(WeakLabel("other", "plans document lead-in"))
        if not body and _PLANS_DOC_LEADIN.search(sent.text):
            body = True
    return _set(doc, out)


def _label_gwr(doc: Document) -> list[WeakLabel]:
    """A government work report: review → measures (difficulties paragraphs → problems),
    the sections after the review → plans, the opening → other."""
    out: list[WeakLabel] = []
    section = None
    problems_para = -1
    for sent in doc.sentences:
        para = doc.paragraphs[sent.paragraph]
        h = para.heading
        if h is not None and h.level == 1 and sent.is_heading:
            section = "measures" if re.search(r"回顾|过去|成就", h.text) else "plans"
        first = doc.sentences[para.sentence_ids[0]].text
        if section == "measures" and sent.paragraph != problems_para and GWR_PROBLEMS_OPENING.search(first):
            problems_para = sent.paragraph
        if section is None or _FORMULA.search(sent.text) or re.match(r"^各位代表", sent.text):
            out.append(WeakLabel("other", "opening or formula"))
        elif section == "measures" and sent.paragraph == problems_para:
            out.append(WeakLabel("problems", "difficulties paragraph of the review"))
        else:
            out.append(WeakLabel(section, f"gwr section {section}"))
    return _set(doc, out)
