"""Command line: a thin layer over the library (parse arguments, show progress, write files)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import List, Optional

import typer
from rich.console import Console
from rich.table import Table

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="govreport-nlp: read, structure, classify and extract from Chinese rule-of-law government annual reports.")
err = Console(stderr=True)
out = Console()


def _fail(msg: str, code: int = 1) -> None:
    err.print(f"[red]error:[/red] {msg}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def _progress(desc: str):
    from tqdm import tqdm

    def wrap(items):
        return tqdm(items, desc=desc, unit="doc", disable=None, file=sys.stderr)

    return wrap


def _labeller(model: Optional[str], labeller: Optional[str]):
    from .pipeline import default_labeller, get_labeller

    if model and labeller:
        _fail("give either --model or --labeller, not both")
    if model:
        try:
            return get_labeller("model", model=model)
        except (ValueError, OSError) as e:
            _fail(f"{model}: {e}")
    if labeller:
        try:
            return get_labeller(labeller)
        except ValueError as e:
            _fail(str(e))
    return default_labeller()


@app.command()
def annotate(
    paths: List[str] = typer.Argument(..., help="report files (.txt .html .docx .pdf), directories or globs"),
    output: Path = typer.Option(..., "-o", "--output", help="OUT.jsonl (one record per document) or OUT.csv (one row per sentence)"),
    model: Optional[str] = typer.Option(None, "--model", help="model directory or hub id (default: the shipped model)"),
    labeller: Optional[str] = typer.Option(None, "--labeller", help="rule labeller instead of a model: headings|rules"),
) -> None:
    """Annotate reports: structure, sentence labels and entities."""
    from .annotate import annotate_paths

    if output.suffix.lower() not in (".jsonl", ".csv"):
        _fail(f"{output}: output must end in .jsonl or .csv")
    lab = _labeller(model, labeller)
    res = annotate_paths(paths, output, lab, progress=_progress("annotate"))
    for e in res.errors:
        err.print(f"[red]error:[/red] {e['path']}: {e['error']}", highlight=False, soft_wrap=True)
    if res.output:
        err.print(f"annotated {res.n_docs} document(s), {res.n_sentences} sentences, {res.n_entities} entities "
                  f"with {lab.name} → {res.output}", highlight=False)
    if res.errors:
        err.print(f"{len(res.errors)} file(s) failed; listed in {res.errors_path}", highlight=False)
        raise typer.Exit(1)


def _print_metrics(m: dict) -> None:
    cls = m["classification"]
    t = Table(title=f"{m['model']} — {m['n_sentences']} sentences, {m['n_paragraphs']} paragraphs")
    t.add_column("label")
    for col in ("P", "R", "F1", "support"):
        t.add_column(col, justify="right")
    for lab, v in cls["sentence"]["per_label"].items():
        t.add_row(lab, f"{v['precision']:.3f}", f"{v['recall']:.3f}", f"{v['f1']:.3f}", str(v["support"]))
    out.print(t)
    line = f"sentence macro-F1 {cls['sentence']['macro_f1']:.3f} (in context)"
    if "sentence_alone" in cls:
        line += f", {cls['sentence_alone']['macro_f1']:.3f} (alone)"
    line += f"; accuracy {cls['sentence']['accuracy']:.3f}; paragraph macro-F1 {cls['paragraph']['macro_f1']:.3f}"
    out.print(line, highlight=False)
    e = m["entities"]
    t = Table(title="entities (strict)")
    t.add_column("type")
    for col in ("P", "R", "F1", "support", "partial F1"):
        t.add_column(col, justify="right")
    for ty, v in e["strict"]["per_type"].items():
        t.add_row(ty, f"{v['precision']:.3f}", f"{v['recall']:.3f}", f"{v['f1']:.3f}", str(v["support"]),
                  f"{e['partial']['per_type'][ty]['f1']:.3f}")
    t.add_row("micro", "", "", f"{e['strict']['micro_f1']:.3f}", str(e["n_gold"]), f"{e['partial']['micro_f1']:.3f}")
    out.print(t)
    if e.get("metric_target_accuracy") is not None:
        out.print(f"METRIC target-flag accuracy {e['metric_target_accuracy']:.3f} ({e['metric_target_n']} matched metrics)")


@app.command("eval")
def eval_cmd(
    gold: Path = typer.Argument(..., help="gold JSONL (LABELING.md format)"),
    model: Optional[str] = typer.Option(None, "--model", help="model directory or hub id"),
    labeller: Optional[str] = typer.Option(None, "--labeller", help="baseline: headings|rules|tfidf"),
    json_out: Optional[Path] = typer.Option(None, "--json", help="write metrics JSON here"),
    html: Optional[Path] = typer.Option(None, "--html", help="write a self-contained HTML report"),
    md: Optional[Path] = typer.Option(None, "--md", help="write a Markdown report"),
    bootstrap_n: int = typer.Option(1000, "--bootstrap", help="bootstrap resamples for 95% intervals (0: none)"),
    seed: int = typer.Option(0, "--seed"),
) -> None:
    """Score a labeller or model against hand-labelled gold paragraphs."""
    from . import evaluate as ev
    from .io import AtomicWriter, ReadError

    try:
        docs = ev.load_gold(gold)
    except ReadError as e:
        _fail(str(e))
    lab = _labeller(model, labeller)
    pred = ev.predict(docs, lab, progress=_progress("eval"))
    m = ev.score(docs, pred)
    if bootstrap_n:
        m["bootstrap"] = ev.bootstrap(docs, pred, n=bootstrap_n, seed=seed)
    m["gold"] = str(gold)
    _print_metrics(m)
    if json_out:
        with AtomicWriter(json_out) as f:
            json.dump(m, f, ensure_ascii=False, indent=1)
        err.print(f"metrics → {json_out}")
    if html or md:
        from .report import render_html, render_markdown

        errors = ev.worst_errors(docs, pred)
        if html:
            with AtomicWriter(html) as f:
                f.write(render_html(m, errors))
            err.print(f"HTML report → {html}")
        if md:
            with AtomicWriter(md) as f:
                f.write(render_markdown(m, errors))
            err.print(f"Markdown report → {md}")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
