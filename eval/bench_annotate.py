"""Benchmark batch annotation on a generated corpus of report-like files.

    python eval/bench_annotate.py --n-files 10000 [--model DIR] [--out eval/BENCHMARKS.md]

The corpus is written by this script from templates (invented sentences in the style of
the reports: title, chrome lines, the four mandated sections with numbers, laws and
targets); no real report text is used. Each configuration runs as its own process tree,
timed on the wall clock, with peak memory taken as the largest sum of the resident set
sizes of the process and all its children (psutil, sampled every 50 ms):

  naive        a loop calling a Hugging Face ``pipeline("text-classification")`` sentence by
               sentence with the same model (context, sentence pairs), on ``--naive-files`` files
  torch-1      ``nlp annotate --workers 1``
  torch-1-rules  the same with ``--entities rules`` (no entity tagger): the tagger's cost
  torch-N      ``nlp annotate --workers N`` (N = all cores)
  onnx-int8-1  ``nlp annotate --backend onnx`` on ``nlp export onnx --int8`` of the model
  onnx-int8-N  the same with N workers

``--repeat K`` times the annotate configurations in K round-robin rounds and reports the median
wall time of each and the per-round speed ratios (the machine's speed drifts by ±10% between
runs, so a single run cannot settle a ratio near a threshold). ``torch-1`` runs once more on
a tenth of the corpus, to show that peak memory does not grow with the corpus (streaming). A Markdown report with the machine's CPU and cores goes to
``--out``. ``--model`` defaults to a fine-tuned BERT classifier shipped under ``models/``;
``--random-model`` times a random-weight BERT of the ``mini`` shape instead (speed only).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PLACES = ["东湖县", "西山区", "南河市", "北岭县", "青松县", "白石区", "云台市", "江口县", "金川区", "石门县"]
LAWS = ["《中华人民共和国行政复议法》", "《法治政府建设实施纲要(2021-2025年)》", "《重大行政决策程序暂行条例》",
        "《优化营商环境条例》", "《中华人民共和国行政处罚法》", "《政府信息公开条例》"]
CHROME = ["首页 > 政务公开 > 法治政府建设", "索引号:{code}/{year}-{n:05d}", "发布日期: {year}-0{m}-1{d}",
          "字体:[大 中 小] 打印本页 关闭窗口", "扫一扫在手机打开当前页"]
DUTY = ["{place}政府主要领导带头抓法治工作,先后{k}次在常务会议上研究依法行政事项。",
        "严格落实{law},将法治建设纳入年度绩效考核,权重不低于{pct}%。",
        "组织政府常务会议会前学法{k}场次,领导干部旁听庭审{k}人次。",
        "主要负责人带头讲法治课,年内开展述法评议{k}次。"]
MEASURES = ["深化“放管服”改革,全年办理审批事项{n}件,按时办结率达{pct2}%。",
            "推进严格规范公正文明执法,开展行政执法案卷评查{k}卷,发现问题{k}个并全部整改。",
            "办理行政复议案件{k}件,依法纠错{k}件,纠错率{pct}.{d}%。",
            "全面推行行政执法“三项制度”,公示执法信息{n}条。",
            "健全重大行政决策程序,对{k}项重大决策开展合法性审查。",
            "开展规范性文件备案审查,审查文件{k}件,纠正{d}件。",
            "依法化解行政争议,行政机关负责人出庭应诉率达到{pct2}%。",
            "主动公开政府信息{n}条,办理依申请公开{k}件。",
            "组织执法人员培训{k}期,培训{n}人次,考试合格率{pct2}%。",
            "加强法治宣传教育,开展“八五”普法活动{k}场,覆盖群众{n}人次。",
            "深入推进公共法律服务体系建设,建成村(社区)法律顾问全覆盖。",
            "落实{law}有关要求,完善行政裁量权基准{k}项。"]
PROBLEMS = ["一是部分执法人员法治意识有待增强;二是基层执法力量仍然不足。",
            "行政复议应诉能力仍需提升,个别案件办理不够规范。",
            "法治宣传的针对性和实效性还不够强,群众参与度不高。",
            "重大行政决策公众参与程度不够,专家论证机制有待完善。"]
PLANS = ["下一步,我们将持续深化法治政府建设,推动各项任务落地见效。",
         "力争{year1}年行政机关负责人出庭应诉率保持在{pct2}%以上。",
         "计划明年完成规范性文件清理{k}件,培训执法人员不少于{n}人次。",
         "进一步加强执法监督,确保行政复议纠错率控制在{pct}%以内。"]
HEAD = ["一、主要负责人履行推进法治建设第一责任人职责情况", "二、推进法治政府建设的主要举措和成效",
        "三、存在的问题及原因", "四、下一年度推进法治政府建设的主要安排"]
SUBHEAD = ["(一)深化行政审批制度改革", "(二)严格规范公正文明执法", "(三)强化行政权力制约监督",
           "(四)依法有效化解社会矛盾纠纷", "(五)加强法治宣传和队伍建设"]


def make_report(i: int) -> str:
    """One invented report-like text (deterministic in ``i``); length varies like real ones."""
    rng = random.Random(i)
    place, year = rng.choice(PLACES), rng.choice([2021, 2022, 2023, 2024])

    def fill(t: str) -> str:
        return t.format(place=place, law=rng.choice(LAWS), n=rng.randint(100, 99999), k=rng.randint(2, 60),
                        pct=rng.randint(5, 30), pct2=rng.randint(90, 100), d=rng.randint(1, 9), m=rng.randint(1, 9),
                        year=year + 1, year1=year + 1, code=rng.randint(100000, 999999))

    lines = [fill(c) for c in rng.sample(CHROME, rng.randint(1, len(CHROME)))]
    lines += [f"{place}人民政府关于{year}年度法治政府建设情况的报告", f"{year}年,{place}坚持依法行政,现将有关情况报告如下。"]
    lines += [HEAD[0]] + [fill(s) for s in rng.sample(DUTY, rng.randint(1, len(DUTY)))]
    lines.append(HEAD[1])
    for sub in rng.sample(SUBHEAD, rng.randint(2, len(SUBHEAD))):
        lines.append(sub)
        lines += [fill(rng.choice(MEASURES)) for _ in range(rng.randint(2, 12))]
    lines += [HEAD[2]] + [fill(s) for s in rng.sample(PROBLEMS, rng.randint(1, len(PROBLEMS)))]
    lines += [HEAD[3]] + [fill(s) for s in rng.sample(PLANS, rng.randint(1, len(PLANS)))]
    lines += [f"{place}人民政府", f"{year + 1}年{rng.randint(1, 3)}月{rng.randint(1, 28)}日"]
    return "\n".join(lines) + "\n"


def make_corpus(d: Path, n: int) -> Path:
    """``n`` report files under ``d`` (1,000 to a folder); kept between runs."""
    stamp = d / ".complete"
    if stamp.exists() and stamp.read_text() == str(n):
        return d
    for i in range(n):
        sub = d / f"{i // 1000:03d}"
        sub.mkdir(parents=True, exist_ok=True)
        (sub / f"report-{i:06d}.txt").write_text(make_report(i), encoding="utf-8")
    stamp.write_text(str(n))
    return d


def random_model(d: Path) -> Path:
    """A random-weight BERT classifier of the ``mini`` shape (4 layers, hidden 256) with a
    character vocabulary of the templates: for timing when no trained model is at hand."""
    if (d / "config.json").exists():
        return d
    import torch
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizerFast

    from nlp.schema import LABELS

    torch.manual_seed(0)
    chars = sorted(set("".join(make_report(i) for i in range(200))) - set("\n "))
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + chars
    d.mkdir(parents=True, exist_ok=True)
    BertTokenizerFast(vocab={t: i for i, t in enumerate(vocab)}).save_pretrained(str(d))
    cfg = BertConfig(vocab_size=len(vocab), hidden_size=256, num_hidden_layers=4, num_attention_heads=4,
                     intermediate_size=1024, max_position_embeddings=512, id2label=dict(enumerate(LABELS)),
                     label2id={lab: i for i, lab in enumerate(LABELS)})
    BertForSequenceClassification(cfg).save_pretrained(str(d))
    (d / "README.md").write_text("Random weights: for timing only.\n", encoding="utf-8")
    return d


def default_model() -> Path | None:
    """A fine-tuned BERT sentence classifier under models/ (config.json with the report labels)."""
    from nlp.schema import LABELS

    models = ROOT / "models"
    cands = sorted(p.parent for p in models.glob("*/config.json")) if models.is_dir() else []
    cands.sort(key=lambda p: (not p.name.startswith("default"), p.name))
    for p in cands:
        try:
            labels = json.loads((p / "config.json").read_text(encoding="utf-8")).get("id2label", {}).values()
        except (OSError, ValueError):
            continue
        if sorted(labels) == sorted(LABELS) and (p / "model.safetensors").exists():
            return p
    return None


# --------------------------------------------------------------------------- measuring


@dataclass
class Run:
    name: str
    description: str
    files: int
    docs: int = 0
    sentences: int = 0
    seconds: float = 0.0
    peak_rss: int = 0  # bytes, process tree
    ok: bool = True
    note: str = ""
    rounds: list = None  # sentences/s of each round (--repeat)

    @property
    def docs_s(self) -> float:
        return self.docs / self.seconds if self.seconds else 0.0

    @property
    def sents_s(self) -> float:
        return self.sentences / self.seconds if self.seconds else 0.0


def measure(cmd: list[str], env: dict | None = None) -> tuple[float, int, subprocess.CompletedProcess]:
    """Wall time and peak tree RSS (bytes) of a command."""
    import psutil

    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT)
    peak = 0
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak
        try:
            proc = psutil.Process(p.pid)
        except psutil.Error:
            return
        while not stop.is_set():
            total = 0
            try:
                for q in [proc] + proc.children(recursive=True):
                    try:
                        total += q.memory_info().rss
                    except psutil.Error:
                        pass
            except psutil.Error:
                break
            peak = max(peak, total)
            stop.wait(0.05)

    th = threading.Thread(target=sample, daemon=True)
    th.start()
    out, err = p.communicate()
    stop.set()
    th.join()
    return time.perf_counter() - t0, peak, subprocess.CompletedProcess(cmd, p.returncode, out, err)


def count_output(path: Path) -> tuple[int, int]:
    docs = sents = 0
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                docs += 1
                sents += len(json.loads(line)["sentences"])
    return docs, sents


def files_of(corpus: Path, n: int) -> list[str]:
    return [str(p) for p in sorted(corpus.glob("*/*.txt"))[:n]]


def run_nlp(name: str, desc: str, corpus: Path, n: int, model: Path, work: Path, extra: list[str]) -> Run:
    out = work / f"{name}.jsonl"
    cmd = [sys.executable, "-m", "nlp", "annotate", str(corpus), "-o", str(out), "--model", str(model), *extra]
    secs, peak, r = measure(cmd)
    run = Run(name, desc, n, seconds=secs, peak_rss=peak, ok=r.returncode == 0)
    if out.exists():
        run.docs, run.sentences = count_output(out)
        out.unlink()
    if not run.ok:
        run.note = (r.stderr.strip().splitlines() or ["failed"])[-1][:200]
    return run


def median_run(rs: list[Run]) -> Run:
    """One row for the rounds of a configuration: the median wall time (the counts are the same
    in every round); the note gives every round's sentences/s when there was more than one."""
    good = [r for r in rs if r.ok]
    if not good:
        return rs[0]
    med = statistics.median(r.seconds for r in good)
    r0 = good[0]
    out = Run(r0.name, r0.description, r0.files, r0.docs, r0.sentences, med, max(r.peak_rss for r in good))
    out.rounds = [r.sents_s for r in rs]
    if len(rs) > 1:
        out.note = f"median of {len(rs)} rounds; rounds: " + ", ".join(f"{x:.0f}" for x in out.rounds)
    return out


def paired_ratios(runs: list[Run], num: str, den: str) -> list[float]:
    """Per-round ratio of the sentences/s of two configurations timed in the same rounds."""
    a = next((r for r in runs if r.name == num), None)
    b = next((r for r in runs if r.name == den), None)
    if a is None or b is None:
        return []
    return [x / y for x, y in zip(getattr(a, "rounds", []), getattr(b, "rounds", [])) if y]


def naive_main(args: argparse.Namespace) -> None:
    """(internal) The naive baseline: a transformers pipeline called once per sentence."""
    from transformers import pipeline

    from nlp.io import read_document_text
    from nlp.modeling import sentence_contexts
    from nlp.text import build_document

    pipe = pipeline("text-classification", model=args.model, tokenizer=args.model, device="cpu", top_k=None)
    docs = sents = 0
    with open(args.output, "w", encoding="utf-8") as out:
        for path in files_of(Path(args.corpus), args.n):
            doc = build_document(read_document_text(path).text, Path(path).stem)
            labels = []
            for ctx, s in zip(sentence_contexts(doc), doc.sentences):
                scores = pipe({"text": ctx, "text_pair": s.text}, truncation=True, max_length=160)
                labels.append(max(scores, key=lambda x: x["score"])["label"])
            out.write(json.dumps({"id": doc.id, "labels": labels}, ensure_ascii=False) + "\n")
            docs += 1
            sents += len(labels)
    print(json.dumps({"docs": docs, "sentences": sents}))


def run_naive(corpus: Path, n: int, model: Path, work: Path) -> Run:
    out = work / "naive.jsonl"
    cmd = [sys.executable, str(Path(__file__).resolve()), "_naive", "--model", str(model), "--corpus", str(corpus),
           "--n", str(n), "--output", str(out)]
    secs, peak, r = measure(cmd)
    run = Run("naive", "HF `pipeline(\"text-classification\")`, one sentence per call", n, seconds=secs,
              peak_rss=peak, ok=r.returncode == 0)
    if run.ok:
        counts = json.loads(r.stdout.strip().splitlines()[-1])
        run.docs, run.sentences = counts["docs"], counts["sentences"]
    else:
        run.note = (r.stderr.strip().splitlines() or ["failed"])[-1][:200]
    out.unlink(missing_ok=True)
    return run


def machine() -> dict[str, str]:
    import psutil

    cpu = platform.processor() or "?"
    try:
        for line in open("/proc/cpuinfo", encoding="utf-8"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    info = {"CPU": cpu, "cores": f"{os.cpu_count()} logical, {psutil.cpu_count(logical=False)} physical",
            "memory": f"{psutil.virtual_memory().total / 2**30:.0f} GiB", "OS": platform.platform(),
            "Python": platform.python_version(), "load average at start": " ".join(f"{x:.2f}" for x in os.getloadavg())}
    try:
        import torch

        info["torch"] = torch.__version__
        info["GPU"] = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none"
    except ImportError:
        pass
    try:
        import onnxruntime

        info["onnxruntime"] = onnxruntime.__version__
    except ImportError:
        pass
    return info


STREAM_CONFIGS = {"torch-1": "`nlp annotate --workers 1`",
                  "onnx-int8-1": "`nlp annotate --backend onnx --workers 1` (int8)"}


def report(runs: list[Run], stream: list[Run], info: dict, args: argparse.Namespace, model: Path, model_note: str) -> str:
    mib = 2 ** 20
    lines = ["# Batch annotation benchmark", "",
             f"Made by `python eval/bench_annotate.py {' '.join(sys.argv[1:])}` on {time.strftime('%Y-%m-%d %H:%M')}.",
             f"Model: `{model}` ({model_note}). Corpus: {args.n_files} generated report-like files "
             "(templates in the script, no real text).", "", "| machine | |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in info.items()]
    lines += ["", "| configuration | files | documents | sentences | wall s | documents/s | sentences/s | peak RSS MiB |",
              "|---|---|---|---|---|---|---|---|"]
    notes: list[str] = []
    for r in runs:
        if r.ok:
            lines.append(f"| {r.name}: {r.description} | {r.files} | {r.docs} | {r.sentences} | {r.seconds:.1f} | "
                         f"{r.docs_s:.2f} | {r.sents_s:.0f} | {r.peak_rss / mib:.0f} |")
            if r.note:
                notes.append(f"- {r.name}: {r.note}")
        else:
            lines.append(f"| {r.name}: {r.description} | {r.files} | failed: {r.note} | | | | | |")
    if notes:
        lines += ["", "Sentences/s per round (the table gives the median wall time):", ""] + notes
    ratio_lines = []
    for num in [r.name for r in runs if r.name.startswith("onnx-int8")]:
        for den in [r.name for r in runs if r.name.startswith("torch")]:
            q = paired_ratios(runs, num, den)
            if len(q) > 1:
                ratio_lines.append(f"| {num} / {den} | {statistics.median(q):.2f} | {min(q):.2f} | {max(q):.2f} | "
                                   + ", ".join(f"{x:.2f}" for x in q) + " |")
    if ratio_lines:
        lines += ["", "Speed ratios paired by round (each round times every configuration once, one after another):",
                  "", "| ratio of sentences/s | median | min | max | rounds |", "|---|---|---|---|---|"] + ratio_lines
    if stream:
        what = STREAM_CONFIGS[args.stream_config]
        lines += ["", f"Streaming: peak memory of {what} at two corpus sizes (it should not grow "
                  "with the corpus).", "", "| files | documents | sentences | wall s | sentences/s | peak RSS MiB |",
                  "|---|---|---|---|---|---|"]
        lines += [f"| {r.files} | {r.docs} | {r.sentences} | {r.seconds:.1f} | {r.sents_s:.0f} | {r.peak_rss / mib:.0f} |"
                  for r in stream]
    lines += ["", "Wall time includes starting Python, importing PyTorch and loading the model (and, for N workers, "
              "starting the worker processes). Peak RSS is the largest sum over the process tree, sampled every "
              "50 ms. The naive baseline runs on the first files only (`--naive-files`); its rates compare directly.",
              ""]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", type=Path, help="fine-tuned BERT classifier directory (default: one under models/)")
    ap.add_argument("--random-model", action="store_true", help="time a random-weight BERT (mini shape) instead")
    ap.add_argument("--n-files", type=int, default=10000)
    ap.add_argument("--naive-files", type=int, default=200, help="files for the naive baseline (it is slow)")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="N for the all-cores runs")
    ap.add_argument("--work", type=Path, default=ROOT / ".cache" / "bench", help="corpus and scratch folder")
    ap.add_argument("--out", type=Path, default=ROOT / "eval" / "BENCHMARKS.md")
    ap.add_argument("--only", default="naive,torch-1,torch-N,onnx-int8-1,onnx-int8-N,stream",
                    help="comma-separated configurations to run")
    ap.add_argument("--stream-config", choices=sorted(STREAM_CONFIGS), default="torch-1",
                    help="the configuration run again on a tenth of the corpus for the streaming check")
    ap.add_argument("--repeat", type=int, default=1,
                    help="time the annotate configurations this many rounds, round-robin (the table gives the median)")
    ap.add_argument("--append", action="store_true", help="append this run's report to --out instead of replacing it")
    args = ap.parse_args()
    only = set(args.only.split(","))
    args.work.mkdir(parents=True, exist_ok=True)
    if args.random_model:
        model, note = random_model(args.work / "random-mini"), "random weights, mini shape: speed only"
    else:
        model = args.model or default_model()
        if model is None:
            sys.exit("no fine-tuned BERT classifier under models/: give --model DIR (or --random-model)")
        note = "given" if args.model else "shipped default"
    info = machine()  # before the runs: the load average tells whether the machine was idle
    corpus = make_corpus(args.work / f"corpus-{args.n_files}", args.n_files)
    n = args.n_files
    w = max(1, args.workers)
    runs: list[Run] = []

    def log(r: Run) -> None:
        print(f"{r.name:12s} {r.docs:6d} docs {r.seconds:8.1f} s {r.docs_s:8.2f} doc/s {r.sents_s:8.0f} sent/s "
              f"{r.peak_rss / 2**20:7.0f} MiB {r.note}", file=sys.stderr, flush=True)
        runs.append(r)

    if "naive" in only:
        log(run_naive(corpus, min(n, args.naive_files), model, args.work))
    onnx_dir = args.work / f"{model.name}-onnx-int8"
    if {"onnx-int8-1", "onnx-int8-N"} & only or ("stream" in only and args.stream_config == "onnx-int8-1"):
        r = subprocess.run([sys.executable, "-m", "nlp", "export", "onnx", "--model", str(model), "--output",
                            str(onnx_dir), "--int8"], capture_output=True, text=True, cwd=ROOT)
        if r.returncode != 0:
            sys.exit(f"ONNX export failed: {r.stderr.strip()[-500:]}")
    onnx_flags = ["--backend", "onnx", "--workers", "1"]
    configs = []  # (name, description, model, flags), timed round-robin --repeat times
    if "torch-1" in only:
        configs.append(("torch-1", "`nlp annotate --workers 1`", model, ["--workers", "1"]))
    if "torch-1-rules" in only:  # the default entities without the tagger: what the tagger costs
        configs.append(("torch-1-rules", "`nlp annotate --workers 1 --entities rules`", model,
                        ["--workers", "1", "--entities", "rules"]))
    if "torch-N" in only and w > 1:
        configs.append((f"torch-{w}", f"`nlp annotate --workers {w}`", model, ["--workers", str(w)]))
    if "onnx-int8-1" in only:
        configs.append(("onnx-int8-1", "`nlp annotate --backend onnx --workers 1` (int8)", onnx_dir, onnx_flags))
    if "onnx-int8-N" in only and w > 1:
        configs.append((f"onnx-int8-{w}", f"`nlp annotate --backend onnx --workers {w}` (int8)", onnx_dir,
                        ["--backend", "onnx", "--workers", str(w)]))
    rounds: dict[str, list[Run]] = {c[0]: [] for c in configs}
    for k in range(max(1, args.repeat)):
        for name, desc, m, flags in configs:
            r = run_nlp(name, desc, corpus, n, m, args.work, flags)
            if args.repeat > 1:
                print(f"round {k + 1}/{args.repeat}: ", end="", file=sys.stderr)
            print(f"{r.name:12s} {r.docs:6d} docs {r.seconds:8.1f} s {r.sents_s:8.0f} sent/s", file=sys.stderr, flush=True)
            rounds[name].append(r)
    for name, rs in rounds.items():
        runs.append(median_run(rs))
    stream: list[Run] = []
    if "stream" in only:
        small = max(10, n // 10)
        smodel, sflags = (onnx_dir, onnx_flags) if args.stream_config == "onnx-int8-1" else (model, ["--workers", "1"])
        s = run_nlp("stream-small", "", make_corpus(args.work / f"corpus-{small}", small), small, smodel, args.work,
                    sflags)
        stream.append(s)
        full = next((r for r in runs if r.name == args.stream_config), None) or \
            run_nlp("stream-full", "", corpus, n, smodel, args.work, sflags)
        stream.append(full)
        print(f"streaming: {small} files {s.peak_rss / 2**20:.0f} MiB, {n} files {full.peak_rss / 2**20:.0f} MiB",
              file=sys.stderr)
    text = report(runs, stream, info, args, model, note)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    if args.append and args.out.exists():
        text = args.out.read_text(encoding="utf-8").rstrip("\n") + "\n\n" + text.replace("# Batch annotation benchmark",
                                                                                       "# Batch annotation benchmark (another run)", 1)
    args.out.write_text(text, encoding="utf-8")
    print(f"→ {args.out}", file=sys.stderr)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "_naive":
        p = argparse.ArgumentParser()
        p.add_argument("_naive")
        p.add_argument("--model")
        p.add_argument("--corpus")
        p.add_argument("--n", type=int)
        p.add_argument("--output")
        naive_main(p.parse_args())
    else:
        main()
