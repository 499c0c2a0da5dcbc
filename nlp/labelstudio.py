"""Convert gold paragraphs (LABELING.md §3) to and from Label Studio tasks, so that
researchers can hand-label in a real annotation tool.

Each paragraph becomes one task. Sentence spans are ``sentence`` labels, entities are
``entity`` labels, the METRIC target flag is a per-region ``target`` choice, and the
paragraph label a ``paragraph`` choice. ``eval/label_studio_config.xml`` is the matching
labelling interface.
"""

from __future__ import annotations

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


def from_label_studio(tasks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Gold records from Label Studio tasks (the latest annotation of each task)."""
    from .evaluate import paragraph_label

    records = []
    for t in tasks:
        d = t["data"]
        anns = t.get("annotations") or t.get("completions") or []
        results = anns[-1]["result"] if anns else []
        sentences, entities, targets, plabel = [], [], {}, None
        for res in results:
            v = res.get("value", {})
            if res.get("from_name") == "sentence":
                sentences.append({"start": v["start"], "end": v["end"], "label": v["labels"][0]})
            elif res.get("from_name") == "entity":
                entities.append((res["id"], {"start": v["start"], "end": v["end"], "type": v["labels"][0],
                                             "text": d["text"][v["start"]:v["end"]]}))
            elif res.get("from_name") == "target":
                targets[res["id"]] = "target" in v.get("choices", [])
            elif res.get("from_name") == "paragraph" and v.get("choices"):
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
    return records
