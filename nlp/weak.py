"""Weak (silver) sentence labels from document structure.

Section headings are mapped to the four mandated sections of an annual report (duty,
measures, problems, plans); every sentence gets the label of the section it stands in
("section wins", LABELING.md rule 1) and the reason for it. Reports organised by theme
rather than by the mandated headings are labelled by content cues (duty for party
leadership, first responsibility, leaders' study of law, rule-of-law assessment; measures
for other domain work). Sentences before the first section are ``other``.

Every rule is a named entry of ``nlp.rules`` (headings, cues, structure); the reason written
onto a sentence is the name of the rule that decided its label (``heading:duty``,
``content:measures``, ``structure:closing`` …).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .rules.cues import CONTENT_RULES, DUTY_CUES, NO_STRUCTURE_RULES, PLANS_CUES, PROBLEM_STATEMENT, PROBLEMS_CUES  # noqa: F401
from .rules.base import CueRule, SentenceRule
from .rules.chrome import chrome_reason
from .rules.headings import GENERIC_HEADING, SECTION_HEADINGS, HeadingRule, heading_body, section_heading_rule
from .rules.structure import (BEFORE_FIRST_SECTION, CLOSING, FORMULA, GWR_DIFFICULTIES, GWR_OPENING, GWR_REVIEW,
                              GWR_SALUTATION, GWR_TASKS, HEADING_OUTER, OUTER_HEADING, PLANS_DOC_BODY, PLANS_DOC_LEADIN,
                              PLANS_DOC_SIGNATURE, PLANS_TITLE)
from .schema import Document

LABELLER_NAME = "headings"

# heading wordings of the four mandated sections (nlp.rules.headings), by label
SECTION_HEADING_PATTERNS: dict[str, re.Pattern] = {r.label: r.pattern for r in SECTION_HEADINGS if r.name == f"heading:{r.label}"}
GWR_PROBLEMS_OPENING = GWR_DIFFICULTIES.pattern


@dataclass
class WeakLabel:
    label: str
    reason: str  # the name of the rule (nlp.rules) that gave the label


def _weak(rule: SentenceRule | CueRule | HeadingRule) -> WeakLabel:
    return WeakLabel(rule.label, rule.name)


def section_of_heading(text: str) -> str | None:
    """The mandated section a heading opens, 'generic' for generic headings, else None."""
    rule = section_heading_rule(text)
    if rule is not None:
        return rule.label
    if GENERIC_HEADING.search(heading_body(text)):
        return "generic"
    return None


def content_rule(text: str) -> CueRule:
    """The content rule (``content:*``) that labels the section under a theme or generic heading."""
    return next(r for r in CONTENT_RULES if r.matches(text))


def content_label(text: str) -> tuple[str, str]:
    """Label by content cues (used under generic or theme headings): (label, rule name)."""
    rule = content_rule(text)
    return rule.label, rule.name


def infer_kind(doc: Document) -> str:
    """``plans`` for a work plan or plan document (by its title), else ``report``."""
    title = doc.title or ""
    if PLANS_TITLE.search(title) and "报告" not in title:
        return "plans"
    if not title:
        for p in doc.paragraphs[:4]:
            if len(p.text) <= 80 and PLANS_TITLE.search(p.text) and re.search(r"印发.*(通知|的函)$", p.text):
                return "plans"
    return "report"


def label_document(doc: Document, kind: str | None = None) -> list[WeakLabel]:
    """Weak label and reason (the deciding rule's name) for every sentence of ``doc``; also
    writes them onto the sentences.

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
    # the rule of the current top-level section: a mandated heading rule, a content rule under a
    # generic or theme heading (updated by its sub-headings), or None under an outer heading
    section: HeadingRule | CueRule | None = None
    outer = OUTER_HEADING  # the rule under an outer heading: after a mandated section, heading:outer
    seen_section = False
    last_para = -1
    for si, sent in enumerate(doc.sentences):
        para = doc.paragraphs[sent.paragraph]
        new_para = sent.paragraph != last_para
        last_para = sent.paragraph
        h = para.heading if (new_para and para.heading) else None
        if h is not None and top_level is not None:
            if h.level == top_level:
                seen_section = True
                rule = section_heading_rule(h.text)
                section = content_rule(h.text) if mode == "theme" or rule is None else rule
                outer = HEADING_OUTER if isinstance(section, HeadingRule) else OUTER_HEADING
            elif h.level > top_level and isinstance(section, CueRule):
                section = content_rule(h.text)
            elif h.level < top_level:
                section = None
        text = sent.text
        if not seen_section:
            w = _weak(BEFORE_FIRST_SECTION) if mode != "none" else _no_structure_label(doc, si)
        elif FORMULA.search(text):
            w = _weak(FORMULA)
        elif sent.paragraph >= tail_from:
            w = _weak(CLOSING)
        elif chrome_reason(para.text):
            w = WeakLabel("other", chrome_reason(para.text))
        else:
            w = _weak(section if section is not None else outer)
        out.append(w)
        sent.label, sent.label_source, sent.reason = w.label, LABELLER_NAME, w.reason
    return out


def _no_structure_label(doc: Document, si: int) -> WeakLabel:
    """A document with no section headings at all: content cues, otherwise ``other``."""
    text = doc.sentences[si].text
    return _weak(next(r for r in NO_STRUCTURE_RULES if r.matches(text)))


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
        chrome = chrome_reason(para.text)
        if chrome:
            out.append(WeakLabel("other", chrome))
        elif FORMULA.search(sent.text):
            out.append(_weak(FORMULA))
        elif i >= n - 3 and PLANS_DOC_SIGNATURE.pattern.match(para.text):
            out.append(_weak(PLANS_DOC_SIGNATURE))
        elif body:
            out.append(_weak(PLANS_DOC_BODY))
        else:
            out.append(_weak(PLANS_DOC_LEADIN))
        if not body and PLANS_DOC_LEADIN.search(sent.text):
            body = True
    return _set(doc, out)


def _label_gwr(doc: Document) -> list[WeakLabel]:
    """A government work report: review → measures (difficulties paragraphs → problems),
    the sections after the review → plans, the opening → other."""
    out: list[WeakLabel] = []
    section: SentenceRule | None = None
    problems_para = -1
    for sent in doc.sentences:
        para = doc.paragraphs[sent.paragraph]
        h = para.heading
        if h is not None and h.level == 1 and sent.is_heading:
            section = GWR_REVIEW if GWR_REVIEW.search(h.text) else GWR_TASKS
        first = doc.sentences[para.sentence_ids[0]].text
        if section is GWR_REVIEW and sent.paragraph != problems_para and GWR_DIFFICULTIES.search(first):
            problems_para = sent.paragraph
        if section is None:
            out.append(_weak(GWR_OPENING))
        elif FORMULA.search(sent.text):
            out.append(_weak(FORMULA))
        elif GWR_SALUTATION.search(sent.text):
            out.append(_weak(GWR_SALUTATION))
        elif section is GWR_REVIEW and sent.paragraph == problems_para:
            out.append(_weak(GWR_DIFFICULTIES))
        else:
            out.append(_weak(section))
    return _set(doc, out)
