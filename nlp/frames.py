"""Annotated documents as pandas DataFrames (``nlp.to_frame``): one row per sentence, entity
or indicator, with typed columns (pandas ``string``, ``int64``/``Int64``, ``float64``,
``bool``/``boolean``; missing values are ``<NA>`` or NaN, never the text "None")."""

from __future__ import annotations

import bisect
from typing import TYPE_CHECKING, Any, Iterable

from .doc import LABELS, Document

if TYPE_CHECKING:
    import pandas

LEVELS: tuple[str, ...] = ("sentence", "entity", "indicator")

SENTENCE_COLUMNS: dict[str, str] = {
    "doc_id": "string", "sentence": "int64", "paragraph": "int64", "start": "int64", "end": "int64",
    "text": "string", "label": "string", "label_source": "string", "reason": "string", "is_heading": "bool",
    **{f"score_{lab}": "float64" for lab in LABELS}}
ENTITY_COLUMNS: dict[str, str] = {
    "doc_id": "string", "entity": "int64", "start": "int64", "end": "int64", "type": "string", "text": "string",
    "target": "boolean", "source": "string", "rule": "string", "sentence": "Int64", "sentence_label": "string",
    "sentence_text": "string"}
_PANDAS_TYPES = {"string": "string", "int": "Int64", "float": "float64", "bool": "bool"}


def _sentence_rows(doc: Document) -> Iterable[dict[str, Any]]:
    for i, s in enumerate(doc.sentences):
        scores = s.scores or {}
        yield {"doc_id": doc.id, "sentence": i, "paragraph": s.paragraph, "start": s.start, "end": s.end,
               "text": s.text, "label": s.label, "label_source": s.label_source, "reason": s.reason,
               "is_heading": s.is_heading, **{f"score_{lab}": scores.get(lab) for lab in LABELS}}


def _entity_rows(doc: Document) -> Iterable[dict[str, Any]]:
    starts = [s.start for s in doc.sentences]
    for k, e in enumerate(doc.entities):
        i = bisect.bisect_right(starts, e.start) - 1
        inside = i >= 0 and e.end <= doc.sentences[i].end
        yield {"doc_id": doc.id, "entity": k, "start": e.start, "end": e.end, "type": e.type, "text": e.text,
               "target": bool(e.target) if e.type == "METRIC" else None, "source": e.source, "rule": e.rule,
               "sentence": i if inside else None, "sentence_label": doc.sentences[i].label if inside else None,
               "sentence_text": doc.sentences[i].text if inside else None}


def _frame(rows: list[dict[str, Any]], columns: dict[str, str]) -> "pandas.DataFrame":
    import numpy as np
    import pandas as pd

    data = {}
    for col, dtype in columns.items():
        values = [r[col] for r in rows]
        if dtype == "float64":
            values = [np.nan if v is None else float(v) for v in values]
        data[col] = pd.array(values, dtype=dtype)
    return pd.DataFrame(data, columns=list(columns))


def to_frame(docs: Iterable[Document] | Document, level: str = "sentence") -> "pandas.DataFrame":
    """One row per sentence (``level="sentence"``: text, label, label source, reason, the
    probability of each label as ``score_<label>``), per entity (``"entity"``: span, type,
    METRIC target flag, source, rule, the sentence it stands in, its label and text) or per
    indicator (``"indicator"``: the columns of ``nlp.indicators.INDICATOR_FIELDS``: document,
    year, what is measured, value, unit, qualifier, target …) of ``docs``."""
    if level not in LEVELS:
        raise ValueError(f"unknown level {level!r}; choose from {', '.join(LEVELS)}")
    if isinstance(docs, Document):
        docs = [docs]
    docs = list(docs)
    for d in docs:
        if not isinstance(d, Document):
            raise TypeError(f"to_frame takes nlp.Document objects (nlp.read gives them), not {type(d).__name__}")
    if level == "sentence":
        return _frame([r for d in docs for r in _sentence_rows(d)], SENTENCE_COLUMNS)
    if level == "entity":
        return _frame([r for d in docs for r in _entity_rows(d)], ENTITY_COLUMNS)
    from .indicators import INDICATOR_FIELDS, INDICATOR_TYPES, indicator_rows

    return _frame(indicator_rows(docs), {c: _PANDAS_TYPES[INDICATOR_TYPES[c]] for c in INDICATOR_FIELDS})


_TABLE_TYPES = {"string": "string", "int64": "int", "Int64": "int", "float64": "float", "bool": "bool", "boolean": "bool"}


def table_types(level: str) -> dict[str, str]:
    """The column types of a ``to_frame`` level as ``nlp.io.write_table`` takes them (string,
    int, float, bool): the Parquet schema of the same table."""
    if level == "sentence":
        columns = SENTENCE_COLUMNS
    elif level == "entity":
        columns = ENTITY_COLUMNS
    else:
        raise ValueError(f"no table types for level {level!r}; choose sentence or entity")
    return {c: _TABLE_TYPES[t] for c, t in columns.items()}


def frame_rows(df: "pandas.DataFrame") -> list[dict[str, Any]]:
    """The rows of a ``to_frame`` DataFrame as dicts of plain Python values (None for a missing
    value), ready for ``nlp.io.write_table``."""
    return [{c: _plain(v) for c, v in zip(df.columns, row)} for row in df.itertuples(index=False, name=None)]


def _plain(v: Any) -> Any:
    import pandas as pd

    if v is None or v is pd.NA or (isinstance(v, float) and v != v):
        return None
    return v.item() if hasattr(v, "item") else v
