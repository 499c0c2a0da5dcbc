"""The default pipeline: file → Document with sentence labels and entities.

Labellers decide sentence labels over a whole ``Document``; ``headings`` (``nlp.weak``) is
the rule-based one. Entity extraction runs after labelling so that METRIC target flags see
the sentence labels.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Protocol, Sequence

from . import weak
from .extract import extract
from .indicators import add_indicators
from .io import RawText, ReadError, read_document_text
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


BACKENDS = ("torch", "onnx")
GPU_BATCH_SIZE = 512


def load_model_labeller(path: str | Path, backend: str | None = None, batch_size: int | None = None,
                        device: str | None = None, threads: int | None = None) -> Labeller:
    """A labeller from a model: a TF-IDF baseline directory (``tfidf_config.json``), a
    fine-tuned BERT directory or a hub id of one (``backend`` torch), or a directory written
    by ``nlp export onnx`` (``model.onnx``; backend onnx, chosen by itself when not given)."""
    p = Path(path)
    if backend not in (None, *BACKENDS):
        raise ValueError(f"unknown backend {backend!r}; choose from {', '.join(BACKENDS)}")
    if (p / "tfidf_config.json").exists():
        if backend == "onnx":
            raise OSError(f"{p}: a TF-IDF baseline has no ONNX backend")
        from .baselines import TfidfLabeller

        return TfidfLabeller(p)
    if backend == "onnx" or (backend is None and (p / "model.onnx").exists()):
        if not (p / "model.onnx").exists():
            raise OSError(f"{p}: not an ONNX model directory (no model.onnx); make one with `nlp export onnx`")
        from .onnx_backend import OnnxSentenceLabeller

        lab = OnnxSentenceLabeller(p, batch_size=batch_size or 64, device=device, threads=threads)
        if batch_size is None and lab.device == "cuda":
            lab.batch_size = GPU_BATCH_SIZE
        return lab
    if p.exists() and not (p / "config.json").exists():
        raise OSError(f"{p}: not a model directory (no config.json or tfidf_config.json)")
    from .modeling import BertSentenceLabeller

    kw = {"device": device}
    if batch_size:
        kw["batch_size"] = batch_size
    lab = BertSentenceLabeller(path, **kw)
    if batch_size is None and lab.device.type == "cuda":
        lab.batch_size = GPU_BATCH_SIZE  # sentences are short: large batches fill a GPU
    return lab


@dataclass(frozen=True)
class LabellerSpec:
    """How to build a labeller, as plain data: worker processes and Ray actors receive the
    spec and load the labeller once each. ``model`` (a directory or hub id) wins over
    ``name`` (headings | rules | tfidf); neither gives the default labeller."""

    model: str | None = None
    name: str | None = None
    backend: str | None = None  # torch | onnx (None: from the model directory)
    batch_size: int | None = None  # sentences per forward pass
    device: str | None = None  # cpu | cuda | cuda:N (None: cuda when available)
    threads: int | None = None  # threads per labeller: ONNX session, PyTorch in a worker (None: all cores)
    ner: str | None = None  # token-classification entity model (directory or hub id; None: the default entities)
    entities: str | None = None  # rules | model | combined (None: combined with a model, else the default)

    def check(self) -> None:
        """Cheap checks before worker processes load the labeller (ValueError, OSError)."""
        check_entities(self.ner, self.entities)
        if self.backend not in (None, *BACKENDS):
            raise ValueError(f"unknown backend {self.backend!r}; choose from {', '.join(BACKENDS)}")
        if self.name and self.name not in LABELLERS:
            raise ValueError(f"unknown labeller {self.name!r}; choose from {', '.join(sorted(LABELLERS))}")
        if self.backend == "onnx" and not self.model:
            raise ValueError("--backend onnx needs --model ONNX_DIR")
        if self.model:
            p = Path(self.model)
            if self.backend == "onnx" and not (p / "model.onnx").exists():
                raise OSError(f"{p}: not an ONNX model directory (no model.onnx); make one with `nlp export onnx`")
            if p.exists() and not any((p / f).exists() for f in ("config.json", "tfidf_config.json")):
                raise OSError(f"{p}: not a model directory (no config.json or tfidf_config.json)")

    def load(self) -> Labeller:
        """The labeller, carrying its entity extractor (``entity_extractor``: None for the rules)."""
        if self.model:
            lab = load_model_labeller(self.model, self.backend, self.batch_size, self.device, self.threads)
        elif self.backend == "onnx":
            raise ValueError("--backend onnx needs --model ONNX_DIR")
        else:
            lab = get_labeller(self.name) if self.name else default_labeller(self.device, self.threads)
            if self.batch_size and hasattr(lab, "batch_size"):
                lab.batch_size = self.batch_size
        lab.entity_extractor = load_entities(self.ner, self.entities, self.device)
        return lab


DEFAULT_MODEL = "classifier-small"


# the shipped pretrained encoder (sentence embeddings for summaries when a classifier's own
# pretrained base is not at hand: classifier-small's GPU-pretrained encoder is not shipped)
DEFAULT_ENCODER = "encoder-mini"


def default_model_dir() -> Path:
    """The shipped default sentence classifier (``models/classifier-small``)."""
    return MODELS_DIR / DEFAULT_MODEL


def default_labeller(device: str | None = None, threads: int | None = None) -> Labeller:
    """The shipped BERT classifier; the heading rules only when its directory is missing
    (an install without ``models/``), with a warning."""
    d = default_model_dir()
    if (d / "config.json").exists():
        return load_model_labeller(d, device=device, threads=threads)
    import warnings

    warnings.warn(f"default model {d} not found: labelling with the heading rules", stacklevel=2)
    return HeadingsLabeller()


ENTITY_MODES = ("rules", "model", "combined")
DEFAULT_NER: str | None = None  # entity model under models/ used by default (None: the rule extractors)


def default_ner_dir() -> Path | None:
    """The shipped entity model the default pipeline combines with the rules, if any."""
    return MODELS_DIR / DEFAULT_NER if DEFAULT_NER and (MODELS_DIR / DEFAULT_NER / "config.json").exists() else None


def check_entities(ner: str | None, entities: str | None) -> None:
    """Cheap checks of an entity choice (ValueError, OSError)."""
    if entities not in (None, *ENTITY_MODES):
        raise ValueError(f"unknown entities {entities!r}; choose from {', '.join(ENTITY_MODES)}")
    if ner is None and entities == "model" and default_ner_dir() is None:
        raise ValueError("--entities model needs --ner DIR (an entity model made by `nlp train ner`)")
    if ner is not None:
        if entities == "rules":
            raise ValueError("--entities rules takes no --ner model")
        p = Path(ner)
        if p.exists() and not (p / "config.json").exists():
            raise OSError(f"{p}: not a model directory (no config.json)")


def load_entities(ner: str | None = None, entities: str | None = None, device: str | None = None):
    """The entity extractor for a choice: None (the rule extractors) or a
    ``nlp.ner.BertEntityExtractor`` alone (``model``) or combined with the rules."""
    check_entities(ner, entities)
    if entities == "rules":
        return None
    src = ner or default_ner_dir()
    if src is None:
        return None
    from .ner import load_entity_extractor

    return load_entity_extractor(src, mode=entities or "combined", device=device)


def add_entities(doc: Document, extractor=None) -> None:
    """Run the entity extractors paragraph by paragraph (offsets shifted into ``doc.text``):
    the rules, or ``extractor`` (``nlp.ner``: one batched pass over the paragraphs); then
    structure every METRIC (``attrs["indicator"]``: indicator, value, unit, qualifier)."""
    doc.entities = []
    items = []
    for para in doc.paragraphs:
        sl = [(doc.sentences[i].start - para.start, doc.sentences[i].end - para.start, doc.sentences[i].label or "")
              for i in para.sentence_ids]
        items.append((para.text, sl, not items))
    found = extractor.entities_many(items) if extractor is not None else \
        [extract(t, sl, first_paragraph=first) for t, sl, first in items]
    for para, ents in zip(doc.paragraphs, found):
        doc.entities += [e.shifted(para.start) for e in ents]
    add_indicators(doc)


_DEFAULT = object()


def doc_id_for(path: str | Path) -> str:
    """A readable id from the file name (the batch runner makes duplicates unique)."""
    return re.sub(r"[^\w.-]+", "-", Path(path).stem).strip("-") or "doc"


def annotate_text(raw: str, doc_id: str = "doc", labeller: Labeller | None = None) -> Document:
    doc = build_document(raw, doc_id)
    labeller = labeller or default_labeller()
    labeller.label(doc)
    finish_document(doc, labeller)
    return doc


def structure_raw(raw: RawText, path: str | Path, doc_id: str) -> Document:
    """Structure one report read from ``path`` (not yet labelled). Raises ``ReadError`` if
    nothing but page chrome is left."""
    doc = build_document(raw.text, doc_id)
    doc.source_path = str(path)
    doc.format = raw.format
    doc.encoding = raw.encoding
    if not doc.sentences:
        raise ReadError(path, "no report text left after removing page chrome")
    return doc


def structure_file(path: str | Path, doc_id: str | None = None) -> Document:
    """Read and structure one report file (not yet labelled). Raises ``nlp.io.ReadError``."""
    return structure_raw(read_document_text(path), path, doc_id or doc_id_for(path))


def label_documents(docs: Sequence[Document], labeller: Labeller) -> None:
    """Label several documents: one batched pass across them when the labeller has
    ``label_many`` (the BERT labellers), else document by document."""
    many = getattr(labeller, "label_many", None)
    if many is not None:
        if docs:
            many(list(docs))
    else:
        for doc in docs:
            labeller.label(doc)


def finish_document(doc: Document, labeller: Labeller) -> None:
    """After labelling: entities (METRIC target flags read the sentence labels; the
    labeller's ``entity_extractor`` when it carries one, else the default) and the
    labeller's name."""
    ext = getattr(labeller, "entity_extractor", _DEFAULT)
    if ext is _DEFAULT:
        ext = labeller.entity_extractor = load_entities()
    add_entities(doc, ext)
    doc.meta["labeller"] = labeller.name
    if ext is not None:
        doc.meta["entities"] = ext.name


def annotate_file(path: str | Path, labeller: Labeller | None = None, doc_id: str | None = None) -> Document:
    """Read, structure, label and extract one report file. Raises ``nlp.io.ReadError``."""
    doc = structure_file(path, doc_id)
    labeller = labeller or default_labeller()
    labeller.label(doc)
    finish_document(doc, labeller)
    return doc
