import csv
import json
import subprocess
import sys

from conftest import SAMPLE


def run(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "nlp", *args], capture_output=True, text=True, cwd=cwd)


def test_annotate_jsonl_record(tmp_path):
    out = tmp_path / "a.jsonl"
    r = run("annotate", str(SAMPLE), "-o", str(out))
    assert r.returncode == 0, r.stderr
    recs = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(recs) == 1
    rec = recs[0]
    assert rec["id"] == "suining-2023" and rec["docno"] == "遂府〔2024〕6号" and rec["date"] == "2024-02-07"
    assert rec["title"] == "遂宁市人民政府关于2023年度法治政府建设情况的报告"
    for s in rec["sentences"]:
        assert rec["text"][s["start"]:s["end"]] == s["text"]
        assert s["label"] in {"duty", "measures", "problems", "plans", "other"} and s["label_source"] == "model:classifier-small"  # the shipped default BERT
    for e in rec["entities"]:
        assert rec["text"][e["start"]:e["end"]] == e["text"]
    labels = {s["label"] for s in rec["sentences"]}
    assert labels == {"duty", "measures", "problems", "plans", "other"}
    assert any(e["type"] == "METRIC" and e["text"] == "93.16%" for e in rec["entities"])
    assert not (tmp_path / "a.errors.jsonl").exists()


def test_annotate_csv_one_row_per_sentence(tmp_path):
    out = tmp_path / "a.csv"
    r = run("annotate", str(SAMPLE), "-o", str(out))
    assert r.returncode == 0, r.stderr
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    js = tmp_path / "a.jsonl"
    run("annotate", str(SAMPLE), "-o", str(js))
    assert len(rows) == len(json.loads(js.read_text(encoding="utf-8"))["sentences"])
    assert rows[0]["label_source"] == "model:classifier-small"


def test_single_bad_file_one_line_error_nothing_written(tmp_path):
    cases = {"empty.txt": b"", "binary.bin": bytes(range(256)) * 20}
    for name, content in cases.items():
        p = tmp_path / name
        p.write_bytes(content)
    for target in [tmp_path / "empty.txt", tmp_path / "binary.bin", tmp_path / "missing.txt"]:
        out = tmp_path / "o.jsonl"
        r = run("annotate", str(target), "-o", str(out))
        assert r.returncode != 0
        lines = [ln for ln in r.stderr.splitlines() if ln.startswith("error:")]
        assert len(lines) == 1 and str(target) in lines[0], r.stderr
        assert not out.exists() and not (tmp_path / "o.jsonl.part").exists()


def test_multi_file_run_continues_and_lists_errors(tmp_path):
    d = tmp_path / "in"
    d.mkdir()
    (d / "a.txt").write_bytes(SAMPLE.read_bytes())
    (d / "b.txt").write_bytes(SAMPLE.read_text(encoding="utf-8").encode("gb18030"))
    (d / "empty.txt").write_bytes(b"")
    (d / "binary.txt").write_bytes(bytes(range(256)) * 20)
    (d / "latin1.txt").write_bytes(bytes(range(0x80, 0x100)) * 10)  # wrong encoding: not text in any codec we accept
    out = tmp_path / "o.jsonl"
    r = run("annotate", str(d), str(tmp_path / "missing.txt"), "-o", str(out))
    assert r.returncode != 0
    recs = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    assert sorted(x["id"] for x in recs) == ["a", "b"]
    assert recs[0]["sentences"] == recs[1]["sentences"]
    errs = {json.loads(x)["path"]: json.loads(x)["error"] for x in (tmp_path / "o.errors.jsonl").read_text().splitlines()}
    assert set(errs) == {str(d / "empty.txt"), str(d / "binary.txt"), str(d / "latin1.txt"), str(tmp_path / "missing.txt")}
    assert errs[str(d / "empty.txt")] == "empty file"
    assert errs[str(tmp_path / "missing.txt")] == "no such file"


def test_pretrain_data_mode_errors_are_one_line(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text("依法行政工作全面推进。\n" * 20, encoding="utf-8")
    r = run("pretrain", "--corpus", str(corpus), "--output", str(tmp_path / "enc"), "--data", "disk")
    assert r.returncode != 0 and "--data must be stream or memory" in r.stderr
    r = run("pretrain", "--corpus", str(corpus), "--output", str(tmp_path / "enc"), "--data", "memory", "--masking", "wwm")
    assert r.returncode != 0 and "--masking char" in r.stderr
    assert not (tmp_path / "enc").exists()  # refused before anything is written
