"""Batch annotation: many files → one JSONL (or CSV) of annotated documents, with bad files
listed in ``OUT.errors.jsonl`` rather than stopping the run."""

from __future__ import annotations

import csv
import glob
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator

from .io import AtomicWriter, ReadError, sentence_rows, SENTENCE_CSV_FIELDS
from .pipeline import Labeller, annotate_file, doc_id_for

REPORT_SUFFIXES = {".txt", ".htm", ".html", ".shtml", ".docx", ".pdf", ".text", ""}


def expand_inputs(paths: Iterable[str]) -> Iterator[str]:
    """Files named, files under directories (sorted, report suffixes only), and glob matches.
    A path that matches nothing is yielded as is, so that its error is reported."""
    for p in paths:
        if any(ch in p for ch in "*?[") and not os.path.exists(p):
            matches = sorted(glob.glob(p, recursive=True))
            if matches:
                yield from (m for m in matches if os.path.isfile(m))
                continue
        if os.path.isdir(p):
            for root, dirs, files in os.walk(p):
                dirs.sort()
                for f in sorted(files):
                    if Path(f).suffix.lower() in REPORT_SUFFIXES and not f.startswith("."):
                        yield os.path.join(root, f)
        else:
            yield p


@dataclass
class BatchResult:
    n_docs: int = 0
    n_sentences: int = 0
    n_entities: int = 0
    errors: list[dict[str, str]] = field(default_factory=list)
    output: str | None = None
    errors_path: str | None = None


class _NoDocuments(Exception):
    pass


def errors_path_for(out: str | os.PathLike) -> Path:
    out = Path(out)
    return out.with_name(out.name.rsplit(".", 1)[0] + ".errors.jsonl")


def annotate_paths(paths: list[str], out: str | os.PathLike, labeller: Labeller | None = None,
                   progress: Callable[[Iterable], Iterable] | None = None) -> BatchResult:
    """Annotate every input and write ``out`` (.jsonl: one record per document; .csv: one row
    per sentence). Files that fail are listed in ``<out>.errors.jsonl``; the output is written
    only if at least one document succeeded, and atomically."""
    out = Path(out)
    files = list(expand_inputs(paths))
    res = BatchResult()
    seen_ids: dict[str, int] = {}
    is_csv = out.suffix.lower() == ".csv"
    try:
        with AtomicWriter(out, newline="" if is_csv else None) as f:
            csv_writer = None
            if is_csv:
                csv_writer = csv.DictWriter(f, fieldnames=SENTENCE_CSV_FIELDS)
                csv_writer.writeheader()
            for path in (progress(files) if progress else files):
                base = doc_id_for(path)
                n = seen_ids.get(base, 0)
                seen_ids[base] = n + 1
                doc_id = base if n == 0 else f"{base}-{n + 1}"
                try:
                    doc = annotate_file(path, labeller, doc_id)
                except ReadError as e:
                    res.errors.append({"path": str(path), "error": e.problem})
                    continue
                rec = doc.to_dict()
                if csv_writer is not None:
                    csv_writer.writerows(sentence_rows(rec))
                else:
                    f.write(json.dumps(rec, ensure_ascii=False) + "\n")
                res.n_docs += 1
                res.n_sentences += len(doc.sentences)
                res.n_entities += len(doc.entities)
            if res.n_docs == 0:
                raise _NoDocuments  # AtomicWriter removes the part file: no empty output
        res.output = str(out)
    except _NoDocuments:
        pass
    ep = errors_path_for(out)
    if res.errors:
        with AtomicWriter(ep) as ef:
            for e in res.errors:
                ef.write(json.dumps(e, ensure_ascii=False) + "\n")
        res.errors_path = str(ep)
    elif ep.exists():
        ep.unlink()
    return res
