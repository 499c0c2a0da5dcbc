"""The inference pipeline: text or file → ``Document`` with sentence labels, entities and
indicators.

A ``Pipeline`` is an ordered list of named components (``nlp.components``): ``structure``
(text → paragraphs, headings, sentences), ``labels`` (a ``SentenceLabeller``: the shipped BERT
classifier by default, ``headings`` the rule-based one), ``entities`` (the rule extractors,
or an entity tagger combined with them; after the labels, so that METRIC target flags see the
sentence labels) and ``indicators`` (METRIC entities structured). ``load_pipeline`` builds one
from a ``PipelineConfig``; ``LabellerSpec`` is the same choice as plain data for worker
processes and Ray actors, which load the labeller once each.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Sequence

from . import weak
from .components.base import DEFAULT_ENTITIES, Component, EntityExtractor, SentenceLabeller
from .components.entities import Entities, extract_entities
from .components.indicators import Indicators
from .components.labels import SentenceLabels
from .components.structure import Structure
from .config import BACKENDS, ENTITY_MODES, GPU_BATCH_SIZE, LABELLER_NAMES, ConfigError, PipelineConfig, check_choice
from .doc import Document
from .indicators import add_indicators
from .io import (ModelNotFoundError, RawText, ReadError, find_models_dir, provenance, read_document_text,
                 weights_digest)
from .text import build_document

Labeller = SentenceLabeller  # the labeller contract (nlp.components.base)


class HeadingsLabeller(SentenceLabeller):
    name = "headings"

    def label(self, doc: Document) -> None:
        weak.label_document(doc)


MODELS_DIR = find_models_dir()  # GOVREPORT_MODELS, else the installed package's models, else the source tree's models/


def _rules() -> Labeller:
    from .baselines import RulesLabeller

    return RulesLabeller()


def _tfidf() -> Labeller:
    return load_model_labeller(MODELS_DIR / "tfidf-baseline")


LABELLERS: dict[str, Callable[[], Labeller]] = {"headings": HeadingsLabeller, "rules": _rules, "tfidf": _tfidf}
assert tuple(LABELLERS) == LABELLER_NAMES


def get_labeller(name: str) -> Labeller:
    if name not in LABELLERS:
        raise ValueError(f"unknown labeller {name!r}; choose from {', '.join(sorted(LABELLERS))}")
    return LABELLERS[name]()



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
        if batch_size is None and lab.device.startswith("cuda"):
            lab.batch_size = GPU_BATCH_SIZE
        return lab
    if p.exists() and not (p / "config.json").exists():
        raise OSError(f"{p}: not a model directory (no config.json or tfidf_config.json)")
    from .modeling import BertSentenceLabeller

    kw = {"device": device}
    if batch_size:
        kw["batch_size"] = batch_size
    lab = BertSentenceLabeller(path, **kw)
    if batch_size is None and lab.device.startswith("cuda"):
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
        self.config().check()
        if self.backend == "onnx" and not self.model:
            raise ConfigError("backend", "onnx needs an ONNX model directory", use=("model", "ONNX_DIR"))
        if self.model:
            p = Path(self.model)
            if self.backend == "onnx" and not (p / "model.onnx").exists():
                raise OSError(f"{p}: not an ONNX model directory (no model.onnx); make one with `nlp export onnx`")
            if p.exists() and not any((p / f).exists() for f in ("config.json", "tfidf_config.json")):
                raise OSError(f"{p}: not a model directory (no config.json or tfidf_config.json)")
        elif not self.name and not (default_model_dir() / "config.json").exists():
            raise ModelNotFoundError(DEFAULT_MODEL, MODELS_DIR)

    def load(self) -> Labeller:
        """The labeller, carrying its entity extractor (``entity_extractor``: None for the rules)."""
        if self.model:
            lab = load_model_labeller(self.model, self.backend, self.batch_size, self.device, self.threads)
        elif self.backend == "onnx":
            raise ConfigError("backend", "onnx needs an ONNX model directory", use=("model", "ONNX_DIR"))
        else:
            lab = get_labeller(self.name) if self.name else default_labeller(self.device, self.threads)
            if self.batch_size:
                lab.batch_size = self.batch_size
        lab.entity_extractor = load_entities(self.ner, self.entities, self.device)
        return lab

    def config(self) -> PipelineConfig:
        """The same choice as a ``PipelineConfig``."""
        return PipelineConfig(self.model, self.name, self.backend, self.batch_size, self.device, self.threads,
                              self.ner, self.entities)

    @classmethod
    def from_config(cls, config: PipelineConfig) -> "LabellerSpec":
        return cls(config.model, config.labeller, config.backend, config.batch_size, config.device, config.threads,
                   config.ner, config.entities)

    def describe(self) -> dict[str, Any]:
        """What decides the outputs of this choice: the labeller's name, its model (directory or
        hub id; None for rules) and the digest of its files, the backend, the entity mode, and the
        entity model with its digest (None for the rules)."""
        model = self.model or (str(MODELS_DIR / "tfidf-baseline") if self.name == "tfidf" else None)
        if not self.model and not self.name and (default_model_dir() / "config.json").exists():
            model = str(default_model_dir())
        name = self.name if self.name and not self.model else \
            f"model:{Path(model).name if Path(model).exists() else model}" if model else "headings"
        ner = None if self.entities == "rules" else (self.ner or default_ner_dir())
        return {"labeller": name, "model": model, "weights": weights_digest(model), "backend": self.backend,
                "entities": self.entities or ("combined" if ner else "rules"), "ner": str(ner) if ner else None,
                "ner_weights": weights_digest(ner) if ner else None}


DEFAULT_MODEL = "classifier-small"


# the shipped pretrained encoder (sentence embeddings for summaries when a classifier's own
# pretrained base is not at hand: classifier-small's GPU-pretrained encoder is not shipped)
DEFAULT_ENCODER = "encoder-mini"


def default_model_dir() -> Path:
    """The shipped default sentence classifier (``models/classifier-small``)."""
    return MODELS_DIR / DEFAULT_MODEL


def default_labeller(device: str | None = None, threads: int | None = None) -> Labeller:
    """The shipped BERT classifier. ``ModelNotFoundError`` (an OSError) when it cannot be
    found (``nlp.io.find_models_dir``): the heading rules are a choice to make, not a fallback."""
    d = default_model_dir()
    if not (d / "config.json").exists():
        raise ModelNotFoundError(DEFAULT_MODEL, d.parent)
    return load_model_labeller(d, device=device, threads=threads)


DEFAULT_NER: str | None = "ner-small"  # entity tagger under models/ combined with the rules by default (None: rules only)


def default_ner_dir() -> Path | None:
    """The shipped entity model the default pipeline combines with the rules, if any."""
    return MODELS_DIR / DEFAULT_NER if DEFAULT_NER and (MODELS_DIR / DEFAULT_NER / "config.json").exists() else None


def check_entities(ner: str | None, entities: str | None) -> None:
    """Cheap checks of an entity choice (ValueError, OSError)."""
    check_choice("entities", entities, ENTITY_MODES)
    if ner is None and entities == "model" and default_ner_dir() is None:
        raise ConfigError("entities", "model needs an entity model made by `nlp train ner`", use=("ner", "DIR"))
    if ner is not None:
        if entities == "rules":
            raise ConfigError("ner", "is not used with entities rules")
        p = Path(ner)
        if p.exists() and not (p / "config.json").exists():
            raise OSError(f"{p}: not a model directory (no config.json)")


def load_entities(ner: str | None = None, entities: str | None = None,
                  device: str | None = None) -> EntityExtractor | None:
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


def add_entities(doc: Document, extractor: EntityExtractor | None = None) -> None:
    """Run the entity extractors paragraph by paragraph (offsets shifted into ``doc.text``):
    the rules, or ``extractor`` (``nlp.ner``: one batched pass over the paragraphs); then
    structure every METRIC (``attrs["indicator"]``: indicator, value, unit, qualifier)."""
    extract_entities(doc, extractor)
    add_indicators(doc)


def resolve_entities(labeller: Labeller) -> EntityExtractor | None:
    """The labeller's entity extractor; the default one (``load_entities()``) is loaded the
    first time a labeller that carries ``DEFAULT_ENTITIES`` is used, and kept on it."""
    ext = labeller.entity_extractor
    if ext is DEFAULT_ENTITIES:
        ext = labeller.entity_extractor = load_entities()
    return ext


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
    """Label several documents: one ``label_many`` pass (batched across them by the BERT
    labellers, document by document by the others)."""
    if docs:
        labeller.label_many(list(docs))


def finish_document(doc: Document, labeller: Labeller) -> None:
    """After labelling: entities (METRIC target flags read the sentence labels; the
    labeller's ``entity_extractor``, the default when it carries ``DEFAULT_ENTITIES``),
    indicators, and the labeller's name."""
    ext = resolve_entities(labeller)
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


# --------------------------------------------------------------------------- the Pipeline

# component factories by name: each takes the pipeline's labeller and gives the component
COMPONENTS: dict[str, Callable[[Labeller], Component]] = {
    "structure": lambda lab: Structure(),
    "labels": lambda lab: SentenceLabels(lab),
    "entities": lambda lab: Entities(resolve_entities(lab)),
    "indicators": lambda lab: Indicators(),
}


class Pipeline:
    """An ordered list of named components (``name``, ``__call__(doc) -> doc``,
    ``pipe(docs, batch_size)``), run on each document in turn.

    ``pipe(texts)`` streams: ``batch_size`` documents at a time go through the labeller in one
    batched pass over all their sentences, as ``nlp annotate`` does; the results are those of
    calling the pipeline on each text. The default pipeline (``nlp.load()``) runs
    ``structure``, ``labels``, ``entities`` and ``indicators``."""

    def __init__(self, components: Sequence[Component], config: PipelineConfig | None = None):
        names = [c.name for c in components]
        if len(set(names)) != len(names):
            raise ValueError(f"component names must be unique: {', '.join(names)}")
        self.components: list[Component] = list(components)
        self.config = config
        self._provenance: dict[str, Any] | None = None

    @property
    def provenance(self) -> dict[str, Any] | None:
        """What made this pipeline's documents, recorded in each one's ``meta["provenance"]``
        (``nlp.io.provenance``): known for a pipeline built from a ``PipelineConfig``, else None."""
        if self._provenance is None and self.config is not None:
            self._provenance = provenance(LabellerSpec.from_config(self.config).describe())
        return self._provenance

    def _stamp(self, doc: Document) -> Document:
        if self.provenance is not None:
            doc.meta["provenance"] = dict(self.provenance)
        return doc

    @classmethod
    def from_labeller(cls, labeller: Labeller, config: PipelineConfig | None = None,
                      names: Sequence[str] = tuple(COMPONENTS)) -> "Pipeline":
        """The components ``names`` (default: all of ``COMPONENTS``, in order) around ``labeller``;
        the entities are the labeller's ``entity_extractor`` (the default one when it carries
        ``DEFAULT_ENTITIES``)."""
        unknown = [n for n in names if n not in COMPONENTS]
        if unknown:
            raise ValueError(f"unknown component {unknown[0]!r}; choose from {', '.join(COMPONENTS)}")
        return cls([COMPONENTS[n](labeller) for n in names], config)

    @property
    def component_names(self) -> list[str]:
        return [c.name for c in self.components]

    def __getitem__(self, name: str) -> Component:
        for c in self.components:
            if c.name == name:
                return c
        raise KeyError(f"no component {name!r} in this pipeline ({', '.join(self.component_names)})")

    def __contains__(self, name: object) -> bool:
        return name in self.component_names

    @property
    def labeller(self) -> Labeller | None:
        """The sentence labeller of the ``labels`` component, if the pipeline has one."""
        for c in self.components:
            if isinstance(c, SentenceLabels):
                return c.labeller
        return None

    def __repr__(self) -> str:
        lab = self.labeller
        return f"Pipeline({' → '.join(self.component_names)}; labeller={lab.name if lab else None!r})"

    @staticmethod
    def make_doc(text: str | Document, doc_id: str = "doc") -> Document:
        """A document to run the pipeline on: ``text`` as a bare ``Document``, or ``text`` itself
        when it is a ``Document`` already (a structured one skips ``structure``)."""
        if isinstance(text, Document):
            return text
        if not isinstance(text, str):
            raise TypeError(f"a pipeline reads text (str) or a Document, not {type(text).__name__}")
        return Document(id=doc_id, text=text)

    def apply(self, doc: Document) -> Document:
        """Run every component on one document."""
        for c in self.components:
            doc = c(doc)
        return self._stamp(doc)

    def __call__(self, text: str | Document, doc_id: str = "doc") -> Document:
        """One report's text (or a ``Document``) → an annotated ``Document``."""
        return self.apply(self.make_doc(text, doc_id))

    def pipe(self, texts: Iterable[str | Document], batch_size: int = 32,
             ids: Iterable[str] | None = None) -> Iterator[Document]:
        """Annotate many texts lazily, in order: the documents stream through each component's
        ``pipe``, the labeller reading ``batch_size`` documents per batched pass. Ids come from
        ``ids``, else ``doc-0``, ``doc-1``, … (a ``Document`` keeps its own)."""
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, not {batch_size}")
        id_iter = iter(ids) if ids is not None else None

        def docs() -> Iterator[Document]:
            for i, t in enumerate(texts):
                doc_id = next(id_iter) if id_iter is not None else f"doc-{i}"
                yield self.make_doc(t, doc_id)

        stream: Iterator[Document] = docs()
        for c in self.components:
            stream = c.pipe(stream, batch_size)
        yield from map(self._stamp, stream)

    def annotate_file(self, path: str | Path, doc_id: str | None = None) -> Document:
        """Read, structure and annotate one report file (txt, html, docx, pdf). Raises
        ``nlp.io.ReadError`` when it cannot be read or holds no report text."""
        return self.apply(structure_file(path, doc_id))


def load_pipeline(config: PipelineConfig | None = None) -> Pipeline:
    """The pipeline of ``config`` (default: the one ``nlp annotate`` runs: the shipped
    classifier and the default entities). Raises ValueError or OSError with a one-line message."""
    config = config or PipelineConfig()
    spec = LabellerSpec.from_config(config)
    spec.check()
    return Pipeline.from_labeller(spec.load(), config)
