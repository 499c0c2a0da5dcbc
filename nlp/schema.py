"""The data model, as ``nlp.doc`` defines it (kept under this name for existing imports)."""

from .doc import (ENTITY_TYPES, LABELS, SECTION_LABELS, Document, Entity, Heading, Indicator, Paragraph,
                  Sentence)

__all__ = ["ENTITY_TYPES", "LABELS", "SECTION_LABELS", "Document", "Entity", "Heading", "Indicator", "Paragraph",
           "Sentence"]
