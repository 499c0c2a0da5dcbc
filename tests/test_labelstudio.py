import json
import subprocess
import sys

from nlp.io import iter_jsonl
from nlp.labelstudio import from_label_studio, to_label_studio

from conftest import ROOT, SHARED


def test_round_trip_seed_gold_is_identical(tmp_path):
    gold = ROOT / "eval" / "gold" / "seed.jsonl"
    tasks, back = tmp_path / "tasks.json", tmp_path / "back.jsonl"
    r1 = subprocess.run([sys.executable, "-m", "nlp", "labels", "export", str(gold), "-o", str(tasks)], capture_output=True, text=True)
    r2 = subprocess.run([sys.executable, "-m", "nlp", "labels", "import", str(tasks), "-o", str(back)], capture_output=True, text=True)
    assert r1.returncode == 0 and r2.returncode == 0, r1.stderr + r2.stderr
    assert list(iter_jsonl(back)) == list(iter_jsonl(gold))
    assert back.read_bytes() == gold.read_bytes()


def test_round_trip_dev_in_memory():
    dev = SHARED / "gold" / "dev.jsonl"
    records = list(iter_jsonl(dev if dev.exists() else ROOT / "eval" / "gold" / "seed.jsonl"))
    assert from_label_studio(json.loads(json.dumps(to_label_studio(records)))) == records


def test_target_flag_edited_in_label_studio_is_read_back():
    rec = {"id": "t-p0", "doc_id": "t", "source": "test", "text": "力争达到95%以上。", "label": "plans",
           "sentences": [{"start": 0, "end": 10, "label": "plans"}],
           "entities": [{"start": 4, "end": 7, "type": "METRIC", "text": "95%", "target": False}]}
    tasks = to_label_studio([rec])
    for res in tasks[0]["annotations"][0]["result"]:
        if res["from_name"] == "target":
            res["value"]["choices"] = ["target"]
    assert from_label_studio(tasks)[0]["entities"][0]["target"] is True


# ---------------------------------------------------------------- import: annotators, cancelled, unlabelled

def _para(text="现将有关情况报告如下。今年要加强考核。", labels=("other", "plans")):
    cut = text.index("。") + 1
    return {"id": "d-p00", "doc_id": "d", "source": "test", "text": text, "label": labels[-1],
            "sentences": [{"start": 0, "end": cut, "label": labels[0]},
                          {"start": cut, "end": len(text), "label": labels[1]}],
            "entities": []}


def _annotation(rec, who=1, when="2024-03-01T10:00:00Z", cancelled=False, **kw):
    result = to_label_studio([rec])[0]["annotations"][0]["result"]
    return {"id": kw.get("id", 1), "completed_by": who, "was_cancelled": cancelled, "created_at": when,
            "updated_at": when, "result": [] if cancelled else result}


def _import(tmp_path, tasks, *extra):
    p = tmp_path / "export.json"
    p.write_text(json.dumps(tasks, ensure_ascii=False), encoding="utf-8")
    out = tmp_path / "gold.jsonl"
    r = subprocess.run([sys.executable, "-m", "nlp", "labels", "import", str(p), "-o", str(out), *extra],
                       capture_output=True, text=True)
    return r, out


def test_cancelled_annotation_is_skipped_and_the_latest_other_one_is_the_gold(tmp_path):
    old, new = _para(labels=("other", "measures")), _para(labels=("other", "plans"))
    task = {"id": 1, "data": {k: new[k] for k in ("id", "doc_id", "source", "text")},
            "annotations": [_annotation(new, when="2024-03-02T10:00:00Z"),
                            _annotation(old, when="2024-03-01T10:00:00Z"),  # older, listed later
                            {**_annotation(old, when="2024-03-03T10:00:00Z"), "was_cancelled": True}]}
    r, out = _import(tmp_path, [task])
    assert r.returncode == 0, r.stderr
    (rec,) = list(iter_jsonl(out))
    assert [s["label"] for s in rec["sentences"]] == ["other", "plans"] and rec == new
    assert "1 cancelled annotation(s) ignored" in r.stderr.strip().splitlines()[-1]


def test_task_with_only_a_cancelled_annotation_is_unlabelled(tmp_path):
    rec = _para()
    task = {"id": 1, "data": {k: rec[k] for k in ("id", "doc_id", "source", "text")},
            "annotations": [_annotation(rec, cancelled=True)]}
    other = {**_para(), "id": "d-p01"}
    task2 = {"id": 2, "data": {k: other[k] for k in ("id", "doc_id", "source", "text")},
             "annotations": [_annotation(other)]}
    r, out = _import(tmp_path, [task, task2])
    assert r.returncode == 0, r.stderr
    assert [x["id"] for x in iter_jsonl(out)] == ["d-p01"]
    assert "1 unlabelled task(s) skipped" in r.stderr


def test_unlabelled_tasks_are_skipped_and_counted_never_written(tmp_path):
    recs = [{**_para(), "id": f"d-p0{k}"} for k in range(4)]
    data = [{k: r[k] for k in ("id", "doc_id", "source", "text")} for r in recs]
    tasks = [{"id": 1, "data": data[0], "annotations": [_annotation(recs[0])]},
             {"id": 2, "data": data[1]},                                                        # never opened
             {"id": 3, "data": data[2], "annotations": [{**_annotation(recs[2]), "result": []}]},  # submitted empty
             {"id": 4, "data": data[3], "annotations": [],                                      # a prediction only
              "predictions": [{"model_version": "m", "result": _annotation(recs[3])["result"]}]}]
    r, out = _import(tmp_path, tasks)
    assert r.returncode == 0, r.stderr
    assert [x["id"] for x in iter_jsonl(out)] == ["d-p00"]
    last = r.stderr.strip().splitlines()[-1]
    assert "1 paragraphs" in last and "3 unlabelled task(s) skipped" in last


def test_export_with_no_labelled_task_fails_with_one_line(tmp_path):
    rec = _para()
    r, out = _import(tmp_path, [{"id": 1, "data": {k: rec[k] for k in ("id", "doc_id", "source", "text")}}])
    assert r.returncode != 0 and not out.exists()
    assert len(r.stderr.strip().splitlines()) == 1 and "no labelled task" in r.stderr
    assert "Traceback" not in r.stderr


def test_two_annotators_give_one_gold_file_each(tmp_path):
    a, b = _para(labels=("other", "plans")), _para(labels=("other", "problems"))
    second = {**_para(), "id": "d-p01"}
    tasks = [{"id": 1, "data": {k: a[k] for k in ("id", "doc_id", "source", "text")},
              "annotations": [_annotation(a, who=1), _annotation(b, who={"id": 7, "email": "li@example.org"}),
                              {**_annotation(a, who={"id": 7, "email": "li@example.org"}, when="2024-03-05T00:00:00Z"),
                               "was_cancelled": True}]},
             {"id": 2, "data": {k: second[k] for k in ("id", "doc_id", "source", "text")},
              "annotations": [_annotation(second, who=1)]}]
    r, out = _import(tmp_path, tasks)
    assert r.returncode == 0, r.stderr
    assert not out.exists()
    one, two = tmp_path / "gold.annotator-1.jsonl", tmp_path / "gold.annotator-li_example.org.jsonl"
    assert list(iter_jsonl(one)) == [a, second]
    assert list(iter_jsonl(two)) == [b]
    assert "2 annotators" in r.stderr.strip().splitlines()[-1]
    from nlp.gold import read_gold_records
    assert read_gold_records(one) and read_gold_records(two)


def test_from_label_studio_refuses_several_annotators():
    import pytest

    from nlp.gold import GoldError
    from nlp.labelstudio import read_label_studio

    a = _para()
    task = {"id": 1, "data": {k: a[k] for k in ("id", "doc_id", "source", "text")},
            "annotations": [_annotation(a, who=1), _annotation(a, who=2)]}
    with pytest.raises(GoldError, match="2 annotators"):
        from_label_studio([task])
    got = read_label_studio([task])
    assert sorted(got.gold) == ["1", "2"] and got.unlabelled == 0


# ---------------------------------------------------------------- export: nlp annotate output as predictions

def test_annotate_output_exports_as_predictions_and_imports_back_to_the_same_labels(tmp_path):
    from conftest import TOY_REPORT

    from nlp.gold import read_gold_records

    src, ann, tasks_path = tmp_path / "toy.txt", tmp_path / "toy.jsonl", tmp_path / "tasks.json"
    src.write_text(TOY_REPORT, encoding="utf-8")
    r = subprocess.run([sys.executable, "-m", "nlp", "annotate", str(src), "-o", str(ann), "--labeller", "headings"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    r = subprocess.run([sys.executable, "-m", "nlp", "labels", "export", str(ann), "-o", str(tasks_path)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    (doc,) = list(iter_jsonl(ann))
    tasks = json.loads(tasks_path.read_text(encoding="utf-8"))
    assert tasks and all("annotations" not in t and len(t["predictions"]) == 1 for t in tasks)
    assert {t["predictions"][0]["model_version"] for t in tasks} == {doc["meta"]["labeller"]} == {"headings"}
    assert {t["data"]["doc_id"] for t in tasks} == {doc["id"]}
    assert f"{len(tasks)} tasks ({len(tasks)} with predictions by headings)" in r.stderr

    # Label Studio: the annotator accepts every pre-annotation as it is, then exports
    for k, t in enumerate(tasks, 1):
        t["annotations"] = [{"id": k, "completed_by": 1, "was_cancelled": False, "created_at": "2024-03-01T10:00:00Z",
                             "result": json.loads(json.dumps(t["predictions"][0]["result"])),
                             "prediction": {"model_version": "headings"}}]
    export = tmp_path / "export.json"
    export.write_text(json.dumps(tasks, ensure_ascii=False), encoding="utf-8")
    gold_path = tmp_path / "gold.jsonl"
    r = subprocess.run([sys.executable, "-m", "nlp", "labels", "import", str(export), "-o", str(gold_path)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    gold = read_gold_records(gold_path)  # the gold validator accepts them
    assert len(gold) == len(tasks) and all(g["doc_id"] == doc["id"] for g in gold)

    # the same sentence labels and entities as the annotation, in document offsets
    starts = {f"{doc['id']}-p{k:02d}": p["start"] for k, p in enumerate(doc["paragraphs"])}
    back_sents = [(starts[g["id"]] + s["start"], starts[g["id"]] + s["end"], s["label"])
                  for g in gold for s in g["sentences"]]
    assert back_sents == [(s["start"], s["end"], s["label"]) for s in doc["sentences"]]
    back_ents = [(starts[g["id"]] + e["start"], starts[g["id"]] + e["end"], e["type"], e["text"], e.get("target"))
                 for g in gold for e in g["entities"]]
    assert back_ents == [(e["start"], e["end"], e["type"], e["text"], e.get("target")) for e in doc["entities"]]
    assert any(e["type"] == "METRIC" for e in doc["entities"])


def test_prediction_scores_come_from_the_sentence_scores():
    from nlp.labelstudio import predictions_to_label_studio

    text = "一、存在的问题\n基层力量不足。"
    doc = {"id": "x", "text": text, "meta": {"labeller": "model:tiny"},
           "paragraphs": [{"start": 0, "end": 7, "sentences": [0]}, {"start": 8, "end": 15, "sentences": [1]}],
           "sentences": [{"start": 0, "end": 7, "label": "problems", "scores": {"problems": 0.9, "other": 0.1}},
                         {"start": 8, "end": 15, "label": "problems", "scores": {"problems": 0.6, "other": 0.4}}],
           "entities": []}
    tasks = predictions_to_label_studio([doc])
    assert [t["data"]["id"] for t in tasks] == ["x-p00", "x-p01"]
    assert [t["predictions"][0]["score"] for t in tasks] == [0.9, 0.6]
    assert tasks[1]["predictions"][0]["model_version"] == "model:tiny"
    assert tasks[1]["data"]["text"] == "基层力量不足。"


def test_export_of_a_file_that_is_neither_gold_nor_annotated_fails_with_one_line(tmp_path):
    p = tmp_path / "x.jsonl"
    p.write_text('{"text": "只有文本。"}\n', encoding="utf-8")
    r = subprocess.run([sys.executable, "-m", "nlp", "labels", "export", str(p), "-o", str(tmp_path / "t.json")],
                       capture_output=True, text=True)
    assert r.returncode != 0 and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and "neither a gold paragraph" in r.stderr
