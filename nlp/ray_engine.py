"""The batch pipeline as a Ray Data job (``nlp annotate --engine ray``; ``pip install
'govreport-nlp[ray]'``).

``run_ray`` runs the chunks of ``nlp.annotate.annotate_corpus`` (``nlp.chunks.annotate_chunk``) on a Ray Data actor pool:
one block per chunk, ``map_batches`` with a callable class (``ChunkAnnotator``) that loads
the labeller once per actor, results in input order; writing, resume and error records are
those of the default engine, so both engines give the same records. Without a running
cluster (``RAY_ADDRESS`` unset) it starts a local Ray instance on this machine.

``annotate_dataset`` is the same step for a Ray Data dataset made on a cluster, e.g. from
object storage with ``ray.data.read_binary_files(..., include_paths=True)`` or
``ray.data.read_parquet(...)``; see the README.
"""

from __future__ import annotations

import json
import logging
import math
import os
import sys
from typing import Any, Iterable, Iterator

from .chunks import ChunkResult, InputItem, annotate_chunk, structure_bytes, structure_item
from .pipeline import LabellerSpec, doc_id_for

_ITEM_FIELDS = ("index", "doc_id", "path", "text", "row", "format", "error")
log = logging.getLogger(__name__)


def import_ray():
    try:
        import ray
        import ray.data  # noqa: F401
    except ImportError:
        raise RuntimeError("the Ray engine needs Ray: pip install 'govreport-nlp[ray]' (or pip install 'ray[data]')") from None
    return ray


class RayConnectionError(ConnectionError):
    """The Ray cluster at an address could not be joined (the message says why, with the usual fix)."""


def connect(ray, address: str, **kw: Any) -> None:
    """``ray.init(address=...)``; a failure is one ``RayConnectionError``. A cluster started by
    ``ray start`` (Ray 2.60) requires token authentication: a driver without ``RAY_AUTH_MODE=token``
    is refused, and the message says so."""
    try:
        ray.init(address=address, **kw)
    except ConnectionError as e:
        why = (str(e).splitlines() or [type(e).__name__])[0]
        hint = "" if os.environ.get("RAY_AUTH_MODE") else (
            "; a cluster started by `ray start` uses token authentication: set RAY_AUTH_MODE=token "
            "(the token is read from ~/.ray/auth_token, RAY_AUTH_TOKEN_PATH or RAY_AUTH_TOKEN)")
        raise RayConnectionError(f"cannot join the Ray cluster at {address}: {why}{hint}") from None


class ChunkAnnotator:
    """Ray Data callable class: loads the labeller once per actor and annotates each batch
    (one chunk, or documents from a dataset) in one batched pass."""

    def __init__(self, spec: LabellerSpec):
        if spec.threads:
            os.environ.setdefault("OMP_NUM_THREADS", str(spec.threads))
        self.labeller = spec.load()
        if spec.threads and "torch" in sys.modules:  # an ONNX or rule labeller never imports it
            sys.modules["torch"].set_num_threads(spec.threads)

    def __call__(self, batch):
        rows = batch.to_pylist()
        out: dict[str, list] = {"index": [], "chunk": [], "kind": [], "payload": [], "labeller": []}
        groups: dict[int, list[dict[str, Any]]] = {}
        for r in rows:  # a batch is one chunk; grouping keeps that true whatever Ray bundles
            groups.setdefault(r.get("chunk", 0), []).append(r)
        for chunk_no, group in groups.items():
            res = annotate_chunk([InputItem(**{k: r.get(k) for k in _ITEM_FIELDS}) for r in group], self.labeller)
            for kind, entries in (("record", res.records), ("error", res.errors)):
                for index, payload in entries:
                    out["index"].append(index)
                    out["chunk"].append(chunk_no)
                    out["kind"].append(kind)
                    out["payload"].append(json.dumps(payload, ensure_ascii=False))
                    out["labeller"].append(res.labeller)
        import pyarrow as pa

        return pa.table(out)


def _init_ray(workers: int) -> bool:
    """Connect to ``RAY_ADDRESS`` or start a local instance; True if this call started it."""
    ray = import_ray()
    if ray.is_initialized():
        return False
    kw: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False, "logging_level": logging.WARNING}
    if os.environ.get("RAY_ADDRESS"):
        connect(ray, os.environ["RAY_ADDRESS"], **kw)
    else:
        ray.init(address="local", num_cpus=max(os.cpu_count() or 1, workers), **kw)  # new, even beside a `ray start`
    return True


def _quiet_data_context():
    import ray.data

    ctx = ray.data.DataContext.get_current()
    ctx.execution_options.preserve_order = True
    ctx.enable_progress_bars = False
    for name in ("ray.data", "ray"):
        logging.getLogger(name).setLevel(logging.ERROR)
    return ctx


def run_ray(chunks: Iterable[list[InputItem]], spec: LabellerSpec, workers: int) -> Iterator[ChunkResult]:
    """Annotate chunks on a Ray actor pool of ``workers`` actors; results in input order."""
    ray = import_ray()
    chunks = list(chunks)
    if not chunks:
        return
    import pyarrow as pa

    started = _init_ray(workers)
    try:
        _quiet_data_context()
        if spec.threads is None and not os.environ.get("RAY_ADDRESS"):
            spec = LabellerSpec(**{**spec.__dict__, "threads": max(1, (os.cpu_count() or 1) // workers)})
        schema = pa.schema([("index", pa.int64()), ("doc_id", pa.string()), ("path", pa.string()), ("text", pa.string()),
                            ("row", pa.int64()), ("format", pa.string()), ("error", pa.string()), ("chunk", pa.int64())])
        tables = [pa.Table.from_pylist([{**{k: getattr(it, k) for k in _ITEM_FIELDS}, "chunk": n} for it in chunk],
                                       schema=schema) for n, chunk in enumerate(chunks)]
        size = max(len(c) for c in chunks)
        log.debug("Ray: %d chunk(s) on %d actor(s); cluster CPUs %s", len(chunks), workers,
                  ray.cluster_resources().get("CPU"))
        ds = ray.data.from_arrow(tables).map_batches(
            ChunkAnnotator, fn_constructor_kwargs={"spec": spec}, batch_size=size, batch_format="pyarrow",
            compute=ray.data.ActorPoolStrategy(size=min(workers, len(chunks))))  # no idle actors
        current: ChunkResult | None = None
        current_no = -1
        for row in ds.iter_rows():
            if row["chunk"] != current_no:
                if current is not None:
                    yield current
                current, current_no = ChunkResult(labeller=row["labeller"]), row["chunk"]
            target = current.records if row["kind"] == "record" else current.errors
            target.append((row["index"], json.loads(row["payload"])))
        if current is not None:
            yield current
    finally:
        if started:
            ray.shutdown()


class DatasetAnnotator:
    """Ray Data callable class for ``annotate_dataset``: rows with ``bytes`` and ``path``
    (``read_binary_files(include_paths=True)``) or with a text column."""

    def __init__(self, spec: LabellerSpec, text_column: str = "text", id_column: str | None = "id"):
        self.inner = ChunkAnnotator(spec)
        self.text_column = text_column
        self.id_column = id_column

    def __call__(self, batch):
        rows = batch.to_pylist()
        items, data = [], {}
        for i, r in enumerate(rows):
            path = str(r.get("path") or "")
            if "bytes" in r:
                data[i] = r["bytes"]
                items.append(InputItem(i, doc_id_for(path) if path else f"doc-{i}", path))
            else:
                text = r.get(self.text_column)
                rid = r.get(self.id_column) if self.id_column else None
                items.append(InputItem(i, str(rid) if rid not in (None, "") else f"doc-{i}", path, text or "", None,
                                       "row", None if isinstance(text, str) and text.strip() else "empty text"))

        def structure(it: InputItem):
            if it.index in data:
                return structure_bytes(data[it.index], it.path, it.doc_id)
            return structure_item(it)

        res = annotate_chunk(items, self.inner.labeller, structure)
        out: dict[str, list] = {"id": [], "source_path": [], "record": [], "error": []}
        for index, rec in res.records:
            out["id"].append(rec["id"])
            out["source_path"].append(rec["source_path"])
            out["record"].append(json.dumps(rec, ensure_ascii=False))
            out["error"].append(None)
        for index, err in res.errors:
            out["id"].append(items[index].doc_id)
            out["source_path"].append(err["path"])
            out["record"].append(None)
            out["error"].append(err["error"])
        import pyarrow as pa

        return pa.table(out, schema=pa.schema([("id", pa.string()), ("source_path", pa.string()),
                                               ("record", pa.string()), ("error", pa.string())]))


RESERVED_CPUS = 1.0  # left free beside the actor pool for Ray Data's read and write tasks


def pool_resources(cpus: float, concurrency: int | None = None, num_cpus: float | None = None) -> tuple[int, float]:
    """(actors, CPUs per actor) for a pool on ``cpus`` CPUs that leaves Ray Data's read and
    write tasks room: one CPU (half the CPUs on a one-CPU cluster) stays free. Without
    ``concurrency``, one actor per remaining whole CPU (at least one); without ``num_cpus``,
    one CPU per actor, or an equal share of the remaining CPUs where that is less. A pool
    that takes every CPU deadlocks: the reads its batches wait for can never be scheduled."""
    if concurrency is not None and concurrency < 1:
        raise ValueError(f"concurrency must be at least 1, not {concurrency}")
    if num_cpus is not None and num_cpus < 0:
        raise ValueError(f"num_cpus must be at least 0, not {num_cpus}")
    usable = max(0.0, cpus - min(RESERVED_CPUS, cpus / 2))
    n = concurrency or max(1, int(usable))
    if num_cpus is None:
        num_cpus = math.floor(min(1.0, usable / n) * 10_000) / 10_000  # Ray takes 4 decimals
    return n, num_cpus


def cluster_cpus(ray) -> float:
    """The CPUs free on the cluster now (all of its CPUs when less than one is free)."""
    if not ray.is_initialized():
        ray.init()  # as Ray Data itself would on first use (RAY_ADDRESS or a local instance)
    free = float(ray.available_resources().get("CPU", 0.0))
    return free if free >= 1 else float(ray.cluster_resources().get("CPU", 0.0))


def annotate_dataset(ds, spec: LabellerSpec, batch_docs: int = 32, concurrency: int | None = None,
                     num_cpus: float | None = None, num_gpus: float = 0, text_column: str = "text",
                     id_column: str | None = "id"):
    """A Ray Dataset of annotations, one row per input document: ``id``, ``source_path``,
    ``record`` (the JSONL record as text) and ``error`` (why the document failed, else
    null). ``ds`` has ``bytes`` and ``path`` columns or a text column.

    ``concurrency`` actors (default: one per free CPU of the cluster, one CPU left for
    reading and writing) of ``num_cpus`` CPUs each (default: 1, or a share of the CPUs when
    ``concurrency`` actors of one CPU would take them all); see ``pool_resources``."""
    ray = import_ray()
    if concurrency is None or num_cpus is None:
        cpus = cluster_cpus(ray)
        concurrency, num_cpus = pool_resources(cpus, concurrency, num_cpus)
        log.debug("actor pool: %d actor(s) of %g CPU(s) each on %g free CPU(s)", concurrency, num_cpus, cpus)
    return ds.map_batches(DatasetAnnotator, fn_constructor_kwargs={"spec": spec, "text_column": text_column,
                                                                  "id_column": id_column},
                          batch_size=batch_docs, batch_format="pyarrow", num_cpus=num_cpus, num_gpus=num_gpus,
                          compute=ray.data.ActorPoolStrategy(size=concurrency))
