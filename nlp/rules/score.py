"""Per-rule scores on a gold file: how often each named rule fired and how often it was right.

Sentence rules: fired = gold sentences whose predicted ``reason`` names the rule (a reason may
join several parts with ``+``, as the model's decoder does: ``model+heading:duty`` counts for
``heading:duty``); precision = the share of those whose gold label is the rule's label.
Entity rules: fired = predicted entities the rule produced (``Entity.rule``); precision = the
share that match a gold entity strictly (same span and type). Every registered rule is listed,
those that never fired with count 0. Reason parts and entity sources that are not rules (``model``,
``tfidf``, ``verified``) are listed apart as components; their precision is the share whose gold
label (sentences) or gold span (entities) equals the prediction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

from . import all_rules
from .base import ENTITY, SENTENCE


@dataclass
class RuleScore:
    name: str
    kind: str  # sentence | entity
    gives: str  # the rule's label or entity type ("" for a component)
    fired: int = 0
    correct: int = 0

    @property
    def precision(self) -> float | None:
        return self.correct / self.fired if self.fired else None

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind, "gives": self.gives, "fired": self.fired,
                "correct": self.correct, "precision": self.precision}


@dataclass
class RuleScores:
    """Scores of every named rule (registry order) and of the components that are not rules."""

    system: str
    n_sentences: int
    n_entities: int  # predicted entities
    rules: list[RuleScore]
    components: list[RuleScore] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"system": self.system, "n_sentences": self.n_sentences, "n_entities": self.n_entities,
                "rules": [r.to_dict() for r in self.rules], "components": [c.to_dict() for c in self.components]}

    def table(self) -> list[list[str]]:
        """Rows (header first): rule, kind, gives, fired, correct, precision."""
        rows = [["rule", "kind", "gives", "fired", "correct", "precision"]]
        for r in [*self.rules, *self.components]:
            p = "—" if r.precision is None else f"{r.precision:.3f}"
            rows.append([r.name, r.kind, r.gives or "(predicted)", str(r.fired), str(r.correct), p])
        return rows

    def to_markdown(self) -> str:
        rows = self.table()
        out = [f"Per-rule scores of {self.system or 'the system'} ({self.n_sentences} gold sentences, "
               f"{self.n_entities} predicted entities); components are not rules.", "",
               "| " + " | ".join(rows[0]) + " |", "|" + "|".join(["---"] * 3 + ["---:"] * 3) + "|"]
        out += ["| " + " | ".join(r) + " |" for r in rows[1:]]
        return "\n".join(out) + "\n"

    def to_text(self) -> str:
        rows = self.table()
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
        lines = []
        for j, r in enumerate(rows):
            lines.append("  ".join(c.ljust(w) if i < 3 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))).rstrip())
            if j == 0:
                lines.append("  ".join("-" * w for w in widths))
            elif j == len(self.rules) and self.components:
                lines.append("")
        return "\n".join(lines) + "\n"


def _reason_parts(reason: str | None) -> list[str]:
    return list(dict.fromkeys(p for p in (reason or "").split("+") if p))


def score_rules(gold_docs: Sequence[Any], pred: Any) -> RuleScores:
    """Per-rule scores of predictions (``nlp.evaluate.Predictions`` with ``reasons`` and entity dicts
    carrying ``rule``) against gold documents (``nlp.evaluate.GoldDocument``)."""
    registry = {r.name: r for r in all_rules()}
    rows = {name: RuleScore(name, r.kind, r.gives) for name, r in registry.items()}
    comps: dict[tuple[str, str], RuleScore] = {}
    reasons = getattr(pred, "reasons", None)
    if reasons is None:
        raise ValueError("the predictions carry no sentence reasons")
    n_sent = n_ent = 0
    for di, gd in enumerate(gold_docs):
        k = 0
        for pi, p in enumerate(gd.paragraphs):
            for s in p.sentences:
                gold, got = s["label"], pred.context[di][k]
                for part in _reason_parts(reasons[di][k]):
                    r = registry.get(part)
                    if r is not None and r.kind == SENTENCE:
                        row = rows[part]
                        row.fired += 1
                        row.correct += gold == r.gives
                    else:
                        row = comps.setdefault((SENTENCE, part), RuleScore(part, SENTENCE, ""))
                        row.fired += 1
                        row.correct += gold == got
                k += 1
                n_sent += 1
            gold_spans = {(e["start"], e["end"], e["type"]) for e in p.entities}
            for e in pred.entities[di][pi]:
                n_ent += 1
                ok = (e["start"], e["end"], e["type"]) in gold_spans
                name = e.get("rule")
                r = registry.get(name) if name else None
                if r is not None and r.kind == ENTITY:
                    rows[name].fired += 1
                    rows[name].correct += ok
                else:
                    key = name or e.get("source") or "unattributed"
                    row = comps.setdefault((ENTITY, key), RuleScore(key, ENTITY, ""))
                    row.fired += 1
                    row.correct += ok
    return RuleScores(getattr(pred, "system", ""), n_sent, n_ent, list(rows.values()),
                      sorted(comps.values(), key=lambda c: (c.kind != SENTENCE, -c.fired, c.name)))
