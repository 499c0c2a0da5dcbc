"""The ``indicators`` component: every METRIC entity structured as an indicator
(``attrs["indicator"]``: what is measured, value, unit, qualifier; ``nlp.indicators``),
read back as ``Document.indicators``."""

from __future__ import annotations

from typing import Iterable, Iterator

from ..doc import Document
from ..indicators import add_indicators


class Indicators:
    name = "indicators"

    def __call__(self, doc: Document) -> Document:
        add_indicators(doc)
        return doc

    def pipe(self, docs: Iterable[Document], batch_size: int = 32) -> Iterator[Document]:
        for doc in docs:
            yield self(doc)
