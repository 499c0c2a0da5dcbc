"""Convert gold paragraphs (LABELING.md §3) to and from Label Studio tasks, so that
researchers can hand-label in a real annotation tool.

Each paragraph becomes one task. Sentence spans are ``sentence`` labels, entities are
``entity`` labels, the METRIC target flag is a per-region ``target`` choice, and the
paragraph label a ``paragraph`` choice. ``eval/label_studio_config.xml`` is the matching
labelling interface.

Export: a gold paragraph goes out with its labels as the task's annotation; a document
written by ``nlp annotate`` goes out as one task per paragraph whose model labels are
``predictions`` (pre-annotations, ``model_version`` = the record's labeller), to be corrected.

Import (``read_label_studio``): per task and annotator (``completed_by``) the latest
annotation that is not cancelled (``was_cancelled``) is the gold; predictions never are. A
task with no such annotation, or whose annotation has neither a sentence region nor a
paragraph choice, is unlabelled: skipped and counted. Several annotators give one gold set
per annotator (the command line writes one file each), so that agreement can be measured.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
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



def _label_results(text: str, sentences: list[dict[str, Any]], entities: list[dict[str, Any]],
                   label: str | None) -> list[dict[str, Any]]:
    """Label Studio result regions of one paragraph (offsets in ``text``); a sentence with
    label scores gives its region the score of its label."""
    results: list[dict[str, Any]] = []
    for k, s in enumerate(sentences):
        res: dict[str, Any] = {"id": f"s{k}", "from_name": "sentence", "to_name": "text", "type": "labels",
                               "value": {"start": s["start"], "end": s["end"], "text": text[s["start"]:s["end"]],
                                         "labels": [s["label"]]}}
        score = (s.get("scores") or {}).get(s["label"])
        if isinstance(score, (int, float)):
            res["score"] = float(score)
        results.append(res)
    for k, e in enumerate(entities):
        rid = f"e{k}"
        val = {"start": e["start"], "end": e["end"], "text": e["text"]}
        results.append({"id": rid, "from_name": "entity", "to_name": "text", "type": "labels",
                        "value": {**val, "labels": [e["type"]]}})
        if e["type"] == "METRIC" and "target" in e:
            results.append({"id": rid, "from_name": "target", "to_name": "text", "type": "choices",
                            "value": {**val, "choices": ["target"] if e["target"] else []}})
    if label:
        results.append({"id": "paragraph", "from_name": "paragraph", "to_name": "text", "type": "choices",
                        "value": {"choices": [label]}})
    return results


def to_label_studio(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One task per gold paragraph, its labels as the task's annotation."""
    tasks = []
    for n, r in enumerate(records, 1):
        results = _label_results(r["text"], r["sentences"], r.get("entities", []), r.get("label"))
        tasks.append({"id": n, "data": {"id": r["id"], "doc_id": r["doc_id"], "source": r.get("source", ""),
                                        "text": r["text"]},
                      "annotations": [{"result": results}]})
    return tasks


DRAFT_SOURCE = "label-studio"  # the ``source`` of gold paragraphs corrected from model pre-annotations


def predictions_to_label_studio(docs: list[dict[str, Any]], first_id: int = 1) -> list[dict[str, Any]]:
    """One task per non-blank paragraph of documents written by ``nlp annotate``, the model's
    sentence labels, entities and paragraph label as a Label Studio prediction
    (``model_version`` = ``meta.labeller``; ``score`` = the lowest sentence score when the
    labeller gives scores, so that the least certain paragraphs sort first). Task data: the
    paragraph id ``DOC-pNN``, ``doc_id`` (the document id), ``source`` and ``text``. Sentences
    and entities that cross a paragraph boundary are left out."""
    from .evaluate import paragraph_label

    tasks = []
    n = first_id
    for doc in docs:
        text, sents, ents = doc["text"], doc["sentences"], doc.get("entities") or []
        labeller = (doc.get("meta") or {}).get("labeller") or "nlp annotate"
        paras = doc["paragraphs"]
        width = max(2, len(str(len(paras) - 1)))
        for k, p in enumerate(paras):
            p0, p1 = p["start"], p["end"]
            ptext = text[p0:p1]
            if not ptext.strip():
                continue
            sentences = []
            for i in p.get("sentences") or []:
                s = sents[i]
                if p0 <= s["start"] < s["end"] <= p1:
                    sentences.append({"start": s["start"] - p0, "end": s["end"] - p0, "label": s["label"],
                                      **({"scores": s["scores"]} if s.get("scores") else {})})
            entities = []
            for e in ents:
                if p0 <= e["start"] < e["end"] <= p1:
                    ent = {"start": e["start"] - p0, "end": e["end"] - p0, "type": e["type"],
                           "text": ptext[e["start"] - p0:e["end"] - p0]}
                    if e["type"] == "METRIC":
                        ent["target"] = bool(e.get("target", False))
                    entities.append(ent)
            results = _label_results(ptext, sentences, entities, paragraph_label(ptext, sentences))
            prediction: dict[str, Any] = {"model_version": str(labeller), "result": results}
            scores = [r["score"] for r in results if "score" in r]
            if scores and len(scores) == len(sentences):
                prediction["score"] = min(scores)
            tasks.append({"id": n, "data": {"id": f"{doc['id']}-p{k:0{width}d}", "doc_id": str(doc["id"]),
                                            "source": DRAFT_SOURCE, "text": ptext},
                          "predictions": [prediction]})
            n += 1
    return tasks


def _annotated_problems(r: Any, n: int) -> list[str]:
    at = f"record {n}"
    out = []
    for key, kind in (("id", (str, int)), ("text", str), ("paragraphs", list), ("sentences", list)):
        if not isinstance(r.get(key), kind) or isinstance(r.get(key), bool):
            out.append(f"{at}: {key} is missing or not a {'list' if kind is list else 'string'}")
    if out:
        return out
    if not isinstance(r.get("entities", []), list):
        return [f"{at}: entities is not a list"]
    n_sents, n_text = len(r["sentences"]), len(r["text"])

    def span_ok(x: Any) -> bool:
        return (isinstance(x, dict) and all(isinstance(x.get(k), int) and not isinstance(x.get(k), bool)
                                            for k in ("start", "end")) and 0 <= x["start"] <= x["end"] <= n_text)

    for k, p in enumerate(r["paragraphs"], 1):
        if not span_ok(p) or not all(isinstance(i, int) and 0 <= i < n_sents for i in p.get("sentences") or []):
            out.append(f"{at}: paragraph {k} is not a span of the text with sentence numbers")
    for k, s in enumerate(r["sentences"], 1):
        if not span_ok(s) or not isinstance(s.get("label"), str):
            out.append(f"{at}: sentence {k} is not a labelled span of the text")
    for k, e in enumerate(r.get("entities") or [], 1):
        if not span_ok(e) or not isinstance(e.get("type"), str):
            out.append(f"{at}: entity {k} is not a typed span of the text")
    return out


def export_tasks(records: list[Any], path: str | os.PathLike = "<input>") -> list[dict[str, Any]]:
    """Label Studio tasks for gold paragraphs (records with ``doc_id``: their labels as
    annotations, checked by the gold validator) and for documents written by ``nlp annotate``
    (records with ``paragraphs``: their model labels as predictions). ``GoldError`` lists every
    record that is neither, or broken, one line each."""
    from .gold import GoldError, record_problems

    problems: list[str] = []
    kinds = []
    for n, r in enumerate(records, 1):
        if isinstance(r, dict) and "doc_id" in r:
            kinds.append("gold")
            problems += record_problems(r, n)
        elif isinstance(r, dict) and "paragraphs" in r:
            kinds.append("annotated")
            problems += _annotated_problems(r, n)
        else:
            kinds.append(None)
            problems.append(f"record {n} is neither a gold paragraph (with 'doc_id') nor a document written by "
                            "nlp annotate (with 'paragraphs')")
    if not records:
        problems.append("no records")
    if problems:
        raise GoldError(path, problems)
    tasks: list[dict[str, Any]] = []
    for n, (r, kind) in enumerate(zip(records, kinds), 1):
        if kind == "gold":
            t = to_label_studio([r])[0]
            t["id"] = len(tasks) + 1
            tasks.append(t)
        else:
            tasks += predictions_to_label_studio([r], first_id=len(tasks) + 1)
    return tasks


@dataclass
class LabelStudioImport:
    """The gold records of a Label Studio export. ``gold`` maps each annotator (the
    annotation's ``completed_by``: a user id or e-mail as text; ``None`` when the export does
    not say) to the gold records of the tasks they labelled, in task order."""

    gold: dict[str | None, list[dict[str, Any]]] = field(default_factory=dict)
    tasks: int = 0
    unlabelled: int = 0  # tasks no annotator labelled (skipped)
    cancelled: int = 0  # cancelled annotations ignored

    @property
    def annotators(self) -> list[str | None]:
        return list(self.gold)


def _annotator(a: dict[str, Any]) -> tuple[str | None, bool]:
    """The annotator of an annotation as text (``None`` when absent) and whether it is usable."""
    who = a.get("completed_by")
    if isinstance(who, dict):
        who = who.get("email") if isinstance(who.get("email"), str) and who.get("email") else who.get("id")
    if who is None:
        return None, True
    if isinstance(who, bool) or not isinstance(who, (int, str)):
        return None, False
    return str(who), True


def _when(a: dict[str, Any]) -> str:
    for key in ("updated_at", "created_at"):
        if isinstance(a.get(key), str):
            return a[key]
    return ""


def read_label_studio(tasks: Any, path: str = "<Label Studio export>") -> LabelStudioImport:
    """Gold records per annotator from Label Studio tasks: for each task and annotator the
    latest annotation (``updated_at``, else ``created_at``, else export order) that is not
    cancelled. Tasks without one, or whose annotation has neither a sentence region nor a
    paragraph choice, are counted as unlabelled and give no record. A task or result entry of
    the wrong shape raises ``GoldError`` listing every problem, one line each with the task
    number; the records are not checked against the gold format here
    (``import_label_studio`` does that)."""
    from .evaluate import paragraph_label
    from .gold import GoldError

    if not isinstance(tasks, list):
        raise GoldError(path, [f"not a Label Studio export (a JSON list of tasks expected, got {type(tasks).__name__})"])
    out = LabelStudioImport(tasks=len(tasks))
    problems: list[str] = []
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
        latest: dict[str | None, tuple[tuple[str, int], dict[str, Any]]] = {}
        bad = False
        for k, a in enumerate(anns):
            if a.get("was_cancelled") is True:
                out.cancelled += 1
                continue
            who, ok = _annotator(a)
            if not ok:
                problems.append(f"{at}: annotation {k + 1}: completed_by {a.get('completed_by')!r} is not a user")
                bad = True
                continue
            key = (_when(a), k)
            if who not in latest or key >= latest[who][0]:
                latest[who] = (key, a)
        if bad:
            continue
        labelled = False
        for who, (_, a) in latest.items():
            rec = _gold_record(a, d, f"{at}" if len(latest) == 1 else f"{at} (annotator {who})", problems,
                               paragraph_label)
            if rec is not None:
                out.gold.setdefault(who, []).append(rec)
                labelled = True
        if not labelled:
            out.unlabelled += 1
    if problems:
        raise GoldError(path, problems)
    return out


def _gold_record(a: dict[str, Any], d: dict[str, Any], at: str, problems: list[str],
                 paragraph_label: Any) -> dict[str, Any] | None:
    """The gold record of one annotation (``None``: unlabelled or broken; problems appended)."""
    results = a.get("result", [])
    if results is None:
        results = []
    if not isinstance(results, list):
        problems.append(f"{at}: the annotation's result is not a list")
        return None
    sentences, entities, targets, plabel = [], [], {}, None
    n_problems = len(problems)
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
            try:
                targets[res.get("id")] = isinstance(choices, list) and "target" in choices
            except TypeError:  # an id that is not a JSON scalar
                problems.append(f"{where}: id {res.get('id')!r} is not a region id")
        elif kind == "paragraph" and isinstance(v.get("choices"), list) and v["choices"]:
            plabel = v["choices"][0]
    if len(problems) > n_problems or (not sentences and plabel is None):
        return None
    sentences.sort(key=lambda s: s["start"])
    ents = []
    for rid, e in sorted(entities, key=lambda x: x[1]["start"]):
        if e["type"] == "METRIC":
            try:
                e["target"] = targets.get(rid, False)
            except TypeError:
                e["target"] = False
        ents.append(e)
    return {"id": d["id"], "doc_id": d["doc_id"], "source": d.get("source", ""), "text": d["text"],
            "label": plabel or paragraph_label(d["text"], sentences), "sentences": sentences, "entities": ents}


def from_label_studio(tasks: list[dict[str, Any]], path: str = "<Label Studio export>") -> list[dict[str, Any]]:
    """Gold records from Label Studio tasks labelled by one annotator (``read_label_studio``:
    the latest non-cancelled annotation of each task; unlabelled tasks give no record). An
    export with several annotators raises ``GoldError`` naming them."""
    from .gold import GoldError

    got = read_label_studio(tasks, path)
    if len(got.gold) > 1:
        names = ", ".join("unknown" if a is None else a for a in got.annotators)
        raise GoldError(path, [f"labelled by {len(got.gold)} annotators ({names}); read one gold set per annotator"])
    return next(iter(got.gold.values()), [])


def import_label_studio(path: str | os.PathLike) -> LabelStudioImport:
    """The gold records (per annotator) of a Label Studio export file, each set checked by
    the gold validator (``nlp.gold``) before anything is written: ``GoldError`` lists every
    problem (task or record number, one line each), and an export with no labelled task is
    one; ``ReadError`` for a file that is not UTF-8 JSON."""
    import json

    from .gold import GoldError, validate_records
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
    got = read_label_studio(tasks, str(path))
    if not got.gold:
        raise GoldError(path, [f"no labelled task ({got.tasks} task(s), {got.unlabelled} unlabelled, "
                               f"{got.cancelled} cancelled annotation(s))"])
    for who, records in got.gold.items():
        where = str(path) if len(got.gold) == 1 else f"{path} (annotator {'unknown' if who is None else who})"
        validate_records(records, where)
    return got


def annotator_path(output: str | os.PathLike, annotator: str | None) -> str:
    """``GOLD.annotator-WHO.jsonl`` beside ``GOLD.jsonl``: the file of one annotator's gold
    when an export has several (characters other than letters, digits, ``.``, ``-`` and
    ``_`` in the annotator become ``_``)."""
    from pathlib import Path

    p = Path(output)
    who = re.sub(r"[^\w.-]", "_", "unknown" if annotator is None else annotator, flags=re.ASCII).strip(".") or "_"
    return str(p.with_name(f"{p.stem}.annotator-{who}{p.suffix or '.jsonl'}"))
