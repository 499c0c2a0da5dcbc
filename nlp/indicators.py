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
import math
import re
from dataclasses import dataclass
from typing import Any, Iterable, Iterator, Mapping, NamedTuple, Sequence, Union

import cn2an

from .extract import METRIC_RE, UNITS, extract, metric_is_target
from .io import ReadError, iter_jsonl
from .schema import Document, Entity, Indicator  # noqa: F401 (Indicator: part of this module's API)

Record = Mapping[str, Any]
DocLike = Union[Document, Record]

# --------------------------------------------------------------------------- data


class RegulationCount(NamedTuple):
    name: str  # normalised name (normalise_law)
    kind: str  # law_kind(name)
    mentions: int  # LAW entities with this name, over all documents
    documents: int  # documents that mention it at least once


INDICATOR_FIELDS: tuple[str, ...] = (
    "doc_id", "source_path", "title", "issuer", "year", "sentence", "sentence_label", "indicator",
    "value", "value_max", "unit", "qualifier", "target", "metric", "start", "end")
INDICATOR_TYPES: dict[str, str] = {
    "doc_id": "string", "source_path": "string", "title": "string", "issuer": "string", "year": "int",
    "sentence": "int", "sentence_label": "string", "indicator": "string", "value": "float",
    "value_max": "float", "unit": "string", "qualifier": "string", "target": "bool", "metric": "string",
    "start": "int", "end": "int"}
REGULATION_FIELDS: tuple[str, ...] = RegulationCount._fields
REGULATION_TYPES: dict[str, str] = {"name": "string", "kind": "string", "mentions": "int", "documents": "int"}

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
_TRAIL = re.compile(
    r"(?:达到了|达到|已达|均达|分别达|分别为|分别|均为|均|(?<![送直通抵下传表转发到])达|(?<![行作认成以因])为|"
    r"提升至|提升到|提高至|提高到|上升至|上升到|增长至|增长到|增加至|增加到|增至|升至|降至|降到|降低至|降低到|"
    r"下降至|下降到|减少至|减少到|减至|压缩至|压缩到|缩短至|缩短到|压减至|控制在|保持在|稳定在|维持在|"
    r"(?:由|从)(?:\d+(?:\.\d+)?[%％]?)?|拟按|按照|按|共计|合计|总计|累计|(?<!公)共|各|约|全年|年内|全(?:市|区|县|省|州|国|镇|乡|旗)|了|已|"
    r"[\s、，“\"'（(【\[])$")
_AFTER_STOP = re.compile(rf"(?<=.)《|[{re.escape(_HARD_BREAK + _OPEN_BRACKET + _CLOSE_BRACKET)}、和及与并对向等已均将0-9]")
MAX_INDICATOR = 20
_MAX_AFTER = 12


def _strip_repeat(phrase: str) -> str:
    while True:
        new = _LEAD.sub("", phrase, count=1)
        new = _TRAIL.sub("", new, count=1)
        if new == phrase:
            return phrase
        phrase = new


def _balanced(phrase: str) -> str:
    """Drop a quote or bracket left open (or closed) by the clause cut."""
    for o, c in ("“”", "（）", "()", "《》"):
        if phrase.count(o) != phrase.count(c):
            phrase = phrase.replace(o, "").replace(c, "")
    return phrase


def _cap(phrase: str) -> str:
    """Keep the last MAX_INDICATOR characters, cut after a word boundary where one exists."""
    if len(phrase) <= MAX_INDICATOR:
        return phrase
    tail = phrase[-MAX_INDICATOR:]
    for i, ch in enumerate(tail[:-2]):
        if ch == "《" and i > 0:  # before a title
            return tail[i:]
        if ch in "的、和及与对在将把为":
            return tail[i + 1:]
    return tail


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


def _right_phrase(right: str) -> str:
    """A noun phrase right after the quantity (办理142件行政复议案件 → 行政复议案件)."""
    right = right.lstrip()
    if right.startswith("的"):
        right = right[1:]
    stop = _AFTER_STOP.search(right)
    phrase = right[: stop.start() if stop else len(right)][:_MAX_AFTER]
    if not phrase or not ("\u4e00" <= phrase[0] <= "\u9fff" or phrase[0] in "“《"):
        return ""
    return _balanced(phrase)


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
    after = _right_phrase(right[n_after:]) if counts_noun or not _usable(before) else ""
    indicator = _balanced(_cap(_strip_repeat(before + after) if after else before))
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
    meta = rec.get("meta") or {}
    if isinstance(meta.get("year"), int):
        return meta["year"]
    m = re.search(r"((?:19|20)\d{2})\s*年", rec.get("title") or "")
    return int(m.group(1)) if m else None


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
    (full-width) form, dashes between years as —: 《法治政府建设实施纲要(2021-2025年)》 →
    法治政府建设实施纲要（2021—2025年）."""
    s = re.sub(r"\s+", "", text.replace("\u3000", ""))
    s = s.strip("《》“”\"'、，,。；;")
    s = s.translate(_BRACKET_MAP)
    s = re.sub(r"(?<=\d)[-–—―－~～](?=\d)", "—", s)
    return s


def law_kind(name: str) -> str:
    """The kind of a regulation by its suffix, parentheticals (（试行）, （2021—2025年）) aside:
    法, 条例, 规定, 办法, 意见, 通知, 方案, 规划, 纲要, 标准, 协议, 决定, 细则, 计划, 要点, 清单 or other."""
    core = normalise_law(name)
    while True:
        new = re.sub(r"（[^（）]*）$", "", core)
        if new == core:
            break
        core = new
    for suffix, kind in _LAW_KINDS:
        if core.endswith(suffix):
            return kind
    return "other"


def regulation_counts(docs: Iterable[DocLike]) -> list[RegulationCount]:
    """Every LAW entity's normalised name with its kind, mentions and documents; most mentioned first."""
    mentions: dict[str, int] = {}
    in_docs: dict[str, set[str]] = {}
    for k, doc in enumerate(docs):
        rec = _as_record(doc)
        doc_id = str(rec.get("id", k))
        for e in rec.get("entities", []):
            if e.get("type") != "LAW":
                continue
            name = normalise_law(e.get("text", ""))
            if not name:
                continue
            mentions[name] = mentions.get(name, 0) + 1
            in_docs.setdefault(name, set()).add(doc_id)
    out = [RegulationCount(n, law_kind(n), c, len(in_docs[n])) for n, c in mentions.items()]
    return sorted(out, key=lambda r: (-r.mentions, -r.documents, r.name))


def regulation_rows(counts: Sequence[RegulationCount]) -> list[dict[str, Any]]:
    return [r._asdict() for r in counts]
