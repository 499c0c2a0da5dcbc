"""Mistakes a researcher makes on the command line end in one line, not a traceback: a CUDA
device on a machine or PyTorch build without one, and `nlp summarize` given a JSONL/Parquet
file (which it reads as records, never as the raw JSON text of one report)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from conftest import TOY_REPORT

ENV = dict(os.environ, OMP_NUM_THREADS="1", TOKENIZERS_PARALLELISM="false")
ENV.pop("GOVREPORT_MODELS", None)
# short reports written for these tests (not real text)
OTHER = ("北塘区人民政府关于2023年度法治政府建设情况的报告\n一、主要举措\n全区办理行政复议案件37件。\n"
         "二、存在的问题\n执法人员培训覆盖面不够。\n三、下一步工作安排\n力争2024年培训执法人员500人次以上。\n")


def nlp(*args):
    return subprocess.run([sys.executable, "-m", "nlp", *map(str, args)], capture_output=True, text=True,
                          env=ENV, timeout=600)


def error_lines(r) -> list[str]:
    return [ln for ln in r.stderr.splitlines() if ln.strip()]


def test_torch_device_names_why_cuda_cannot_be_had():
    import torch

    from nlp.io import DeviceError, torch_device

    assert torch_device("cpu") == "cpu"
    assert torch_device(None) == ("cuda" if torch.cuda.is_available() else "cpu")
    with pytest.raises(DeviceError, match="unknown device"):
        torch_device("gpu")
    if not torch.cuda.is_available():
        with pytest.raises(DeviceError, match="built without CUDA|no CUDA GPU is visible") as e:
            torch_device("cuda")
        assert "\n" not in str(e.value) and "--" not in str(e.value)  # a library error names no flag
    else:
        with pytest.raises(DeviceError, match="CUDA GPU"):
            torch_device(f"cuda:{torch.cuda.device_count()}")


def test_annotate_on_a_cuda_device_that_is_not_there_is_one_line(tmp_path):
    import torch

    if torch.cuda.is_available():
        pytest.skip("a CUDA GPU is visible here: the device exists")
    src = tmp_path / "r.txt"
    src.write_text(TOY_REPORT, encoding="utf-8")
    r = nlp("annotate", src, "-o", tmp_path / "a.jsonl", "--device", "cuda")
    assert r.returncode != 0 and "Traceback" not in r.stderr
    lines = error_lines(r)
    assert len(lines) == 1 and lines[0].startswith("error: ") and "CUDA" in lines[0], r.stderr[-2000:]


def test_summarize_reads_jsonl_records_not_their_raw_text(tmp_path):
    d = tmp_path / "in"
    d.mkdir()
    (d / "toy.txt").write_text(TOY_REPORT, encoding="utf-8")
    (d / "beitang.txt").write_text(OTHER, encoding="utf-8")
    annotated = tmp_path / "a.jsonl"
    r = nlp("annotate", d, "-o", annotated, "--labeller", "headings", "--entities", "rules")
    assert r.returncode == 0, r.stderr[-2000:]
    table = tmp_path / "table.jsonl"  # an input table: one report per row
    table.write_text(json.dumps({"id": "t1", "text": OTHER}, ensure_ascii=False) + "\n", encoding="utf-8")

    # several documents: one line asking for the id
    r = nlp("summarize", annotated, "-o", tmp_path / "s.md", "--method", "lead")
    assert r.returncode != 0 and len(error_lines(r)) == 1, r.stderr[-2000:]
    assert "holds 2 documents (beitang, toy)" in r.stderr and "--id" in r.stderr
    for src, args, title in [(annotated, ["--id", "toy"], "东湖县人民政府关于2023年度法治政府建设情况的报告"),
                             (table, [], "北塘区人民政府关于2023年度法治政府建设情况的报告")]:
        out, js = tmp_path / "s.md", tmp_path / "s.json"
        r = nlp("summarize", src, "-o", out, "--json", js, "--method", "lead", *args)
        assert r.returncode == 0, r.stderr[-2000:]
        s = json.loads(js.read_text(encoding="utf-8"))
        assert s["title"] == title and "{" not in out.read_text(encoding="utf-8").splitlines()[0]
        assert any(s["categories"].values())
    assert s["labeller"] == "model:classifier-small"  # the input table's row was labelled by the model
    # an annotated record is summarised with its own labels (here the heading rules'), not labelled again
    r = nlp("summarize", annotated, "-o", tmp_path / "s.md", "--json", tmp_path / "s.json", "--method", "lead", "--id", "toy")
    assert json.loads((tmp_path / "s.json").read_text(encoding="utf-8"))["labeller"] == "headings"
    r = nlp("summarize", annotated, "-o", tmp_path / "s.md", "--id", "nope")
    assert r.returncode != 0 and len(error_lines(r)) == 1 and "no document 'nope'" in r.stderr
