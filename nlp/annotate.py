"""Batch annotation of large corpora: many inputs → one JSONL, CSV or Parquet output of
annotated documents, with bad inputs listed in ``OUT.errors.jsonl`` rather than stopping
the run.

- **Streaming**: inputs (files, directories walked recursively, globs, and JSONL/Parquet
  tables with one document per row) are enumerated lazily and cut into chunks of
  ``chunk_docs`` documents; at most a few chunks are in memory at once.
- **Batching**: a chunk's documents are read and structured, then all their sentences go
  through one ``label_many`` call when the labeller has it (sorted by length across
  documents, padded to the longest of each batch only), under ``torch.inference_mode`` and,
  on a GPU, bf16 autocast.
- **Resumable**: records are written chunk by chunk to a part file and fsynced
  (``nlp.outputs``); ``resume=True`` skips documents already finished after any crash.
  Chunk boundaries depend only on the input order, and a chunk that was half written is
  labelled again whole, so a resumed run writes the same records as an uninterrupted one.
- **Parallel**: ``workers=N`` runs chunks in N processes (spawn context; each loads the
  labeller once from a ``LabellerSpec``); results are written in input order.
  ``engine="ray"`` runs the same chunks as a Ray Data job (``nlp.ray_engine``).
"""

from __future__ import annotations

import glob
import json
import os
import sys
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Sequence

from .chunks import (ChunkResult, InputItem, annotate_chunk, error_record, inference_context,  # noqa: F401
                     release_free_memory, structure_bytes, structure_item)
from .io import ReadError
from .modeling import cpu_has_native_bf16  # noqa: F401 (the switch of the CPU bf16 autocast)
from .outputs import ErrorLog, OUTPUT_SUFFIXES, error_key, open_writer
from .pipeline import Labeller, LabellerSpec, doc_id_for

REPORT_SUFFIXES = {".txt", ".htm", ".html", ".shtml", ".docx", ".pdf", ".text", ""}
TABLE_SUFFIXES = {".jsonl", ".ndjson", ".parquet"}  # inputs with one document per row
ENGINES = ("local", "ray")


def expand_inputs(paths: Iterable[str]) -> Iterator[str]:
    """Files named, files under directories (recursive, sorted, report suffixes only), and
    glob matches (``**`` recurses). A path that matches nothing is yielded as is, so that
    its error is reported. JSONL and Parquet tables are read when named or matched by a
    glob, never picked up from a directory (an output left there must not become input)."""
    for p in paths:
        if any(ch in p for ch in "*?[") and not os.path.exists(p):
            matches = sorted(glob.glob(p, recursive=True))
            if matches:
                yield from (m for m in matches if os.path.isfile(m))
                continue
        if os.path.isdir(p):
            for root, dirs, files in os.walk(p):
                dirs.sort()
                dirs[:] = [d for d in dirs if not d.startswith(".")]
                for f in sorted(files):
                    if Path(f).suffix.lower() in REPORT_SUFFIXES and not f.startswith("."):
                        yield os.path.join(root, f)
        else:
            yield p


@dataclass
class AnnotateOptions:
    text_column: str = "text"  # JSONL/Parquet inputs
    id_column: str | None = "id"  # JSONL/Parquet inputs; missing → "<file stem>-<row>"
    chunk_docs: int = 32  # documents per chunk (one label_many call)
    workers: int = 1
    resume: bool = False
    engine: str = "local"  # local | ray
    max_in_flight: int | None = None  # chunks queued per run (default 2 × workers)


@dataclass
class ProgressUpdate:
    inputs_done: int  # inputs handled, skipped ones (finished before a resume) included
    docs: int  # documents annotated by this run so far
    sentences: int  # … and their sentences
    errors: int  # bad inputs listed so far (earlier runs included)
    total: int | None  # inputs in all, when counted
    elapsed: float  # seconds since the run started


@dataclass
class BatchResult:
    n_docs: int = 0  # annotated by this run
    n_sentences: int = 0
    n_entities: int = 0
    n_resumed: int = 0  # documents already in the output from an earlier run
    errors: list[dict[str, Any]] = field(default_factory=list)
    output: str | None = None
    errors_path: str | None = None
    labeller: str | None = None
    seconds: float = 0.0

    @property
    def docs_per_s(self) -> float:
        return self.n_docs / self.seconds if self.seconds > 0 else 0.0

    @property
    def sentences_per_s(self) -> float:
        return self.n_sentences / self.seconds if self.seconds > 0 else 0.0


def errors_path_for(out: str | os.PathLike) -> Path:
    out = Path(out)
    return out.with_name(out.name.rsplit(".", 1)[0] + ".errors.jsonl")


# --------------------------------------------------------------------------- inputs


class _Ids:
    """Unique document ids in input order (the second ``a`` becomes ``a-2``)."""

    def __init__(self) -> None:
        self.seen: dict[str, int] = {}

    def __call__(self, base: str) -> str:
        n = self.seen.get(base, 0)
        self.seen[base] = n + 1
        return base if n == 0 else f"{base}-{n + 1}"


def _table_rows(path: str, opts: AnnotateOptions) -> Iterator[tuple[int, dict[str, Any] | None, str | None]]:
    """(row, values, problem) for each row of a JSONL or Parquet table; a table that cannot
    be read at all raises ReadError."""
    p = Path(path)
    if not p.exists():
        raise ReadError(path, "no such file")
    if p.suffix.lower() == ".parquet":
        import pyarrow.parquet as pq

        try:
            pf = pq.ParquetFile(p)
        except Exception as e:  # pyarrow raises several kinds for a corrupt file
            raise ReadError(path, f"not a readable Parquet file ({type(e).__name__})")
        names = pf.schema_arrow.names
        if opts.text_column not in names:
            raise ReadError(path, f"no column {opts.text_column!r} (columns: {', '.join(names)})")
        cols = [opts.text_column] + ([opts.id_column] if opts.id_column and opts.id_column in names
                                     and opts.id_column != opts.text_column else [])
        row = 0
        for batch in pf.iter_batches(batch_size=256, columns=cols):
            for values in batch.to_pylist():
                yield row, values, None
                row += 1
        return
    try:
        f = open(p, "rb")
    except OSError as e:
        raise ReadError(path, f"cannot read ({e.strerror})")
    with f:
        row = 0
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                values = json.loads(line)
            except ValueError as e:
                yield row, None, f"line {lineno} is not valid JSON ({getattr(e, 'msg', e)})"
            else:
                if isinstance(values, dict):
                    yield row, values, None
                else:
                    yield row, None, f"line {lineno} is not a JSON object"
            row += 1


def iter_inputs(paths: Sequence[str], opts: AnnotateOptions | None = None) -> Iterator[InputItem]:
    """Every document of the inputs, in order, with its unique id. Rows of a JSONL/Parquet
    table take their id from ``opts.id_column`` when present."""
    opts = opts or AnnotateOptions()
    ids = _Ids()
    index = 0
    for path in expand_inputs(paths):
        if Path(path).suffix.lower() not in TABLE_SUFFIXES:
            yield InputItem(index, ids(doc_id_for(path)), str(path))
            index += 1
            continue
        fmt = "parquet" if path.lower().endswith(".parquet") else "jsonl"
        stem = doc_id_for(path)
        try:
            for row, values, problem in _table_rows(path, opts):
                text = None if values is None else values.get(opts.text_column)
                if problem is None and not isinstance(text, str):
                    problem = f"no text in column {opts.text_column!r}"
                elif problem is None and not text.strip():
                    problem = "empty text"
                raw_id = values.get(opts.id_column) if (values is not None and opts.id_column) else None
                base = str(raw_id) if raw_id not in (None, "") else f"{stem}-{row}"
                yield InputItem(index, ids(base), str(path), text if problem is None else None, row, fmt, problem)
                index += 1
        except ReadError as e:
            yield InputItem(index, "", str(path), error=e.problem)
            index += 1


def count_inputs(paths: Sequence[str], opts: AnnotateOptions | None = None) -> int:
    """How many documents ``iter_inputs`` will give, cheaply (for a progress bar): files are
    counted by walking, Parquet rows from the footer, JSONL rows by counting lines."""
    n = 0
    for path in expand_inputs(paths):
        suffix = Path(path).suffix.lower()
        try:
            if suffix == ".parquet":
                import pyarrow.parquet as pq

                n += pq.ParquetFile(path).metadata.num_rows
            elif suffix in TABLE_SUFFIXES:
                with open(path, "rb") as f:
                    n += sum(1 for line in f if line.strip())
            else:
                n += 1
        except Exception:  # a bad table is one error record
            n += 1
    return n


def chunked(items: Iterable[InputItem], size: int) -> Iterator[list[InputItem]]:
    chunk: list[InputItem] = []
    for it in items:
        chunk.append(it)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


# --------------------------------------------------------------------------- executors

_WORKER: dict[str, Any] = {}


class LabellerLoadError(RuntimeError):
    pass


def _init_worker(spec: LabellerSpec, threads: int) -> None:
    os.environ.setdefault("OMP_NUM_THREADS", str(threads))
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    try:
        _WORKER["labeller"] = spec.load()
        if "torch" in sys.modules:  # an ONNX or rule labeller never imports it
            sys.modules["torch"].set_num_threads(threads)
    except Exception as e:  # reported with the first chunk: a failing initializer breaks the pool silently
        _WORKER["error"] = f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"


def _work(items: list[InputItem]) -> ChunkResult:
    if "error" in _WORKER:
        raise LabellerLoadError(_WORKER["error"])
    return annotate_chunk(items, _WORKER["labeller"])


def run_inline(chunks: Iterable[list[InputItem]], labeller: Labeller) -> Iterator[ChunkResult]:
    for chunk in chunks:
        yield annotate_chunk(chunk, labeller)


def run_processes(chunks: Iterable[list[InputItem]], spec: LabellerSpec, workers: int,
                  max_in_flight: int | None = None, context: str = "spawn") -> Iterator[ChunkResult]:
    """Chunks through a pool of ``workers`` processes; results come back in input order
    with at most ``max_in_flight`` chunks queued."""
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor

    threads = max(1, (os.cpu_count() or 1) // workers)
    if spec.threads is None:
        spec = LabellerSpec(**{**spec.__dict__, "threads": threads})
    limit = max_in_flight or 2 * workers
    with ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context(context),
                             initializer=_init_worker, initargs=(spec, threads)) as pool:
        pending: deque = deque()
        try:
            for chunk in chunks:
                pending.append(pool.submit(_work, chunk))
                while len(pending) >= limit:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:
            for f in pending:
                f.cancel()


# --------------------------------------------------------------------------- the run


def annotate_corpus(paths: Sequence[str], out: str | os.PathLike, spec: LabellerSpec | None = None,
                    options: AnnotateOptions | None = None, labeller: Labeller | None = None,
                    progress: Callable[[ProgressUpdate], None] | None = None,
                    total: int | None = None) -> BatchResult:
    """Annotate every input and write ``out`` (.jsonl or .parquet: one record per document;
    .csv: one row per sentence). Bad inputs are listed in ``<out>.errors.jsonl``; the output
    is renamed into place only if it holds at least one document.

    The labeller is ``labeller`` if given (used in this process), else loaded from ``spec``
    (in this process for one worker, in each worker process or Ray actor otherwise).
    ``progress`` is called after every chunk."""
    opts = options or AnnotateOptions()
    spec = spec or LabellerSpec()
    if Path(out).suffix.lower() not in OUTPUT_SUFFIXES:
        raise ValueError(f"{out}: output must end in {', '.join(OUTPUT_SUFFIXES)}")
    if opts.engine not in ENGINES:
        raise ValueError(f"unknown engine {opts.engine!r}; choose from {', '.join(ENGINES)}")
    if opts.workers < 1 or opts.chunk_docs < 1:
        raise ValueError("workers and chunk_docs must be at least 1")
    t0 = time.perf_counter()
    res = BatchResult()
    errlog = ErrorLog(errors_path_for(out), opts.resume)
    writer = open_writer(out, opts.resume)
    done = set(writer.finished)
    res.n_resumed = len(done)
    skipped = 0
    handled = 0

    def is_done(it: InputItem) -> bool:
        return it.key in done or it.error_key in errlog.keys

    def todo() -> Iterator[list[InputItem]]:
        nonlocal skipped
        for chunk in chunked(iter_inputs(paths, opts), opts.chunk_docs):
            if all(is_done(it) for it in chunk):
                skipped += len(chunk)
                continue
            yield chunk  # whole, so that its batches are those of an uninterrupted run

    committed = False
    results: Iterator[ChunkResult] | None = None
    try:
        if opts.engine == "ray":
            from .ray_engine import run_ray

            results = run_ray(todo(), spec, opts.workers)
        elif opts.workers > 1 and labeller is None:
            results = run_processes(todo(), spec, opts.workers, opts.max_in_flight)
        else:
            results = run_inline(todo(), labeller or spec.load())
        for r in results:
            res.labeller = res.labeller or r.labeller
            new = [rec for _, rec in r.records if (rec["id"], rec["source_path"]) not in done]
            errs = [e for _, e in r.errors if error_key(e) not in errlog.keys]
            writer.write(new)
            errlog.write(errs)
            done.update((rec["id"], rec["source_path"]) for rec in new)
            res.n_docs += len(new)
            res.n_sentences += sum(len(rec["sentences"]) for rec in new)
            res.n_entities += sum(len(rec["entities"]) for rec in new)
            handled += len(r.records) + len(r.errors)
            if progress:
                progress(ProgressUpdate(skipped + handled, res.n_docs, res.n_sentences, len(errlog.entries), total,
                                        time.perf_counter() - t0))
        if progress:  # chunks skipped after the last one labelled
            progress(ProgressUpdate(skipped + handled, res.n_docs, res.n_sentences, len(errlog.entries), total,
                                    time.perf_counter() - t0))
        if writer.n_total > 0:
            writer.commit()
            res.output = str(out)
        else:
            writer.discard()  # no document at all: no empty output
        committed = True
    finally:
        if not committed:  # a crash or Ctrl-C: the part files stay for --resume, unless empty
            if writer.n_total:
                writer.close()
            else:
                writer.discard()
            errlog.close()
            if not errlog.entries:
                errlog.part.unlink(missing_ok=True)
        if results is not None and hasattr(results, "close"):
            results.close()
    res.errors = list(errlog.entries)
    res.errors_path = errlog.commit()
    res.seconds = time.perf_counter() - t0
    return res


def annotate_paths(paths: list[str], out: str | os.PathLike, labeller: Labeller | None = None,
                   progress: Callable[[ProgressUpdate], None] | None = None,
                   options: AnnotateOptions | None = None) -> BatchResult:
    """``annotate_corpus`` with a labeller object in this process (one worker)."""
    from .pipeline import default_labeller

    return annotate_corpus(paths, out, options=options, labeller=labeller or default_labeller(), progress=progress)
