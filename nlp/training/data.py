"""Training data: weak-labelled sentences from the ``split: train`` report documents."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from ..text import build_document
from ..weak import label_document


@dataclass
class LabelledSentence:
    doc_id: str
    text: str
    label: str
    reason: str
    context: str  # the heading path, outermost first, joined with " / "
    source: str = "weak"


def load_reports(path: str | Path, split: str = "train") -> list[dict]:
    rows = [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]
    return [r for r in rows if r.get("split") == split]


def weak_sentences(reports_path: str | Path, split: str = "train") -> list[LabelledSentence]:
    """Every sentence of the ``split`` documents with its heading-derived weak label."""
    if split != "train":
        raise ValueError("train only on split: train documents")
    out: list[LabelledSentence] = []
    for r in load_reports(reports_path, split):
        doc = build_document(r["text"], r["id"])
        for i, w in enumerate(label_document(doc)):
            path = " / ".join(h.text for h in doc.heading_path(i) if not doc.sentences[i].is_heading)
            out.append(LabelledSentence(r["id"], doc.sentences[i].text, w.label, w.reason, path))
    return out
