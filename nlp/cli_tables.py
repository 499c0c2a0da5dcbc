"""The table, corpus, page and label commands (``nlp indicators``, ``nlp regulations``, ``nlp entities``,
``nlp report``, ``nlp show``, ``nlp labels``): read annotated JSONL or Parquet or gold files, one library call, write the result."""

from __future__ import annotations

import json
from pathlib import Path
from typing import List, Optional

import typer

from .cli_options import err, fail


def _annotated_records(paths: List[Path]) -> list[tuple[Path, list[dict]]]:
    """The records of each annotated JSONL or Parquet file; a file that is not one stops with
    ``error: PATH: problem``."""
    from .corpus_report import load_records
    from .io import ReadError

    loaded = []
    for p in paths:
        try:
            loaded.append((p, load_records(p)))
        except ReadError as e:
            fail(str(e))
    return loaded


def _check_table_output(output: Path) -> None:
    from .io import TABLE_SUFFIXES

    if output.suffix.lower() not in TABLE_SUFFIXES:
        fail(f"{output}: output must end in {' or '.join(TABLE_SUFFIXES)}")


def indicators(
    paths: List[Path] = typer.Argument(..., help="annotated JSONL or Parquet files written by nlp annotate"),
    output: Path = typer.Option(..., "-o", "--output", help="table.csv or table.parquet"),
) -> None:
    """One row per numeric indicator (METRIC) across annotated reports: indicator, value, unit, qualifier, target."""
    from .indicators import INDICATOR_FIELDS, INDICATOR_TYPES, indicator_rows
    from .io import write_table

    _check_table_output(output)
    rows: list[dict] = []
    for p, records in _annotated_records(paths):
        try:
            rows.extend(indicator_rows(records))
        except (KeyError, TypeError, ValueError) as e:
            fail(f"{p}: not an annotated document record ({type(e).__name__}: {e})")
    write_table(rows, INDICATOR_FIELDS, output, INDICATOR_TYPES)
    err.print(f"{len(rows)} indicator(s) from {len(paths)} file(s) → {output}", highlight=False)


def regulations(
    paths: List[Path] = typer.Argument(..., help="annotated JSONL or Parquet files written by nlp annotate"),
    output: Path = typer.Option(..., "-o", "--output", help="laws.csv or laws.parquet"),
) -> None:
    """Regulations cited (LAW entities) across annotated reports: normalised name (short forms such as 《纲要》
    resolved to the full name the report cites, or dropped), kind, mentions, number of documents and their ids."""
    from .indicators import REGULATION_FIELDS, REGULATION_TYPES, regulation_counts, regulation_rows
    from .io import write_table

    _check_table_output(output)
    records = [r for _, recs in _annotated_records(paths) for r in recs]
    try:
        counts = regulation_counts(records)
    except (KeyError, TypeError, AttributeError) as e:
        fail(f"{', '.join(map(str, paths))}: not annotated document records ({type(e).__name__}: {e})")
    write_table(regulation_rows(counts), REGULATION_FIELDS, output, REGULATION_TYPES)
    err.print(f"{len(counts)} regulation(s) from {len(records)} document(s) → {output}", highlight=False)


def entities(
    paths: List[Path] = typer.Argument(..., help="annotated JSONL or Parquet files written by nlp annotate"),
    output: Path = typer.Option(..., "-o", "--output", help="entities.csv or entities.parquet"),
) -> None:
    """One row per entity across annotated reports: document, offsets, type, text, METRIC target, source, rule,
    the sentence it stands in with its label and text."""
    import nlp
    from .frames import frame_rows, table_types
    from .io import ReadError, write_table

    _check_table_output(output)
    docs = []
    for p in paths:
        try:
            got = nlp.read(p)
        except ReadError as e:
            fail(str(e))
        if not got:
            fail(f"{p}: no annotated documents")
        docs.extend(got)
    types = table_types("entity")
    rows = frame_rows(nlp.to_frame(docs, level="entity"))
    write_table(rows, list(types), output, types)
    err.print(f"{len(rows)} entit{'y' if len(rows) == 1 else 'ies'} from {len(docs)} document(s) → {output}",
              highlight=False)


def encoder_or_fail(encoder: Optional[str], labeller=None):
    """The sentence encoder for summaries and themes; one line and exit when it cannot load."""
    from .summarize import load_encoder

    try:
        return load_encoder(encoder, labeller=labeller)
    except (OSError, ValueError) as e:
        fail(f"{encoder}: cannot load an encoder ({str(e).splitlines()[0]})")


def report_cmd(
    paths: List[Path] = typer.Argument(..., help="annotated JSONL (or Parquet) files written by nlp annotate"),
    output: Path = typer.Option(..., "-o", "--output", help="report.html (one self-contained file)"),
    meta: Optional[Path] = typer.Option(None, "--meta", help="table joined by id into the records' meta: year, issuer_level, … "
                                        "(e.g. ../shared/data/reports.jsonl; JSONL, CSV or Parquet)"),
    meta_id: str = typer.Option("id", "--meta-id", help="id column of the --meta table"),
    encoder: Optional[str] = typer.Option(None, "--encoder", help="embedding model for themes (default: the shipped classifier's base encoder)"),
    clusters: Optional[int] = typer.Option(None, "--clusters", help="themes per part (default: about sqrt(sentences/2), 2–10)"),
    examples: int = typer.Option(3, "--examples", help="example sentences per theme"),
    json_out: Optional[Path] = typer.Option(None, "--json", help="also write the tables as JSON here"),
    seed: int = typer.Option(0, "--seed"),
    pages: Optional[Path] = typer.Option(None, "--pages", help="directory of `nlp show` pages of the same records: "
                                         "scorecards and theme examples link to them"),
) -> None:
    """Corpus report: scorecards, part coverage, indicator density and label shares by issuer level and year, themes."""
    from . import corpus_report as cr
    from .io import AtomicWriter, ReadError

    if output.suffix.lower() not in (".html", ".htm"):
        fail(f"{output}: output must end in .html")
    if (clusters is not None and clusters < 1) or examples < 1:
        fail("--clusters and --examples must be ≥ 1")
    records: list[dict] = []
    for p in paths:
        try:
            records.extend(cr.load_records(p))
        except ReadError as e:
            fail(str(e))
    matched = 0
    if meta is not None:
        try:
            matched = cr.apply_meta(records, cr.load_meta(meta, meta_id))
        except ReadError as e:
            fail(str(e))
        if not matched:
            err.print(f"[yellow]warning:[/yellow] no record id matched an {meta_id!r} of {meta}", highlight=False)
    enc = encoder_or_fail(encoder)
    try:
        rep = cr.build_report(records, enc, n_clusters=clusters, n_examples=examples, seed=seed)
    except (KeyError, TypeError, ValueError) as e:
        fail(f"{', '.join(map(str, paths))}: not annotated document records ({type(e).__name__}: {e})")
    href = None
    if pages is not None:
        from .show import page_name, pages_href

        href = pages_href(pages, output)
        missing = sum(not (pages / page_name(c.doc_id)).is_file() for c in rep.cards)
        if missing:
            err.print(f"[yellow]warning:[/yellow] {missing} of {len(rep.cards)} report(s) have no page in {pages} "
                      f"(nlp show {' '.join(map(str, paths))} -o {pages})", highlight=False, soft_wrap=True)
    html = cr.render_corpus_html(rep, [str(p) for p in paths], getattr(enc, "name", "?"),
                                 str(meta) if meta else None, matched, pages=href)
    with AtomicWriter(output) as f:
        f.write(html)
    if json_out:
        with AtomicWriter(json_out) as f:
            json.dump(rep.to_dict(), f, ensure_ascii=False, indent=1)
    n_themes = sum(len(v) for v in rep.themes.values())
    err.print(f"{len(records)} report(s), {n_themes} theme(s) → {output}", highlight=False)


def show(
    paths: List[Path] = typer.Argument(..., help="annotated JSONL or Parquet files written by nlp annotate"),
    output: Path = typer.Option(..., "-o", "--output", help="directory for the pages (created if needed)"),
    ids: Optional[List[str]] = typer.Option(None, "--id", help="show only this document id (repeatable; default: all)"),
) -> None:
    """One HTML page per annotated document (sentences coloured by label, entities highlighted) and an index.html."""
    from .io import ReadError
    from .show import ShowError
    from .show import show as show_pages

    try:
        written = show_pages(paths, output, ids)
    except (ReadError, ShowError) as e:
        fail(str(e))
    except OSError as e:
        fail(f"{output}: cannot write ({e.strerror or e})")
    err.print(f"{len(written) - 1} page(s) and index.html → {output}", highlight=False)


labels_app = typer.Typer(no_args_is_help=True, help="Hand labels: convert gold files to and from Label Studio.")


@labels_app.command("export")
def labels_export(
    gold: Path = typer.Argument(..., help="gold JSONL, or annotated JSONL/Parquet written by nlp annotate"),
    output: Path = typer.Option(..., "-o", "--output", help="Label Studio tasks JSON"),
    config: Optional[Path] = typer.Option(None, "--config", help="also write the labelling interface XML here"),
) -> None:
    """Gold JSONL → Label Studio tasks with the gold labels as annotations; nlp annotate output →
    one task per paragraph with the model's labels as predictions (pre-annotations to correct).
    Import the tasks into a project using eval/label_studio_config.xml."""
    from .corpus_report import load_records
    from .io import AtomicWriter, ReadError, iter_jsonl
    from .labelstudio import LABEL_CONFIG, export_tasks

    try:
        records = load_records(gold) if gold.suffix.lower() == ".parquet" else list(iter_jsonl(gold))
        tasks = export_tasks(records, str(gold))
    except FileNotFoundError:
        fail(f"{gold}: no such file")
    except ReadError as e:  # GoldError: one line per problem
        for line in e.lines()[:-1]:
            err.print(f"[red]error:[/red] {line}", highlight=False, soft_wrap=True)
        fail(e.lines()[-1])
    except OSError as e:
        fail(f"{gold}: cannot read ({e.strerror or e})")
    with AtomicWriter(output) as f:
        json.dump(tasks, f, ensure_ascii=False, indent=1)
    if config:
        with AtomicWriter(config) as f:
            f.write(LABEL_CONFIG)
    n_pred = sum(1 for t in tasks if "predictions" in t)
    models = sorted({p["model_version"] for t in tasks for p in t.get("predictions", [])})
    what = f" ({n_pred} with predictions by {', '.join(models)})" if n_pred else ""
    err.print(f"{len(tasks)} tasks{what} → {output}", highlight=False, soft_wrap=True)


@labels_app.command("import")
def labels_import(
    tasks: Path = typer.Argument(..., help="Label Studio export (JSON)"),
    output: Path = typer.Option(..., "-o", "--output", help="gold JSONL"),
) -> None:
    """Label Studio export → gold JSONL (LABELING.md format). Per task the latest annotation that
    is not cancelled is the gold (predictions never are); unlabelled tasks are skipped and
    counted. Several annotators (completed_by): one gold file per annotator, GOLD.annotator-ID.jsonl
    beside GOLD.jsonl, for agreement."""
    from .io import ReadError, write_jsonl
    from .labelstudio import annotator_path, import_label_studio

    try:
        got = import_label_studio(tasks)  # checked as gold records before anything is written
    except ReadError as e:  # GoldError: one line per problem
        for line in e.lines()[:-1]:
            err.print(f"[red]error:[/red] {line}", highlight=False, soft_wrap=True)
        fail(e.lines()[-1])
    if len(got.gold) == 1:
        targets = [(next(iter(got.gold)), str(output))]
    else:
        targets, used = [], set()
        for who in got.gold:
            path = annotator_path(output, who)
            k = 2
            while path in used:
                path = annotator_path(output, f"{'unknown' if who is None else who}-{k}")
                k += 1
            used.add(path)
            targets.append((who, path))
    n = 0
    for who, path in targets:
        try:
            written = write_jsonl(got.gold[who], path)
        except OSError as e:
            fail(f"{path}: cannot write ({e.strerror or e})")
        n += written
        if len(targets) > 1:
            name = "unknown" if who is None else who
            err.print(f"annotator {name}: {written} paragraphs → {path}", highlight=False, soft_wrap=True)
    skipped = f"; {got.unlabelled} unlabelled task(s) skipped, {got.cancelled} cancelled annotation(s) ignored"
    if len(targets) == 1:
        err.print(f"{n} paragraphs → {output}{skipped}", highlight=False, soft_wrap=True)
    else:
        err.print(f"{got.tasks} tasks, {len(targets)} annotators: {n} paragraphs in {len(targets)} files{skipped}",
                  highlight=False, soft_wrap=True)
