"""The ``structure`` component: a document's raw text → cleaned text with paragraphs,
headings, sentences and metadata (``nlp.text.build_document``)."""

from __future__ import annotations

from typing import Iterable, Iterator

from ..doc import Document
from ..text import build_document


class Structure:
    """Structure a document given as raw text (``Document(id, text)``, nothing else found yet).
    A document that already has paragraphs (read and structured by ``nlp.pipeline.structure_file``)
    is passed on as it is. Where the text came from (``source_path``, ``format``, ``encoding``)
    and ``meta`` are kept."""

    name = "structure"

    def __call__(self, doc: Document) -> Document:
        if doc.paragraphs:
            return doc
        out = build_document(doc.text, doc.id)
        out.source_path, out.format, out.encoding = doc.source_path, doc.format, doc.encoding
        out.meta = {**doc.meta, **out.meta}
        return out

    def pipe(self, docs: Iterable[Document], batch_size: int = 32) -> Iterator[Document]:
        for doc in docs:
            yield self(doc)
