"""Reliability: nothing lost, nothing hangs, every bad input gets one line (eval/RELIABILITY.md
lists each audited case with the test here that covers it).

Hostile inputs are generated in tmp_path; command-line runs use ``--labeller headings`` so
that no model is loaded. Each CLI case checks: no traceback, the bad input named on exactly
one line of stderr, a nonzero exit where something failed, the good inputs still annotated
and the inputs unchanged."""

import csv
import json
import os
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from nlp.annotate import AnnotateOptions, annotate_corpus, iter_inputs
from nlp.gold import GoldError, read_gold_records, validate_records
from nlp.io import Limits, LimitError, ReadError, csv_safe, raw_text_from_bytes, read_document_text
from nlp.outputs import CsvWriter, OutputLock, OutputLockedError, read_records

from conftest import TOY_REPORT

ENV = dict(os.environ, OMP_NUM_THREADS="1", TOKENIZERS_PARALLELISM="false")
HEADINGS = ("--labeller", "headings")


def nlp(*args, env=None, timeout=120, **kw):
    return subprocess.run([sys.executable, "-m", "nlp", *map(str, args)], capture_output=True, text=True,
                          env=env or ENV, timeout=timeout, **kw)


def popen(*args, env=None):
    return subprocess.Popen([sys.executable, "-m", "nlp", *map(str, args)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env or ENV)


def one_line(stderr: str, needle: str) -> str:
    """The single stderr line naming ``needle``; no traceback anywhere."""
    assert "Traceback" not in stderr, stderr
    lines = [ln for ln in stderr.splitlines() if needle in ln]
    assert len(lines) == 1, stderr
    return lines[0]


def report(i: int) -> str:
    return TOY_REPORT.replace("3200", str(3200 + i)).replace("东湖县", f"东湖{i}县")


def corpus(d: Path, n: int) -> Path:
    d.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        (d / f"r{i:03d}.txt").write_text(report(i), encoding="utf-8")
    return d


def ids(path) -> list[str]:
    return [r["id"] for r in read_records(path)]


def jsonl_table(path: Path, n: int) -> Path:
    path.write_text("".join(json.dumps({"id": f"t{i}", "text": report(i)}, ensure_ascii=False) + "\n"
                            for i in range(n)), encoding="utf-8")
    return path


# --------------------------------------------------------------------------- data lost or corrupted


@pytest.mark.parametrize("fmt", ["jsonl", "parquet"])
@pytest.mark.parametrize("resume", [False, True])
def test_output_equal_to_an_input_table_is_refused_and_the_table_kept(tmp_path, fmt, resume):
    t = jsonl_table(tmp_path / "t.jsonl", 3)
    if fmt == "parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        rows = [json.loads(x) for x in t.read_text(encoding="utf-8").splitlines()]
        t = tmp_path / "t.parquet"
        pq.write_table(pa.Table.from_pylist(rows), t)
    before = t.read_bytes()
    r = nlp("annotate", t, "-o", t, *HEADINGS, *(["--resume"] if resume else []))
    assert r.returncode != 0
    assert "is also an input" in one_line(r.stderr, str(t))
    assert t.read_bytes() == before
    assert not list(tmp_path.glob("t.*.part*")) and not (tmp_path / f"t.{fmt}.lock").exists()


def test_output_lock_refuses_a_second_writer_naming_the_holder(tmp_path):
    d = corpus(tmp_path / "in", 2)
    out = tmp_path / "o.jsonl"
    with OutputLock(out):
        r = nlp("annotate", d, "-o", out, *HEADINGS)
        with pytest.raises(OutputLockedError) as e:
            OutputLock(out).acquire()
    assert e.value.pid == os.getpid()
    assert r.returncode != 0 and f"process {os.getpid()}" in one_line(r.stderr, str(out))
    assert not out.exists() and not (tmp_path / "o.jsonl.part").exists()
    assert not (tmp_path / "o.jsonl.lock").exists()  # removed by its holder on release
    assert nlp("annotate", d, "-o", out, *HEADINGS).returncode == 0


def test_two_concurrent_runs_one_refused_at_once_the_other_equals_a_single_run(tmp_path):
    d = corpus(tmp_path / "in", 2400)  # long enough that the first run outlasts the second's start-up
    single = tmp_path / "single.jsonl"
    assert nlp("annotate", d, "-o", single, *HEADINGS, "--chunk-docs", 4).returncode == 0
    out = tmp_path / "o.jsonl"
    a = popen("annotate", d, "-o", out, *HEADINGS, "--chunk-docs", 4)
    part = tmp_path / "o.jsonl.part"
    deadline = time.time() + 60
    while not (part.exists() and part.stat().st_size) and a.poll() is None and time.time() < deadline:
        time.sleep(0.02)
    assert a.poll() is None, "the first run ended before the second could start; make the corpus larger"
    t0 = time.time()
    b = nlp("annotate", d, "-o", out, *HEADINGS, "--chunk-docs", 4)
    assert b.returncode != 0 and time.time() - t0 < 30
    assert f"process {a.pid}" in one_line(b.stderr, "being written by another run")
    a.communicate(timeout=120)
    assert a.returncode == 0
    assert out.read_bytes() == single.read_bytes()


def test_resume_over_another_labeller_is_refused_and_force_accepts_it(tmp_path):
    d = corpus(tmp_path / "in", 2)
    out = tmp_path / "o.jsonl"
    assert nlp("annotate", d, "-o", out, *HEADINGS).returncode == 0
    before = out.read_bytes()
    manifest = json.loads((tmp_path / "o.jsonl.manifest.json").read_text(encoding="utf-8"))
    assert manifest["labeller"] == "headings" and manifest["version"]
    corpus(d, 3)
    r = nlp("annotate", d, "-o", out, "--labeller", "rules", "--resume")
    assert r.returncode != 0 and "labeller: headings there, rules now" in one_line(r.stderr, str(out))
    assert out.read_bytes() == before
    r = nlp("annotate", d, "-o", out, "--labeller", "rules", "--resume", "--force")
    assert r.returncode == 0, r.stderr
    assert sorted(ids(out)) == ["r000", "r001", "r002"]


def test_resume_of_an_output_without_manifest_is_refused(tmp_path):
    d = corpus(tmp_path / "in", 2)
    out = tmp_path / "o.jsonl"
    out.write_text(json.dumps({"id": "x", "source_path": "elsewhere"}) + "\n", encoding="utf-8")
    r = nlp("annotate", d, "-o", out, *HEADINGS, "--resume")
    assert r.returncode != 0 and "no manifest" in one_line(r.stderr, str(out))


def test_rerun_that_annotates_nothing_leaves_no_stale_output(tmp_path):
    d = corpus(tmp_path / "in", 2)
    out = tmp_path / "o.jsonl"
    assert nlp("annotate", d, "-o", out, *HEADINGS).returncode == 0 and out.exists()
    (tmp_path / "bad.txt").write_bytes(b"")
    r = nlp("annotate", tmp_path / "bad.txt", "-o", out, *HEADINGS)
    assert r.returncode == 1 and "empty file" in one_line(r.stderr, "bad.txt")
    assert not out.exists() and not (tmp_path / "o.jsonl.manifest.json").exists()
    assert (tmp_path / "o.errors.jsonl").exists()


def _descendants(pid: int) -> list[int]:
    import psutil

    try:
        return [p.pid for p in psutil.Process(pid).children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def _alive(pid: int) -> bool:
    import psutil

    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="process tree checks use Linux semantics")
def test_kill_9_of_the_main_process_leaves_no_worker_alive(tmp_path):
    pytest.importorskip("psutil")
    d = corpus(tmp_path / "in", 400)
    p = popen("annotate", d, "-o", tmp_path / "o.jsonl", *HEADINGS, "--workers", 2, "--chunk-docs", 1)
    deadline = time.time() + 90
    workers: list[int] = []
    while time.time() < deadline and p.poll() is None:
        workers = _descendants(p.pid)
        if len(workers) >= 2 and (tmp_path / "o.jsonl.part").exists() and (tmp_path / "o.jsonl.part").stat().st_size:
            break
        time.sleep(0.05)
    assert p.poll() is None and len(workers) >= 2, "the run ended before its workers were seen"
    workers = _descendants(p.pid)
    os.kill(p.pid, signal.SIGKILL)
    p.communicate(timeout=30)
    time.sleep(5)
    assert [w for w in workers if _alive(w)] == []


def test_sigterm_keeps_finished_chunks_resumable_and_leaves_no_empty_part_files(tmp_path):
    d = corpus(tmp_path / "in", 150)
    single = tmp_path / "single.jsonl"
    assert nlp("annotate", d, "-o", single, *HEADINGS, "--chunk-docs", 1).returncode == 0
    out = tmp_path / "o.jsonl"
    part = tmp_path / "o.jsonl.part"
    p = popen("annotate", d, "-o", out, *HEADINGS, "--chunk-docs", 1)
    deadline = time.time() + 60
    while time.time() < deadline and p.poll() is None and not (part.exists() and part.stat().st_size):
        time.sleep(0.02)
    assert p.poll() is None, "the run ended before it could be stopped; make the corpus larger"
    p.send_signal(signal.SIGTERM)
    _, err = p.communicate(timeout=60)
    assert p.returncode == 128 + signal.SIGTERM, err[-3000:]
    assert "rerun with --resume" in one_line(err, "interrupted")
    assert all(f.stat().st_size > 0 for f in tmp_path.glob("o.*part*")), list(tmp_path.glob("o.*part*"))
    assert not (tmp_path / "o.errors.jsonl.part").exists() and not (tmp_path / "o.jsonl.lock").exists()
    r = nlp("annotate", d, "-o", out, *HEADINGS, "--chunk-docs", 1, "--resume")
    assert r.returncode == 0, r.stderr
    assert out.read_bytes() == single.read_bytes()


def test_sigterm_before_any_document_leaves_no_part_files(tmp_path):
    d = corpus(tmp_path / "in", 150)
    out = tmp_path / "o.jsonl"
    p = popen("annotate", d, "-o", out, *HEADINGS, "--chunk-docs", 150)
    deadline = time.time() + 60
    while time.time() < deadline and p.poll() is None and not (tmp_path / "o.jsonl.lock").exists():
        time.sleep(0.005)
    p.send_signal(signal.SIGTERM)
    p.communicate(timeout=60)
    if p.returncode == 0:
        pytest.skip("the run finished before the signal came")
    assert not list(tmp_path.glob("o.*part*")) and not out.exists()


# --------------------------------------------------------------------------- hangs and unbounded work


def test_fifo_in_a_directory_and_named_is_one_error_line_not_a_hang(tmp_path):
    d = corpus(tmp_path / "in", 2)
    os.mkfifo(d / "pipe.txt")
    os.mkfifo(tmp_path / "named.txt")
    os.mkfifo(tmp_path / "table.jsonl")
    out = tmp_path / "o.jsonl"
    t0 = time.time()
    r = nlp("annotate", d, tmp_path / "named.txt", tmp_path / "table.jsonl", "-o", out, *HEADINGS, timeout=60)
    assert time.time() - t0 < 30
    assert r.returncode == 1
    for name in ("pipe.txt", "named.txt", "table.jsonl"):
        assert "FIFO" in one_line(r.stderr, name)
    assert sorted(ids(out)) == ["r000", "r001"]


def _docx_bomb(path: Path, mb: int = 200) -> Path:
    head = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document xmlns:w="http://schemas.'
            'openxmlformats.org/wordprocessingml/2006/main"><w:body>')
    para = "<w:p><w:r><w:t>法治政府建设年度报告全年办结行政复议案件</w:t></w:r></w:p>" * 1000
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        with z.open("word/document.xml", "w", force_zip64=True) as f:
            f.write(head.encode())
            block = para.encode()
            for _ in range(mb * 1_000_000 // len(block) + 1):
                f.write(block)
            f.write(b"</w:body></w:document>")
    return path


def test_docx_expanding_to_200_mb_is_refused_in_seconds_naming_the_limit(tmp_path):
    d = corpus(tmp_path / "in", 2)
    bomb = _docx_bomb(d / "bomb.docx")
    assert bomb.stat().st_size < 5_000_000
    t0 = time.time()
    r = nlp("annotate", d, "-o", tmp_path / "o.jsonl", *HEADINGS, timeout=60)
    assert time.time() - t0 < 30
    assert r.returncode == 1
    assert "GOVREPORT_MAX_BYTES" in one_line(r.stderr, "bomb.docx")
    assert sorted(ids(tmp_path / "o.jsonl")) == ["r000", "r001"]


def test_character_and_byte_limits_name_their_variable(tmp_path):
    d = corpus(tmp_path / "in", 1)
    (d / "long.txt").write_text(report(1) * 20, encoding="utf-8")
    t = jsonl_table(tmp_path / "t.jsonl", 1)
    env = dict(ENV, GOVREPORT_MAX_CHARS="5000")
    r = nlp("annotate", d, t, "-o", tmp_path / "o.jsonl", *HEADINGS, env=env)
    assert r.returncode == 1 and "GOVREPORT_MAX_CHARS" in one_line(r.stderr, "long.txt")
    assert sorted(ids(tmp_path / "o.jsonl")) == ["r000", "t0"]
    env = dict(ENV, GOVREPORT_MAX_BYTES="3000")
    r = nlp("annotate", d, "-o", tmp_path / "o2.jsonl", *HEADINGS, env=env)
    assert r.returncode == 1 and "GOVREPORT_MAX_BYTES" in one_line(r.stderr, "long.txt")
    with pytest.raises(LimitError, match="GOVREPORT_MAX_CHARS"):
        raw_text_from_bytes(("法治" * 100).encode(), "x.txt", Limits(max_chars=50))
    assert Limits(max_chars=0, max_bytes=0).check_chars("x", 10**9) is None  # 0 switches a limit off


# --------------------------------------------------------------------------- silent or half-handled


def test_unreadable_subdirectory_is_an_error(tmp_path, monkeypatch):
    d = corpus(tmp_path / "in", 2)
    (d / "locked").mkdir()
    (d / "locked" / "r9.txt").write_text(report(9), encoding="utf-8")
    real = os.scandir

    def scandir(p="."):
        if os.fspath(p).endswith("locked"):
            raise PermissionError(13, "Permission denied", os.fspath(p))
        return real(p)

    monkeypatch.setattr(os, "scandir", scandir)
    items = list(iter_inputs([str(d)]))
    assert [it.doc_id for it in items if not it.error] == ["r000", "r001"]
    errors = [(it.path, it.error) for it in items if it.error]
    assert errors == [(str(d / "locked"), "cannot list this directory (Permission denied)")]


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads any directory")
def test_unreadable_subdirectory_is_an_error_line_in_the_cli(tmp_path):
    d = corpus(tmp_path / "in", 2)
    (d / "locked").mkdir()
    os.chmod(d / "locked", 0)
    try:
        r = nlp("annotate", d, "-o", tmp_path / "o.jsonl", *HEADINGS)
    finally:
        os.chmod(d / "locked", 0o755)
    assert r.returncode == 1 and "cannot list" in one_line(r.stderr, "locked")


def test_directory_without_reports_is_an_error(tmp_path):
    good = corpus(tmp_path / "in", 1)
    (tmp_path / "empty").mkdir()
    (tmp_path / "sheets").mkdir()
    (tmp_path / "sheets" / "a.xlsx").write_bytes(b"PK\x03\x04")
    r = nlp("annotate", good, tmp_path / "empty", tmp_path / "sheets", "-o", tmp_path / "o.jsonl", *HEADINGS)
    assert r.returncode == 1
    assert "no report files" in one_line(r.stderr, str(tmp_path / "empty"))
    assert "no report files" in one_line(r.stderr, str(tmp_path / "sheets"))
    assert ids(tmp_path / "o.jsonl") == ["r000"]


def test_punctuation_only_file_and_row_are_no_text(tmp_path):
    d = corpus(tmp_path / "in", 1)
    (d / "dots.txt").write_text("。。。!!!——……\n、、、;;;\n" * 20, encoding="utf-8")
    t = tmp_path / "t.jsonl"
    t.write_text(json.dumps({"id": "p", "text": "……——!!"}, ensure_ascii=False) + "\n", encoding="utf-8")
    r = nlp("annotate", d, t, "-o", tmp_path / "o.jsonl", *HEADINGS)
    assert r.returncode == 1
    assert "no text" in one_line(r.stderr, "dots.txt")
    assert "no text" in one_line(r.stderr, "t.jsonl")
    assert ids(tmp_path / "o.jsonl") == ["r000"]


def test_utf8_with_invalid_bytes_or_a_cut_last_character_is_read_with_a_warning(tmp_path):
    d = tmp_path / "in"
    d.mkdir()
    data = report(0).encode("utf-8")
    at = data.index("主要举措".encode())
    (d / "damaged.txt").write_bytes(data[:at] + b"\xff" * 8 + data[at:])
    (d / "cut.txt").write_bytes(data.rstrip() + "报告".encode()[:-1])
    raw = read_document_text(d / "damaged.txt")
    assert raw.encoding == "utf-8" and raw.replaced == 8 and raw.text.count("\ufffd") == 8
    r = nlp("annotate", d, "-o", tmp_path / "o.jsonl", *HEADINGS)
    assert r.returncode == 0, r.stderr
    recs = {rec["id"]: rec for rec in read_records(tmp_path / "o.jsonl")}
    assert recs["damaged"]["meta"]["replaced_bytes"] == 8
    assert recs["cut"]["meta"]["replaced_bytes"] == 2
    assert "replaced" in recs["damaged"]["meta"]["warnings"][0]
    gbk = report(0).encode("gb18030")  # other encodings are still detected, not "damaged UTF-8"
    assert read_document_text_bytes(tmp_path, gbk).encoding == "gb18030"


def read_document_text_bytes(tmp_path: Path, data: bytes):
    p = tmp_path / "x.txt"
    p.write_bytes(data)
    return read_document_text(p)


def test_corrupt_parquet_row_group_becomes_row_errors_and_the_run_goes_on(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = [{"id": f"t{i}", "text": report(i)} for i in range(6)]
    t = tmp_path / "t.parquet"
    pq.write_table(pa.Table.from_pylist(rows), t, row_group_size=2, compression="none")
    meta = pq.ParquetFile(t).metadata
    col = meta.row_group(1).column(1)  # the text column of the middle row group
    data = bytearray(t.read_bytes())
    start = col.dictionary_page_offset if col.has_dictionary_page else col.data_page_offset
    data[start:start + col.total_compressed_size] = b"\xff" * col.total_compressed_size
    t.write_bytes(bytes(data))
    before = t.read_bytes()
    out = tmp_path / "o.jsonl"
    r = nlp("annotate", t, "-o", out, *HEADINGS)
    assert r.returncode == 1
    assert "Traceback" not in r.stderr
    assert sorted(ids(out)) == ["t0", "t1", "t4", "t5"]
    errs = [json.loads(x) for x in (tmp_path / "o.errors.jsonl").read_text().splitlines()]
    assert [e["row"] for e in errs] == [2, 3] and all("row group 1" in e["error"] for e in errs)
    assert t.read_bytes() == before


# --------------------------------------------------------------------------- one line, not a traceback


def test_output_onto_a_directory_or_under_a_file_is_one_line_before_work(tmp_path):
    d = corpus(tmp_path / "in", 1)
    (tmp_path / "dir.jsonl").mkdir()
    (tmp_path / "file").write_text("x")
    for out, needle in [(tmp_path / "dir.jsonl", "is a directory"), (tmp_path / "file" / "o.jsonl", "is a file")]:
        r = nlp("annotate", d, "-o", out, *HEADINGS)
        assert r.returncode != 0 and needle in one_line(r.stderr, str(out))
        assert "annotated" not in r.stderr  # refused before any work
    assert (tmp_path / "file").read_text() == "x"


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root writes anywhere")
def test_output_in_an_unwritable_folder_is_one_line_before_work(tmp_path):
    d = corpus(tmp_path / "in", 1)
    ro = tmp_path / "ro"
    ro.mkdir()
    os.chmod(ro, 0o555)
    try:
        r = nlp("annotate", d, "-o", ro / "o.jsonl", *HEADINGS)
    finally:
        os.chmod(ro, 0o755)
    assert r.returncode != 0 and "permission denied" in one_line(r.stderr, "o.jsonl")


def test_output_checks_in_the_library():
    from nlp.outputs import OutputError, check_output_path

    with pytest.raises(OutputError, match="is a directory"):
        check_output_path(Path(__file__).parent)
    with pytest.raises(OutputError, match="is a file"):
        check_output_path(Path(__file__) / "o.jsonl")


def test_deeply_nested_html_is_read_without_recursion_error(tmp_path):
    depth = 20_000
    html = "<html><body>" + "<div>" * depth + "<p>" + report(0).replace("\n", "</p><p>") + "</p>" + "</div>" * depth
    p = tmp_path / "deep.html"
    p.write_text(html + "</body></html>", encoding="utf-8")
    raw = read_document_text(p)
    assert raw.format == "html" and "法治政府建设" in raw.text
    r = nlp("summarize", p, "-o", tmp_path / "s.md", "--method", "lead")
    assert "Traceback" not in r.stderr and "RecursionError" not in r.stderr
    assert r.returncode == 0, r.stderr


# --------------------------------------------------------------------------- model loading


@pytest.fixture(scope="module")
def broken_models(tmp_path_factory):
    """A tiny sentence classifier, and copies with a truncated and a garbage model.safetensors
    and with a pytorch_model.bin only."""
    import shutil

    import torch
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizerFast

    from nlp.schema import LABELS

    root = tmp_path_factory.mktemp("models")
    good = root / "good"
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + list("法治政府建设")
    BertTokenizerFast(vocab={t: i for i, t in enumerate(vocab)}).save_pretrained(str(good))
    cfg = BertConfig(vocab_size=len(vocab), hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                     intermediate_size=20, max_position_embeddings=64, id2label=dict(enumerate(LABELS)),
                     label2id={lab: i for i, lab in enumerate(LABELS)})
    model = BertForSequenceClassification(cfg)
    model.save_pretrained(str(good))
    for name in ("truncated", "garbage", "pickle"):
        shutil.copytree(good, root / name)
    w = root / "truncated" / "model.safetensors"
    w.write_bytes(w.read_bytes()[: w.stat().st_size // 2])
    (root / "garbage" / "model.safetensors").write_bytes(bytes(range(256)) * 20)
    (root / "pickle" / "model.safetensors").unlink()
    torch.save(model.state_dict(), root / "pickle" / "pytorch_model.bin")
    return root


@pytest.mark.parametrize("name", ["truncated", "garbage", "pickle"])
def test_broken_or_pickled_weights_are_one_oserror_naming_the_directory(broken_models, name):
    from nlp.modeling import BertSentenceLabeller

    BertSentenceLabeller(broken_models / "good")
    with pytest.raises(OSError) as e:
        BertSentenceLabeller(broken_models / name)
    assert str(broken_models / name) in str(e.value) and "\n" not in str(e.value)


def test_truncated_weights_in_nlp_annotate_are_one_line(broken_models, tmp_path):
    d = corpus(tmp_path / "in", 1)
    r = nlp("annotate", d, "-o", tmp_path / "o.jsonl", "--model", broken_models / "truncated")
    assert r.returncode != 0 and "cannot load" in one_line(r.stderr, str(broken_models / "truncated"))
    assert not (tmp_path / "o.jsonl").exists()


def test_hub_id_fails_fast_when_the_hub_is_unreachable():
    from nlp.io import hub_unreachable
    from nlp.modeling import BertSentenceLabeller

    if not hub_unreachable():
        pytest.skip("the hub is reachable from here")
    t0 = time.time()
    with pytest.raises(OSError, match="unreachable"):
        BertSentenceLabeller("no-such-owner/no-such-model")
    assert time.time() - t0 < 15


# --------------------------------------------------------------------------- gold and Label Studio


GOOD = {"id": "p1", "doc_id": "d1", "source": "test", "text": "全年办结案件142件。下一步将持续推进。",
        "label": "measures",
        "sentences": [{"start": 0, "end": 10, "label": "measures"}, {"start": 10, "end": 19, "label": "plans"}],
        "entities": [{"start": 6, "end": 10, "type": "METRIC", "text": "142件", "target": False}]}


def _bad(**changes):
    r = json.loads(json.dumps(GOOD))
    for k, v in changes.items():
        if v is KeyError:
            r.pop(k)
        else:
            r[k] = v
    return r


BAD_GOLD = {
    "entities null": (_bad(entities=None), "entities is null, not a list"),
    "string start": (_bad(entities=[{"start": "6", "end": 10, "type": "METRIC"}]), "start '6' is not an integer"),
    "missing field": (_bad(text=KeyError), "has no 'text' field"),
    "span outside": (_bad(entities=[{"start": 6, "end": 99, "type": "METRIC"}]), "outside the text"),
    "start after end": (_bad(entities=[{"start": 8, "end": 6, "type": "METRIC"}]), "start is not before end"),
    "overlapping entities": (_bad(entities=[{"start": 6, "end": 10, "type": "METRIC"},
                                            {"start": 8, "end": 9, "type": "DATE"}]), "overlaps entity"),
    "overlapping sentences": (_bad(sentences=[{"start": 0, "end": 12, "label": "measures"},
                                              {"start": 10, "end": 19, "label": "plans"}]), "overlaps sentence"),
    "unknown label": (_bad(sentences=[{"start": 0, "end": 19, "label": "policy"}]), "unknown label 'policy'"),
    "unknown type": (_bad(entities=[{"start": 6, "end": 10, "type": "MONEY"}]), "unknown entity type 'MONEY'"),
    "not an object": ([1, 2], "not a JSON object"),
}


@pytest.mark.parametrize("case", sorted(BAD_GOLD))
def test_gold_record_problem_is_one_line_with_the_record_number(tmp_path, case):
    bad, message = BAD_GOLD[case]
    with pytest.raises(GoldError) as e:
        validate_records([GOOD, bad], "g.jsonl")
    assert len(e.value.problems) == 1 and e.value.problems[0].startswith("record 2")
    assert message in e.value.problems[0]
    assert "\n" not in str(e.value)


def test_gold_file_problems_in_nlp_eval_are_one_line_each(tmp_path):
    g = tmp_path / "g.jsonl"
    g.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in
                           [GOOD, BAD_GOLD["entities null"][0], BAD_GOLD["string start"][0]]) + "\n", encoding="utf-8")
    r = nlp("eval", g, *HEADINGS, "--bootstrap", 0)
    assert r.returncode != 0
    assert "entities is null" in one_line(r.stderr, "record 2")
    assert "is not an integer" in one_line(r.stderr, "record 3")
    (tmp_path / "latin.jsonl").write_bytes(json.dumps(GOOD, ensure_ascii=False).encode("utf-8") + b"\n" +
                                           '{"text": "café"}'.encode("latin-1") + b"\n")
    r = nlp("eval", tmp_path / "latin.jsonl", *HEADINGS, "--bootstrap", 0)
    assert r.returncode != 0 and "line 2 is not UTF-8" in one_line(r.stderr, "latin.jsonl")
    with pytest.raises(ReadError, match="not UTF-8"):
        read_gold_records(tmp_path / "latin.jsonl")


def _ls_task(results, text=GOOD["text"]):
    return {"id": 1, "data": {"id": "p1", "doc_id": "d1", "text": text}, "annotations": [{"result": results}]}


def _span(kind, start, end, label, rid="r"):
    return {"id": rid, "from_name": kind, "to_name": "text", "type": "labels",
            "value": {"start": start, "end": end, "labels": [label]}}


BAD_LS = {
    "result is a string": (["sentence 0-10"], "result 1 is str"),
    "span past the text": ([_span("sentence", 0, 19, "measures"), _span("entity", 15, 40, "DATE")], "outside the text"),
    "unknown label": ([_span("sentence", 0, 19, "policy")], "unknown label 'policy'"),
    "unknown type": ([_span("sentence", 0, 19, "plans"), _span("entity", 0, 2, "MONEY")], "unknown entity type"),
    "string offsets": ([_span("sentence", "0", "19", "plans")], "not integer offsets"),
}


@pytest.mark.parametrize("case", sorted(BAD_LS))
def test_label_studio_import_checks_records_before_writing(tmp_path, case):
    results, message = BAD_LS[case]
    tasks = tmp_path / "tasks.json"
    tasks.write_text(json.dumps([_ls_task([_span("sentence", 0, 19, "measures")]), _ls_task(results)]),
                     encoding="utf-8")
    out = tmp_path / "gold.jsonl"
    r = nlp("labels", "import", tasks, "-o", out)
    assert r.returncode != 0 and not out.exists()
    line = one_line(r.stderr, message)
    assert "task 2" in line or "record 2" in line


# --------------------------------------------------------------------------- low


def test_csv_cells_that_a_spreadsheet_would_run_are_escaped(tmp_path):
    assert [csv_safe(v) for v in ["=1+1", "+1", "-2", "@SUM(A1)", "\tx", "法治", 5, -3]] == \
        ["'=1+1", "'+1", "'-2", "'@SUM(A1)", "'\tx", "法治", 5, -3]
    rec = {"id": "-d", "source_path": "-d.txt", "entities": [], "sentences": [
        {"start": 0, "end": 9, "text": "=HYPERLINK(\"x\")", "paragraph": 0, "label": "other",
         "label_source": "headings", "reason": None, "is_heading": False}]}
    out = tmp_path / "o.csv"
    w = CsvWriter(out)
    w.write([rec])
    w.commit()
    row = next(csv.DictReader(out.open(encoding="utf-8-sig", newline="")))
    assert row["text"] == "'=HYPERLINK(\"x\")" and row["doc_id"] == "'-d"
    assert CsvWriter(out, resume=True).finished == {("-d", "-d.txt")}  # the key reads back unescaped


# --------------------------------------------------------------------------- property-based


hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings, strategies as st  # noqa: E402

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
PREFIXES = [b"", b"PK\x03\x04", b"%PDF-1.4\n", b"<html><body>", b"\xef\xbb\xbf", b"\xff\xfe", "一、".encode()]


@SETTINGS
@given(prefix=st.sampled_from(PREFIXES), body=st.binary(max_size=2000))
def test_random_bytes_give_text_or_a_read_error(prefix, body):
    try:
        raw = raw_text_from_bytes(prefix + body, "x")
    except ReadError as e:
        assert "\n" not in str(e)
    else:
        assert raw.text.strip()


@SETTINGS
@given(text=st.text(max_size=400), lines=st.lists(st.text(max_size=60), max_size=8))
def test_random_documents_structure_or_give_a_read_error(tmp_path_factory, text, lines):
    from nlp.annotate import annotate_chunk
    from nlp.pipeline import HeadingsLabeller

    d = tmp_path_factory.mktemp("docs")
    (d / "a.txt").write_text(text + "\n" + "\n".join(lines), encoding="utf-8", errors="surrogatepass")
    (d / "t.jsonl").write_text(json.dumps({"text": text}) + "\n" + "\n".join(lines) + "\n", encoding="utf-8",
                               errors="surrogatepass")
    items = list(iter_inputs([str(d / "a.txt"), str(d / "t.jsonl")]))
    res = annotate_chunk(items, HeadingsLabeller())
    assert len(res.records) + len(res.errors) == len(items)
    assert all("failed to structure" not in e["error"] for _, e in res.errors), res.errors


json_scalars = st.one_of(st.none(), st.booleans(), st.integers(-5, 60), st.text(max_size=5),
                         st.sampled_from(["duty", "plans", "other", "LAW", "METRIC", "DATE"]))
json_values = st.recursive(json_scalars, lambda kids: st.lists(kids, max_size=3) | st.dictionaries(
    st.sampled_from(["start", "end", "label", "type", "text", "target", "labels", "value", "from_name"]), kids,
    max_size=4), max_leaves=12)
spans = st.fixed_dictionaries({"start": json_values, "end": json_values},
                              optional={"label": json_values, "type": json_values, "target": json_values})
gold_records = st.one_of(json_values, st.fixed_dictionaries(
    {"doc_id": json_values, "text": st.one_of(st.text(max_size=30), json_values)},
    optional={"id": json_values, "label": json_values, "sentences": st.one_of(st.lists(spans, max_size=4), json_values),
              "entities": st.one_of(st.lists(spans, max_size=4), json_values)}))


@SETTINGS
@given(records=st.lists(gold_records, max_size=4))
def test_random_gold_records_are_valid_or_a_gold_error(tmp_path_factory, records):
    from nlp import evaluate as ev

    g = tmp_path_factory.mktemp("gold") / "g.jsonl"
    g.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    try:
        docs = ev.load_gold(g)
    except ReadError as e:
        assert all("\n" not in line for line in e.lines())
    else:
        for doc in docs:  # a record the validator lets through can be scored
            doc.to_document()


@SETTINGS
@given(body=st.binary(max_size=600))
def test_random_bytes_as_a_gold_file_give_a_read_error(tmp_path_factory, body):
    g = tmp_path_factory.mktemp("gold") / "g.jsonl"
    g.write_bytes(body)
    try:
        read_gold_records(g)
    except ReadError:
        pass


@SETTINGS
@given(tasks=json_values)
def test_random_label_studio_exports_give_records_or_a_gold_error(tmp_path_factory, tasks):
    from nlp.labelstudio import import_label_studio

    p = tmp_path_factory.mktemp("ls") / "tasks.json"
    p.write_text(json.dumps(tasks), encoding="utf-8")
    try:
        import_label_studio(p)
    except ReadError:
        pass
