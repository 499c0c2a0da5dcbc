"""The named components a ``nlp.pipeline.Pipeline`` runs in order, and the contracts of the
objects inside them.

- ``base``: the component protocol (``name``, ``__call__(doc)``, ``pipe(docs, batch_size)``),
  the sentence-labeller base class every labeller derives from (``SentenceLabeller``: its
  members are declared, so no caller probes for them) and the entity-extractor protocol;
- ``structure``: text → ``Document`` (chrome, paragraphs, headings, sentences, metadata);
- ``labels``: the sentence labeller, batched across documents;
- ``entities``: the rule extractors or an entity tagger combined with them;
- ``indicators``: METRIC entities structured as indicators.

This package imports nothing heavy: PyTorch and ONNX Runtime load with the labeller.
"""

from .base import DEFAULT_ENTITIES, Component, EntityExtractor, SentenceLabeller
from .entities import Entities, extract_entities
from .indicators import Indicators
from .labels import SentenceLabels
from .structure import Structure

__all__ = ["DEFAULT_ENTITIES", "Component", "Entities", "EntityExtractor", "Indicators", "SentenceLabeller",
           "SentenceLabels", "Structure", "extract_entities"]
