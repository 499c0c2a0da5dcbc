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

import contextlib
import csv
import glob
import io
import json
import os
import sys
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Sequence

from .components.base import DEFAULT_ENTITIES
from .io import ReadError, open_regular, package_version, provenance, weights_digest  # noqa: F401 (weights_digest: kept importable here)
from .outputs import (ErrorLog, OUTPUT_SUFFIXES, OutputError, OutputLock, check_output_path,
                      check_resume_manifest, error_key, manifest_path_for, open_writer, output_exists,
                      refuse_output_among_inputs, remove_stale_output, write_manifest)
from .chunks import (ChunkResult, InputItem, annotate_chunk, error_record, inference_context,  # noqa: F401
                     pipeline_for, release_free_memory, structure_bytes, structure_item)
from .doc import Document
from .modeling import cpu_has_native_bf16  # noqa: F401 (the switch of the CPU bf16 autocast)
from .pipeline import Labeller, LabellerSpec, doc_id_for

REPORT_SUFFIXES = {".txt", ".htm", ".html", ".shtml", ".docx", ".pdf", ".text", ""}
TABLE_SUFFIXES = {".jsonl", ".ndjson", ".parquet", ".csv"}  # inputs with one document per row
ENGINES = ("local", "ray")


REPORT_KINDS = "(.txt .htm .html .shtml .docx .pdf .text or no suffix)"


def expand_input_paths(paths: Iterable[str]) -> Iterator[tuple[str, str | None]]:
    """``(path, problem)`` for every input: files named, files under directories (recursive,
    sorted, report suffixes only), and glob matches (``**`` recurses). ``problem`` is None for
    a path to read, or why a named path gives nothing: a directory that cannot be listed (or
    a subdirectory of it), or one that holds no report file. A path that matches nothing is
    yielded as is, so that its error is reported when it is read. JSONL and Parquet tables are
    read when named or matched by a glob, never picked up from a directory (an output left
    there must not become input). Nothing is opened here: a FIFO or device is refused when read."""
    for p in paths:
        if any(ch in p for ch in "*?[") and not os.path.exists(p):
            matches = sorted(glob.glob(p, recursive=True))
            if matches:
                yield from ((m, None) for m in matches if os.path.isfile(m))
                continue
        if os.path.isdir(p):
            problems: list[tuple[str, str]] = []

            def unreadable(e: OSError) -> None:
                problems.append((e.filename or p, f"cannot list this directory ({e.strerror})"))

            found = unlisted = 0
            for root, dirs, files in os.walk(p, onerror=unreadable):
                unlisted += len(problems)
                yield from problems
                problems.clear()
                dirs.sort()
                dirs[:] = [d for d in dirs if not d.startswith(".")]
                for f in sorted(files):
                    if Path(f).suffix.lower() in REPORT_SUFFIXES and not f.startswith("."):
                        found += 1
                        yield os.path.join(root, f), None
            unlisted += len(problems)
            yield from problems
            if not found and not unlisted:
                yield p, f"directory holds no report files {REPORT_KINDS}"
        else:
            yield p, None


def expand_inputs(paths: Iterable[str]) -> Iterator[str]:
    """The paths of ``expand_input_paths`` (problem paths included, so that each is reported)."""
    for p, _ in expand_input_paths(paths):
        yield p


@dataclass
class AnnotateOptions:
    text_column: str = "text"  # JSONL/Parquet inputs
    id_column: str | None = "id"  # JSONL/Parquet inputs; missing → "<file stem>-<row>"
    chunk_docs: int = 32  # documents per chunk (one label_many call)
    workers: int = 1
    resume: bool = False
    force: bool = False  # resume even an output whose manifest names another labeller, model or version
    engine: str = "local"  # local | ray
    max_in_flight: int | None = None  # chunks queued per run (default 2 × workers)
    keep_columns: tuple[str, ...] = ()  # table columns copied into each record's meta


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


class SeveralDocumentsError(ReadError):
    """A table holds several documents where one was asked for; ``ids`` lists them."""

    def __init__(self, path: str | os.PathLike, ids: Sequence[str]):
        self.ids = list(ids)
        shown = ", ".join(self.ids[:5]) + (", …" if len(self.ids) > 5 else "")
        super().__init__(path, f"holds {len(self.ids)} documents ({shown}); pick one by its id")


class InputError(ReadError):
    """An input cannot give what the run asks of it, found before any work: a table without
    the text column or a column to keep (the message lists the table's columns)."""


# keys the pipeline itself writes into a record's meta: not to be overwritten by kept columns
RESERVED_META = ("row", "labeller", "entities", "provenance", "document_kind", "replaced_bytes", "warnings")


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
    be read at all raises ReadError. A Parquet row group that cannot be read gives one problem
    per row of it, and the rows after it are still read."""
    p = Path(path)
    f = open_regular(p)  # a FIFO, device or directory: ReadError, never opened for reading
    with f:
        if p.suffix.lower() == ".parquet":
            yield from _parquet_rows(path, f, opts)
            return
        if p.suffix.lower() == ".csv":
            for row, values in enumerate(_csv_reader(path, f)):
                yield row, values, None
            return
        row = 0
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                values = json.loads(line)
            except ValueError as e:
                yield row, None, f"line {lineno} is not valid JSON ({getattr(e, 'msg', e)})"
            except RecursionError:
                yield row, None, f"line {lineno} is JSON nested too deeply"
            else:
                if isinstance(values, dict):
                    yield row, values, None
                else:
                    yield row, None, f"line {lineno} is not a JSON object"
            row += 1


def _parquet_rows(path: str, f, opts: AnnotateOptions) -> Iterator[tuple[int, dict[str, Any] | None, str | None]]:
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(f)
        names = pf.schema_arrow.names
        groups = [pf.metadata.row_group(g).num_rows for g in range(pf.num_row_groups)]
    except Exception as e:  # pyarrow raises several kinds for a corrupt file
        raise ReadError(path, f"not a readable Parquet file ({type(e).__name__})")
    if opts.text_column not in names:
        raise ReadError(path, f"no column {opts.text_column!r} (columns: {', '.join(names)})")
    cols = [opts.text_column] + ([opts.id_column] if opts.id_column and opts.id_column in names
                                 and opts.id_column != opts.text_column else [])
    cols += [c for c in opts.keep_columns if c in names and c not in cols]
    row = 0
    for g, n_rows in enumerate(groups):
        first = row
        try:
            for batch in pf.iter_batches(batch_size=256, row_groups=[g], columns=cols):
                for values in batch.to_pylist():
                    yield row, values, None
                    row += 1
        except Exception as e:  # a corrupt page or row group: its rows are errors, the rest is read
            detail = "".join(ch if ch.isprintable() else " " for ch in str(e).split("\n")[0][:120]).strip()
            problem = f"row group {g} cannot be read ({type(e).__name__}: {detail})"
            for r in range(row, first + n_rows):
                yield r, None, problem
            row = first + n_rows


def _csv_reader(path: str | os.PathLike, f) -> Iterator[dict[str, Any]]:
    """The rows of a CSV table (UTF-8, with or without a byte order mark) as dicts of strings;
    a field may hold a whole report. ReadError for a file that is not UTF-8 or not CSV."""
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    text = io.TextIOWrapper(f, encoding="utf-8-sig", newline="")
    try:
        yield from csv.DictReader(text)
    except UnicodeDecodeError:
        raise ReadError(path, "is not UTF-8 text (save the CSV as UTF-8)") from None
    except csv.Error as e:
        raise ReadError(path, f"is not a readable CSV table ({e})") from None
    finally:
        text.detach()


def table_columns(path: str | os.PathLike, sample_rows: int = 200) -> list[str]:
    """The columns of a JSONL, Parquet or CSV table: the Parquet schema, the CSV header, or the
    keys of a JSONL file's first ``sample_rows`` objects in order of appearance. ReadError for
    a file that cannot be read as such a table."""
    p = Path(path)
    with open_regular(p) as f:
        suffix = p.suffix.lower()
        if suffix == ".parquet":
            import pyarrow.parquet as pq

            try:
                return list(pq.ParquetFile(f).schema_arrow.names)
            except Exception as e:  # pyarrow raises several kinds for a corrupt file
                raise ReadError(path, f"not a readable Parquet file ({type(e).__name__})") from None
        if suffix == ".csv":
            text = io.TextIOWrapper(f, encoding="utf-8-sig", newline="")
            try:
                return list(csv.DictReader(text).fieldnames or [])
            except UnicodeDecodeError:
                raise ReadError(path, "is not UTF-8 text (save the CSV as UTF-8)") from None
            except csv.Error as e:
                raise ReadError(path, f"is not a readable CSV table ({e})") from None
            finally:
                text.detach()
        seen: dict[str, None] = {}
        n = 0
        for line in f:
            if n >= sample_rows:
                break
            try:
                values = json.loads(line) if line.strip() else None
            except (ValueError, RecursionError):
                continue
            if isinstance(values, dict):
                seen.update(dict.fromkeys(values))
                n += 1
        return list(seen)


def check_table_columns(paths: Sequence[str], opts: AnnotateOptions) -> None:
    """Before any work: every JSONL/Parquet/CSV table among the inputs has the text column and
    each column to keep; else one ``InputError`` naming the table and listing its columns. A
    table that cannot be read at all is left to the run (one error record). ``ValueError`` for a
    column to keep that the records write themselves (``RESERVED_META``)."""
    reserved = [c for c in opts.keep_columns if c in RESERVED_META]
    if reserved:
        raise ValueError(f"column {reserved[0]!r} cannot be kept: records write their own meta {reserved[0]!r} "
                         f"(reserved: {', '.join(RESERVED_META)})")
    for path, problem in expand_input_paths(paths):
        if problem is not None or Path(path).suffix.lower() not in TABLE_SUFFIXES:
            continue
        try:
            names = table_columns(path)
        except ReadError:
            continue
        listed = ", ".join(names) if names else "none"
        if opts.text_column not in names:
            raise InputError(path, f"no text column {opts.text_column!r} (columns: {listed})")
        missing = [c for c in opts.keep_columns if c not in names]
        if missing:
            raise InputError(path, f"no column {', '.join(map(repr, missing))} to keep (columns: {listed})")


def _jsonable(value: Any) -> Any:
    """A table value as JSON: dates and times in ISO 8601, decimals as numbers, NaN as null,
    bytes as UTF-8 text (else hex); lists and mappings element by element."""
    import datetime
    import decimal
    import math

    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, datetime.timedelta):
        return value.total_seconds()
    if isinstance(value, decimal.Decimal):
        return _jsonable(float(value))
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            return value.hex()
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def iter_inputs(paths: Sequence[str], opts: AnnotateOptions | None = None,
                kept: dict[int, dict[str, Any]] | None = None) -> Iterator[InputItem]:
    """Every document of the inputs, in order, with its unique id. Rows of a JSONL/Parquet/CSV
    table take their id from ``opts.id_column`` when present; the values of
    ``opts.keep_columns`` of a row go into ``kept`` under the item's index (None where the row
    lacks one). An input known to be bad before reading (a directory that cannot be listed or
    holds no report) is an item with ``error``."""
    opts = opts or AnnotateOptions()
    ids = _Ids()
    index = 0
    for path, problem in expand_input_paths(paths):
        if problem is not None:
            yield InputItem(index, "", str(path), error=problem)
            index += 1
            continue
        if Path(path).suffix.lower() not in TABLE_SUFFIXES:
            yield InputItem(index, ids(doc_id_for(path)), str(path))
            index += 1
            continue
        fmt = {".parquet": "parquet", ".csv": "csv"}.get(Path(path).suffix.lower(), "jsonl")
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
                if kept is not None and opts.keep_columns and values is not None and problem is None:
                    kept[index] = {c: _jsonable(values.get(c)) for c in opts.keep_columns}
                yield InputItem(index, ids(base), str(path), text if problem is None else None, row, fmt, problem)
                index += 1
        except ReadError as e:
            yield InputItem(index, "", str(path), error=e.problem)
            index += 1


def count_inputs(paths: Sequence[str], opts: AnnotateOptions | None = None) -> int:
    """How many documents ``iter_inputs`` will give, cheaply (for a progress bar): files are
    counted by walking, Parquet rows from the footer, JSONL rows by counting lines. Only
    regular files are opened."""
    n = 0
    for path, problem in expand_input_paths(paths):
        suffix = Path(path).suffix.lower()
        try:
            if problem is None and suffix in TABLE_SUFFIXES:
                with open_regular(path) as f:
                    if suffix == ".parquet":
                        import pyarrow.parquet as pq

                        n += pq.ParquetFile(f).metadata.num_rows
                    elif suffix == ".csv":
                        n += sum(1 for _ in _csv_reader(path, f))
                    else:
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


def die_with_parent(parent: int | None = None, poll_s: float = 1.0) -> None:
    """Make this (worker) process end when the process that started it dies, even by
    ``kill -9``: on Linux the kernel sends SIGKILL (``prctl(PR_SET_PDEATHSIG)``); everywhere a
    daemon thread also checks every ``poll_s`` seconds whether the parent process id changed."""
    import threading

    parent = parent or os.getppid()
    if sys.platform.startswith("linux"):
        try:
            import ctypes
            import signal

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, int(signal.SIGKILL), 0, 0, 0)  # PR_SET_PDEATHSIG = 1
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:  # the parent died before the signal was armed
        os._exit(1)

    def watch() -> None:
        while True:
            time.sleep(poll_s)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _init_worker(spec: LabellerSpec, threads: int, parent: int | None = None) -> None:
    import signal

    die_with_parent(parent)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole process group: the parent handles it
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
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context(context),
                               initializer=_init_worker, initargs=(spec, threads, os.getpid()))
    pending: deque = deque()
    finished = False
    try:
        for chunk in chunks:
            pending.append(pool.submit(_work, chunk))
            while len(pending) >= limit:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
        finished = True
    finally:
        for f in pending:
            f.cancel()
        if finished:
            pool.shutdown(wait=True)
        else:  # interrupted or failed: stop the workers now rather than wait for their chunks
            stop_pool(pool)


def stop_pool(pool, grace_s: float = 5.0) -> None:
    """Shut a process pool down without waiting for running tasks: its workers are sent
    SIGTERM, then SIGKILL after ``grace_s`` seconds."""
    procs = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for proc in procs:
        if proc.is_alive():
            proc.terminate()
    deadline = time.monotonic() + grace_s
    for proc in procs:
        proc.join(max(0.0, deadline - time.monotonic()))
        if proc.is_alive():
            proc.kill()
            proc.join(1.0)


# --------------------------------------------------------------------------- the run


class Interrupted(KeyboardInterrupt):
    """The run was stopped by a signal (SIGTERM, SIGHUP); like Ctrl-C, what was finished is
    kept for a resumed run. ``signum`` is the signal's number."""

    def __init__(self, signum: int):
        self.signum = signum
        super().__init__(f"stopped by signal {signum}")


@contextlib.contextmanager
def signals_interrupt(signums: Sequence[int] | None = None):
    """Within the block, SIGTERM and SIGHUP raise ``Interrupted`` in the main thread (once;
    later ones are ignored while the run cleans up), so that ``finally`` blocks close the output
    cleanly. Outside the main thread nothing changes."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    signums = list(signums or [signal.SIGTERM] + ([signal.SIGHUP] if hasattr(signal, "SIGHUP") else []))
    raised = False

    def handler(signum, frame):
        nonlocal raised
        if not raised:
            raised = True
            raise Interrupted(signum)

    previous = {sig: signal.signal(sig, handler) for sig in signums}
    try:
        yield
    finally:
        for sig, h in previous.items():
            signal.signal(sig, h)


def describe_run(spec: LabellerSpec | None, labeller: Labeller | None = None) -> dict[str, Any]:
    """What decides a run's outputs (``LabellerSpec.describe``): from ``spec`` when given;
    for a labeller object without a spec, its name and its entity extractor's name."""
    if spec is not None:
        return spec.describe()
    if labeller is None:
        return LabellerSpec().describe()
    ext = labeller.entity_extractor
    if ext is DEFAULT_ENTITIES:
        described = LabellerSpec(name="headings").describe()  # the default entities
    elif ext is None:
        described = LabellerSpec(name="headings", entities="rules").describe()
    else:
        combined = ext.name.endswith("+rules")
        described = {"entities": "combined" if combined else "model", "ner": ext.name.removesuffix("+rules"),
                     "ner_weights": None}
    return {**described, "labeller": labeller.name, "model": None, "weights": None, "backend": labeller.backend}


def run_manifest(spec: LabellerSpec | None, labeller: Labeller | None = None,
                 options: AnnotateOptions | None = None) -> dict[str, Any]:
    """What a resumed run must share with the run that started an output: the labeller and
    the digest of its model's files, the backend, the entity mode and entity model, and the
    package version and the table columns kept (``nlp.outputs.MANIFEST_KEYS``), plus the text
    and id columns read."""
    opts = options or AnnotateOptions()
    return {**describe_run(spec, labeller), "version": package_version(),
            "text_column": opts.text_column, "id_column": opts.id_column,
            **({"keep_columns": list(opts.keep_columns)} if opts.keep_columns else {})}


def _writing(out: str | os.PathLike, what: str = "cannot write the output"):
    """Turn an OSError of writing ``out`` into a one-line ``OutputError``."""

    @contextlib.contextmanager
    def ctx():
        try:
            yield
        except OutputError:
            raise
        except OSError as e:
            raise OutputError(out, f"{what} ({e.strerror or e})") from None

    return ctx()


def prepare_output(paths: Sequence[str], out: str | os.PathLike, options: AnnotateOptions | None = None) -> None:
    """The checks made before any work: the output path can be written (not a directory, not
    under a file, permission), and neither it nor a file written beside it is an input
    (``OutputError``); with ``options``, every table input has the text column and the columns
    to keep (``InputError``, ``check_table_columns``)."""
    opts = options or AnnotateOptions()
    if Path(out).suffix.lower() not in OUTPUT_SUFFIXES:
        raise OutputError(out, f"output must end in {', '.join(OUTPUT_SUFFIXES)}")
    check_output_path(out)
    out_p = Path(out)
    refuse_output_among_inputs(out, (p for p, _ in expand_input_paths(paths)),
                               also=[errors_path_for(out), out_p.with_name(out_p.name + ".lock")])
    if options is not None:
        check_table_columns(paths, options)


def annotate_corpus(paths: Sequence[str], out: str | os.PathLike, spec: LabellerSpec | None = None,
                    options: AnnotateOptions | None = None, labeller: Labeller | None = None,
                    progress: Callable[[ProgressUpdate], None] | None = None,
                    total: int | None = None) -> BatchResult:
    """Annotate every input and write ``out`` (.jsonl or .parquet: one record per document;
    .csv: one row per sentence). Bad inputs are listed in ``<out>.errors.jsonl``; the output
    is renamed into place only if it holds at least one document (a run that annotates
    nothing removes an earlier output rather than leave it looking like its result).

    Before any work: the output path is checked and must not be an input (``OutputError``);
    ``OUT.lock`` is taken for the whole run (``OutputLockedError`` naming the holder's process
    when another run has it); a resumed run must match ``OUT.manifest.json`` — labeller, model
    files, entity mode, package version — unless ``options.force`` (``ResumeMismatchError``).
    SIGTERM and SIGHUP stop the run like Ctrl-C (``Interrupted``): finished chunks stay in the
    part files for a resumed run, and empty part files are removed.

    The labeller is ``labeller`` if given (used in this process), else loaded from ``spec``
    (in this process for one worker, in each worker process or Ray actor otherwise).
    ``progress`` is called after every chunk."""
    opts = options or AnnotateOptions()
    manifest = run_manifest(spec, labeller, opts)
    stamp = provenance(manifest)
    spec = spec or LabellerSpec()
    if opts.engine not in ENGINES:
        raise ValueError(f"unknown engine {opts.engine!r}; choose from {', '.join(ENGINES)}")
    if opts.workers < 1 or opts.chunk_docs < 1:
        raise ValueError("workers and chunk_docs must be at least 1")
    prepare_output(paths, out, opts)
    with _writing(out, "cannot create the output folder"):
        Path(out).parent.mkdir(parents=True, exist_ok=True)
    with signals_interrupt(), OutputLock(out):
        if opts.resume and not opts.force:
            check_resume_manifest(out, manifest)
        with _writing(out):
            if not opts.resume:  # replaced by this run: an earlier output must not outlive a failed one
                remove_stale_output(out)
            write_manifest(out, manifest)
        try:
            return _run(paths, out, spec, opts, labeller, progress, total, stamp)
        finally:
            if not output_exists(out):  # nothing written, nothing to resume: no manifest either
                manifest_path_for(out).unlink(missing_ok=True)


def _run(paths: Sequence[str], out: str | os.PathLike, spec: LabellerSpec, opts: AnnotateOptions,
         labeller: Labeller | None, progress: Callable[[ProgressUpdate], None] | None,
         total: int | None, stamp: dict[str, Any] | None = None) -> BatchResult:
    t0 = time.perf_counter()
    res = BatchResult()
    with _writing(out):
        errlog = ErrorLog(errors_path_for(out), opts.resume)
        try:
            writer = open_writer(out, opts.resume, opts.keep_columns)
        except BaseException:
            errlog.close()
            if not errlog.entries:
                errlog.part.unlink(missing_ok=True)
            raise
    done = set(writer.finished)
    res.n_resumed = len(done)
    skipped = 0
    handled = 0
    kept: dict[int, dict[str, Any]] = {}  # the kept columns of the inputs in flight, by input index

    def is_done(it: InputItem) -> bool:
        return it.key in done or it.error_key in errlog.keys

    def todo() -> Iterator[list[InputItem]]:
        nonlocal skipped
        for chunk in chunked(iter_inputs(paths, opts, kept), opts.chunk_docs):
            if all(is_done(it) for it in chunk):
                skipped += len(chunk)
                for it in chunk:
                    kept.pop(it.index, None)
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
            new = []
            for index, rec in r.records:
                extra = kept.pop(index, None)
                if (rec["id"], rec["source_path"]) in done:
                    continue
                meta = rec.setdefault("meta", {})
                meta.update(extra or {})
                if stamp is not None:
                    meta["provenance"] = stamp
                new.append(rec)
            for index, _ in r.errors:
                kept.pop(index, None)
            errs = [e for _, e in r.errors if error_key(e) not in errlog.keys]
            with _writing(out):
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
        with _writing(out):
            if writer.n_total > 0:
                writer.commit()
                res.output = str(out)
            else:
                writer.discard()  # no document at all: no empty output, and no earlier one left
                remove_stale_output(out)
        committed = True
    finally:
        if not committed:  # a crash, Ctrl-C or SIGTERM: the part files stay for --resume, unless empty
            with contextlib.suppress(OSError):
                if writer.n_total:
                    writer.close()
                else:
                    writer.discard()
                errlog.close()
                if not errlog.entries:
                    errlog.part.unlink(missing_ok=True)
        if results is not None and hasattr(results, "close"):
            results.close()
    with _writing(out):
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


def read_one_document(path: str | os.PathLike, labeller: Labeller, doc_id: str | None = None,
                      options: AnnotateOptions | None = None) -> Document:
    """One annotated report from ``path``: a report file (txt, html, docx, pdf) read and
    annotated with ``labeller``; or one document of a table: a record of an ``nlp annotate``
    JSONL or Parquet output as it was annotated, or a row of a JSONL/Parquet/CSV input table
    (its ``options.text_column``) annotated with ``labeller``. ``doc_id`` picks a document of a
    table; a table holding several documents needs it. Raises ``ReadError`` (one line: no such
    document, several without ``doc_id``, a sentence CSV, a file that cannot be read)."""
    from .io import SENTENCE_CSV_FIELDS
    from .outputs import read_records
    from .pipeline import annotate_file

    opts = options or AnnotateOptions()
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix not in TABLE_SUFFIXES:
        return annotate_file(p, labeller, doc_id)
    columns = table_columns(p)
    if suffix == ".csv" and set(SENTENCE_CSV_FIELDS) <= set(columns):
        raise ReadError(p, "is a sentence table written by nlp annotate (one row per sentence, not a document); "
                           "give the report, or a JSONL or Parquet output")
    annotated = {"text", "sentences", "paragraphs"} <= set(columns)
    if annotated:
        candidates = [(str(rec.get("id")), rec) for rec in read_records(p)]
    else:
        if opts.text_column not in columns:
            raise InputError(p, f"no text column {opts.text_column!r} (columns: {', '.join(columns) or 'none'})")
        candidates = [(it.doc_id, it) for it in iter_inputs([str(p)], opts)]
    picked = [c for c in candidates if doc_id is None or c[0] == doc_id]
    if not picked:
        raise ReadError(p, f"holds no document {doc_id!r}" if doc_id is not None else "holds no document")
    if len(picked) > 1:
        raise SeveralDocumentsError(p, [i for i, _ in picked])
    found = picked[0][1]
    if annotated:
        return Document.from_dict(found)
    doc = structure_item(found)
    return next(iter(pipeline_for(labeller).pipe([doc], batch_size=1)))
