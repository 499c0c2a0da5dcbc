"""Convert gold paragraphs (LABELING.md §3) to and from Label Studio tasks, so that
researchers can hand-label in a real annotation tool.

Each paragraph becomes one task. Sentence spans are ``sentence`` labels, entities are
``entity`` labels, the METRIC target flag is a per-region ``target`` choice, and the
paragraph label a ``paragraph`` choice. ``eval/label_studio_config.xml`` is the matching
labelling interface.
"""

from __future__ import annotations

import os
from typing import Any

from .schema import ENTITY_TYPES, LABELS

LABEL_CONFIG = f"""<View>
  <Header value="$doc_id · $id"/>
  <Labels name="sentence" toName="text" choice="single">
{chr(10).join(f'    <Label value="{lab}"/>' for lab in LABELS)}
  </Labels>
  <Labels name="entity" toName="text" choice="single">
{chr(10).join(f'    <Label value="{t}"/>' for t in ENTITY_TYPES)}
  </Labels>
  <Text name="text" value="$text" granularity="symbol"/>
  <Choices name="target" toName="text" perRegion="true" visibleWhen="region-selected" whenLabelValue="METRIC">
    <Choice value="target"/>
  </Choices>
  <Choices name="paragraph" toName="text" choice="single" showInline="true">
{chr(10).join(f'    <Choice value="{lab}"/>' for lab in LABELS)}
  </Choices>
</View>
"""


def to_label_studio(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    tasks = []
    for n, r in enumerate(records, 1):
        text = r["text"]
        results: list[dict[str, Any]] = []
        for k, s in enumerate(r["sentences"]):
            results.append({"id": f"s{k}", "from_name": "sentence", "to_name": "text", "type": "labels",
                            "value": {"start": s["start"], "end": s["end"], "text": text[s["start"]:s["end"]],
                                      "labels": [s["label"]]}})
        for k, e in enumerate(r.get("entities", [])):
            rid = f"e{k}"
            val = {"start": e["start"], "end": e["end"], "text": e["text"]}
            results.append({"id": rid, "from_name": "entity", "to_name": "text", "type": "labels",
                            "value": {**val, "labels": [e["type"]]}})
            if e["type"] == "METRIC" and "target" in e:
                results.append({"id": rid, "from_name": "target", "to_name": "text", "type": "choices",
                                "value": {**val, "choices": ["target"] if e["target"] else []}})
        if r.get("label"):
            results.append({"id": "paragraph", "from_name": "paragraph", "to_name": "text", "type": "choices",
                            "value": {"choices": [r["label"]]}})
        tasks.append({"id": n, "data": {"id": r["id"], "doc_id": r["doc_id"], "source": r.get("source", ""),
                                        "text": text},
                      "annotations": [{"result": results}]})
    return tasks


def from_label_studio(tasks: list[dict[str, Any]], path: str = "<Label Studio export>") -> list[dict[str, Any]]:
    """Gold records from Label Studio tasks (the latest annotation of each task). A task or
    result entry of the wrong shape raises ``GoldError`` listing every problem, one line each
    with the task number; the records are not checked against the gold format here
    (``import_label_studio`` does that)."""
    from .evaluate import paragraph_label
    from .gold import GoldError

    if not isinstance(tasks, list):
        raise GoldError(path, [f"not a Label Studio export (a JSON list of tasks expected, got {type(tasks).__name__})"])
    records, problems = [], []
    for n, t in enumerate(tasks, 1):
        at = f"task {n}"
        d = t.get("data") if isinstance(t, dict) else None
        if not isinstance(d, dict):
            problems.append(f"{at} has no 'data' object")
            continue
        missing = [k for k in ("id", "doc_id", "text") if k not in d]
        if missing:
            problems.append(f"{at}: data has no {', '.join(map(repr, missing))}")
            continue
        if not isinstance(d["text"], str):
            problems.append(f"{at}: data text is {type(d['text']).__name__}, not a string")
            continue
        anns = t.get("annotations") or t.get("completions") or []
        if not isinstance(anns, list) or not all(isinstance(a, dict) for a in anns):
            problems.append(f"{at}: annotations is not a list of objects")
            continue
        results = anns[-1].get("result", []) if anns else []
        if not isinstance(results, list):
            problems.append(f"{at}: the annotation's result is not a list")
            continue
        sentences, entities, targets, plabel = [], [], {}, None
        for k, res in enumerate(results, 1):
            where = f"{at}: result {k}"
            if not isinstance(res, dict):
                problems.append(f"{where} is {type(res).__name__}, not an object")
                continue
            v = res.get("value", {})
            if not isinstance(v, dict):
                problems.append(f"{where}: value is {type(v).__name__}, not an object")
                continue
            kind = res.get("from_name")
            if kind in ("sentence", "entity"):
                labels = v.get("labels")
                start, end = v.get("start"), v.get("end")
                if not isinstance(labels, list) or len(labels) != 1 or not isinstance(labels[0], str):
                    problems.append(f"{where}: labels {labels!r} is not one label")
                    continue
                if not all(isinstance(x, int) and not isinstance(x, bool) for x in (start, end)):
                    problems.append(f"{where}: start {start!r} and end {end!r} are not integer offsets")
                    continue
                if kind == "sentence":
                    sentences.append({"start": start, "end": end, "label": labels[0]})
                else:
                    entities.append((res.get("id"), {"start": start, "end": end, "type": labels[0],
                                                     "text": d["text"][start:end]}))
            elif kind == "target":
                choices = v.get("choices", [])
                targets[res.get("id")] = isinstance(choices, list) and "target" in choices
            elif kind == "paragraph" and isinstance(v.get("choices"), list) and v["choices"]:
                plabel = v["choices"][0]
        sentences.sort(key=lambda s: s["start"])
        ents = []
        for rid, e in sorted(entities, key=lambda x: x[1]["start"]):
            if e["type"] == "METRIC":
                e["target"] = targets.get(rid, False)
            ents.append(e)
        records.append({"id": d["id"], "doc_id": d["doc_id"], "source": d.get("source", ""), "text": d["text"],
                        "label": plabel or paragraph_label(d["text"], sentences), "sentences": sentences,
                        "entities": ents})
    if problems:
        raise GoldError(path, problems)
    return records


def import_label_studio(path: str | os.PathLike) -> list[dict[str, Any]]:
    """The gold records of a Label Studio export file, checked by the gold validator
    (``nlp.gold``) before anything is written: ``GoldError`` lists every problem (task or
    record number, one line each); ``ReadError`` for a file that is not UTF-8 JSON."""
    import json

    from .gold import validate_records
    from .io import ReadError, read_regular_bytes

    data = read_regular_bytes(path)
    try:
        tasks = json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError as e:
        raise ReadError(path, f"not UTF-8 text (byte {e.start + 1})") from None
    except ValueError as e:
        raise ReadError(path, f"not a Label Studio export (not valid JSON: {getattr(e, 'msg', e)})") from None
    except RecursionError:
        raise ReadError(path, "not a Label Studio export (JSON nested too deeply)") from None
    return validate_records(from_label_studio(tasks, str(path)), str(path))
