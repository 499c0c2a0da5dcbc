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
