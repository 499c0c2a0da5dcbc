"""Rule extractors for LAW, DOCNO, METRIC and DATE, following LABELING.md.

Spans are character offsets into the text given; spans never overlap (priority:
DOCNO > LAW > DATE > METRIC). ``extract(text)`` is the entry point. The patterns that propose
spans are named rules (``nlp.rules.entities``); every entity carries the name of the rule that
produced it (``Entity.rule``).
"""

from __future__ import annotations

import re
from typing import Iterable, Sequence

from .lexicon import law_lexicon
from .rules.entities import (CANDIDATE_RULES, CN_DIGITS as _CN_DIGITS, DATE_BARE_MONTH, DATE_RE, DATE_RULE_OF_GROUP, DOCNO_BRACKETED, DOCNO_DECREE, DOCNO_RE,
                             DRAFT_VERB_WORDS as _DRAFT_VERB_WORDS, LAW_BRACKET_TITLE, LAW_CUT_OFF, LAW_DRAFT, LAW_LOST_OPEN,
                             LAW_STANDALONE, LAW_SUFFIX, LEXICON_RULE_OF, METRIC_ARABIC, METRIC_CHINESE, METRIC_PERCENT,
                             METRIC_RE, PERIOD as _PERIOD, UNITS)
from .rules.base import EntityRule
from .schema import Entity


def _ent(rule: EntityRule, start: int, end: int, text: str, **kw) -> Entity:
    """An entity of ``rule``'s type over ``text[start:end]``, attributed to the rule."""
    return Entity(start, end, rule.type, text[start:end], rule=rule.name, **kw)

# --------------------------------------------------------------------------- DOCNO

# DOCNO_RE (nlp.rules.entities): docno:bracketed (遂府〔2024〕6号) | docno:decree (市政府令第6号)
# words of the running sentence, and field labels of page chrome (发文字号皖交发〔2021〕63号)
_LING_PREFIX_STOP = re.compile(r"^.*?(根据|按照|依据|的|和|及|与|以|经|字号|文号)")


def extract_docno(text: str) -> list[Entity]:
    out = []
    for m in DOCNO_RE.finditer(text):
        start = m.start()
        code = m.group("code") or m.group("ling")
        # trim words of the running sentence off the issuer code: 根据遂府〔2024〕6号 → 遂府〔2024〕6号
        cm = _LING_PREFIX_STOP.match(code)
        if cm and cm.end() < len(code) - 1:
            start += cm.end()
        out.append(_ent(DOCNO_DECREE if m.group("ling") else DOCNO_BRACKETED, start, m.end(), text))
    return out


# --------------------------------------------------------------------------- LAW

_NOT_LAW_TITLE = re.compile(
    r"^(人民日报|光明日报|法制日报|法治日报|经济日报|求是|半月谈|新华每日电讯|学习时报|中国青年报|.{0,10}(日报|晚报|周刊|杂志|学报))$|"
    r"学习纲要$|(读本|讀本|教材|手册|手冊|文选|选编|讲话|评估报告|白皮书|白皮書|汇编|彙編|匯編|问答|丛书|导读)$|"
    r"^习近平.{0,20}(论|讲话|文集|选编|学习纲要|谈治国理政)|"
    # books and studies by their form (《论坚持全面依法治国》, 《完善…的若干探索》) and headlines of articles
    # and case write-ups, which a rule's title never is (《某局:专席暖民心,咨询“零距离”》)
    r"^论|(探索|研究|思考|浅析|初探|探析|启示)$|[:：,，]|"
    # published studies, case collections and courses, with their edition year: 《…发展报告》, 《…优秀案例》,
    # 《…蓝皮书·…(2023)》 (a government's own report, 《…法治政府建设情况报告》, is a document)
    r"(发展报告|發展報告|评估报告|研究报告|案例|公开课|^.{0,6}蓝皮书\S*)\s*(?:[（(]\d{4}[）)])?$")
# events, days and campaigns named after a law are not LAW
_EVENT_AFTER = re.compile(r"^(日|宣传周|宣传月|宣传日|宣誓|晨读|进\S{0,3}(活动)?|知识竞赛|主题|学习月|公园|广场|文化|精神|实施\d+周年)")
# the name goes on (行政复议法实施条例, 提升行政执法质量三年行动计划实施方案)
_LAW_BOUNDARY_AFTER = re.compile(r"^(律|规|院|治|官|学|制|务|庭|人|理|定|条例|典|(实施|分工|工作)(方案|意见|细则|办法))")


_DRAFT_NAME = LAW_DRAFT.pattern
_PERIOD_AFTER = re.compile(_PERIOD)
_DRAFT_VERBS = re.compile(rf"^.*({_DRAFT_VERB_WORDS})")


# what may stand inside a title cut off by the paragraph's end: no sentence end, at most 60 characters
_CUT_OFF_TAIL = re.compile(r"[^。；;！？!?\n《》]{1,60}")


def _cut_off_title(text: str) -> tuple[int, int] | None:
    """The span inside a 《 that the paragraph's end cuts off (…制定了《岳阳县法治政府建设实施方案(20),
    trailing spaces excluded; None when the last 《 is closed, empty or followed by a sentence end."""
    i = text.rfind("《")
    if i < 0 or "》" in text[i:] or text[:i].count("《") != text[:i].count("》"):
        return None
    tail = text[i + 1:].rstrip()
    if not tail or not _CUT_OFF_TAIL.fullmatch(tail):
        return None
    return i + 1, i + 1 + len(tail)


def _bracket_titles(text: str) -> list[tuple[int, int]]:
    """Spans inside the outermost 《…》 pairs (nested 〈〉/《》 kept inside), and the title that the
    paragraph's end cuts off (``_cut_off_title``), last."""
    spans = []
    depth = 0
    start = -1
    for i, ch in enumerate(text):
        if ch == "《":
            if depth == 0:
                start = i + 1
            depth += 1
        elif ch == "》" and depth > 0:
            depth -= 1
            if depth == 0:
                spans.append((start, i))
        elif ch in "\n" and depth:
            depth = 0
    cut = _cut_off_title(text)
    if cut:
        spans.append(cut)
    return spans


# a paragraph that is nothing but the full name of a rule, as the items of a legislative plan list
# their bills (1.东湖市文明行为促进条例); not a verb phrase (修订…办法 names a task, the name inside it
# is left to the other rules) and not a document's own title at its head (the caller says)
_STANDALONE_NAME = LAW_STANDALONE.pattern
_TASK_VERB = re.compile(r"^(制定|修订|修改|出台|起草|完善|健全|落实|贯彻|实施|执行|加强|推进|严格|废止|清理|研究|审议|印发|报送)")


# what a 《》 title names, told by the words around it (LABELING.md: books, published studies, lecture
# titles, programmes and case write-ups are not LAW): 《…》等书籍, 作《…》专题辅导, 编写出版《…》
_NOT_LAW_AFTER = re.compile(
    r"^(等|系列|一书|一文)?(书籍|读物|丛书|专著|著作|图书|专刊|期刊|杂志|节目|栏目|专栏|案例|公开课|微课|课程|文章|理论文章|署名文章|"
    r"专题辅导|专题讲座|专题授课|专题党课|讲座|辅导报告|授课|第[一二三四五六七八九十]+卷|"
    # an article carried by a newspaper (《…》在《人民日报》刊发)
    r"在《[^》]{0,10}(日报|报|杂志|周刊)》|"
    # copies printed or handed out (《学法课堂》5400册)
    r"[\d一二三四五六七八九十百千万]+[余多]?(册|本))")
_NOT_LAW_BEFORE = re.compile(r"(出版|刊发|发表|刊载|撰写|主讲|讲授|节目|栏目|专栏)的?$")


def _not_law_context(text: str, titles: Sequence[tuple[int, int]], k: int) -> bool:
    """Whether the words around the k-th 《》 title (or the run of titles it stands in, 《A》《B》等书籍)
    say it is a book, study, lecture, programme or case rather than a rule."""
    first = last = k
    while last + 1 < len(titles) and re.fullmatch(r"》\s*[、，,和及与]?\s*《", text[titles[last][1]:titles[last + 1][0]]):
        last += 1
    while first > 0 and re.fullmatch(r"》\s*[、，,和及与]?\s*《", text[titles[first - 1][1]:titles[first][0]]):
        first -= 1
    after = text[titles[last][1] + 1:titles[last][1] + 12]
    before = text[max(0, titles[first][0] - 5):max(0, titles[first][0] - 1)]
    return bool(_NOT_LAW_AFTER.match(after) or _NOT_LAW_BEFORE.search(before))


def extract_law(text: str, standalone: bool = True) -> list[Entity]:
    out: list[Entity] = []
    taken = [False] * len(text)
    m = _STANDALONE_NAME.match(text) if standalone else None
    if m and not _TASK_VERB.match(m.group(1)) and "《" not in text:
        a, b = m.start(1), m.end(1)
        out.append(_ent(LAW_STANDALONE, a, b, text))
        for i in range(a, b):
            taken[i] = True
    titles = _bracket_titles(text)
    cut = _cut_off_title(text)  # if any, the last of ``titles``
    for k, (a, b) in enumerate(titles):
        title = text[a:b].strip()
        if not title or _NOT_LAW_TITLE.search(title) or _not_law_context(text, titles, k):
            continue
        out.append(_ent(LAW_CUT_OFF if (a, b) == cut else LAW_BRACKET_TITLE, a, b, text))
        for i in range(a - 1, min(b + 1, len(text))):
            taken[i] = True
    # a closing 》 whose opening 《 was lost in scraping: 行政处罚法》、《…
    for m in LAW_LOST_OPEN.pattern.finditer(text):
        a, b = m.start(1), m.end(1)
        if not any(taken[a:b]) and text.count("《", 0, a) <= text.count("》", 0, a):
            out.append(_ent(LAW_LOST_OPEN, a, b, text))
            for i in range(a, b + 1):
                taken[i] = True
    # a draft local regulation named without 《》 (审议东湖省养老服务条例草案): the name, 草案 outside
    for m in _DRAFT_NAME.finditer(text):
        a, b = m.start(1), m.end(1)
        cut = _DRAFT_VERBS.match(text[a:b])
        if cut:
            a += cut.end()
        if b - a >= 5 and not any(taken[a:b]):
            out.append(_ent(LAW_DRAFT, a, b, text))
            for i in range(a, b):
                taken[i] = True
    # unbracketed law names from the lexicon
    quotes = _quoted_spans(text)
    lex = law_lexicon()
    if lex.pattern is not None:
        for m in lex.pattern.finditer(text):
            a, b = m.start(), m.end()
            if any(taken[a:b]):
                continue
            after = text[b:b + 8]
            if _EVENT_AFTER.match(after) or _LAW_BOUNDARY_AFTER.match(after):
                continue
            # the tail of a local document's name (东湖省优化营商环境条例, 东湖省法治政府建设实施纲要)
            if a > 0 and text[a - 1] in "省市县区州旗盟镇乡" and not (a > 1 and text[a - 2] in "全本各我该"):
                continue
            # inside a slogan or campaign name in quotes (“学宪法讲宪法”)
            if any(qa < a and b < qb and (qa + 1, qb - 1) != (a, b) for qa, qb in quotes):
                continue
            # the period of the plan is part of its name: 法治政府建设实施纲要(2015-2020年)
            rule = LEXICON_RULE_OF[lex.origin[m.group(0)]]
            pm = _PERIOD_AFTER.match(text, b)
            if pm:
                b = pm.end()
            out.append(_ent(rule, a, b, text))
            for i in range(a, b):
                taken[i] = True
    return out


# --------------------------------------------------------------------------- DATE

# DATE_RE (nlp.rules.entities): one named group per rule: date:year | date:numeric | date:month


def extract_date(text: str) -> list[Entity]:
    out = []
    for m in DATE_RE.finditer(text):
        a, b = m.start(), m.end()
        if a > 0 and text[a - 1].isdigit():
            continue
        s = m.group(0)
        # bare month without day or year: needs 月 followed by something date-like or a day
        # (于11月, 在11月 name a time as well)
        if re.fullmatch(r"\d{1,2}月", s) and not re.match(r"(起|以来|,|，|、)", text[b:b + 2]) \
                and not re.search(r"(于|在|至|到|自|从|截至)$", text[max(0, a - 2):a]):
            continue
        rule = DATE_RULE_OF_GROUP[m.lastgroup]
        if re.fullmatch(r"\d{1,2}月", s):
            rule = DATE_BARE_MONTH
        out.append(_ent(rule, a, b, text))
    return out


# --------------------------------------------------------------------------- METRIC

# METRIC_RE and UNITS (nlp.rules.entities): metric:percent | metric:arabic | metric:chinese
_ORDINAL_BEFORE = re.compile(r"(第|每|前|近|连续|逐|每隔|年均)$")
# time frames and streaks: 近四年, 连续2年; frequencies: 每年一次
_NOT_AFTER_CN = re.compile(r"^(体|致|直|律|般|起|同|并|系列|些|线|流|级|手|把手|道|方面|下|上|中|是|要|定|切|旦|样|带一路|位一体)")
_DURATION_UNITS = ("个工作日", "工作日", "个月", "月", "小时", "分钟", "秒", "天", "日", "周", "年")
_FREQ_BEFORE = re.compile(r"(每(年|月|季度?|半年|周|天|日)?\S{0,4})$")
_GOAL_CUES = re.compile(r"力争|确保|目标|不低于|不少于|争取|预期|计划(于|到|在|完成)|拟|务必|要达到|将达到|预计")


def _is_chinese_numeral(s: str) -> bool:
    return bool(re.fullmatch(rf"[{_CN_DIGITS}]+", s))


def extract_metric(text: str) -> list[Entity]:
    out = []
    quotes = _quoted_spans(text)
    for m in METRIC_RE.finditer(text):
        a, b = m.start(), m.end()
        num, unit = m.group("num"), m.group("unit")
        prev = text[max(0, a - 4):a]
        after = text[b:b + 4]
        if a > 0 and (text[a - 1].isdigit() or text[a - 1] == "."):
            continue
        # 近 is a qualifier before a count (近5万名: the count is the METRIC) but a time frame before a
        # duration (近3个月)
        approx = prev.endswith("近") and unit not in _DURATION_UNITS
        if _ORDINAL_BEFORE.search(prev) and not _is_chinese_numeral(num[:1]) and not approx or prev.endswith("第"):
            continue
        # versions and identifiers (V3.0, 7×24小时), 六部委
        if a > 0 and text[a - 1] in "VvＶｖ×*" or text[b:b + 1] in ("×", "版") or unit == "部" and text[b:b + 1] == "委":
            continue
        cn = _is_chinese_numeral(num.replace("余", "").replace("多", ""))
        if cn:
            if len(num) == 1 and num in "一" and unit not in ("次", "批次", "场次", "人次", "件", "项", "个"):
                continue
            if re.search(r"(第|每|统|进|唯|同|万|之|其|另|逐|近|单|前|后|这|那|哪|任|某|全|专|不|多|几)$", text[max(0, a - 1):a]) \
                    and text[max(0, a - 2):a] != "先后":  # 先后两次 counts
                continue
            if re.search(r"(周|星期|礼拜)$", text[max(0, a - 2):a]):  # 每周三 is a weekday
                continue
            if _NOT_AFTER_CN.match(text[a + len(num):]):
                continue
            core = num.replace("余", "").replace("多", "")
            if core == "一" or core[0] in "百千万萬":  # 一个/一项 are not counts; 百名法学家 is a slogan
                continue
            if unit == "次" and (re.match(r"(全会|全体会议|会议|、)", after) or text[max(0, a - 1):a] in "届、"):
                continue  # 六届二次全会 is an ordinal
            if core in ("两", "兩") and re.match(r"(个)(大局|维护|确立|务必|结合|一百年|毫不动摇)", text[a + len(num):]):
                continue
            if re.search(r"第[一二三四五六七八九十]+、$", text[max(0, a - 6):a]):
                continue
        if unit in ("日", "天", "周", "个月") and not re.search(r"(压缩|缩短|提速|减少|时限|办结|以内|内办|办理)", text[max(0, a - 10):b + 4]):
            continue
        if unit == "日" and re.match(r"\d", num):  # 6月1日 is a date
            continue
        if re.match(r"^(首次|第一|率先|“)", after) and cn:
            continue
        if _FREQ_BEFORE.search(text[max(0, a - 6):a]) and unit in ("次", "场", "期", "批"):
            continue
        if any(qa < a and b <= qb and qb - qa <= 16 for qa, qb in quotes):  # slogans “四个百分百”
            continue
        if re.match(r"\d{4}$", num) and unit in ("年",):
            continue
        rule = METRIC_PERCENT if unit in "%％‰" else METRIC_CHINESE if cn else METRIC_ARABIC
        out.append(_ent(rule, a, b, text, target=False))
    return out


def _quoted_spans(text: str) -> list[tuple[int, int]]:
    return [(m.start(), m.end()) for m in re.finditer(r"“[^“”]{1,30}”|\"[^\"]{1,30}\"", text)]


def metric_is_target(text: str, ent: Entity, sentence_label: str | None = None) -> bool:
    """A METRIC states a goal (LABELING.md): goal cues before it in its clause, or a plans sentence."""
    if sentence_label == "plans":
        return True
    left = text[max(0, ent.start - 40):ent.start]
    clause = re.split(r"[。；;!?！？]", left)[-1]
    return bool(_GOAL_CUES.search(clause)) and not re.search(r"(已|累计|全年|共|实现了|达到了|完成)", clause[-12:])


# --------------------------------------------------------------------------- combined


# --------------------------------------------------------------------------- declined candidates

# Rule-shaped spans the rules do not emit because LABELING.md may or may not call them
# entities: an unbracketed name of an issuer's rule or plan (东湖市城市管理条例, 东湖县2025年…工作要点),
# a bare year (2023全国…), a damaged document number (东州府办发〔202431号, 东政办发〔202025).
# Training gives them no silver ``O`` (nlp.training.ner); the ``verify`` combination lets a
# token classifier accept them, bounds as the rules propose (nlp.ner).
DECLINED_PATTERNS: tuple[tuple[str, re.Pattern], ...] = tuple((r.type, r.pattern) for r in CANDIDATE_RULES)


def declined_candidates(text: str, rule_ents: Sequence[Entity]) -> list[Entity]:
    """Spans of ``DECLINED_PATTERNS`` that overlap no rule entity, except that a LAW name may wholly
    contain rule spans of other types (``source="candidate"``).
    A document number's issuer code is trimmed of the running sentence as in ``extract_docno``."""
    out: dict[tuple[int, int, str], Entity] = {}
    for rule in CANDIDATE_RULES:
        typ = rule.type
        for m in rule.pattern.finditer(text):
            a, b = m.start(), m.end()
            if typ == "DOCNO":
                cm = _LING_PREFIX_STOP.match(text[a:b])
                if cm and cm.end() < b - a - 1:
                    a += cm.end()
            # a name's start is where the regex cannot be sure: 关于 inside it, or the word after a
            # verb inside it (我们印发关于…的通知), are proposed as starts too
            starts = [a] if typ != "LAW" else [a] + [a + k.start() for k in _INNER_START.finditer(text[a:b])
                                                      if 0 < k.start() and b - a - k.start() >= 4]
            for s in starts:
                inside = [e for e in rule_ents if s < e.end and e.start < b]
                # a name may hold a rule span of another type (the year of 2024年…工作要点): LABELING.md
                # has no nested spans, so if the name is taken, it replaces that span
                if not inside or typ == "LAW" and all(e.type != typ and s <= e.start and e.end <= b and (e.start, e.end) != (s, b)
                                                      for e in inside):
                    out.setdefault((s, b, typ), _ent(rule, s, b, text, source="candidate"))
    return sorted(out.values(), key=lambda e: (e.start, e.end))


_INNER_START = re.compile(r"关于|(?<=印发|制定|出台|落实|执行|学习)(?!关于)|(?<=贯彻)(?!关于|落实)")


def _resolve(groups: Iterable[list[Entity]]) -> list[Entity]:
    """Merge entity lists in priority order; later lists never overlap earlier ones."""
    chosen: list[Entity] = []
    for ents in groups:
        for e in sorted(ents, key=lambda e: (e.start, -(e.end - e.start))):
            if e.end <= e.start:
                continue
            if any(e.start < c.end and c.start < e.end for c in chosen):
                continue
            chosen.append(e)
    return sorted(chosen, key=lambda e: e.start)


def extract(text: str, sentence_labels: list[tuple[int, int, str]] | None = None, first_paragraph: bool = False) -> list[Entity]:
    """All rule entities of ``text`` (one paragraph). ``sentence_labels`` ((start, end, label)
    spans) set the METRIC target flag for metrics in plans sentences; a ``first_paragraph`` that
    is only a rule's name is the document's own title, not a LAW mention."""
    ents = _resolve([extract_docno(text), extract_law(text, standalone=not first_paragraph), extract_date(text),
                     extract_metric(text)])
    # a 《》 title that is not a rule (a book, a study: 《…学习纲要(2025年版)》) carries no DATE or METRIC either
    laws = [(e.start, e.end) for e in ents if e.type == "LAW"]
    other_titles = [(a, b) for a, b in _bracket_titles(text) if (a, b) not in laws]
    if other_titles:
        ents = [e for e in ents if e.type not in ("DATE", "METRIC")
                or not any(a <= e.start and e.end <= b for a, b in other_titles)]
    set_metric_targets(text, ents, sentence_labels)
    return ents


def set_metric_targets(text: str, ents: list[Entity], sentence_labels: list[tuple[int, int, str]] | None = None) -> None:
    """Set the target flag of every METRIC in ``ents`` (from any extractor) from its clause
    and the label of the sentence it stands in."""
    for e in ents:
        if e.type == "METRIC":
            lab = None
            if sentence_labels:
                for a, b, l in sentence_labels:
                    if a <= e.start < b:
                        lab = l
                        break
            e.target = metric_is_target(text, e, lab)
