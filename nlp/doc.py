"""The document model shared by every stage: documents, paragraphs, headings, sentences,
entities, and the indicators structured from METRIC entities.

All offsets are character offsets into one cleaned text (``Document.text``); end is
exclusive. Labels and entity types follow ``LABELING.md``. ``to_dict`` gives one record of
``nlp annotate`` JSONL; ``from_dict`` is its exact inverse, so analysis and evaluation read
annotated documents back as ``Document`` objects.
"""

from __future__ import annotations

import bisect
from dataclasses import asdict, dataclass, field
from typing import Any, Mapping

LABELS: tuple[str, ...] = ("duty", "measures", "problems", "plans", "other")
SECTION_LABELS: tuple[str, ...] = ("duty", "measures", "problems", "plans")
ENTITY_TYPES: tuple[str, ...] = ("LAW", "DOCNO", "METRIC", "DATE")
# the layout of a record (``Document.to_dict``; docs/schema.json describes it): raised when a key changes meaning
SCHEMA_VERSION = "1.0"

_ENTITY_KEYS = ("start", "end", "type", "text", "target", "source", "rule")


@dataclass
class Entity:
    start: int
    end: int
    type: str
    text: str
    target: bool | None = None  # METRIC only: a goal rather than an achieved value
    source: str = "rules"
    attrs: dict[str, Any] = field(default_factory=dict)
    rule: str | None = None  # the named rule (nlp.rules) that produced the span, when a rule did

    def to_dict(self) -> dict[str, Any]:
        d = {"start": self.start, "end": self.end, "type": self.type, "text": self.text}
        if self.type == "METRIC":
            d["target"] = bool(self.target)
        d["source"] = self.source
        if self.rule is not None:
            d["rule"] = self.rule
        if self.attrs:
            d.update(self.attrs)
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "Entity":
        """The inverse of ``to_dict``: keys other than the fields are ``attrs`` (``indicator``, ``prob``)."""
        return cls(d["start"], d["end"], d["type"], d["text"],
                   d.get("target") if d["type"] == "METRIC" else None, d.get("source", "rules"),
                   {k: v for k, v in d.items() if k not in _ENTITY_KEYS}, d.get("rule"))

    def shifted(self, offset: int) -> "Entity":
        return Entity(self.start + offset, self.end + offset, self.type, self.text,
                      self.target, self.source, dict(self.attrs), self.rule)


@dataclass
class Heading:
    level: int  # 0 = 第X章/部分, 1 = 一、, 2 = (一), 3 = 1., 4 = (1), 5 = ①
    marker: str  # the enumerator as written, e.g. "一、" or "(二)"
    start: int
    end: int
    text: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "Heading":
        return cls(d["level"], d["marker"], d["start"], d["end"], d["text"])


@dataclass
class Sentence:
    start: int
    end: int
    text: str
    paragraph: int  # index into Document.paragraphs
    label: str | None = None
    label_source: str | None = None  # which labeller decided: headings, model:<name>, ...
    reason: str | None = None
    scores: dict[str, float] | None = None
    is_heading: bool = False

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        if d["scores"] is None:
            d.pop("scores")
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "Sentence":
        scores = d.get("scores")
        return cls(d["start"], d["end"], d["text"], d["paragraph"], d.get("label"), d.get("label_source"),
                   d.get("reason"), dict(scores) if scores is not None else None, bool(d.get("is_heading", False)))


@dataclass
class Paragraph:
    start: int
    end: int
    text: str
    heading: Heading | None = None
    sentence_ids: list[int] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The paragraph as stored in a record: its text is ``Document.text[start:end]``, not repeated."""
        return {"start": self.start, "end": self.end, "heading": self.heading.to_dict() if self.heading else None,
                "sentences": list(self.sentence_ids)}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], text: str) -> "Paragraph":
        """A paragraph record of a document whose cleaned text is ``text``."""
        h = d.get("heading")
        return cls(d["start"], d["end"], text[d["start"]:d["end"]], Heading.from_dict(h) if h else None,
                   list(d.get("sentences", [])))


@dataclass(frozen=True)
class Indicator:
    """One METRIC entity, structured (``nlp.indicators``). ``start``/``end`` are the entity's offsets as given."""

    indicator: str  # what is measured, e.g. 行政机关负责人出庭应诉率
    value: float | None  # lower bound of a range; None when the number cannot be read
    value_max: float | None  # upper bound of a range (90%-95%, 3至5个), else None
    unit: str  # %, 件, 人次, 万元 …
    qualifier: str | None  # 以上, 左右, 近, 超过, 余, 多 … (several joined by ",")
    target: bool  # a goal rather than an achieved value
    sentence_label: str | None
    text: str  # the METRIC span as written
    start: int
    end: int

    def fields(self) -> dict[str, Any]:
        """The structured part stored on a METRIC entity of an annotated record."""
        return {"indicator": self.indicator, "value": self.value, "value_max": self.value_max,
                "unit": self.unit, "qualifier": self.qualifier}

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


_DOC_SCALARS = ("id", "source_path", "format", "encoding", "title", "issuer", "date", "docno", "text")


@dataclass
class Document:
    """A cleaned report with structure. ``text`` is the cleaned text all offsets refer to."""

    id: str
    text: str
    paragraphs: list[Paragraph] = field(default_factory=list)
    sentences: list[Sentence] = field(default_factory=list)
    entities: list[Entity] = field(default_factory=list)
    title: str | None = None
    issuer: str | None = None
    date: str | None = None
    docno: str | None = None
    source_path: str | None = None
    format: str | None = None
    encoding: str | None = None
    removed_chrome: list[str] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:
        title = self.title if self.title is None or len(self.title) <= 30 else self.title[:29] + "…"
        return (f"Document(id={self.id!r}, title={title!r}, {len(self.text)} chars, {len(self.paragraphs)} paragraphs, "
                f"{len(self.sentences)} sentences, {len(self.entities)} entities)")

    def paragraph_of(self, sentence: Sentence) -> Paragraph:
        return self.paragraphs[sentence.paragraph]

    def heading_path(self, sentence_index: int) -> list[Heading]:
        """The headings enclosing a sentence (outermost first), itself included if a heading."""
        para_idx = self.sentences[sentence_index].paragraph
        path: list[Heading] = []
        level_cut = 99
        for p in reversed(self.paragraphs[: para_idx + 1]):
            h = p.heading
            if h is not None and h.level < level_cut:
                path.append(h)
                level_cut = h.level
                if level_cut == 0:
                    break
        return list(reversed(path))

    def sentence_at(self, offset: int) -> int | None:
        """The index of the sentence holding character ``offset``, or None."""
        i = bisect.bisect_right([s.start for s in self.sentences], offset) - 1
        return i if i >= 0 and offset < self.sentences[i].end else None

    @property
    def indicators(self) -> list[Indicator]:
        """The structured METRIC entities (``attrs["indicator"]``, set by ``nlp.indicators.add_indicators``),
        in text order; a METRIC without that structure is left out."""
        starts = [s.start for s in self.sentences]
        out = []
        for e in self.entities:
            f = e.attrs.get("indicator")
            if e.type != "METRIC" or not isinstance(f, dict):
                continue
            i = bisect.bisect_right(starts, e.start) - 1
            label = self.sentences[i].label if i >= 0 and e.end <= self.sentences[i].end else None
            out.append(Indicator(f.get("indicator", ""), f.get("value"), f.get("value_max"), f.get("unit", ""),
                                 f.get("qualifier"), bool(e.target), label, e.text, e.start, e.end))
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": SCHEMA_VERSION,
            "id": self.id,
            "source_path": self.source_path,
            "format": self.format,
            "encoding": self.encoding,
            "title": self.title,
            "issuer": self.issuer,
            "date": self.date,
            "docno": self.docno,
            "text": self.text,
            "paragraphs": [p.to_dict() for p in self.paragraphs],
            "sentences": [s.to_dict() for s in self.sentences],
            "entities": [e.to_dict() for e in self.entities],
            "removed_chrome": self.removed_chrome,
            "meta": self.meta,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "Document":
        """The inverse of ``to_dict``: a record of ``nlp annotate`` JSONL (or a Parquet row read
        back by ``nlp.outputs.read_records``) as a ``Document``."""
        text = d["text"]
        return cls(
            id=d["id"], text=text,
            paragraphs=[Paragraph.from_dict(p, text) for p in d.get("paragraphs", [])],
            sentences=[Sentence.from_dict(s) for s in d.get("sentences", [])],
            entities=[Entity.from_dict(e) for e in d.get("entities", [])],
            removed_chrome=list(d.get("removed_chrome") or []),
            meta=dict(d.get("meta") or {}),
            **{k: d.get(k) for k in _DOC_SCALARS if k not in ("id", "text")},
        )

