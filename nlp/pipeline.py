"""The default pipeline: file → Document with sentence labels and entities.

Labellers decide sentence labels over a whole ``Document``; ``headings`` (``nlp.weak``) is
the rule-based one. Entity extraction runs after labelling so that METRIC target flags see
the sentence labels.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Callable, Protocol

from . import weak
from .extract import extract
from .indicators import add_indicators
from .io import read_document_text
from .schema import Document
from .text import build_document


class Labeller(Protocol):
    name: str

    def label(self, doc: Document) -> None:
        """Set ``label``, ``label_source`` and ``reason`` on every sentence of ``doc``."""


class HeadingsLabeller:
    name = "headings"

    def label(self, doc: Document) -> None:
        weak.label_document(doc)


MODELS_DIR = Path(os.environ.get("GOVREPORT_MODELS") or Path(__file__).resolve().parent.parent / "models")


def _rules() -> Labeller:
    from .baselines import RulesLabeller

    return RulesLabeller()


def _tfidf() -> Labeller:
    return load_model_labeller(MODELS_DIR / "tfidf-baseline")


LABELLERS: dict[str, Callable[[], Labeller]] = {"headings": HeadingsLabeller, "rules": _rules, "tfidf": _tfidf}


def get_labeller(name: str) -> Labeller:
    if name not in LABELLERS:
        raise ValueError(f"unknown labeller {name!r}; choose from {', '.join(sorted(LABELLERS))}")
    return LABELLERS[name]()


def load_model_labeller(path: str | Path) -> Labeller:
    """A labeller from a model: a TF-IDF baseline directory (``tfidf_config.json``), a
    fine-tuned BERT directory, or a hub id of one."""
    p = Path(path)
    if (p / "tfidf_config.json").exists():
        from .baselines import TfidfLabeller

        return TfidfLabeller(p)
    if p.exists() and not (p / "config.json").exists():
        raise OSError(f"{p}: not a model directory (no config.json or tfidf_config.json)")
    from .modeling import BertSentenceLabeller

    return BertSentenceLabeller(path)


def default_labeller() -> Labeller:
    return HeadingsLabeller()


def add_entities(doc: Document) -> None:
    """Run the entity extractors paragraph by paragraph (offsets shifted into ``doc.text``),
    then structure every METRIC (``attrs["indicator"]``: indicator, value, unit, qualifier)."""
    doc.entities = []
    for para in doc.paragraphs:
        sl = [(doc.sentences[i].start - para.start, doc.sentences[i].end - para.start, doc.sentences[i].label or "")
              for i in para.sentence_ids]
        for e in extract(para.text, sl):
            doc.entities.append(e.shifted(para.start))
    add_indicators(doc)


def doc_id_for(path: str | Path) -> str:
    """A readable id from the file name (the batch runner makes duplicates unique)."""
    return re.sub(r"[^\w.-]+", "-", Path(path).stem).strip("-") or "doc"


def annotate_text(raw: str, doc_id: str = "doc", labeller: Labeller | None = None) -> Document:
    doc = build_document(raw, doc_id)
    (labeller or default_labeller()).label(doc)
    add_entities(doc)
    doc.meta["labeller"] = (labeller or default_labeller()).name
    return doc


def annotate_file(path: str | Path, labeller: Labeller | None = None, doc_id: str | None = None) -> Document:
    """Read, structure, label and extract one report file. Raises ``nlp.io.ReadError``."""
    raw = read_document_text(path)
    doc = annotate_text(raw.text, doc_id or doc_id_for(path), labeller)
    doc.source_path = str(path)
    doc.format = raw.format
    doc.encoding = raw.encoding
    if not doc.sentences:
        from .io import ReadError

        raise ReadError(path, "no report text left after removing page chrome")
    return doc
