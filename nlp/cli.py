"""Command line: a thin layer over the library (parse arguments, show progress, write files)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import List, Optional

import typer
from rich.table import Table

from .cli_options import choice, err, error, errors, fail, first_line, one_line, out, progress, set_verbosity
from .config import BACKENDS, DEVICES, ENGINES, ENTITY_MODES, LABELLER_NAMES, SUMMARY_METHODS

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="govreport-nlp: read, structure, classify and extract from Chinese rule-of-law government annual reports.")


def _print_version(value: bool) -> None:
    if value:
        from . import __version__

        typer.echo(f"govreport-nlp {__version__}")
        raise typer.Exit()


@app.callback()
def _root(version: bool = typer.Option(False, "--version", callback=_print_version, is_eager=True,
                                       help="print the package version and exit"),
          quiet: bool = typer.Option(False, "--quiet", "-q", help="print errors only (no progress, notes or warnings)"),
          verbose: bool = typer.Option(False, "--verbose", "-v", help="print debug lines (the nlp.* loggers)")) -> None:
    """govreport-nlp: read, structure, classify and extract from Chinese rule-of-law government annual reports."""
    set_verbosity(quiet, verbose)


def _labeller(model: Optional[str], labeller: Optional[str]):
    from .pipeline import default_labeller, get_labeller, load_model_labeller

    if model and labeller:
        fail("give either --model or --labeller, not both")
    if model:
        try:
            return load_model_labeller(model)
        except (ValueError, OSError) as e:
            fail(f"{model}: {e}")
    try:
        return get_labeller(labeller) if labeller else default_labeller()
    except (ValueError, OSError) as e:  # a missing shipped model too
        fail(one_line(e))


def _check_entities(ner: Optional[str], entities: Optional[str]) -> None:
    from .pipeline import check_entities

    try:
        check_entities(ner, entities)
    except (ValueError, OSError) as e:
        fail(one_line(e))


def _entity_extractor(ner: Optional[str], entities: Optional[str]):
    """The entity extractor for --ner/--entities (None: the rule extractors)."""
    from .pipeline import load_entities

    _check_entities(ner, entities)
    try:
        return load_entities(ner, entities)
    except (ValueError, OSError) as e:
        msg = str(e).splitlines()[0]
        fail(msg if not ner or str(ner) in msg else f"{ner}: {msg}")


@app.command()
def annotate(
    paths: List[str] = typer.Argument(..., help="report files (.txt .html .docx .pdf), directories (recursive), globs, "
                                                "and JSONL/Parquet tables with one report per row"),
    output: Path = typer.Option(..., "-o", "--output", help="OUT.jsonl or OUT.parquet (one record per document) or OUT.csv (one row per sentence)"),
    model: Optional[str] = typer.Option(None, "--model", help="model directory or hub id (default: the shipped model)"),
    labeller: Optional[str] = choice(None, "--labeller", LABELLER_NAMES, "rule labeller instead of a model"),
    backend: Optional[str] = choice(None, "--backend", BACKENDS, "default: from the model directory"),
    batch_size: Optional[int] = typer.Option(None, "--batch-size", help="sentences per forward pass (default 64; raise it on a GPU, e.g. 512)"),
    chunk_docs: int = typer.Option(32, "--chunk-docs", help="documents whose sentences are batched together"),
    workers: int = typer.Option(1, "--workers", help="worker processes (Ray actors with --engine ray); 0: one per core"),
    resume: bool = typer.Option(False, "--resume", help="keep the documents an interrupted run finished, do the rest"),
    force: bool = typer.Option(False, "--force", help="with --resume: add to an output made by another labeller, model or version"),
    engine: str = choice("local", "--engine", ENGINES, "ray: a Ray Data job (local Ray unless RAY_ADDRESS is set)"),
    text_column: str = typer.Option("text", "--text-column", help="text column of JSONL/Parquet inputs"),
    id_column: str = typer.Option("id", "--id-column", help="id column of JSONL/Parquet inputs (missing: FILE-ROW)"),
    device: Optional[str] = choice(None, "--device", DEVICES, "default: cuda when available"),
    ner: Optional[str] = typer.Option(None, "--ner", help="entity model directory made by `nlp train ner` (combined with the rules)"),
    entities: Optional[str] = choice(None, "--entities", ENTITY_MODES, "default: combined with --ner, else the default"),
    keep_columns: Optional[str] = typer.Option(None, "--keep-columns", help="input table columns copied into each record's meta, e.g. year,region"),
) -> None:
    """Annotate reports: structure, sentence labels and entities. Streams, batches, resumes and runs in parallel.
    Progress: a bar on a terminal, else a line on stderr every GOVREPORT_LOG_EVERY seconds (default 30)."""
    import os

    from .annotate import AnnotateOptions, ENGINES, InputError, LabellerLoadError, annotate_corpus, count_inputs, prepare_output
    from .outputs import OUTPUT_SUFFIXES, OutputError, ResumeMismatchError
    from .pipeline import LabellerSpec
    from .progress import AnnotateProgress, reporting
    from .ray_engine import RayConnectionError

    if output.suffix.lower() not in OUTPUT_SUFFIXES:
        fail(f"{output}: output must end in {' or '.join(OUTPUT_SUFFIXES)}")
    if model and labeller:
        fail("give either --model or --labeller, not both")
    if engine not in ENGINES:
        fail(f"unknown --engine {engine!r}; choose from {', '.join(ENGINES)}")
    _check_entities(ner, entities)
    if workers < 0 or chunk_docs < 1 or (batch_size is not None and batch_size < 1):
        fail("--workers must be ≥ 0, --chunk-docs and --batch-size ≥ 1")
    workers = workers or (os.cpu_count() or 1)
    if engine == "ray":
        from .ray_engine import import_ray

        try:
            import_ray()
        except RuntimeError as e:
            fail(str(e))
    opts = AnnotateOptions(text_column=text_column, id_column=id_column or None, chunk_docs=chunk_docs, workers=workers, resume=resume,
                           force=force, engine=engine, keep_columns=tuple(c.strip() for c in (keep_columns or "").split(",") if c.strip()))
    try:
        prepare_output(paths, output, opts)  # before any work: unwritable, a directory, one of the inputs, table columns
    except (OutputError, InputError, ValueError) as e:
        fail(str(e))
    spec = LabellerSpec(model=model, name=labeller, backend=backend, batch_size=batch_size, device=device,
                        ner=ner, entities=entities)

    def fail_model(e: Exception) -> None:
        msg = one_line(e)
        fail(f"{model}: {msg}" if model and not msg.startswith(str(model)) and str(ner or "") not in msg else msg)

    try:
        spec.check()
    except (ValueError, OSError) as e:
        fail_model(e)
    lab = None
    if workers == 1 and engine == "local":
        try:
            lab = spec.load()
        except (ValueError, OSError) as e:
            fail_model(e)
    bar = AnnotateProgress(count_inputs(paths, opts), enabled=not err.quiet)
    try:
        with reporting(bar.advance):
            res = annotate_corpus(paths, output, spec, opts, labeller=lab, progress=bar, total=bar.total)
    except LabellerLoadError as e:
        fail_model(e)
    except ResumeMismatchError as e:
        fail(f"{e} (--resume --force adds to it anyway)")
    except (OutputError, RayConnectionError) as e:
        fail(str(e))
    except KeyboardInterrupt as e:
        bar.close()
        fail(f"interrupted; finished documents are kept in {output}.part*: rerun with --resume", 128 + getattr(e, "signum", 2))
    finally:
        bar.close()
    shown = 50
    for e in res.errors[:shown]:
        where = e["path"] + (f" (row {e['row']})" if "row" in e else "")
        error(f"{where}: {e['error']}")
    if len(res.errors) > shown:
        errors.print(f"… and {len(res.errors) - shown} more", highlight=False)
    resumed = f" (+{res.n_resumed} already in the output)" if res.n_resumed else ""
    err.print(f"annotated {res.n_docs} document(s){resumed}, {res.n_sentences} sentences, {res.n_entities} entities "
              f"with {res.labeller or (f'model:{Path(model).name}' if model else labeller or 'headings')} in {res.seconds:.1f} s ({res.docs_per_s:.1f} doc/s, "
              f"{res.sentences_per_s:.0f} sentences/s); {len(res.errors)} error(s)"
              + (f" → {res.output}" if res.output else ""), highlight=False, soft_wrap=True)
    if res.errors:
        errors.print(f"{len(res.errors)} input(s) failed; listed in {res.errors_path}", highlight=False)
        raise typer.Exit(1)


@app.command()
def summarize(
    path: Path = typer.Argument(..., help="one report file (.txt .html .docx .pdf), or a JSONL/Parquet/CSV table (input rows, or nlp annotate output)"),
    doc_id: Optional[str] = typer.Option(None, "--id", help="the document to summarise, in a table that holds several"),
    output: Path = typer.Option(..., "-o", "--output", help="OUT.md: the summary in Markdown"),
    json_out: Optional[Path] = typer.Option(None, "--json", help="also write the summary as JSON here"),
    model: Optional[str] = typer.Option(None, "--model", help="sentence classifier directory or hub id (default: the shipped model)"),
    encoder: Optional[str] = typer.Option(None, "--encoder", help="embedding model for centrality (default: the classifier's base encoder)"),
    k: int = typer.Option(3, "--k", "-k", help="sentences per part"),
    budget: Optional[int] = typer.Option(None, "--budget", help="at most this many characters of selected sentences in all"),
    method: str = choice("centrality", "--method", SUMMARY_METHODS, "how sentences are chosen"),
    min_confidence: float = typer.Option(0.5, "--min-confidence", help="skip sentences whose label the model gives less "
                                         "than this probability (labels backed by a mandated heading are kept)"),
    figures: int = typer.Option(10, "--figures", help="key figures to list"),
) -> None:
    """Summarise one report: k representative sentences per mandated part, key figures, regulations cited, scorecard."""
    from . import summarize as sm
    from .cli_tables import encoder_or_fail
    from .io import AtomicWriter, ReadError
    from .annotate import SeveralDocumentsError, read_one_document

    if method not in sm.METHODS:
        fail(f"unknown --method {method!r}; choose from {', '.join(sm.METHODS)}")
    if k < 1 or (budget is not None and budget < 1) or figures < 0:
        fail("--k and --budget must be ≥ 1, --figures ≥ 0")
    lab = _labeller(model, None)
    try:
        doc = read_one_document(path, lab, doc_id)
    except ReadError as e:
        fail(f"{e} with --id" if isinstance(e, SeveralDocumentsError) else str(e))
    enc = encoder_or_fail(encoder, lab) if method == "centrality" else None
    s = sm.summarize(doc, method=method, k=k, budget=budget, encoder=enc, n_figures=figures,
                     min_confidence=min_confidence)
    with AtomicWriter(output) as f:
        f.write(s.to_markdown())
    if json_out:
        with AtomicWriter(json_out) as f:
            json.dump(s.to_dict(), f, ensure_ascii=False, indent=1)
    n = sum(len(v) for v in s.categories.values())
    err.print(f"{n} sentence(s) in {sum(1 for v in s.categories.values() if v)} part(s), {len(s.key_figures)} key figure(s), "
              f"{len(s.regulations)} regulation(s) → {output}" + (f", {json_out}" if json_out else ""), highlight=False)


def _print_metrics(m: dict) -> None:
    from .report import metrics_renderables

    for r in metrics_renderables(m):
        out.print(r, highlight=False)


@app.command("eval")
def eval_cmd(
    paths: List[Path] = typer.Argument(..., help="GOLD.jsonl (LABELING.md format); with --compare: metrics JSON files"),
    model: Optional[str] = typer.Option(None, "--model", help="model directory or hub id"),
    labeller: Optional[str] = choice(None, "--labeller", LABELLER_NAMES, "a rule or TF-IDF baseline instead of a model"),
    json_out: Optional[Path] = typer.Option(None, "--json", help="write metrics JSON here"),
    html: Optional[Path] = typer.Option(None, "--html", help="write a self-contained HTML report"),
    md: Optional[Path] = typer.Option(None, "--md", help="write a Markdown report"),
    compare: bool = typer.Option(False, "--compare", help="compare metrics JSON files side by side (paired bootstrap)"),
    bootstrap_n: int = typer.Option(1000, "--bootstrap", help="bootstrap resamples for 95% intervals (0: none)"),
    seed: int = typer.Option(0, "--seed"),
    ner: Optional[str] = typer.Option(None, "--ner", help="entity model directory made by `nlp train ner` (combined with the rules)"),
    entities: Optional[str] = choice(None, "--entities", ENTITY_MODES, "default: combined with --ner, else the default"),
    by_rule: bool = typer.Option(False, "--by-rule", help="also score every named rule (nlp.rules): how often it fired, its precision"),
    pages: Optional[Path] = typer.Option(None, "--pages", help="directory of `nlp show` pages: the HTML report's worst errors link to them"),
) -> None:
    """Score a labeller or model against hand-labelled gold paragraphs, or compare runs."""
    from . import evaluate as ev
    from .io import AtomicWriter, ReadError

    if compare:
        _compare(paths, bootstrap_n or 1000, seed, md)
        return
    if len(paths) != 1:
        fail("give one gold file (or --compare with metrics JSON files)")
    gold = paths[0]
    try:
        docs = ev.load_gold(gold)
    except ReadError as e:  # GoldError: one line per problem
        for line in e.lines()[:-1]:
            error(line)
        fail(e.lines()[-1])
    ext = _entity_extractor(ner, entities)
    lab = _labeller(model, labeller)
    pred = ev.predict(docs, lab, entity_fn=ext.entities if ext is not None else None, progress=progress("eval"))
    if ner or entities or ext is not None:
        pred.system = f"{pred.system} + {ext.name if ext is not None else 'rules'}"
    m = ev.score(docs, pred)
    m["entities_system"] = ext.name if ext is not None else "rules"
    if bootstrap_n:
        m["bootstrap"] = ev.bootstrap(docs, pred, n=bootstrap_n, seed=seed)
    m["gold"] = str(gold.resolve())
    _print_metrics(m)
    if by_rule:
        from .rules.score import score_rules

        rules = score_rules(docs, pred)
        m["by_rule"] = rules.to_dict()
        out.print(rules.to_text(), highlight=False, markup=False, soft_wrap=True)
    if json_out:
        with AtomicWriter(json_out) as f:
            json.dump({**m, "predictions": pred.__dict__}, f, ensure_ascii=False)
        err.print(f"metrics → {json_out}")
    if html or md:
        from .report import render_html, render_markdown
        from .show import pages_href

        errors = ev.worst_errors(docs, pred)
        if html:
            with AtomicWriter(html) as f:
                f.write(render_html(m, errors, pages_href(pages, html) if pages else None))
            err.print(f"HTML report → {html}")
        if md:
            with AtomicWriter(md) as f:
                f.write(render_markdown(m, errors))
            err.print(f"Markdown report → {md}")


def _compare(paths: List[Path], n: int, seed: int, md: Optional[Path]) -> None:
    from .evaluate import compare_metric_files
    from .io import AtomicWriter, ReadError
    from .report import comparison_rows, md_table, rich_table

    try:
        rows = comparison_rows(compare_metric_files(paths, n=n, seed=seed))
    except (ReadError, ValueError) as e:
        fail(first_line(e))
    out.print(rich_table(rows, f"paired bootstrap over documents ({n} resamples); Δ and p against the first run"))
    if md:
        with AtomicWriter(md) as f:
            f.write(md_table(rows) + "\n")
        err.print(f"comparison → {md}")


from .cli_tables import entities, indicators, labels_app, regulations, report_cmd, show  # noqa: E402  (tables, report, pages, labels)
from .cli_train import export_app, pretrain, train_app  # noqa: E402  (training and export)

app.add_typer(train_app, name="train")
app.add_typer(export_app, name="export")
app.command("pretrain")(pretrain)
app.command("indicators")(indicators)
app.command("regulations")(regulations)
app.command("entities")(entities)
app.command("report")(report_cmd)
app.command("show")(show)
app.add_typer(labels_app, name="labels")


def main() -> None:
    # transformers draws a "Loading weights" bar for every model it loads, into logs too; its bars
    # follow the Hugging Face Hub switch, read when transformers is imported (later, lazily).
    # HF_HUB_DISABLE_PROGRESS_BARS=0 in the environment brings them back.
    import os

    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    app()


if __name__ == "__main__":
    main()
