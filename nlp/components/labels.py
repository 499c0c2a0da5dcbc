"""The ``labels`` component: a sentence labeller (``SentenceLabeller``) run over documents,
batched across documents in ``pipe`` as the batch runner does."""

from __future__ import annotations

from itertools import islice
from typing import Iterable, Iterator

from ..doc import Document
from .base import SentenceLabeller


def batches(docs: Iterable[Document], size: int) -> Iterator[list[Document]]:
    """Consecutive lists of ``size`` documents (the last one shorter)."""
    if size < 1:
        raise ValueError(f"batch_size must be at least 1, not {size}")
    it = iter(docs)
    while True:
        chunk = list(islice(it, size))
        if not chunk:
            return
        yield chunk


def label_batch(docs: list[Document], labeller: SentenceLabeller) -> None:
    """Label documents in one ``label_many`` pass under the labeller's inference context,
    and record the labeller's name on each."""
    if docs:
        with labeller.inference_context():
            labeller.label_many(docs)
    for doc in docs:
        doc.meta["labeller"] = labeller.name


class SentenceLabels:
    """Sentence labels from ``labeller``; ``pipe`` labels ``batch_size`` documents at a time
    with one batched pass over all their sentences."""

    name = "labels"

    def __init__(self, labeller: SentenceLabeller):
        self.labeller = labeller

    def __call__(self, doc: Document) -> Document:
        label_batch([doc], self.labeller)
        return doc

    def pipe(self, docs: Iterable[Document], batch_size: int = 32) -> Iterator[Document]:
        for chunk in batches(docs, batch_size):
            label_batch(chunk, self.labeller)
            yield from chunk
