"""Batch annotation of corpora: kill -9 and --resume, worker processes, JSONL/Parquet inputs
and outputs, bad files, the Ray engine, and the ONNX backend. A tiny random BERT
classifier is built by the test; the reports are invented variations of the toy report."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from nlp.annotate import AnnotateOptions, annotate_corpus, iter_inputs
from nlp.outputs import read_records
from nlp.pipeline import LabellerSpec
from nlp.schema import LABELS

from conftest import TOY_REPORT

PLACES = ["东湖县", "西山区", "南河市", "北岭县", "青松县", "白石区"]
EXTRA = ["(三)加强执法队伍建设。全年培训执法人员{n}人次,考试合格率达98%。",
         "(四)推进政务公开。主动公开政府信息{n}条。",
         "二是行政复议应诉能力仍需加强。",
         "力争明年行政复议纠错率控制在{n}%以内。"]
# one thread per process: the machines that run the tests may be busy, and equal settings
# make the runs compared here bit-for-bit comparable
ENV = dict(os.environ, OMP_NUM_THREADS="1", TOKENIZERS_PARALLELISM="false")
N_DOCS = 40


def report(i: int) -> str:
    t = TOY_REPORT.replace("东湖县", PLACES[i % len(PLACES)]).replace("3200", str(3200 + 7 * i))
    t = t.replace("三十余件", f"{20 + i}余件")
    extra = "\n".join(EXTRA[j % len(EXTRA)].format(n=i + j) for j in range(i % 5))
    return t.replace("三、存在的问题及原因", extra + "\n三、存在的问题及原因") if extra else t


def write_corpus(d, n: int):
    d.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        (d / f"r{i:03d}.txt").write_text(report(i), encoding="utf-8")
    return d


@pytest.fixture(scope="module")
def tiny_cls(tmp_path_factory):
    """A tiny random BERT sentence classifier with the report labels (not trained)."""
    import torch
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizerFast

    torch.manual_seed(0)
    d = tmp_path_factory.mktemp("tiny-cls")
    chars = sorted(set("".join(report(i) for i in range(12)) + "".join(EXTRA)) - set("\n {}"))
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + chars
    BertTokenizerFast(vocab={t: i for i, t in enumerate(vocab)}).save_pretrained(str(d))
    cfg = BertConfig(vocab_size=len(vocab), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                     intermediate_size=37, max_position_embeddings=256, id2label=dict(enumerate(LABELS)),
                     label2id={lab: i for i, lab in enumerate(LABELS)})
    BertForSequenceClassification(cfg).save_pretrained(str(d))
    return d


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return write_corpus(tmp_path_factory.mktemp("corpus") / "reports", N_DOCS)


def nlp(*args, **kw):
    return subprocess.run([sys.executable, "-m", "nlp", *map(str, args)], capture_output=True, text=True, env=ENV, **kw)


@pytest.fixture(scope="module")
def reference(tiny_cls, corpus, tmp_path_factory):
    """An uninterrupted one-worker run (in this process, one thread like the runs in
    subprocesses): the output every other run must reproduce byte for byte."""
    import torch

    out = tmp_path_factory.mktemp("ref") / "ref.jsonl"
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        res = annotate_corpus([str(corpus)], out, LabellerSpec(model=str(tiny_cls)), AnnotateOptions(chunk_docs=2))
    finally:
        torch.set_num_threads(threads)
    assert res.n_docs == N_DOCS and not res.errors
    return out


def ids(path):
    return [r["id"] for r in read_records(path)]


def test_kill_9_then_resume_gives_each_document_once_and_the_same_output(tiny_cls, corpus, reference, tmp_path):
    out = tmp_path / "o.jsonl"
    part = tmp_path / "o.jsonl.part"
    p = subprocess.Popen([sys.executable, "-m", "nlp", "annotate", str(corpus), "-o", str(out), "--model", str(tiny_cls),
                          "--chunk-docs", "2"], env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    while time.time() < deadline and p.poll() is None:
        if part.exists() and part.read_bytes().count(b"\n") >= 6:
            break
        time.sleep(0.01)
    assert p.poll() is None, "the run ended before it could be killed"
    os.kill(p.pid, signal.SIGKILL)
    p.wait()
    assert not out.exists() and part.exists()
    n_before = part.read_bytes().count(b"\n")
    assert 6 <= n_before < N_DOCS
    with open(part, "ab") as f:  # as if killed in the middle of writing a line
        f.write(b'{"id": "r0')
    r = nlp("annotate", corpus, "-o", out, "--model", tiny_cls, "--chunk-docs", 2, "--resume")
    assert r.returncode == 0, r.stderr[-2000:]
    assert f"(+{n_before} already in the output)" in r.stderr
    assert not part.exists()
    got = ids(out)
    assert len(got) == len(set(got)) == N_DOCS
    assert out.read_bytes() == reference.read_bytes()
    # resuming a finished run changes nothing
    r = nlp("annotate", corpus, "-o", out, "--model", tiny_cls, "--chunk-docs", 2, "--resume")
    assert r.returncode == 0 and out.read_bytes() == reference.read_bytes()


def test_two_workers_give_the_records_of_one(tiny_cls, corpus, reference, tmp_path):
    out = tmp_path / "w2.jsonl"
    r = nlp("annotate", corpus, "-o", out, "--model", tiny_cls, "--chunk-docs", 2, "--workers", 2)
    assert r.returncode == 0, r.stderr[-2000:]
    assert out.read_bytes() == reference.read_bytes()
    assert "doc/s" in r.stderr and "sentences/s" in r.stderr and "0 error(s)" in r.stderr


class Crash(Exception):
    pass


def crash_after(n_chunks: int):
    seen = []

    def progress(u):
        seen.append(u)
        if len(seen) == n_chunks:
            raise Crash

    return progress


def test_jsonl_and_parquet_inputs_and_outputs(tiny_cls, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    lab = LabellerSpec(model=str(tiny_cls)).load()
    rows = [{"doc": f"d{i}", "body": report(i), "year": 2023} for i in range(9)]
    rows.insert(4, {"doc": "blank", "body": " "})
    jl = tmp_path / "in.jsonl"
    jl.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows) + "{not json\n", encoding="utf-8")
    pqin = tmp_path / "in.parquet"
    pq.write_table(pa.Table.from_pylist(rows), pqin)
    opts = AnnotateOptions(text_column="body", id_column="doc", chunk_docs=3)
    items = list(iter_inputs([str(jl)], opts))
    assert [it.doc_id for it in items][:5] == ["d0", "d1", "d2", "d3", "blank"] and len(items) == 11

    res_j = annotate_corpus([str(jl)], tmp_path / "a.jsonl", options=opts, labeller=lab)
    res_p = annotate_corpus([str(pqin)], tmp_path / "a.parquet", options=opts, labeller=lab)
    assert res_j.n_docs == res_p.n_docs == 9
    assert {(e["row"], e["error"]) for e in res_j.errors} == {(4, "empty text"), (10, "line 11 is not valid JSON "
                                                              "(Expecting property name enclosed in double quotes)")}
    assert [(e["row"], e["error"]) for e in res_p.errors] == [(4, "empty text")]
    a, b = list(read_records(tmp_path / "a.jsonl")), list(read_records(tmp_path / "a.parquet"))
    assert [r["id"] for r in a] == [f"d{i}" for i in range(9)]
    assert a[0]["format"] == "jsonl" and b[0]["format"] == "parquet" and a[0]["meta"]["row"] == 0
    for x, y in zip(a, b):
        assert x["sentences"] == y["sentences"] and x["entities"] == y["entities"] and x["text"] == y["text"]
    assert all(s["label"] in LABELS and set(s["scores"]) == set(LABELS) for s in b[0]["sentences"])

    # Parquet and CSV outputs survive a crash too: the chunks finished before it are kept
    for suffix in (".parquet", ".csv"):
        out = tmp_path / f"c{suffix}"
        with pytest.raises(Crash):
            annotate_corpus([str(pqin)], out, options=opts, labeller=lab, progress=crash_after(2))
        assert not out.exists()
        res = annotate_corpus([str(pqin)], out, options=AnnotateOptions(**{**opts.__dict__, "resume": True}),
                              labeller=lab)
        assert res.n_resumed == 5 and res.n_docs == 4  # chunks of 3 inputs; the second has the blank row
        ref = tmp_path / f"ref{suffix}"
        annotate_corpus([str(pqin)], ref, options=opts, labeller=lab)
        if suffix == ".parquet":
            assert list(read_records(out)) == list(read_records(ref))
            assert not (tmp_path / "c.parquet.parts").exists()
        else:
            assert out.read_bytes() == ref.read_bytes()
            assert not (tmp_path / "c.csv.part.journal").exists()


def test_folder_with_bad_files_completes_and_lists_each(tmp_path):
    d = write_corpus(tmp_path / "in", 3)
    sub = d / "more" / "deeper"
    sub.mkdir(parents=True)
    (sub / "r-deep.txt").write_text(report(4), encoding="utf-8")
    (d / "gbk.txt").write_bytes(report(5).encode("gb18030"))
    bad = {"empty.txt": b"", "blank.txt": b" \n\n ", "binary.txt": bytes(range(256)) * 20,
           "latin1.txt": bytes(range(0x80, 0x100)) * 10, "fake.docx": b"PK\x03\x04not really a zip",
           "broken.pdf": b"%PDF-1.4 garbage", "chrome.html": "<html><body><p>扫一扫在手机打开当前页</p></body></html>".encode()}
    for name, data in bad.items():
        (d / name).write_bytes(data)
    out = tmp_path / "o.jsonl"
    r = nlp("annotate", d, tmp_path / "missing.txt", "-o", out, "--chunk-docs", 2)
    assert r.returncode == 1
    assert sorted(ids(out)) == ["gbk", "r-deep", "r000", "r001", "r002"]
    errs = {json.loads(x)["path"]: json.loads(x)["error"] for x in (tmp_path / "o.errors.jsonl").read_text().splitlines()}
    assert set(errs) == {str(d / n) for n in bad} | {str(tmp_path / "missing.txt")}
    assert errs[str(d / "empty.txt")] == errs[str(d / "blank.txt")] == "empty file"
    assert errs[str(tmp_path / "missing.txt")] == "no such file"
    assert "binary" in errs[str(d / "binary.txt")] and "encoding" in errs[str(d / "latin1.txt")]
    assert "zip" in errs[str(d / "fake.docx")] and "PDF" in errs[str(d / "broken.pdf")]
    assert "chrome" in errs[str(d / "chrome.html")] or "no text" in errs[str(d / "chrome.html")]
    assert f"{len(bad) + 1} input(s) failed" in r.stderr and "5 document(s)" in r.stderr


def test_engine_ray_gives_the_records_of_the_default_engine(tiny_cls, tmp_path):
    pytest.importorskip("ray", reason="ray is not installed (pip install 'govreport-nlp[ray]')")
    d = write_corpus(tmp_path / "in", 10)
    (d / "empty.txt").write_bytes(b"")
    lab = LabellerSpec(model=str(tiny_cls)).load()
    opts = AnnotateOptions(chunk_docs=4)
    local = annotate_corpus([str(d)], tmp_path / "local.jsonl", options=opts, labeller=lab)
    ray_res = annotate_corpus([str(d)], tmp_path / "ray.jsonl", LabellerSpec(model=str(tiny_cls)),
                              AnnotateOptions(chunk_docs=4, engine="ray", workers=1))
    assert ray_res.n_docs == local.n_docs == 10 and ray_res.errors == local.errors
    a, b = list(read_records(tmp_path / "local.jsonl")), list(read_records(tmp_path / "ray.jsonl"))
    assert [r["id"] for r in a] == [r["id"] for r in b]
    for x, y in zip(a, b):  # same labels; scores equal to rounding
        assert [s["label"] for s in x["sentences"]] == [s["label"] for s in y["sentences"]]
        assert x["entities"] == y["entities"]
        for s, t in zip(x["sentences"], y["sentences"]):
            assert max(abs(s["scores"][k] - t["scores"][k]) for k in LABELS) <= 1e-4


def test_engine_ray_without_ray_is_a_one_line_error(monkeypatch):
    from nlp import ray_engine

    monkeypatch.setitem(sys.modules, "ray", None)
    with pytest.raises(RuntimeError, match=r"pip install 'govreport-nlp\[ray\]'"):
        ray_engine.import_ray()


def test_onnx_export_gives_the_labels_of_pytorch(tiny_cls, tmp_path):
    pytest.importorskip("onnxruntime")
    from nlp.onnx_backend import OnnxSentenceLabeller, export_onnx
    from nlp.pipeline import annotate_text

    (tiny_cls / "decoding.json").write_text(json.dumps({"backward_penalty": 1.5}), encoding="utf-8")
    r = nlp("export", "onnx", "--model", tiny_cls, "--output", tmp_path / "fp32")
    assert r.returncode == 0, r.stderr[-2000:]
    assert {"model.onnx", "config.json", "tokenizer.json", "decoding.json", "onnx_config.json"} <= \
        {p.name for p in (tmp_path / "fp32").iterdir()}
    int8 = export_onnx(tiny_cls, tmp_path / "int8", int8=True)
    assert int8.int8 and int8.size_bytes < (tmp_path / "fp32" / "model.onnx").stat().st_size

    torch_lab = LabellerSpec(model=str(tiny_cls)).load()
    onnx_lab = LabellerSpec(model=str(tmp_path / "fp32"), backend="onnx").load()
    assert isinstance(onnx_lab, OnnxSentenceLabeller) and onnx_lab.decoding.backward_penalty == 1.5
    r = subprocess.run([sys.executable, "-c", "import sys; from nlp.pipeline import load_model_labeller; "
                        f"load_model_labeller({str(tmp_path / 'fp32')!r}); print('torch' in sys.modules)"],
                       capture_output=True, text=True, env=ENV)
    assert r.stdout.strip() == "False", r.stderr[-2000:]  # the ONNX backend runs without PyTorch
    for i in range(4):
        a, b = annotate_text(report(i), "x", torch_lab), annotate_text(report(i), "x", onnx_lab)
        assert [s.label for s in a.sentences] == [s.label for s in b.sentences]
        assert all(abs(s.scores[k] - t.scores[k]) <= 2e-4 for s, t in zip(a.sentences, b.sentences) for k in LABELS)

    d = write_corpus(tmp_path / "in", 4)
    out = tmp_path / "q.jsonl"
    r = nlp("annotate", d, "-o", out, "--model", tmp_path / "int8", "--backend", "onnx")
    assert r.returncode == 0, r.stderr[-2000:]
    recs = list(read_records(out))
    assert len(recs) == 4 and recs[0]["meta"]["labeller"] == "model:int8"
    assert all(s["label"] in LABELS for rec in recs for s in rec["sentences"])
    r = nlp("annotate", d, "-o", out, "--model", tiny_cls, "--backend", "onnx")
    assert r.returncode != 0 and "nlp export onnx" in r.stderr and "Traceback" not in r.stderr


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc malloc_trim is Linux-only")
def test_release_free_memory_calls_malloc_trim_on_linux():
    from nlp.annotate import release_free_memory

    assert release_free_memory() is True


def test_cpu_bf16_switch_and_trained_pair_length(tiny_cls, tmp_path, monkeypatch):
    import json
    import shutil

    import torch

    from nlp import annotate
    from nlp.modeling import DEFAULT_MAX_LENGTH, BertSentenceLabeller

    for value, expected in (("0", False), ("1", True)):
        monkeypatch.setenv("GOVREPORT_CPU_BF16", value)
        annotate.cpu_has_native_bf16.cache_clear()
        assert annotate.cpu_has_native_bf16() is expected
    lab = BertSentenceLabeller(tiny_cls, device="cpu")
    with annotate.inference_context(lab):  # forced on: the forward pass runs under CPU bf16 autocast
        assert torch.is_autocast_enabled("cpu") and torch.get_autocast_dtype("cpu") == torch.bfloat16
        probs = lab.predict_proba(["全面推进依法行政。"], ["报告 | 一、主要举措"])
    assert probs.shape == (1, len(lab.labels)) and abs(float(probs.sum()) - 1) < 1e-3
    monkeypatch.setenv("GOVREPORT_CPU_BF16", "0")
    annotate.cpu_has_native_bf16.cache_clear()
    with annotate.inference_context(lab):
        assert not torch.is_autocast_enabled("cpu")
    annotate.cpu_has_native_bf16.cache_clear()
    # the pair length: the one the model was fine-tuned with, else the default
    assert lab.max_length == DEFAULT_MAX_LENGTH
    d = tmp_path / "cls"
    shutil.copytree(tiny_cls, d)
    (d / "training_summary.json").write_text(json.dumps({"config": {"max_length": 96}}))
    assert BertSentenceLabeller(d, device="cpu").max_length == 96
    assert BertSentenceLabeller(d, device="cpu", max_length=64).max_length == 64


# --------------------------------------------------------------------------- progress and verbosity


def test_progress_moves_per_document_inside_one_chunk(tiny_cls):
    """Within one chunk, progress comes per forward pass (a share of a document each), bad
    inputs count at once, it adds up to the inputs, and it changes no record."""
    from nlp.chunks import InputItem, annotate_chunk
    from nlp.pipeline import get_labeller
    from nlp.progress import reporting

    lab = LabellerSpec(model=str(tiny_cls), batch_size=4, entities="rules").load()
    items = [InputItem(i, f"r{i}", "in.jsonl", report(i), i, "jsonl") for i in range(6)]
    items.insert(2, InputItem(6, "blank", "in.jsonl", "，。", 6, "jsonl"))
    seen: list[float] = []
    with reporting(seen.append):
        res = annotate_chunk(items, lab)
    assert len(res.records) == 6 and len(res.errors) == 1
    assert seen[0] == 1 and sum(seen) == pytest.approx(7)
    done, steps = 0.0, set()
    for n in seen:
        assert n > 0
        done += n
        steps.add(int(done + 1e-9))
    assert steps >= set(range(1, 8))  # the count passed every document, not only the chunk's end
    assert annotate_chunk(items, lab).records == res.records  # no sink: the same records

    seen.clear()
    with reporting(seen.append):  # a labeller that scores no sentences: a document at a time
        annotate_chunk(items, get_labeller("headings"))
    assert seen == [1] * 7


def test_progress_lines_when_stderr_is_not_a_terminal():
    import io

    from nlp.annotate import ProgressUpdate
    from nlp.progress import AnnotateProgress, log_every

    stream = io.StringIO()
    p = AnnotateProgress(10, stream=stream, tty=False, every=0.05)  # a timer: lines while nothing moves
    p(ProgressUpdate(4, 4, 120, 0, 10, 1.0))
    time.sleep(0.3)
    p.close()
    lines = stream.getvalue().splitlines()
    assert len(lines) >= 2 and all(x.startswith("annotate: 4/10 documents (40%), ") for x in lines)
    assert "120 sentences, 0 error(s)" in lines[-1] and "doc/s" in lines[-1]

    stream = io.StringIO()
    p = AnnotateProgress(3, stream=stream, tty=False, every=0)  # 0: a line per document done
    for n in (0.4, 0.4, 0.4, 1.8):
        p.advance(n)
    p.close()
    assert [x.split(",")[0] for x in stream.getvalue().splitlines()] == [
        "annotate: 1/3 documents (33%)", "annotate: 3/3 documents (100%)"]

    stream = io.StringIO()
    p = AnnotateProgress(3, stream=stream, tty=True)  # a terminal: the bar follows the documents
    p.advance(1.5)
    assert p.bar.n == 1
    p.advance(1.5)
    assert p.bar.n == 3
    p.close()
    assert "3/3" in stream.getvalue()
    assert AnnotateProgress(3, stream=io.StringIO(), enabled=False).bar is None

    for value, expected in (("", 30.0), ("5", 5.0), ("0", 0.0), ("-1", None), ("soon", 30.0)):
        os.environ["GOVREPORT_LOG_EVERY"] = value
        try:
            assert log_every() == expected
        finally:
            del os.environ["GOVREPORT_LOG_EVERY"]


def test_quiet_verbose_and_progress_lines_of_nlp_annotate(tiny_cls, tmp_path):
    import re

    d = write_corpus(tmp_path / "in", 5)
    # forward passes of 4 sentences: several per document (of about 23 sentences)
    args = ["annotate", d, "-o", tmp_path / "o.jsonl", "--model", tiny_cls, "--entities", "rules", "--batch-size", 4]
    r = nlp("--quiet", *args)
    assert r.returncode == 0 and r.stderr == "" and r.stdout == ""
    assert len(ids(tmp_path / "o.jsonl")) == 5
    r = nlp("--verbose", *args)
    assert r.returncode == 0 and re.search(r"DEBUG nlp\.chunks: chunk of 5 input\(s\)", r.stderr), r.stderr[-2000:]
    # stderr is a pipe here: plain lines, one per document with GOVREPORT_LOG_EVERY=0, within one chunk
    r = subprocess.run([sys.executable, "-m", "nlp", *map(str, args)], capture_output=True, text=True,
                       env={**ENV, "GOVREPORT_LOG_EVERY": "0"})
    assert r.returncode == 0, r.stderr[-2000:]
    counts = [int(n) for n in re.findall(r"^annotate: (\d)/5 documents \(\d+%\), [\d.]+ doc/s", r.stderr, flags=re.M)]
    assert counts == sorted(counts) and set(counts) == {1, 2, 3, 4, 5}, r.stderr[-2000:]
    assert r.stderr.rstrip().splitlines()[-1].startswith("annotated 5 document(s)")
    r = nlp("annotate", d, "-o", tmp_path / "o.jsonl", "--model", tiny_cls, "--entities", "rules")
    assert "annotate: " not in r.stderr  # the default: a line every 30 s, none in a short run

    (d / "blank.txt").write_text("，。\n", encoding="utf-8")  # --quiet still prints errors
    r = nlp("--quiet", *args)
    assert r.returncode == 1 and "error:" in r.stderr and "blank.txt" in r.stderr and "annotated" not in r.stderr
    r = nlp("--quiet", "--verbose", "annotate", "--help")
    assert r.returncode == 1 and r.stderr.count("\n") == 1 and "--quiet or --verbose" in r.stderr


def test_help_shows_the_choices_of_choice_options():
    from nlp import annotate, config, summarize

    assert annotate.ENGINES == config.ENGINES and summarize.METHODS == config.SUMMARY_METHODS
    wide = {**ENV, "COLUMNS": "200"}
    r = subprocess.run([sys.executable, "-m", "nlp", "annotate", "--help"], capture_output=True, text=True, env=wide)
    for shown in ("[local|ray]", "[rules|model|combined]", "[headings|rules|tfidf]", "[torch|onnx]", "[cpu|cuda|cuda:N]"):
        assert shown in r.stdout, shown
    r = subprocess.run([sys.executable, "-m", "nlp", "summarize", "--help"], capture_output=True, text=True, env=wide)
    assert "[centrality|lead|textrank]" in r.stdout
    r = subprocess.run([sys.executable, "-m", "nlp", "--help"], capture_output=True, text=True, env=wide)
    assert "--quiet" in r.stdout and "--verbose" in r.stdout
