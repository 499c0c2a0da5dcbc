"""Resumable, incremental output of annotated document records (JSONL, CSV, Parquet).

Every writer appends to a part file (``OUT.part``; Parquet: a folder of chunk files) that
is renamed into place by ``commit``. A chunk of records is durable (flushed and fsynced)
when ``write`` returns, so after any crash (kill -9 included) a writer opened with
``resume=True`` finds the documents already finished and drops whatever was half written:

- JSONL: one record per line; a trailing partial line is cut off and the ids of the
  complete lines are read back.
- CSV (one row per sentence, UTF-8 with a byte order mark at the file start): rows of a
  document may span lines, so each chunk's end offset and document keys go to a journal
  (``OUT.csv.part.journal``); the part file is cut back to the last journaled offset.
- Parquet: each chunk is one small Parquet file written atomically into
  ``OUT.parquet.parts/``; ``commit`` merges them, in order, into ``OUT.parquet.part`` and
  renames it into place.

A document is identified by its key ``(id, source_path)``. ``read_records`` reads a JSONL
or Parquet output back into the same dict records.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
from pathlib import Path
from typing import Any, Iterable, Iterator

from .io import CSV_ENCODING, ReadError, SENTENCE_CSV_FIELDS, csv_safe_row, csv_unsafe, iter_jsonl, sentence_rows
from .schema import LABELS

OUTPUT_SUFFIXES = (".jsonl", ".csv", ".parquet")
Key = tuple[str, str]


class OutputError(Exception):
    """The output of a run cannot be written, or must not be: a one-line message naming the
    path (``str(err)``). Raised before any work is done whenever it can be known then."""

    def __init__(self, path: str | os.PathLike, problem: str):
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


class OutputLockedError(OutputError):
    """Another run holds the output's lock; ``pid`` is its process id (None if unknown)."""

    def __init__(self, path: str | os.PathLike, pid: int | None):
        self.pid = pid
        who = f"process {pid}" if pid else "another process"
        super().__init__(path, f"being written by another run ({who} holds {Path(path).name}.lock); "
                               "wait for it to finish or choose another output")


class ResumeMismatchError(OutputError):
    """Resuming an output made by another labeller, model, entity mode or package version."""


# --------------------------------------------------------------------------- before a run


def check_output_path(out: str | os.PathLike) -> None:
    """Refuse an output path that cannot be written, before any work: a directory, a path
    under a regular file, or a folder without write permission (``OutputError``)."""
    out = Path(out)
    if out.is_dir():
        raise OutputError(out, "is a directory; give a file name")
    if out.exists() and not out.is_file():
        raise OutputError(out, "exists and is not a regular file")
    parent = out.parent
    while not parent.exists():
        if parent.is_symlink():
            raise OutputError(out, f"{parent} is a dangling symbolic link")
        parent = parent.parent
    if not parent.is_dir():
        raise OutputError(out, f"{parent} is a file, not a directory")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OutputError(out, f"cannot write in {parent} (permission denied)")
    if out.exists() and not os.access(out, os.W_OK) and not os.access(out.parent, os.W_OK):
        raise OutputError(out, "cannot be replaced (permission denied)")


def _identities(p: str | os.PathLike) -> set:
    ids: set = {os.path.realpath(p)}
    try:
        st = os.stat(p)
        ids.add((st.st_dev, st.st_ino))
    except OSError:
        pass
    return ids


def refuse_output_among_inputs(out: str | os.PathLike, inputs: Iterable[str | os.PathLike],
                               also: Iterable[str | os.PathLike] = ()) -> None:
    """``OutputError`` if the output, or a file the run writes beside it (its part file and
    ``also``), is one of the inputs (annotating a table into itself would destroy it). Paths are
    compared resolved, and by inode where the file exists (hard links)."""
    out = Path(out)
    written: set = set()
    for p in (out, out.with_name(out.name + ".part"), *also):
        written |= _identities(p)
    for p in inputs:
        if _identities(p) & written:
            raise OutputError(out, f"is also an input ({p}); the output must be another file")


class OutputLock:
    """An exclusive lock on ``OUT.lock`` (``fcntl.flock``) held for a whole run, so that two
    runs never write the same output. The holder's process id is written into the file; a
    second run gets ``OutputLockedError`` naming it at once. The lock file is removed on release."""

    def __init__(self, out: str | os.PathLike):
        self.out = Path(out)
        self.path = self.out.with_name(self.out.name + ".lock")
        self.fd: int | None = None

    def acquire(self) -> "OutputLock":
        try:
            import fcntl
        except ImportError:  # not POSIX: no lock
            return self
        for _ in range(10):
            try:
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            except OSError as e:
                raise OutputError(self.out, f"cannot create the lock file {self.path.name} ({e.strerror})") from None
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                pid = self._read_pid(fd)
                os.close(fd)
                raise OutputLockedError(self.out, pid) from None
            try:  # the file may have been removed by its last holder between open and flock
                same = os.fstat(fd).st_ino == os.stat(self.path).st_ino
            except FileNotFoundError:
                same = False
            if not same:
                os.close(fd)
                continue
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode())
            self.fd = fd
            return self
        raise OutputError(self.out, f"cannot take the lock {self.path.name} (it keeps being replaced)")

    @staticmethod
    def _read_pid(fd: int) -> int | None:
        try:
            raw = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
            return int(raw) if raw.isdigit() else None
        except OSError:
            return None

    def release(self) -> None:
        if self.fd is None:
            return
        try:
            self.path.unlink(missing_ok=True)  # while still held: a waiting run re-checks the inode
        except OSError:
            pass
        os.close(self.fd)
        self.fd = None

    def __enter__(self) -> "OutputLock":
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()


def manifest_path_for(out: str | os.PathLike) -> Path:
    out = Path(out)
    return out.with_name(out.name + ".manifest.json")


# what must agree for a resumed run to add to an output (other keys are information)
MANIFEST_KEYS = ("labeller", "weights", "backend", "entities", "ner", "ner_weights", "version", "keep_columns")


def output_exists(out: str | os.PathLike) -> bool:
    """Whether anything of an earlier run is there to resume: the output or its part files."""
    out = Path(out)
    return any(p.exists() for p in (out, out.with_name(out.name + ".part"), out.with_name(out.name + ".parts")))


def check_resume_manifest(out: str | os.PathLike, manifest: dict[str, Any]) -> None:
    """``ResumeMismatchError`` unless the output beside which it stands was made with the same
    labeller, weights, entity mode and package version as ``manifest`` describes."""
    if not output_exists(out):
        return
    mpath = manifest_path_for(out)
    try:
        old = json.loads(mpath.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ResumeMismatchError(out, f"has no manifest ({mpath.name}), so what made it cannot be checked; "
                                       "resume it only knowingly, or write a new output") from None
    except (OSError, ValueError) as e:
        raise ResumeMismatchError(out, f"its manifest {mpath.name} cannot be read ({e}); "
                                       "resume it only knowingly, or write a new output") from None
    if not isinstance(old, dict):
        old = {}
    diff = [k for k in MANIFEST_KEYS if old.get(k) != manifest.get(k)]
    if diff:
        what = "; ".join(f"{k}: {_brief(old.get(k))} there, {_brief(manifest.get(k))} now" for k in diff)
        raise ResumeMismatchError(out, f"was made by another setup ({what}); resuming would mix the two")


def _brief(v: Any) -> str:
    s = "none" if v is None else str(v)
    return s if len(s) <= 24 else s[:12] + "…"


def write_manifest(out: str | os.PathLike, manifest: dict[str, Any]) -> Path:
    mpath = manifest_path_for(out)
    tmp = mpath.with_name(mpath.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(manifest, f, ensure_ascii=False, indent=1)
        f.write("\n")
        _fsync(f)
    os.replace(tmp, mpath)
    return mpath


def remove_stale_output(out: str | os.PathLike) -> None:
    """Remove an earlier output and its manifest (a run that annotated nothing must not leave
    another run's output looking like its result)."""
    out = Path(out)
    for p in (out, manifest_path_for(out)):
        p.unlink(missing_ok=True)


def record_key(rec: dict[str, Any]) -> Key:
    return (str(rec.get("id")), str(rec.get("source_path")))


def _fsync(f) -> None:
    f.flush()
    os.fsync(f.fileno())


def _fsync_dir(d: Path) -> None:
    try:
        fd = os.open(d, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class RecordWriter:
    """Base class: ``finished`` holds the keys of documents already in the output (after a
    resume); ``write`` appends one chunk durably; ``commit`` renames into place; ``discard``
    removes the part file(s)."""

    def __init__(self, out: str | os.PathLike, resume: bool = False):
        self.out = Path(out)
        self.part = self.out.with_name(self.out.name + ".part")
        self.finished: set[Key] = set()
        self.n_written = 0
        self.out.parent.mkdir(parents=True, exist_ok=True)

    @property
    def n_total(self) -> int:
        return len(self.finished)

    def write(self, records: list[dict[str, Any]]) -> None:
        raise NotImplementedError

    def commit(self) -> None:
        raise NotImplementedError

    def discard(self) -> None:
        raise NotImplementedError

    def close(self) -> None:
        """Close without committing (the part file stays for a later ``--resume``)."""


class JsonlWriter(RecordWriter):
    def __init__(self, out: str | os.PathLike, resume: bool = False):
        super().__init__(out, resume)
        if resume and not self.part.exists() and self.out.exists():
            os.replace(self.out, self.part)  # a finished run: new inputs are appended to it
        if resume and self.part.exists():
            self._recover()
            self.f = open(self.part, "ab")
        else:
            self.f = open(self.part, "wb")

    def _recover(self) -> None:
        good = 0
        with open(self.part, "rb") as f:
            for line in f:
                if not line.endswith(b"\n"):
                    break  # a line cut by the crash
                if line.strip():
                    try:
                        rec = json.loads(line)
                    except ValueError:
                        break
                    self.finished.add(record_key(rec))
                good += len(line)
        if good != self.part.stat().st_size:
            with open(self.part, "r+b") as f:
                f.truncate(good)
                _fsync(f)

    def write(self, records: list[dict[str, Any]]) -> None:
        if not records:
            return
        data = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode("utf-8")
        self.f.write(data)
        _fsync(self.f)
        self.finished.update(record_key(r) for r in records)
        self.n_written += len(records)

    def close(self) -> None:
        if not self.f.closed:
            self.f.close()

    def commit(self) -> None:
        self.close()
        os.replace(self.part, self.out)
        _fsync_dir(self.out.parent)

    def discard(self) -> None:
        self.close()
        self.part.unlink(missing_ok=True)


def _csv_header(fields: list[str] | None = None) -> bytes:
    """The first bytes of a sentence CSV: the byte order mark and the header line."""
    buf = io.StringIO(newline="")
    csv.DictWriter(buf, fieldnames=fields or SENTENCE_CSV_FIELDS).writeheader()
    return buf.getvalue().encode(CSV_ENCODING)


def _cell(value: Any) -> Any:
    """A kept column's value as a CSV cell: lists and mappings as JSON text."""
    return json.dumps(value, ensure_ascii=False) if isinstance(value, (list, dict)) else value


class CsvWriter(RecordWriter):
    """One row per sentence (``nlp.io.SENTENCE_CSV_FIELDS``, then ``extra_fields``: input
    table columns kept in each record's meta, those not among the sentence fields), UTF-8 with
    a byte order mark (written once, at the file start; a resumed file is appended to as UTF-8)."""

    def __init__(self, out: str | os.PathLike, resume: bool = False, extra_fields: Iterable[str] = ()):
        super().__init__(out, resume)
        self.extra = [c for c in dict.fromkeys(extra_fields) if c not in SENTENCE_CSV_FIELDS]
        self.fields = SENTENCE_CSV_FIELDS + self.extra
        self.journal = self.part.with_name(self.part.name + ".journal")
        if resume and not self.part.exists() and self.out.exists():
            self._check_header(self.out)
            os.replace(self.out, self.part)
            self._journal_from_csv()
        if resume and self.part.exists() and self.journal.exists():
            self._check_header(self.part)
        if resume and self.part.exists() and self.journal.exists() and self._recover():
            self.f = open(self.part, "ab")
            self.j = open(self.journal, "a", encoding="utf-8")
        else:
            self.finished.clear()
            self.f = open(self.part, "wb")
            self.j = open(self.journal, "w", encoding="utf-8")
            self.f.write(_csv_header(self.fields))
            _fsync(self.f)
            self._journal_line(self.f.tell(), [])

    def _check_header(self, path: Path) -> None:
        """ResumeMismatchError when ``path`` does not start with this version's header (another
        column layout): rows appended to it would not line up with its columns."""
        header = _csv_header(self.fields)
        with open(path, "rb") as f:
            first = f.read(len(header))
        if not header.startswith(first):  # a header cut by a crash is a prefix; the journal covers that
            raise ResumeMismatchError(self.out, "has other CSV columns than this version writes; "
                                                "resuming would mix the two, so write a new output")

    def _journal_from_csv(self) -> None:
        keys: list[Key] = []
        with open(self.part, encoding="utf-8-sig", newline="") as f:
            for row in csv.DictReader(f):
                k = (csv_unsafe(row["doc_id"]), csv_unsafe(row["source_path"]))
                if not keys or keys[-1] != k:
                    keys.append(k)
        with open(self.journal, "w", encoding="utf-8") as j:
            j.write(json.dumps({"end": self.part.stat().st_size, "keys": keys}, ensure_ascii=False) + "\n")

    def _recover(self) -> bool:
        """Cut the part file back to the last journaled chunk; False if the journal is unusable."""
        end = None
        with open(self.journal, encoding="utf-8") as j:
            for line in j:
                if not line.endswith("\n"):
                    break
                try:
                    entry = json.loads(line)
                except ValueError:
                    break
                end = entry["end"]
                self.finished.update(tuple(k) for k in entry["keys"])
        if end is None or end > self.part.stat().st_size:
            return False
        with open(self.part, "r+b") as f:
            f.truncate(end)
            _fsync(f)
        with open(self.journal, "w", encoding="utf-8") as j:  # the journal may end in a cut line
            j.write(json.dumps({"end": end, "keys": sorted(self.finished)}, ensure_ascii=False) + "\n")
            _fsync(j)
        return True

    def _journal_line(self, end: int, keys: list[Key]) -> None:
        self.j.write(json.dumps({"end": end, "keys": keys}, ensure_ascii=False) + "\n")
        _fsync(self.j)

    def write(self, records: list[dict[str, Any]]) -> None:
        if not records:
            return
        buf = io.StringIO(newline="")
        w = csv.DictWriter(buf, fieldnames=self.fields)
        for r in records:
            kept = {c: _cell((r.get("meta") or {}).get(c)) for c in self.extra}
            w.writerows(csv_safe_row({**row, **kept}) for row in sentence_rows(r))
        self.f.write(buf.getvalue().encode("utf-8"))  # no byte order mark after the file start
        _fsync(self.f)
        keys = [record_key(r) for r in records]
        self._journal_line(self.f.tell(), keys)
        self.finished.update(keys)
        self.n_written += len(records)

    def close(self) -> None:
        for f in (self.f, self.j):
            if not f.closed:
                f.close()

    def commit(self) -> None:
        self.close()
        os.replace(self.part, self.out)
        self.journal.unlink(missing_ok=True)
        _fsync_dir(self.out.parent)

    def discard(self) -> None:
        self.close()
        self.part.unlink(missing_ok=True)
        self.journal.unlink(missing_ok=True)


# --------------------------------------------------------------------------- Parquet

_JSON_COLUMNS = ("paragraphs", "entities", "removed_chrome", "meta")
_STRING_COLUMNS = ("schema_version", "id", "source_path", "format", "encoding", "title", "issuer", "date", "docno",
                   "text")


def parquet_schema():
    """One row per document. Scalar fields and ``sentences`` are typed columns (a list of
    structs, so that a query can unnest them); paragraphs, entities (whose attributes vary
    by type), removed chrome and meta (provenance and kept input columns included) are JSON
    text."""
    import pyarrow as pa

    sentence = pa.struct([
        ("start", pa.int64()), ("end", pa.int64()), ("text", pa.string()), ("paragraph", pa.int64()),
        ("label", pa.string()), ("label_source", pa.string()), ("reason", pa.string()),
        ("scores", pa.struct([(lab, pa.float64()) for lab in LABELS])), ("is_heading", pa.bool_()),
    ])
    fields = [(c, pa.string()) for c in _STRING_COLUMNS] + [("sentences", pa.list_(sentence))]
    fields += [(c, pa.string()) for c in _JSON_COLUMNS]
    return pa.schema(fields)


def record_to_row(rec: dict[str, Any]) -> dict[str, Any]:
    row = {c: rec.get(c) for c in _STRING_COLUMNS}
    row["sentences"] = [{**s, "scores": s.get("scores"), "reason": s.get("reason")} for s in rec["sentences"]]
    for c in _JSON_COLUMNS:
        row[c] = json.dumps(rec.get(c), ensure_ascii=False)
    return row


def row_to_record(row: dict[str, Any]) -> dict[str, Any]:
    """The JSONL record of one Parquet row (same keys and values). A file written before
    records had a ``schema_version`` gives the version of the layout it was written in (0)."""
    out: dict[str, Any] = {c: row.get(c) for c in _STRING_COLUMNS}
    if "schema_version" not in row:
        out["schema_version"] = "0"
    sents = []
    for s in row["sentences"] or []:
        s = dict(s)
        scores = s.pop("scores", None)
        is_heading = s.pop("is_heading")
        if scores is not None:
            s["scores"] = {k: v for k, v in scores.items() if v is not None}
        s["is_heading"] = is_heading
        sents.append(s)
    out["paragraphs"] = json.loads(row["paragraphs"])
    out["sentences"] = sents
    out["entities"] = json.loads(row["entities"])
    out["removed_chrome"] = json.loads(row["removed_chrome"])
    out["meta"] = json.loads(row["meta"])
    return out


class ParquetWriter(RecordWriter):
    def __init__(self, out: str | os.PathLike, resume: bool = False):
        super().__init__(out, resume)
        self.parts = self.out.with_name(self.out.name + ".parts")
        self.seq = 0
        if resume and not self.parts.exists() and self.out.exists():
            self.parts.mkdir()
            os.replace(self.out, self.parts / f"{0:08d}.parquet")
        if resume and self.parts.exists():
            self._recover()
        else:
            if self.parts.exists():
                shutil.rmtree(self.parts)
            self.parts.mkdir()
        self.part.unlink(missing_ok=True)

    def _chunk_files(self) -> list[Path]:
        return sorted(self.parts.glob("*.parquet"))

    def _recover(self) -> None:
        import pyarrow.parquet as pq

        for tmp in self.parts.glob("*.tmp"):
            tmp.unlink()
        for p in self._chunk_files():
            t = pq.read_table(p, columns=["id", "source_path"])
            self.finished.update(zip(map(str, t.column("id").to_pylist()), map(str, t.column("source_path").to_pylist())))
            self.seq = max(self.seq, int(p.stem) + 1)

    def write(self, records: list[dict[str, Any]]) -> None:
        if not records:
            return
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pa.Table.from_pylist([record_to_row(r) for r in records], schema=parquet_schema())
        final = self.parts / f"{self.seq:08d}.parquet"
        tmp = final.with_suffix(".tmp")
        with open(tmp, "wb") as f:
            pq.write_table(table, f)
            _fsync(f)
        os.replace(tmp, final)
        _fsync_dir(self.parts)
        self.seq += 1
        self.finished.update(record_key(r) for r in records)
        self.n_written += len(records)

    def commit(self) -> None:
        import pyarrow.parquet as pq

        schema = parquet_schema()
        with open(self.part, "wb") as f:
            with pq.ParquetWriter(f, schema) as w:
                for p in self._chunk_files():
                    w.write_table(pq.read_table(p, schema=schema))
            _fsync(f)
        os.replace(self.part, self.out)
        shutil.rmtree(self.parts)
        _fsync_dir(self.out.parent)

    def discard(self) -> None:
        self.part.unlink(missing_ok=True)
        if self.parts.exists():
            shutil.rmtree(self.parts)


def open_writer(out: str | os.PathLike, resume: bool = False, keep_columns: Iterable[str] = ()) -> RecordWriter:
    """The writer for ``out``'s suffix; a CSV gains a column for each of ``keep_columns``
    (kept input columns, read from each record's meta)."""
    suffix = Path(out).suffix.lower()
    if suffix == ".jsonl":
        return JsonlWriter(out, resume)
    if suffix == ".csv":
        return CsvWriter(out, resume, keep_columns)
    if suffix == ".parquet":
        return ParquetWriter(out, resume)
    raise ValueError(f"{out}: output must end in {', '.join(OUTPUT_SUFFIXES)}")


def read_records(path: str | os.PathLike) -> Iterator[dict[str, Any]]:
    """Annotated document records from a JSONL or Parquet output of ``nlp annotate``."""
    if Path(path).suffix.lower() == ".parquet":
        import pyarrow.parquet as pq

        try:
            pf = pq.ParquetFile(path)
        except (OSError, ValueError) as e:
            raise ReadError(path, f"not a Parquet file ({e})")
        for batch in pf.iter_batches(batch_size=256):
            for row in batch.to_pylist():
                yield row_to_record(row)
    else:
        yield from iter_jsonl(path)


class ErrorLog:
    """Errors of bad inputs, appended durably next to the output (``OUT.errors.jsonl.part``)
    so that a resumed run does not try them again; ``commit`` renames the file into place
    if it lists any error, and removes a stale one otherwise."""

    def __init__(self, path: str | os.PathLike, resume: bool = False):
        self.path = Path(path)
        self.part = self.path.with_name(self.path.name + ".part")
        self.entries: list[dict[str, Any]] = []
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if resume and not self.part.exists() and self.path.exists():
            os.replace(self.path, self.part)
        if resume and self.part.exists():
            good = 0
            with open(self.part, "rb") as f:
                for line in f:
                    if not line.endswith(b"\n"):
                        break
                    try:
                        self.entries.append(json.loads(line))
                    except ValueError:
                        break
                    good += len(line)
            with open(self.part, "r+b") as f:
                f.truncate(good)
            self.f = open(self.part, "ab")
        else:
            self.f = open(self.part, "wb")
        self.keys = {error_key(e) for e in self.entries}

    def write(self, errors: Iterable[dict[str, Any]]) -> None:
        errors = list(errors)
        if not errors:
            return
        self.f.write("".join(json.dumps(e, ensure_ascii=False) + "\n" for e in errors).encode("utf-8"))
        _fsync(self.f)
        self.entries.extend(errors)
        self.keys.update(error_key(e) for e in errors)

    def close(self) -> None:
        if not self.f.closed:
            self.f.close()

    def commit(self) -> str | None:
        self.close()
        if self.entries:
            os.replace(self.part, self.path)
            return str(self.path)
        self.part.unlink(missing_ok=True)
        self.path.unlink(missing_ok=True)
        return None


def error_key(e: dict[str, Any]) -> Key:
    return (str(e.get("path")), str(e.get("row", "")))
