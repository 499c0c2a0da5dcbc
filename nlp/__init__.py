"""govreport-nlp: read, structure, classify and extract from Chinese rule-of-law government
annual reports (法治政府建设年度报告).

    import nlp
    pipe = nlp.load()                         # the shipped default, or a model directory / hub id
    doc = pipe("……报告全文……")                  # -> nlp.Document
    docs = list(pipe.pipe(texts, batch_size=64))
    docs = nlp.read("annotated.jsonl")        # JSONL or Parquet written by `nlp annotate`
    df = nlp.to_frame(docs, level="sentence")  # or "entity", "indicator"

Importing ``nlp`` is cheap: the pipeline, PyTorch and the models load in ``nlp.load``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable

from .doc import Document, Entity, Heading, Indicator, Paragraph, Sentence

if TYPE_CHECKING:
    import pandas

    from .config import PipelineConfig
    from .pipeline import Pipeline

__version__ = "0.1.0"

__all__ = ["Document", "Entity", "Heading", "Indicator", "Paragraph", "Pipeline", "PipelineConfig", "Sentence",
           "annotate_file", "load", "read", "to_frame", "__version__"]

_LAZY = {"Pipeline": "pipeline", "PipelineConfig": "config"}


def __getattr__(name: str) -> Any:  # Pipeline and PipelineConfig, imported when first used
    if name in _LAZY:
        import importlib

        return vars(importlib.import_module(f".{_LAZY[name]}", __name__))[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def load(model: str | os.PathLike | None = None, *, labeller: str | None = None, ner: str | os.PathLike | None = None,
         entities: str | None = None, device: str | None = None, backend: str | None = None,
         batch_size: int | None = None, threads: int | None = None) -> "Pipeline":
    """A ``Pipeline``: structure → sentence labels → entities → indicators.

    ``model``: a fine-tuned sentence classifier (a directory, a hub id, a TF-IDF baseline or an
    ONNX export); ``labeller``: a rule labeller instead (``headings``, ``rules``, ``tfidf``);
    neither: the shipped default, exactly as ``nlp annotate`` runs it. ``ner``: an entity
    tagger; ``entities``: ``rules``, ``model`` or ``combined``. ``device``: ``cpu``, ``cuda``,
    ``cuda:N`` (default: a GPU when there is one). Raises ValueError for a choice out of
    range and OSError for a model that cannot be loaded."""
    from .config import PipelineConfig
    from .pipeline import load_pipeline

    return load_pipeline(PipelineConfig(
        model=None if model is None else str(model), labeller=labeller, backend=backend, batch_size=batch_size,
        device=device, threads=threads, ner=None if ner is None else str(ner), entities=entities))


_DEFAULT_PIPELINE: list = []


def annotate_file(path: str | os.PathLike, pipeline: "Pipeline | None" = None, doc_id: str | None = None) -> Document:
    """Read, structure and annotate one report file (txt, html, docx, pdf) with ``pipeline``
    (default: ``nlp.load()``, loaded once). Raises ``nlp.io.ReadError``."""
    if pipeline is None:
        if not _DEFAULT_PIPELINE:
            _DEFAULT_PIPELINE.append(load())
        pipeline = _DEFAULT_PIPELINE[0]
    return pipeline.annotate_file(path, doc_id)


def read(path: str | os.PathLike) -> list[Document]:
    """The annotated documents of a JSONL or Parquet file written by ``nlp annotate`` (or by
    ``Document.to_dict``). Raises ``nlp.io.ReadError`` for a file that is not one."""
    from .io import ReadError
    from .outputs import read_records

    p = Path(path)
    if p.suffix.lower() == ".csv":
        raise ReadError(str(path), "a CSV output holds one row per sentence, not documents; "
                                   "annotate to .jsonl or .parquet to read documents back")
    if not p.is_file():
        raise ReadError(str(path), "no such file" if not p.exists() else "not a file")
    docs = []
    try:
        for i, rec in enumerate(read_records(p), 1):
            if not isinstance(rec, dict) or not all(k in rec for k in ("id", "text", "sentences")):
                raise ReadError(str(path), f"record {i} is not an annotated document (no id, text or sentences)")
            docs.append(Document.from_dict(rec))
    except ReadError:
        raise
    except UnicodeDecodeError:
        raise ReadError(str(path), "not UTF-8 text (expected JSONL or Parquet written by nlp annotate)") from None
    except ValueError as e:  # a line that is not JSON
        raise ReadError(str(path), f"not JSONL written by nlp annotate ({str(e).splitlines()[0]})") from None
    except (KeyError, TypeError) as e:
        raise ReadError(str(path), f"a record is not an annotated document ({type(e).__name__}: {e})") from None
    return docs


def to_frame(docs: Iterable[Document] | Document, level: str = "sentence") -> "pandas.DataFrame":
    """A pandas DataFrame with one row per sentence, entity or indicator of ``docs``
    (``level``: ``sentence``, ``entity``, ``indicator``), with typed columns (see ``nlp.frames``)."""
    from .frames import to_frame as _to_frame

    return _to_frame(docs, level)
