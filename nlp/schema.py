"""The data model shared by every stage: documents, paragraphs, sentences, entities.

All offsets are character offsets into one cleaned text (``Document.text``); end is
exclusive. Labels and entity types follow ``LABELING.md``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

LABELS: tuple[str, ...] = ("duty", "measures", "problems", "plans", "other")
SECTION_LABELS: tuple[str, ...] = ("duty", "measures", "problems", "plans")
ENTITY_TYPES: tuple[str, ...] = ("LAW", "DOCNO", "METRIC", "DATE")


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


@dataclass
class Paragraph:
    start: int
    end: int
    text: str
    heading: Heading | None = None
    sentence_ids: list[int] = field(default_factory=list)


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

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "source_path": self.source_path,
            "format": self.format,
            "encoding": self.encoding,
            "title": self.title,
            "issuer": self.issuer,
            "date": self.date,
            "docno": self.docno,
            "text": self.text,
            "paragraphs": [
                {
                    "start": p.start,
                    "end": p.end,
                    "heading": asdict(p.heading) if p.heading else None,
                    "sentences": p.sentence_ids,
                }
                for p in self.paragraphs
            ],
            "sentences": [s.to_dict() for s in self.sentences],
            "entities": [e.to_dict() for e in self.entities],
            "removed_chrome": self.removed_chrome,
            "meta": self.meta,
        }
