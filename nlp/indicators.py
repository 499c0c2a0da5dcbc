"""Structured indicators and regulation tables from METRIC and LAW entities.

A METRIC entity (``93.16%``, ``三十余件``, ``1.5万人次``) becomes an :class:`Indicator`: the
phrase naming what is measured (``行政机关负责人出庭应诉率``), its value as a number (Chinese
numerals through ``cn2an``), the unit, a qualifier (以上, 左右, 余 …), the upper bound of a
range, and the target flag. LAW entities are normalised (``normalise_law``), classified by
their suffix (``law_kind``) and counted over a corpus (``regulation_counts``).

Everything here works on annotated records (``Document.to_dict()``, one line of
``nlp annotate`` JSONL) or on ``Document`` objects; offsets are never re-found.
"""

from __future__ import annotations

import bisect
import functools
import math
import re
import threading
from dataclasses import dataclass
from typing import Any, Iterable, Iterator, Mapping, NamedTuple, Sequence, Union

import cn2an

from .extract import METRIC_RE, UNITS, extract, metric_is_target
from .io import ReadError, iter_jsonl, record_year
from .schema import Document, Entity, Indicator  # noqa: F401 (Indicator: part of this module's API)

Record = Mapping[str, Any]
DocLike = Union[Document, Record]

# --------------------------------------------------------------------------- data


class RegulationCount(NamedTuple):
    name: str  # normalised name (normalise_law), abbreviations resolved (resolve_laws)
    kind: str  # law_kind(name)
    mentions: int  # LAW entities with this name, over all documents
    n_documents: int  # documents that mention it at least once
    documents: tuple[str, ...]  # their ids, in input order


INDICATOR_FIELDS: tuple[str, ...] = (
    "doc_id", "source_path", "title", "issuer", "year", "sentence", "sentence_label", "indicator",
    "value", "value_max", "unit", "qualifier", "target", "metric", "start", "end")
INDICATOR_TYPES: dict[str, str] = {
    "doc_id": "string", "source_path": "string", "title": "string", "issuer": "string", "year": "int",
    "sentence": "int", "sentence_label": "string", "indicator": "string", "value": "float",
    "value_max": "float", "unit": "string", "qualifier": "string", "target": "bool", "metric": "string",
    "start": "int", "end": "int"}
REGULATION_FIELDS: tuple[str, ...] = RegulationCount._fields
REGULATION_TYPES: dict[str, str] = {"name": "string", "kind": "string", "mentions": "int", "n_documents": "int",
                                     "documents": "list"}

# --------------------------------------------------------------------------- numbers

_CN_DIGITS = "零〇一二两三四五六七八九十百千万亿兩萬億"
_MAG_CHARS = "万亿萬億"
_MAG_VALUE = {"万": 1e4, "萬": 1e4, "亿": 1e8, "億": 1e8}
_RANGE_SEP = "—–-~～至到－"
_PERCENT = "%％‰"
_NUM_CHARS = re.escape("0123456789.,，" + _CN_DIGITS + "余多点" + _RANGE_SEP + _PERCENT)
_NUMBER_PREFIX = re.compile(rf"^[{_NUM_CHARS}\s]+")
_KNOWN_UNITS = frozenset(UNITS)
_CURRENCY = ("元", "美元")
_TIME_UNITS = ("个工作日", "工作日", "个月", "小时", "分钟", "秒", "天", "日", "周")
_NON_COUNT_UNITS = _PERCENT + "倍"


def _to_number(s: str) -> float | None:
    """A number written in Arabic or Chinese numerals, with 万/亿 magnitudes (via cn2an)."""
    s = s.replace(",", "").replace("，", "").strip()
    if not s:
        return None
    try:
        return float(cn2an.cn2an(s, "smart"))
    except (ValueError, KeyError, IndexError):
        pass
    m = re.fullmatch(rf"(.*?)([{_MAG_CHARS}]+)", s)  # cn2an rejects stacked magnitudes: 1.37万亿
    if m and m.group(1):
        base = _to_number(m.group(1))
        if base is not None:
            return base * math.prod(_MAG_VALUE[c] for c in m.group(2))
    return None


@dataclass(frozen=True)
class Quantity:
    value: float | None
    value_max: float | None
    unit: str
    approx: str | None  # 余 or 多 written inside the number


def parse_quantity(text: str) -> Quantity:
    """Read a METRIC span: ``三十余件`` → 30 件 (余); ``1.5万人次`` → 15000 人次;
    ``248.01万元`` → 248.01 万元 (money keeps its 万/亿 in the unit); ``90%-95%`` → 90, 95 %."""
    text = text.strip()
    m = _NUMBER_PREFIX.match(text)
    num = m.group(0) if m else ""
    unit = text[len(num):].strip()
    num = re.sub(r"\s+", "", num)
    pct = re.search(rf"[{_PERCENT}]+$", num)  # the percent sign is the unit: 93.16%, 90%-95%
    if pct:
        num, unit = num[:pct.start()], pct.group(0) + unit
    # the greedy number may have taken the start of a unit: 500千瓦, 1.5万人次 stays 万 + 人次
    while num and num[-1] in _CN_DIGITS and unit not in _KNOWN_UNITS and num[-1] + unit in _KNOWN_UNITS:
        num, unit = num[:-1], num[-1] + unit
    # money is counted in 万元 / 亿元 as written
    if unit in _CURRENCY:
        mm = re.search(rf"[{_MAG_CHARS}]+$", num)
        if mm and mm.start() > 0:
            num, unit = num[:mm.start()], mm.group(0) + unit
    approx = "".join(dict.fromkeys(c for c in num if c in "余多")) or None
    num = num.replace("余", "").replace("多", "")
    unit = unit.replace("％", "%")
    parts = [p for p in re.split(rf"[{re.escape(_RANGE_SEP)}]", num) if p]
    parts = [p.rstrip(_PERCENT) for p in parts]
    if len(parts) == 2:
        lo, hi = parts
        mag = re.search(rf"[{_MAG_CHARS}]+$", hi)
        if mag and lo and lo[-1].isdigit():  # 3-5万人: the magnitude applies to both bounds
            lo += mag.group(0)
        return Quantity(_to_number(lo), _to_number(hi), unit, approx)
    return Quantity(_to_number(parts[0]) if len(parts) == 1 else None, None, unit, approx)


# --------------------------------------------------------------------------- indicator phrase

# Word boundaries and parts of speech come from jieba (its own tokenizer instance, so that the
# global one other code uses is left as it is). A few glued forms of its dictionary are split
# so that a linker after a rate (纠错率为, 均达) stays a word of its own, and a few words of these
# reports get the part of speech they have here (清单 and 举措 are nouns).
_SPLIT_WORDS = ("率为", "均达", "率达", "比达", "数为", "量为", "额为", "率均", "对区", "至今为")
_WORD_TAGS = {"清单": "n", "举措": "n", "日常": "b", "专干": "n", "网办": "vn", "处级": "b", "科级": "b", "厅级": "b",
              "立法": "vn", "组长": "n", "各级": "b", "各类": "b", "全部": "d", "基本": "d", "单项": "n", "大项": "n",
              "小项": "n"}
_tokenizer_lock = threading.Lock()
_TOKENIZER: Any = None


def _tokenizer() -> Any:
    global _TOKENIZER
    with _tokenizer_lock:
        if _TOKENIZER is None:
            import logging

            import jieba
            import jieba.posseg

            jieba.setLogLevel(logging.WARNING)
            tok = jieba.Tokenizer()
            tok.initialize()
            for w in _SPLIT_WORDS:
                tok.del_word(w)
            for w, tag in _WORD_TAGS.items():
                tok.add_word(w, tag=tag)
            _TOKENIZER = jieba.posseg.POSTokenizer(tok)
    return _TOKENIZER


@functools.lru_cache(maxsize=8192)
def words(text: str, hmm: bool = True) -> tuple[tuple[str, str], ...]:
    """``text`` as (word, part of speech) pairs (jieba's word segmentation and tags; ``hmm``:
    jieba's guess of words that are not in its dictionary)."""
    if not text:
        return ()
    return tuple((w.word, w.flag) for w in _tokenizer().cut(text, HMM=hmm))


def word_boundaries(text: str) -> frozenset[int]:
    """The offsets of ``text`` between two words (0 and ``len(text)`` included), by jieba's
    dictionary alone: a run of characters that is no word of it is no word here either, so a
    linker is never glued to the characters before it."""
    out, i = {0, len(text)}, 0
    for w, _ in words(text, hmm=False):
        i += len(w)
        out.add(i)
    return frozenset(out)


_HARD_BREAK = "，,。；;：:！？!?\n"
_OPEN_BRACKET = "（(【["
_CLOSE_BRACKET = "）)】]"
_Q_BEFORE = ("不低于", "不少于", "不超过", "不高于", "不多于", "超过", "高于", "低于", "多于", "少于", "至少",
             "最多", "将近", "接近", "大约", "逾", "近", "约", "超")
_Q_AFTER = ("以上", "以下", "以内", "之内", "之间", "左右", "有余", "之多")
_Q_AFTER_RE = re.compile(rf"^\s*({'|'.join(_Q_AFTER)})(?!简称|方面|几|问题|内容|工作)")
_LIST_SEP = re.compile(r"^\s*(?:以上|以下|以内|左右)?\s*(?:、|以及|和|及|与)")
_LEAD = re.compile(
    r"^(?:[一二三四五六七八九十]+是|其[一二三四五六七八九十]|首先|其次|再次|最后|此外|另外|同时|其中|"
    r"共计|合计|总计|累计|共(?![青享建同产性识商治])|全年|年内|今年以来|今年|去年|当年|年末|年底前?|年初|目前|"
    r"截至目前|截至\S{0,8}?(?:年|月|日|底|末)|到\d{4}年底?|(?:19|20)\d{2}年度?(?:以来|全年|上半年|下半年)?|"
    r"力争|确保|争取|预计|已|全(?:市|区|县|省|州|国|镇|乡|旗)|[一二三四五六七八九十]+、|"
    r"[（(][一二三四五六七八九十\d]+[）)]|\d+[.．、]|[①-⑳]|[\s、，”\"'）)】\]])")
# verbs of change before the new value: 提升至, 削减到, 调整为 (then 由/从 the old value goes too)
_CHANGE = "提升|提高|上升|增长|增加|降低|下降|减少|压缩|缩短|压减|削减|精简|缩减|扩大|扩展|延长|调整|优化|压降"
_TRAIL = re.compile(
    rf"(?:达到了|达到|已达|均达|分别达|分别为|分别|均为|均|(?<![送直通抵下传表转发到])达|(?<![行作认成以因])为|"
    rf"(?:{_CHANGE})(?:至|到|为)|增至|升至|降至|降到|减至|"
    r"控制在|保持在|稳定在|维持在|"
    r"(?:由|从)(?:\d+(?:\.\d+)?\s*(?:[%％]|[个件项家条人次名份期场所户元万亿]{1,3})?)?|拟按|按照|按|共计|合计|总计|累计|(?<!公)共|"
    r"各|约|全年|年内|全(?:市|区|县|省|州|国|镇|乡|旗)|了|已|"
    r"[\s、，“\"'（(【\[])$")
_AFTER_STOP = re.compile(rf"(?<=.)《|[{re.escape(_HARD_BREAK + _OPEN_BRACKET + _CLOSE_BRACKET)}、0-9]")
MAX_INDICATOR = 20
MAX_QUOTED = 32
_MAX_AFTER = 12


def _strip_lead(phrase: str) -> str:
    """``phrase`` without its longest leading linker (_LEAD) that ends between two words."""
    for k in sorted(word_boundaries(phrase), reverse=True):
        if 0 < k and _LEAD.fullmatch(phrase, 0, k):
            return phrase[k:]
    return phrase


def _strip_trail(phrase: str) -> str:
    """``phrase`` without its longest trailing linker (_TRAIL) that starts between two words."""
    for k in sorted(word_boundaries(phrase)):
        if k < len(phrase) and _TRAIL.match(phrase, k):
            return phrase[:k]
    return phrase


def _strip_repeat(phrase: str) -> str:
    while True:
        new = _strip_trail(_strip_lead(phrase))
        if new == phrase:
            return phrase
        phrase = new


_CONJ_END = re.compile(r"(?:以及|和|及|与|或|并|、)$")


def _strip_conjunction(phrase: str) -> str:
    """``phrase`` without a conjunction left at its end (推荐2个示范乡镇和 → 推荐2个示范乡镇)."""
    m = _CONJ_END.search(phrase)
    if m and m.start() > 0 and m.start() in word_boundaries(phrase):
        return phrase[:m.start()]
    return phrase


def _balanced(phrase: str) -> str:
    """Drop a quote or bracket left open (or closed) by the clause cut."""
    for o, c in ("“”", "（）", "()", "《》", "‘’"):
        if phrase.count(o) != phrase.count(c):
            phrase = phrase.replace(o, "").replace(c, "")
    return phrase


def _inside_quotes(phrase: str) -> set[int]:
    """The offsets of ``phrase`` inside a quote or a title (“…”, 《…》, ‘…’), where no cut goes."""
    inside: set[int] = set()
    for o, c in ("“”", "《》", "‘’"):
        start = None
        for i, ch in enumerate(phrase):
            if ch == o and start is None:
                start = i
            elif ch == c and start is not None:
                inside.update(range(start + 1, i + 1))
                start = None
    return inside


def _cap(phrase: str) -> str:
    """At most MAX_INDICATOR characters, the end of ``phrase`` kept, cut between two words and
    never inside a quote or a title: before a title (《), after a function word (的、和及与对在将把为)
    where one is, else at the first word boundary that leaves no more than MAX_INDICATOR
    characters. A quote or title that would be cut is kept whole, up to MAX_QUOTED characters."""
    if len(phrase) <= MAX_INDICATOR:
        return phrase
    first = len(phrase) - MAX_INDICATOR
    inside = _inside_quotes(phrase)
    bounds = sorted(k for k in word_boundaries(phrase) | {i for i, ch in enumerate(phrase) if ch in "“《‘"}
                    if k <= len(phrase) - 3 and k not in inside)
    fits = [k for k in bounds if k >= first]
    for k in fits:
        if phrase[k] == "《" and k > first:
            return phrase[k:]
        if k > 0 and phrase[k - 1] in "的、和及与对在将把为":
            return phrase[k:]
    # a cut right after a quote, or none that fits: start at the opening of the quote instead
    opening = [k for k in bounds if k < (fits[0] if fits else len(phrase)) and phrase[k] in "“《‘"
               and len(phrase) - k <= MAX_QUOTED]
    if opening and (not fits or phrase[fits[0] - 1] in "”》’"):
        return phrase[opening[-1]:]
    return phrase[fits[0]:] if fits else phrase[first:]


def _left_phrase(left: str) -> str:
    """The clause before a number, with earlier list items (…122件、) and linkers removed."""
    cut = max(left.rfind(ch) for ch in _HARD_BREAK)
    clause = left[cut + 1:]
    opened = max(clause.rfind(ch) for ch in _OPEN_BRACKET)
    if opened > max(clause.rfind(ch) for ch in _CLOSE_BRACKET):  # inside （…）: read inside, else before
        inner = _strip_repeat(clause[opened + 1:])
        clause = clause[opened + 1:] if inner else clause[:opened]
    while True:  # after the last earlier list item: 路政案件122件、道路运输案件 → 道路运输案件
        for m in METRIC_RE.finditer(clause):
            sep = _LIST_SEP.match(clause[m.end():])
            if sep:
                clause = clause[m.end() + sep.end():]
                break
        else:
            break
    return _balanced(_strip_repeat(clause))


# parts of speech (jieba's tags) that a noun phrase after the measure word is made of
def _nominal(flag: str) -> bool:
    return flag[0] in "nj" or flag in ("vn", "an", "eng", "s")


def _modifier(flag: str) -> bool:
    return flag in ("b", "a", "f", "l", "i", "m") or _nominal(flag)


# verbs that name an activity inside a noun phrase of these reports (行政审批部门, 执法人员,
# 校园宣讲队, 新提拔领导干部), and nouns that head one (…事项, …部门)
_ACTIVITY_VERBS = frozenset("""
执法 审批 调解 监管 服务 管理 复议 诉讼 应诉 监督 检查 审查 备案 登记 许可 处罚 信访 宣讲 普法 培训 考核 督察
督查 办理 决策 仲裁 援助 公证 鉴定 立法 改革 整改 救治 保护 征收 提拔 提任 新任 宣传 学习 评查 巡察 救助 咨询
调查 评估 审核 受理 确诊 执行 监测 治理 服务型 帮扶 代办 协调 联动 共享 指导 审判
""".split())
_SUFFIXES = frozenset(("级", "类", "型", "性", "化", "员"))
_COPULAS = frozenset(("是", "有", "为", "在", "进行", "成为", "作为"))
_HEAD_NOUNS = frozenset("""
部门 人员 事项 案件 单位 机构 中心 中心组 窗口 平台 站 室 项目 任务 工作 组 队 小组 清单 文件 制度 企业 场所 组织
""".split())


def _right_phrase(right: str) -> str:
    """The noun phrase right after the quantity (办理142件行政复议案件 → 行政复议案件): whole
    words, nouns and their modifiers (a quoted name included; a verb only where it names an
    activity inside the noun phrase: 行政审批部门), up to the first other verb, preposition,
    conjunction or punctuation; at most _MAX_AFTER characters."""
    right = right.lstrip()
    if right.startswith("的"):
        right = right[1:]
    stop = _AFTER_STOP.search(right)
    right = right[: stop.start() if stop else len(right)]
    if not right or not ("\u4e00" <= right[0] <= "\u9fff" or right[0] in "“《‘"):
        return ""
    toks = list(words(right))
    taken: list[str] = []
    end = 0  # characters of ``right`` up to the last nominal word taken
    nominal = False
    i = 0
    while i < len(toks):
        w, f = toks[i]
        nxt = toks[i + 1] if i + 1 < len(toks) else ("", "x")
        if w in ("“", "《", "‘"):  # a quoted name goes in whole
            close = {"“": "”", "《": "》", "‘": "’"}[w]
            j = next((k for k in range(i + 1, len(toks)) if toks[k][0] == close), None)
            if j is None:
                break
            taken.extend(t for t, _ in toks[i:j + 1])
            i = j + 1
            end, nominal = len("".join(taken)), True
            continue
        if w == "及" and nxt[0] in ("以上", "以下"):  # 县级及以上饮用水水源地
            taken.extend((w, nxt[0]))
            i += 2
            continue
        if w in _COPULAS:
            ok = False
        elif f[0] == "v" and f != "vn":
            ok = (w in _ACTIVITY_VERBS or w in _HEAD_NOUNS or nxt[0] in _HEAD_NOUNS
                  or (not nominal and w not in _COPULAS and (_nominal(nxt[1]) or nxt[1] in ("a", "b")
                                                             or nxt[0] in _ACTIVITY_VERBS)))
        elif f in ("zg", "k", "ng") or w in _SUFFIXES:  # a suffix: 行政复议/员, 街道/级
            ok = nominal
        else:
            ok = _modifier(f)
        if not ok:
            break
        taken.append(w)
        if _nominal(f) or f in ("zg", "k", "ng") or w in _ACTIVITY_VERBS or w in _SUFFIXES or w in _HEAD_NOUNS:
            end, nominal = len("".join(taken)), True
        i += 1
    phrase = "".join(taken)[:end]
    while len(phrase) > _MAX_AFTER:  # whole words only
        cut = max(k for k in word_boundaries(phrase) if k < len(phrase))
        if cut == 0:
            return ""
        phrase = phrase[:cut]
    return _balanced(phrase)


def _right_words(right: str) -> str:
    """The words right after the quantity up to a stop (punctuation, a bracket, a digit) and
    up to their last noun, at most _MAX_AFTER characters: the fallback when no noun phrase
    follows the measure word (分三批为全体职工开展… → 为全体职工)."""
    right = right.lstrip()
    stop = _AFTER_STOP.search(right)
    right = right[: stop.start() if stop else len(right)]
    if not right or not ("\u4e00" <= right[0] <= "\u9fff"):
        return ""
    end = k = 0
    for w, f in words(right):
        k += len(w)
        if k > _MAX_AFTER:
            break
        if _nominal(f) and all(right[:k].count(o) == right[:k].count(c) for o, c in ("“”", "《》", "‘’")):
            end = k
    return right[:end]


def _usable(phrase: str) -> bool:
    return len(phrase) >= 3 and any("\u4e00" <= ch <= "\u9fff" for ch in phrase)


def _qualifiers(before: str, inside: str | None, after: str, unit: str) -> tuple[list[str], int, int]:
    """Qualifiers before the span, inside it (余/多) and after it; with the lengths taken on each side."""
    found: list[str] = []
    n_before = n_after = 0
    for q in _Q_BEFORE:
        if before.endswith(q):
            found.append(q)
            n_before = len(q)
            break
    if inside:
        found.extend(inside)
    m = _Q_AFTER_RE.match(after)
    if m:
        found.append(m.group(1))
        n_after = m.end()
    elif unit in _TIME_UNITS and after.startswith("内"):  # 3个工作日内
        found.append("内")
        n_after = 1
    return found, n_before, n_after


def structure_metric(sentence_text: str, entity: Entity, sentence_label: str | None = None) -> Indicator:
    """Structure one METRIC entity whose offsets are relative to ``sentence_text``.

    The indicator phrase comes from the clause before the number, linkers (达, 达到, 为,
    提升至, 累计, 共, 全年 …) trimmed; when that is empty or a bare verb, the noun phrase after
    the measure word completes it (办结142件行政复议案件 → 办结行政复议案件). ``target`` is the
    entity's flag; when the entity has none it is decided as the extractor does."""
    if sentence_text[entity.start:entity.end] != entity.text:
        raise ValueError(f"entity {entity.text!r} is not at {entity.start}-{entity.end} of the sentence")
    q = parse_quantity(entity.text)
    left, right = sentence_text[:entity.start], sentence_text[entity.end:]
    found, n_before, n_after = _qualifiers(left, q.approx, right, q.unit)
    before = _left_phrase(left[:len(left) - n_before])
    # a measure word before a noun counts that noun (4次听取汇报, 成立15家联络点); a percent,
    # an amount of money or a duration is followed by other words of the sentence
    counts_noun = not (q.unit in _TIME_UNITS or q.unit.endswith(_CURRENCY)
                       or any(c in q.unit for c in _NON_COUNT_UNITS))
    # the noun after it also completes a clause that ends in a verb (开通24小时“自助服务驿站”)
    after = _right_phrase(right[n_after:])
    if not (counts_noun or not _usable(before) or (words(before) and words(before)[-1][1][0] == "v")):
        after = ""
    elif not after and not _usable(before):
        after = _right_words(right[n_after:])
    indicator = _balanced(_cap(_strip_repeat(before + after) if after else before))
    indicator = _strip_conjunction(indicator)
    target = entity.target if entity.target is not None else metric_is_target(sentence_text, entity, sentence_label)
    return Indicator(indicator=indicator, value=q.value, value_max=q.value_max, unit=q.unit,
                     qualifier=",".join(dict.fromkeys(found)) or None, target=bool(target),
                     sentence_label=sentence_label, text=entity.text, start=entity.start, end=entity.end)


def indicators_in(text: str, sentence_label: str | None = None) -> list[Indicator]:
    """Extract and structure every METRIC of one sentence (or short passage)."""
    spans = [(0, len(text), sentence_label)] if sentence_label else None
    return [structure_metric(text, e, sentence_label) for e in extract(text, spans) if e.type == "METRIC"]


def add_indicators(doc: Document) -> None:
    """Attach ``attrs["indicator"]`` (``Indicator.fields()``) to every METRIC entity of ``doc``."""
    starts = [s.start for s in doc.sentences]
    for e in doc.entities:
        if e.type != "METRIC":
            continue
        i = bisect.bisect_right(starts, e.start) - 1
        if i < 0 or e.end > doc.sentences[i].end:
            continue
        s = doc.sentences[i]
        local = Entity(e.start - s.start, e.end - s.start, e.type, e.text, e.target, e.source)
        e.attrs["indicator"] = structure_metric(s.text, local, s.label).fields()


# --------------------------------------------------------------------------- corpus tables


def _as_record(doc: DocLike) -> Record:
    return doc.to_dict() if isinstance(doc, Document) else doc


def load_annotated(path: str) -> list[dict[str, Any]]:
    """Records of an ``nlp annotate`` JSONL file; ``ReadError`` naming the file when it is not one."""
    try:
        records = list(iter_jsonl(path))
    except FileNotFoundError:
        raise ReadError(path, "no such file")
    except IsADirectoryError:
        raise ReadError(path, "is a directory, not a file")
    except UnicodeDecodeError:
        raise ReadError(path, "not UTF-8 text (expected JSONL written by nlp annotate)")
    except OSError as e:
        raise ReadError(path, f"cannot read ({e.strerror})")
    if not records:
        raise ReadError(path, "no annotated documents")
    for i, r in enumerate(records, 1):
        if not isinstance(r, dict):
            raise ReadError(path, f"record {i} is not a JSON object")
        for key in ("id", "text", "sentences", "entities"):
            if key not in r:
                raise ReadError(path, f"record {i} has no {key!r} field (not written by nlp annotate?)")
    return records


def _year(rec: Record) -> int | None:
    return record_year(rec)


def _iter_metrics(rec: Record) -> Iterator[tuple[int, dict[str, Any], Mapping[str, Any]]]:
    """(sentence index, sentence, METRIC entity) for each METRIC of a record, in text order."""
    sents = rec["sentences"]
    starts = [s["start"] for s in sents]
    for e in rec.get("entities", []):
        if e.get("type") != "METRIC":
            continue
        i = bisect.bisect_right(starts, e["start"]) - 1
        if i < 0 or e["end"] > sents[i]["end"]:
            raise ValueError(f"document {rec.get('id')!r}: METRIC {e.get('text')!r} at {e['start']}-{e['end']} "
                             "is not inside one sentence")
        yield i, sents[i], e


def indicator_rows(doc_records: Iterable[DocLike]) -> list[dict[str, Any]]:
    """One row per METRIC over annotated documents (fields ``INDICATOR_FIELDS``). The structure
    stored by ``nlp annotate`` is used when present, otherwise computed from the sentence."""
    rows: list[dict[str, Any]] = []
    for doc in doc_records:
        rec = _as_record(doc)
        year = _year(rec)
        for i, s, e in _iter_metrics(rec):
            fields = e.get("indicator")
            if not isinstance(fields, dict):
                local = Entity(e["start"] - s["start"], e["end"] - s["start"], "METRIC", e["text"], e.get("target"))
                fields = structure_metric(rec["text"][s["start"]:s["end"]], local, s.get("label")).fields()
            rows.append({
                "doc_id": rec.get("id"), "source_path": rec.get("source_path"), "title": rec.get("title"),
                "issuer": rec.get("issuer"), "year": year, "sentence": i, "sentence_label": s.get("label"),
                "indicator": fields.get("indicator"), "value": fields.get("value"),
                "value_max": fields.get("value_max"), "unit": fields.get("unit"),
                "qualifier": fields.get("qualifier"), "target": bool(e.get("target")),
                "metric": e.get("text"), "start": e["start"], "end": e["end"]})
    return rows


# --------------------------------------------------------------------------- regulations

_BRACKET_MAP = str.maketrans({"(": "（", ")": "）", "[": "〔", "]": "〕", "［": "〔", "］": "〕",
                              "【": "〔", "】": "〕", "<": "〈", ">": "〉"})
_LAW_KINDS: tuple[tuple[str, str], ...] = (
    ("法典", "法"), ("办法", "办法"), ("条例", "条例"), ("细则", "细则"), ("规定", "规定"), ("意见", "意见"),
    ("通知", "通知"), ("方案", "方案"), ("规划", "规划"), ("纲要", "纲要"), ("标准", "标准"), ("协议", "协议"),
    ("决定", "决定"), ("计划", "计划"), ("要点", "要点"), ("清单", "清单"), ("法", "法"))
LAW_KINDS: tuple[str, ...] = tuple(dict.fromkeys(k for _, k in _LAW_KINDS)) + ("other",)


def normalise_law(text: str) -> str:
    """A regulation's name for counting: no 《》 or whitespace, brackets and parentheses in one
    (full-width) form, dashes between numbers as —, and a period in parentheses written one way,
    （YYYY—YYYY年）, a dash lost in scraping put back: 《法治政府建设实施纲要(2021-2025年)》,
    法治政府建设实施纲要（20212025年） and 法治政府建设实施纲要（2021—2025） →
    法治政府建设实施纲要（2021—2025年）."""
    s = re.sub(r"\s+", "", text.replace("\u3000", ""))
    s = s.strip("《》“”\"'、，,。；;")
    s = s.translate(_BRACKET_MAP)
    s = re.sub(r"(?<=\d)[-–—―－~～]+(?=\d)", "—", s)
    s = _PERIOD_RE.sub(_period, s)
    return s


# a period in parentheses: （2021—2025年）, （2021年—2025年）, （2021—2025）, and （20212025年）, whose
# dash was lost in scraping; all are written （2021—2025年）
_PERIOD_RE = re.compile(r"（((?:19|20)\d{2})年?(—?)((?:19|20)\d{2})年?）")


def _period(m: re.Match) -> str:
    a, b = int(m.group(1)), int(m.group(3))
    if not a < b <= a + 20:
        return m.group(0)
    return f"（{a}—{b}年）"


def law_kind(name: str) -> str:
    """The kind of a regulation by its suffix, parentheticals (（试行）, （2021—2025年）) aside:
    法, 条例, 规定, 办法, 意见, 通知, 方案, 规划, 纲要, 标准, 协议, 决定, 细则, 计划, 要点, 清单 or other."""
    core = _core(normalise_law(name))
    for suffix, kind in _LAW_KINDS:
        if core.endswith(suffix) or core.endswith(_TRADITIONAL.get(suffix, suffix)):
            return kind
    return "other"


def _core(name: str) -> str:
    """A normalised name without its trailing parentheticals (（试行）, （2021—2025年）)."""
    while True:
        new = re.sub(r"（[^（）]*）$", "", name)
        if new == name:
            return name
        name = new


_TRADITIONAL = {"条例": "條例", "规定": "規定", "办法": "辦法", "决定": "決定", "规划": "規劃", "纲要": "綱要",
                "细则": "細則", "计划": "計劃", "通知": "通知", "意见": "意見", "标准": "標準", "协议": "協議",
                "方案": "方案", "要点": "要點", "清单": "清單", "法": "法", "法典": "法典"}
# words that leave a name generic when they are all it has besides its kind: 《实施纲要》, 《五年规划》, 本《规划》
_GENERIC_WORDS = ("本", "该", "上述", "实施", "實施", "五年", "总体", "總體", "工作", "行动", "行動", "专项", "專項",
                  "十四五", "“十四五”", "十三五", "“十三五”", "中长期", "三年", "年度")


def is_generic_law(name: str) -> bool:
    """A name that is only a kind (纲要, 规划, 条例, 決定), perhaps with generic words before it
    (实施纲要, 五年规划): a short form that names no particular regulation on its own."""
    core = _core(normalise_law(name))
    while True:
        for w in _GENERIC_WORDS:
            if core.startswith(w) and len(core) > len(w):
                core = core[len(w):]
                break
        else:
            break
    return any(core in (suffix, _TRADITIONAL.get(suffix, suffix)) for suffix, _ in _LAW_KINDS)


# the definition of a short form right after a cited name: 《…纲要（2021—2025年）》（以下简称《纲要》）,
# “…规划”（简称“规划”）, 《…》（国发〔2010〕33号，以下简称《意见》）
_DEFINITION = re.compile(
    r"\s*[》”\"]?\s*[（(][^（）()]{0,40}?(?:以下|下文)?(?:简称|簡稱|称|稱)为?\s*"
    r"(?:《(?P<a>[^《》]{1,24})》|“(?P<b>[^“”]{1,24})”|\"(?P<c>[^\"]{1,24})\"|(?P<d>[^（）()，,、。；;《“\"]{1,12}))\s*[）)]")


def resolve_laws(rec: DocLike) -> list[tuple[Mapping[str, Any], str | None]]:
    """Each LAW entity of a document with the name it counts under: its normalised name, or
    for a short form the full name cited in the same document, or None when it is dropped.

    - A short form defined in the document (《…实施纲要（2021—2025年）》（以下简称《纲要》）, 简称“规划”)
      resolves to the name it follows; the short form inside the definition is not a mention of
      its own (it is dropped).
    - A generic name that is not defined (纲要, 规划, 条例, 实施方案: ``is_generic_law``) resolves to
      the one full name of its kind the document cites (the one whose name ends with it, when
      several do), and is dropped otherwise.
    """
    rec = _as_record(rec)
    text = rec.get("text") or ""
    ents = [e for e in rec.get("entities", []) if e.get("type") == "LAW"]
    defined: dict[str, str] = {}
    in_definition: set[int] = set()
    for k, e in enumerate(ents):
        if not text or "end" not in e:
            continue
        m = _DEFINITION.match(text, e["end"])
        if not m:
            continue
        short = normalise_law(next(g for g in m.group("a", "b", "c", "d") if g))
        full = defined.get(normalise_law(e.get("text", "")), normalise_law(e.get("text", "")))
        if short and full and short != full:
            defined.setdefault(short, full)
            for j in range(k + 1, len(ents)):  # the short form written inside the definition
                if ents[j].get("start", -1) >= m.end():
                    break
                in_definition.add(j)
    names: list[str | None] = []
    for k, e in enumerate(ents):
        name = normalise_law(e.get("text", ""))
        names.append(None if k in in_definition or not name else defined.get(name, name))
    full_names = [n for n in dict.fromkeys(names) if n and not is_generic_law(n)]
    out: list[tuple[Mapping[str, Any], str | None]] = []
    for e, name in zip(ents, names):
        if name and is_generic_law(name):
            kind, core = law_kind(name), _core(name)
            same = [n for n in full_names if law_kind(n) == kind]
            ending = [n for n in same if _core(n).endswith(core)]
            name = same[0] if len(same) == 1 else ending[0] if len(ending) == 1 else None
        out.append((e, name))
    return out


def regulation_counts(docs: Iterable[DocLike]) -> list[RegulationCount]:
    """Every LAW entity's name (``resolve_laws``: normalised, short forms resolved, generic names
    that resolve to nothing dropped) with its kind, mentions and the documents that cite it;
    most mentioned first."""
    mentions: dict[str, int] = {}
    in_docs: dict[str, dict[str, None]] = {}
    for k, doc in enumerate(docs):
        rec = _as_record(doc)
        doc_id = str(rec.get("id", k))
        for _, name in resolve_laws(rec):
            if not name:
                continue
            mentions[name] = mentions.get(name, 0) + 1
            in_docs.setdefault(name, {})[doc_id] = None
    out = [RegulationCount(n, law_kind(n), c, len(in_docs[n]), tuple(in_docs[n])) for n, c in mentions.items()]
    return sorted(out, key=lambda r: (-r.mentions, -r.n_documents, r.name))


def regulation_rows(counts: Sequence[RegulationCount]) -> list[dict[str, Any]]:
    """Rows for ``nlp.io.write_table`` (``documents`` a list: a Parquet list, a ``;``-joined CSV cell)."""
    return [{**r._asdict(), "documents": list(r.documents)} for r in counts]
