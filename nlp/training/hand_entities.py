"""Hand-labelled training entities, stored as standoff labels (no text).

The team labels the entities (LABELING.md §2) of whole paragraphs of ``split: train``
documents of ``reports.jsonl``. The repository keeps only where each entity is and its type
(``eval/hand/train_entities.jsonl``); the text is joined from ``../shared/data`` at run
time. One record per entity, and one per paragraph labelled as having none::

    {"source": "reports", "doc": "rep-…", "para": 3, "start": 18, "end": 26, "type": "METRIC", "sha1": "…"}
    {"source": "reports", "doc": "rep-…", "para": 4, "start": 0, "end": 57, "type": null, "sha1": "…"}

``para`` is the paragraph index of the document as ``nlp.text.build_document`` reads it;
``start``/``end`` are character offsets in that paragraph (for an empty paragraph, the
whole paragraph); ``sha1`` is the first 10 hex digits of the SHA-1 of the span text, so
that a change in reading is detected, never silently mislabelled. A paragraph with any
record that no longer matches is left out whole (its other spans would teach ``O`` where
an entity is).
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from ..schema import ENTITY_TYPES
from ..text import build_document
from .data import load_reports
from .hand import fingerprint


@dataclass
class HandParagraph:
    doc: str
    para: int
    text: str
    spans: list[tuple[int, int, str]]  # (start, end, type), sorted, never overlapping


@dataclass
class HandEntities:
    paragraphs: list[HandParagraph]
    mismatched: list[dict] = field(default_factory=list)  # records whose text no longer matches

    @property
    def keys(self) -> set[tuple[str, int]]:
        return {(p.doc, p.para) for p in self.paragraphs}


def _train_docs(data_dir: Path):
    train = {r["id"]: r for r in load_reports(data_dir / "reports.jsonl", "train")}
    cache: dict[str, object] = {}

    def get(doc_id: str, where: str):
        if doc_id not in train:
            raise ValueError(f"{where}: document {doc_id} is not a split: train document")
        if doc_id not in cache:
            cache[doc_id] = build_document(train[doc_id]["text"], doc_id)
        return cache[doc_id]

    return get


def load_hand_entities(path: str | Path, data_dir: str | Path) -> HandEntities:
    """Join standoff entity labels with the text in ``data_dir`` (``reports.jsonl``). Only
    ``split: train`` documents are accepted; unknown types, bad spans and overlapping spans
    are refused (ValueError)."""
    get = _train_docs(Path(data_dir))
    by_para: dict[tuple[str, int], list[dict]] = defaultdict(list)
    for i, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            r = json.loads(line)
        except json.JSONDecodeError as e:
            raise ValueError(f"{path}: line {i} is not JSON ({e.msg})") from None
        if r.get("source") != "reports":
            raise ValueError(f"{path}: line {i}: unknown source {r.get('source')!r} (hand entities are on reports only)")
        if r.get("type") is not None and r["type"] not in ENTITY_TYPES:
            raise ValueError(f"{path}: line {i}: unknown entity type {r['type']!r}")
        for k in ("doc", "para", "start", "end", "sha1"):
            if k not in r:
                raise ValueError(f"{path}: line {i} has no {k!r} field")
        by_para[(r["doc"], int(r["para"]))].append(r)
    out = HandEntities([])
    for (doc_id, para), recs in by_para.items():
        doc = get(doc_id, str(path))
        if para >= len(doc.paragraphs):
            out.mismatched += recs
            continue
        text = doc.paragraphs[para].text
        if any(not (0 <= r["start"] < r["end"] <= len(text)) or fingerprint(text[r["start"]:r["end"]]) != r["sha1"]
               for r in recs):
            out.mismatched += recs
            continue
        spans = sorted((r["start"], r["end"], r["type"]) for r in recs if r["type"] is not None)
        for (a1, b1, t1), (a2, b2, t2) in zip(spans, spans[1:]):
            if a2 < b1:
                raise ValueError(f"{path}: {doc_id} paragraph {para}: spans {a1}-{b1} {t1} and {a2}-{b2} {t2} overlap")
        if any(r["type"] is None for r in recs) and spans:
            raise ValueError(f"{path}: {doc_id} paragraph {para} is recorded both as without entities and with {len(spans)}")
        out.paragraphs.append(HandParagraph(doc_id, para, text, spans))
    out.paragraphs.sort(key=lambda p: (p.doc, p.para))
    return out


def standoff_entities(labels: dict[str, list[tuple[str, str, int]]], data_dir: str | Path) -> list[dict]:
    """Standoff records from ``{"doc|para": [(type, span text, n-th occurrence), …]}`` (the
    form in which labelling batches come back; an empty list: labelled, no entities). The
    n-th (1-based) occurrence of the span text in the paragraph gives the offsets."""
    get = _train_docs(Path(data_dir))
    out = []
    for key, items in labels.items():
        doc_id, p = key.split("|")
        doc = get(doc_id, key)
        para = int(p)
        if para >= len(doc.paragraphs):
            raise ValueError(f"{key}: the document has {len(doc.paragraphs)} paragraphs")
        text = doc.paragraphs[para].text
        if not items:
            out.append({"source": "reports", "doc": doc_id, "para": para, "start": 0, "end": len(text), "type": None,
                        "sha1": fingerprint(text)})
            continue
        for typ, span, nth in items:
            if typ not in ENTITY_TYPES:
                raise ValueError(f"{key}: unknown entity type {typ!r}")
            start = -1
            for _ in range(max(1, nth)):
                start = text.find(span, start + 1)
                if start < 0:
                    raise ValueError(f"{key}: {typ} {span!r} occurs fewer than {nth} time(s) in the paragraph")
            out.append({"source": "reports", "doc": doc_id, "para": para, "start": start, "end": start + len(span),
                        "type": typ, "sha1": fingerprint(span)})
    return out


def read_entity_tsv(path: str | Path) -> dict[str, list[tuple[str, str, int]]]:
    """A labelling batch as written back: ``doc|para TAB TYPE TAB span TAB n`` per entity,
    ``doc|para TAB - TAB - TAB 0`` for a paragraph without entities."""
    labels: dict[str, list[tuple[str, str, int]]] = {}
    for i, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        parts = line.split("\t")
        if len(parts) != 4 or "|" not in parts[0]:
            raise ValueError(f"{path}: line {i}: expected 'doc|para TAB TYPE TAB span TAB n'")
        key, typ, span, nth = parts
        items = labels.setdefault(key, [])
        if typ != "-":
            items.append((typ, span, int(nth)))
    return labels
