"""The ``entities`` component: LAW, DOCNO, METRIC and DATE spans, from the rule extractors
(``nlp.extract``) or an entity tagger alone or combined with them (``EntityExtractor``,
``nlp.ner``). It runs after the labels: METRIC target flags read the sentence labels."""

from __future__ import annotations

from typing import Iterable, Iterator

from ..doc import Document
from ..extract import extract
from .base import EntityExtractor


def extract_entities(doc: Document, extractor: EntityExtractor | None = None) -> None:
    """Set ``doc.entities``: the extractors run paragraph by paragraph (offsets shifted into
    ``doc.text``), the rules or ``extractor`` (one batched pass over the paragraphs); each is
    told which paragraph opens the document and the labels of its sentences."""
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


class Entities:
    """Entities of each document from ``extractor`` (None: the rule extractors); the
    extractor's name is recorded in ``meta["entities"]``."""

    name = "entities"

    def __init__(self, extractor: EntityExtractor | None = None):
        self.extractor = extractor

    def __call__(self, doc: Document) -> Document:
        extract_entities(doc, self.extractor)
        if self.extractor is not None:
            doc.meta["entities"] = self.extractor.name
        return doc

    def pipe(self, docs: Iterable[Document], batch_size: int = 32) -> Iterator[Document]:
        for doc in docs:  # the tagger batches the paragraphs of one document
            yield self(doc)
