"""One validator for gold records (LABELING.md §3), used by ``nlp.evaluate.load_gold`` and by
the Label Studio import before it writes anything.

A record is checked for field types, span bounds (``0 ≤ start < end ≤ len(text)``, integers),
known sentence labels and entity types, sentences in order and not overlapping, and entities
not overlapping (LABELING.md §2: spans never overlap). Every problem is one line that names the
record number (1-based, in file order); ``GoldError`` carries them all.
"""

from __future__ import annotations

import os
from typing import Any, Iterable, Sequence

from .io import ReadError
from .schema import ENTITY_TYPES, LABELS

MAX_PROBLEMS_SHOWN = 20


class GoldError(ReadError):
    """A gold file (or a Label Studio export turned into gold records) breaks the format.
    ``problems`` holds one line per problem (``record N: …``); ``str(err)`` is one line naming
    the file, the first problem and how many more there are."""

    def __init__(self, path: str | os.PathLike, problems: Sequence[str]):
        self.problems = list(problems)
        first = self.problems[0] if self.problems else "not a gold file"
        more = len(self.problems) - 1
        super().__init__(path, first + (f" (and {more} more problem{'s' if more > 1 else ''})" if more > 0 else ""))

    def lines(self, limit: int = MAX_PROBLEMS_SHOWN) -> list[str]:
        """One line per problem, naming the file (at most ``limit``, then a count of the rest)."""
        out = [f"{self.path}: {p}" for p in self.problems[:limit]]
        if len(self.problems) > limit:
            out.append(f"{self.path}: … and {len(self.problems) - limit} more problem(s)")
        return out


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _short(v: Any) -> str:
    s = repr(v)
    return s if len(s) <= 40 else s[:37] + "..."


def _span_problems(where: str, item: Any, text_len: int | None) -> list[str]:
    """Problems of a {"start", "end"} span: integers, in order, inside the text."""
    if not isinstance(item, dict):
        return [f"{where} is {type(item).__name__}, not an object"]
    out = []
    start, end = item.get("start"), item.get("end")
    for name, v in (("start", start), ("end", end)):
        if v is None and name not in item:
            out.append(f"{where} has no {name!r}")
        elif not _is_int(v):
            out.append(f"{where} {name} {_short(v)} is not an integer")
    if out:
        return out
    if start >= end:
        out.append(f"{where} span {start}-{end}: start is not before end")
    elif start < 0 or (text_len is not None and end > text_len):
        out.append(f"{where} span {start}-{end} is outside the text ({text_len} characters)")
    return out


def record_problems(r: Any, n: int) -> list[str]:
    """Every problem of gold record number ``n`` (1-based), one line each (empty: valid)."""
    at = f"record {n}"
    if not isinstance(r, dict):
        return [f"{at} is {'null' if r is None else type(r).__name__}, not a JSON object"]
    out: list[str] = []
    for key in ("doc_id", "text", "sentences"):
        if key not in r:
            out.append(f"{at} has no {key!r} field")
    for key in ("id", "doc_id", "source"):
        if key in r and not isinstance(r[key], str):
            out.append(f"{at}: {key} {_short(r[key])} is not a string")
    text = r.get("text")
    text_len: int | None = None
    if "text" in r:
        if not isinstance(text, str):
            out.append(f"{at}: text is {'null' if text is None else type(text).__name__}, not a string")
        else:
            text_len = len(text)
    label = r.get("label")
    if label is not None and label not in LABELS:
        out.append(f"{at}: unknown paragraph label {_short(label)} (labels: {', '.join(LABELS)})")

    sents = r.get("sentences")
    if "sentences" in r and not isinstance(sents, list):
        out.append(f"{at}: sentences is {'null' if sents is None else type(sents).__name__}, not a list")
        sents = None
    good: list[tuple[int, int, int]] = []
    for k, s in enumerate(sents or []):
        where = f"{at}: sentence {k + 1}"
        probs = _span_problems(where, s, text_len)
        if isinstance(s, dict) and s.get("label") not in LABELS:
            probs.append(f"{where}: unknown label {_short(s.get('label'))} (labels: {', '.join(LABELS)})")
        out += probs
        if not probs:
            good.append((s["start"], s["end"], k + 1))
    for (a0, a1, ka), (b0, b1, kb) in zip(good, good[1:]):
        if b0 < a1:
            what = "overlaps" if b0 >= a0 else "comes before"
            out.append(f"{at}: sentence {kb} ({b0}-{b1}) {what} sentence {ka} ({a0}-{a1})")

    ents = r.get("entities", [])
    if not isinstance(ents, list):
        out.append(f"{at}: entities is {'null' if ents is None else type(ents).__name__}, not a list")
        ents = []
    spans: list[tuple[int, int, int]] = []
    for k, e in enumerate(ents):
        where = f"{at}: entity {k + 1}"
        probs = _span_problems(where, e, text_len)
        if isinstance(e, dict):
            if e.get("type") not in ENTITY_TYPES:
                probs.append(f"{where}: unknown entity type {_short(e.get('type'))} (types: {', '.join(ENTITY_TYPES)})")
            if "target" in e and not isinstance(e["target"], bool):
                probs.append(f"{where}: target {_short(e['target'])} is not true or false")
            if "text" in e and not isinstance(e["text"], str):
                probs.append(f"{where}: text {_short(e['text'])} is not a string")
        out += probs
        if not probs:
            spans.append((e["start"], e["end"], k + 1))
    spans.sort()
    for (a0, a1, ka), (b0, b1, kb) in zip(spans, spans[1:]):
        if b0 < a1:
            out.append(f"{at}: entity {kb} ({b0}-{b1}) overlaps entity {ka} ({a0}-{a1})")
    return out


def validate_records(records: Iterable[Any], path: str | os.PathLike = "<gold>") -> list[dict[str, Any]]:
    """The records as a list if every one is a valid gold record; else ``GoldError`` listing
    every problem (one line each, with the record number). No records at all is an error."""
    recs = list(records)
    problems = [p for n, r in enumerate(recs, 1) for p in record_problems(r, n)]
    if not recs:
        problems.append("no gold records")
    if problems:
        raise GoldError(path, problems)
    return recs


def read_gold_records(path: str | os.PathLike) -> list[dict[str, Any]]:
    """The validated records of a gold JSONL file (``GoldError`` / ``ReadError`` otherwise)."""
    from .io import iter_jsonl

    return validate_records(iter_jsonl(path), path)
