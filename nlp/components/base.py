"""The contracts of the pipeline's parts.

- ``Component``: what a ``Pipeline`` runs: ``name``, ``__call__(doc) -> doc`` and
  ``pipe(docs, batch_size) -> docs`` (lazy, order kept).
- ``SentenceLabeller``: the base class of every sentence labeller (heading rules, content
  rules, TF-IDF, BERT on PyTorch or ONNX Runtime). Every member a caller uses is declared
  here with a default, so callers never probe for optional members:

  ``name``                the name recorded on each document (``meta["labeller"]``);
  ``label(doc)``          set ``label``, ``label_source``, ``reason`` (and ``scores``) on every sentence;
  ``label_many(docs)``    the same for several documents (one batched pass where the labeller batches);
  ``label_alone(texts)``  each sentence with no document around it (the evaluation's ``sentence_alone``);
  ``batch_size``          sentences per forward pass (None: the labeller does not batch);
  ``device``              where it runs, as a string: ``cpu``, ``cuda``, ``cuda:1``;
  ``backend``             the runtime of its model: ``torch``, ``onnx``, or None (rules, TF-IDF);
  ``entity_extractor``    the entity extractor that goes with it: an ``EntityExtractor``, None for
                          the rule extractors, or ``DEFAULT_ENTITIES`` (the default choice,
                          decided when the labeller is first used: ``nlp.pipeline.resolve_entities``);
  ``inference_context()`` the context its forward passes run in (PyTorch: inference mode and,
                          where the hardware computes it natively, bf16 autocast).

- ``EntityExtractor``: an entity tagger (alone or combined with the rules) as the pipeline
  uses it (``nlp.ner.BertEntityExtractor``).
"""

from __future__ import annotations

import contextlib
from typing import Any, ContextManager, Iterable, Iterator, Protocol, Sequence, runtime_checkable

from ..doc import Document, Entity


class _DefaultEntities:
    """The marker of a labeller whose entity extractor is the default one, not yet loaded."""

    _instance: "_DefaultEntities | None" = None

    def __new__(cls) -> "_DefaultEntities":
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "DEFAULT_ENTITIES"

    def __reduce__(self):  # one marker across processes (worker processes, Ray actors)
        return (_DefaultEntities, ())


DEFAULT_ENTITIES = _DefaultEntities()


@runtime_checkable
class Component(Protocol):
    """One named step of a pipeline."""

    name: str

    def __call__(self, doc: Document) -> Document: ...

    def pipe(self, docs: Iterable[Document], batch_size: int = 32) -> Iterator[Document]: ...


class EntityExtractor(Protocol):
    """Entities of paragraphs (offsets relative to each paragraph's text)."""

    name: str
    device: str

    def entities_many(self, items: Sequence[tuple]) -> list[list[Entity]]:
        """Entities of several paragraphs in one pass; each item is (text, sentence label spans,
        first_paragraph)."""
        ...

    def entities(self, text: str, sentence_labels: list[tuple[int, int, str]] | None = None,
                 first_paragraph: bool = False) -> list[Entity]: ...


class SentenceLabeller:
    """The base class of every sentence labeller (see the module docstring for its members)."""

    name: str = "labeller"
    batch_size: int | None = None
    device: str = "cpu"
    backend: str | None = None
    entity_extractor: EntityExtractor | None | _DefaultEntities = DEFAULT_ENTITIES

    def label(self, doc: Document) -> None:
        """Set ``label``, ``label_source`` and ``reason`` on every sentence of ``doc``."""
        raise NotImplementedError(f"{type(self).__name__} does not define label(doc)")

    def label_many(self, docs: Sequence[Document]) -> None:
        """Label several documents; document by document unless the labeller batches across them."""
        for doc in docs:
            self.label(doc)

    def label_alone(self, texts: Sequence[str]) -> list[str]:
        """The label of each sentence read alone: each as a one-sentence document."""
        from ..text import document_from_paragraphs

        out = []
        for t in texts:
            d = document_from_paragraphs([t], "alone", [[(0, len(t))]])
            self.label(d)
            out.append(d.sentences[0].label or "other")
        return out

    def inference_context(self) -> ContextManager[Any]:
        """The context ``label``/``label_many`` run in for a batch run; nothing by default."""
        return contextlib.nullcontext()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, device={self.device!r})"
