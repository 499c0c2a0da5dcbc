"""Named rule tables: page chrome, section headings, content cues, document-structure rules,
entity patterns and lexicon word lists.

Every rule has a unique name; the name travels into what the rule produced: the ``reason`` of a
sentence label (``Sentence.reason``; the model's decoder joins its parts with ``+``, as in
``model+heading:duty``) and the ``rule`` of an entity (``Entity.rule``). ``all_rules()`` lists
them all with their kind (sentence | entity), the label or type they give and what they do;
``nlp eval GOLD --by-rule`` (``nlp.rules.score``) scores each on a gold file.
"""

from __future__ import annotations

from .base import ENTITY, SENTENCE, CueRule, EntityRule, HeadingRule, RuleInfo, SentenceRule, WordList
from .chrome import CHROME_RULES, ChromeRule
from .cues import CUE_RULES, WORD_LISTS
from .entities import ENTITY_RULES
from .headings import SECTION_HEADINGS
from .lexicon import LEXICON_LISTS
from .structure import STRUCTURE_RULES


class UnknownRuleError(KeyError):
    """A rule name that no table defines."""


def all_rules() -> tuple[RuleInfo, ...]:
    """Every named rule: sentence rules (chrome, headings, cues, structure), then entity rules."""
    rules = tuple(r.info() for r in (*CHROME_RULES, *SECTION_HEADINGS, *CUE_RULES, *STRUCTURE_RULES, *ENTITY_RULES))
    names = [r.name for r in rules]
    if len(set(names)) != len(names):
        dup = sorted({n for n in names if names.count(n) > 1})
        raise ValueError(f"rule names defined twice: {', '.join(dup)}")
    return rules


def get_rule(name: str) -> RuleInfo:
    """The registry entry of a rule by name; raises ``UnknownRuleError``."""
    for r in all_rules():
        if r.name == name:
            return r
    raise UnknownRuleError(name)


def word_lists() -> tuple[WordList, ...]:
    """The named word lists the rules use (cue words, lexicon lists)."""
    return WORD_LISTS + LEXICON_LISTS


__all__ = ["ENTITY", "SENTENCE", "CHROME_RULES", "ChromeRule", "CueRule", "EntityRule", "HeadingRule", "RuleInfo",
           "SentenceRule", "UnknownRuleError", "WordList", "all_rules", "get_rule", "word_lists"]
