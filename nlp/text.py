"""Raw text → structured ``Document``: page-chrome removal, headings with levels, paragraphs
and sentences, all as character offsets into one cleaned text.
"""

from __future__ import annotations

import re
import unicodedata

# page chrome: the named rules live in nlp.rules.chrome (a rule's name tags the removed line and,
# as chrome:<name>, is the reason of a sentence labelled other for it)
from .rules.chrome import CHROME_RULES, ChromeRule, chrome_reason, chrome_rule, match_chrome  # noqa: F401
from .schema import Document, Heading, Paragraph, Sentence

# --------------------------------------------------------------------------- headings

_CN_NUM = "一二三四五六七八九十百零〇两"
HEADING_PATTERNS: tuple[tuple[int, re.Pattern], ...] = (
    (0, re.compile(rf"^第[{_CN_NUM}\d]+(章|部分|编)\s*")),
    (1, re.compile(rf"^[{_CN_NUM}]+\s*[、.．,，]\s*")),
    (2, re.compile(rf"^[（(]\s*[{_CN_NUM}]+\s*[）)]\s*[、.．]?\s*")),
    (3, re.compile(r"^\d{1,2}\s*(?:[、．]|\.(?!\d))\s*")),
    (4, re.compile(r"^[（(]\s*\d{1,2}\s*[）)]\s*[、.．]?\s*")),
    (5, re.compile(r"^[①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳]\s*")),
    (2, re.compile(r"^第[一二三四五六七八九十]+[,，、]?\s*(?=\S)")),  # 第一，… as an enumerator
)
# markers that look like headings but are not: 一是, 二要 are enumerators inside sentences
_NOT_HEADING_AFTER = re.compile(r"^(是|要|批|次|级|年|月|日|个|项|条|种|方面|种|家|天|号|%|％)")
HEADING_MAX_LEN = 60


def match_heading_marker(text: str) -> tuple[int, str] | None:
    """(level, marker) when ``text`` starts with a heading enumerator."""
    for level, pat in HEADING_PATTERNS:
        m = pat.match(text)
        if m:
            rest = text[m.end():]
            if not rest or _NOT_HEADING_AFTER.match(rest):
                return None
            if level == 3 and re.match(r"^\d{3,}", text):
                return None
            return level, m.group(0)
    return None


# --------------------------------------------------------------------------- sentences

SENT_END = set("。！？；!?;")
_OPEN_CLOSE = {"《": "》", "“": "”", "（": "）", "(": ")", "「": "」", "『": "』", "‘": "’", "〈": "〉",
               "【": "】", "[": "]"}
_CLOSERS = set(_OPEN_CLOSE.values())
_TRAILING = set("”’」』）)》】]…")


def _protected_ranges(text: str) -> list[tuple[int, int]]:
    """Ranges inside matched bracket/quote pairs (never split there). Unmatched openers
    (scraped text loses characters) protect nothing."""
    ranges: list[tuple[int, int]] = []
    stack: list[tuple[str, int]] = []
    for i, ch in enumerate(text):
        if ch in _OPEN_CLOSE:
            stack.append((ch, i))
        elif ch in _CLOSERS:
            for k in range(len(stack) - 1, -1, -1):
                if _OPEN_CLOSE[stack[k][0]] == ch:
                    ranges.append((stack[k][1], i))
                    del stack[k:]
                    break
    return ranges


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Sentence spans (start, end) of one paragraph. Splits after 。！？；!?; (and the closing
    quotes/brackets that follow them), never inside 《》 “” （） and similar pairs; leading and
    trailing whitespace is left out of the spans."""
    inside = [0] * (len(text) + 1)
    for a, b in _protected_ranges(text):
        inside[a + 1] += 1
        inside[b] -= 1
    depth = 0
    depth_at = []
    for i in range(len(text)):
        depth += inside[i]
        depth_at.append(depth)
    spans: list[tuple[int, int]] = []
    start = 0
    i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        if ch in SENT_END and depth_at[i] <= 0:
            j = i + 1
            while j < n and (text[j] in SENT_END or text[j] in _TRAILING and text[j] in _CLOSERS):
                j += 1
            spans.append((start, j))
            start = j
            i = j
            continue
        if ch in "”’」』" and i > 0 and text[i - 1] in SENT_END and depth_at[i] <= 0 < depth_at[i - 1]:
            # “……。” closes a quoted sentence
            spans.append((start, i + 1))
            start = i + 1
        i += 1
    if start < n:
        spans.append((start, n))
    out = []
    for a, b in spans:
        while a < b and text[a].isspace():
            a += 1
        while b > a and text[b - 1].isspace():
            b -= 1
        if b > a:
            out.append((a, b))
    return out


# --------------------------------------------------------------------------- cleaning

_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)


def clean_lines(raw: str) -> tuple[list[str], list[tuple[str, str]]]:
    """Normalise and split raw text into content lines; returns (lines, removed) where
    removed is [(rule, line)] for page chrome."""
    raw = raw.translate(_ZERO_WIDTH).replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n")
    lines: list[str] = []
    removed: list[tuple[str, str]] = []
    for line in raw.split("\n"):
        line = unicodedata.normalize("NFC", line).replace("\xa0", " ").strip()
        if not line:
            continue
        rule = chrome_rule(line)
        if rule:
            removed.append((rule, line))
            continue
        lines.append(line)
    return lines, removed


# --------------------------------------------------------------------------- metadata

# document-kind words a title ends with: the 15 kinds of 《党政机关公文处理工作条例》 (2012) and the other
# genres such pages publish (总结, 方案, 要点, 安排, 计划, 规划, proposals 提案/建议, 答复, 解读)
TITLE_RE = re.compile(r"(报告|情况|总结|通知|意见|方案|要点|安排|计划|规划|通报|决定|决议|命令|公报|公告|通告|请示|批复|议案|函|纪要"
                      r"|提案|建议|答复|解读)$")
# a site's breadcrumb trail left in the text (您当前的位置:首页>…>年度报告) is never the title
_BREADCRUMB_TRAIL = re.compile(r"(当前的?位置|您的位置|所在的?位置)\s*[:：]|[>›»]")
_DOCNO_RE = re.compile(r"[\u4e00-\u9fa5]{1,12}\s*[〔\[［(（【]\s*\d{4}\s*[〕\]］)）】]\s*\d{1,5}\s*号")
_DATE_RE = re.compile(r"(\d{4})\s*[-年/.]\s*(\d{1,2})\s*[-月/.]\s*(\d{1,2})\s*日?")
_CN_DATE_RE = re.compile(r"([二〇○零一三四五六七八九]{4})年([一二三四五六七八九十]{1,3})月([一二三四五六七八九十]{1,3})日")
_CN_DIGIT = {"〇": 0, "○": 0, "零": 0, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}


def _cn_small(s: str) -> int:
    if s == "十":
        return 10
    if s.startswith("十"):
        return 10 + _CN_DIGIT[s[1]]
    if s.endswith("十"):
        return 10 * _CN_DIGIT[s[0]]
    if "十" in s:
        return 10 * _CN_DIGIT[s[0]] + _CN_DIGIT[s[2]]
    return _CN_DIGIT[s]


def find_date(text: str) -> str | None:
    m = _DATE_RE.search(text)
    if m:
        y, mo, d = int(m.group(1)), int(m.group(2)), int(m.group(3))
        if 1949 < y < 2100 and 1 <= mo <= 12 and 1 <= d <= 31:
            return f"{y:04d}-{mo:02d}-{d:02d}"
    m = _CN_DATE_RE.search(text)
    if m:
        y = int("".join(str(_CN_DIGIT[c]) for c in m.group(1)))
        return f"{y:04d}-{_cn_small(m.group(2)):02d}-{_cn_small(m.group(3)):02d}"
    return None


def _extract_metadata(doc: Document, lines: list[str], removed: list[tuple[str, str]]) -> None:
    for _, line in removed:
        if doc.docno is None and re.search(r"文\s*号", line):
            m = _DOCNO_RE.search(line)
            if m:
                doc.docno = re.sub(r"\s+", "", m.group(0))
        if doc.date is None and re.search(r"成文日期|发文日期", line):
            doc.date = find_date(line)
        if doc.issuer is None and re.search(r"发布机构|发文机关", line):
            m = re.search(r"(发布机构|发文机关)\s*[:：]\s*(\S+)", line)
            if m:
                doc.issuer = m.group(2)
    if doc.date is None:
        for _, line in removed:
            if re.search(r"发布日期|发布时间", line):
                doc.date = find_date(line)
                if doc.date:
                    break
    head = lines[:15]
    for i, line in enumerate(head):
        if len(line) <= 80 and ("关于" in line or "法治政府建设" in line) and TITLE_RE.search(line) \
                and not match_heading_marker(line) and not _BREADCRUMB_TRAIL.search(line):
            title = line
            # a title split over two lines: 遂宁市人民政府 / 关于2023年度…的报告
            if line.startswith("关于") and i > 0 and len(head[i - 1]) <= 30 and not TITLE_RE.search(head[i - 1]):
                title = head[i - 1] + line
            doc.title = title
            break
    if doc.title and doc.issuer is None:
        m = re.match(r"^(.{2,30}?)(关于|\d{4}年)", doc.title)
        if m and re.search(r"(政府|委员会|局|厅|办公室|委|部|署|院|街道|镇|乡|区|县|市|省)$", m.group(1)):
            doc.issuer = m.group(1)
    if doc.docno is None:
        for line in head:
            m = _DOCNO_RE.search(line)
            if m and len(line) < 40:
                doc.docno = re.sub(r"\s+", "", m.group(0))
                break
    if doc.date is None:
        for line in reversed(lines[-6:]):
            if len(line) <= 20:
                d = find_date(line)
                if d:
                    doc.date = d
                    break


# --------------------------------------------------------------------------- document


def build_document(raw: str, doc_id: str = "doc") -> Document:
    """Clean raw text and find its structure: paragraphs (one per content line), headings,
    sentences, and metadata (title, issuer, date, document number)."""
    lines, removed = clean_lines(raw)
    doc = Document(id=doc_id, text="")
    doc.removed_chrome = [f"{rule}: {line}" for rule, line in removed]
    _fill_structure(doc, lines)
    _extract_metadata(doc, lines, removed)
    return doc


def document_from_paragraphs(paragraphs: list[str], doc_id: str = "doc",
                             sentence_spans: list[list[tuple[int, int]]] | None = None) -> Document:
    """A Document from given paragraph texts (joined with newlines, nothing removed), with
    sentence spans given per paragraph (relative offsets) or found by ``split_sentences``."""
    doc = Document(id=doc_id, text="")
    _fill_structure(doc, paragraphs, sentence_spans)
    _extract_metadata(doc, paragraphs, [])
    return doc


def _fill_structure(doc: Document, lines: list[str],
                    sentence_spans: list[list[tuple[int, int]]] | None = None) -> None:
    pos = 0
    for pi, line in enumerate(lines):
        start = pos
        para = Paragraph(start=start, end=start + len(line), text=line)
        spans = sentence_spans[pi] if sentence_spans is not None else split_sentences(line)
        hm = match_heading_marker(line)
        if hm and spans:
            level, marker = hm
            first_end = spans[0][1]
            # a heading is a short first sentence (or a short paragraph without a full stop)
            if first_end <= HEADING_MAX_LEN or (len(spans) == 1 and len(line) <= HEADING_MAX_LEN):
                para.heading = Heading(level=level, marker=marker, start=start,
                                       end=start + first_end, text=line[: first_end])
        for si, (a, b) in enumerate(spans):
            sent = Sentence(start=start + a, end=start + b, text=line[a:b], paragraph=pi,
                            is_heading=bool(para.heading and si == 0))
            para.sentence_ids.append(len(doc.sentences))
            doc.sentences.append(sent)
        doc.paragraphs.append(para)
        pos = para.end + 1
    doc.text = "\n".join(lines)
