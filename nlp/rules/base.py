"""The rule dataclasses every table is made of.

Each rule has a unique ``name`` (``family:what``, e.g. ``heading:duty``, ``law:bracket-title``):
the name is the ``reason`` of the sentence label it decides (``Sentence.reason``) or the
``rule`` of the entity it produces (``Entity.rule``), so an annotated document says which rule
did what and ``nlp eval GOLD --by-rule`` can score every rule on its own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, ClassVar, Iterable

SENTENCE = "sentence"
ENTITY = "entity"


def words_pattern(words: Iterable[str]) -> re.Pattern:
    """One regular expression matching any of ``words`` (each written as a regex fragment)."""
    return re.compile("|".join(words))


@dataclass(frozen=True)
class RuleInfo:
    """A rule as the registry lists it: its name, whether it labels sentences or produces
    entities, the label or entity type it gives, its family and what it does."""

    name: str
    kind: str  # "sentence" | "entity"
    gives: str  # sentence label or entity type
    family: str
    description: str

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind, "gives": self.gives, "family": self.family,
                "description": self.description}


class _Named:
    kind: ClassVar[str]

    @property
    def family(self) -> str:
        return self.name.split(":", 1)[0]  # type: ignore[attr-defined]

    def info(self) -> RuleInfo:
        gives = getattr(self, "label", None) or getattr(self, "type")
        return RuleInfo(self.name, self.kind, gives, self.family, self.description)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class SentenceRule(_Named):
    """A rule that decides a sentence label by the sentence's place in the document (before the
    first section, the closing lines, a plan document's body …); ``pattern`` when one regular
    expression says it."""

    name: str
    label: str
    description: str
    pattern: re.Pattern | None = None
    kind: ClassVar[str] = SENTENCE

    def search(self, text: str) -> re.Match | None:
        if self.pattern is None:
            raise ValueError(f"rule {self.name} has no pattern")
        return self.pattern.search(text)


@dataclass(frozen=True)
class CueRule(_Named):
    """A content rule: the sentence (or heading) holds one of the ``cues`` and, when ``confirm``
    is given, also one of the confirming words; then it gets ``label``. A rule with neither is a
    default (it always matches)."""

    name: str
    label: str
    description: str
    cues: re.Pattern | None = None
    confirm: re.Pattern | None = None
    kind: ClassVar[str] = SENTENCE

    def matches(self, text: str) -> bool:
        if self.cues is not None and not self.cues.search(text):
            return False
        return self.confirm is None or bool(self.confirm.search(text))


@dataclass(frozen=True)
class HeadingRule(_Named):
    """A section heading wording: a heading whose text (enumerator stripped) matches ``pattern``
    (and ``requires``, and not ``unless``) opens a section of ``label``."""

    name: str
    label: str
    description: str
    pattern: re.Pattern
    requires: re.Pattern | None = None
    unless: re.Pattern | None = None
    kind: ClassVar[str] = SENTENCE

    def matches(self, body: str) -> bool:
        return bool(self.pattern.search(body)) \
            and (self.requires is None or bool(self.requires.search(body))) \
            and (self.unless is None or not self.unless.search(body))


@dataclass(frozen=True)
class EntityRule(_Named):
    """A rule that produces entities of ``type``; ``pattern`` is the expression that proposes
    the spans (the extractor's code in ``nlp.extract`` applies the exclusions)."""

    name: str
    type: str
    description: str
    pattern: re.Pattern | None = None
    kind: ClassVar[str] = ENTITY


@dataclass(frozen=True)
class WordList:
    """A named list of words (lexicon entries, cue words) used by one or more rules."""

    name: str
    words: tuple[str, ...]
    description: str

    def __contains__(self, word: str) -> bool:
        return word in self.words

    def __iter__(self):
        return iter(self.words)

    def __len__(self) -> int:
        return len(self.words)
