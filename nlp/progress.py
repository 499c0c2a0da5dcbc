"""Progress of long runs: the hook library code reports work through (``advance``), and what
the command line shows of a batch run (``AnnotateProgress``): a bar moving per document on a
terminal, otherwise a plain line every ``GOVREPORT_LOG_EVERY`` seconds (default 30), so that
a long run written to a log is never silent.

The hook is a context variable: ``with reporting(sink): ...`` makes ``advance(n)`` call
``sink(n)`` inside the block (and nothing outside one, so library code calls it freely).
Nothing here imports the rest of the package.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import sys
import threading
import time
from typing import Any, Callable, Iterator, Optional, TextIO

LOG_EVERY_ENV = "GOVREPORT_LOG_EVERY"
DEFAULT_LOG_EVERY = 30.0

_SINK: contextvars.ContextVar[Optional[Callable[[float], None]]] = contextvars.ContextVar("nlp_progress", default=None)


@contextlib.contextmanager
def reporting(sink: Callable[[float], None] | None) -> Iterator[None]:
    """Within the block, ``advance(n)`` calls ``sink(n)`` (None: reports go nowhere)."""
    token = _SINK.set(sink)
    try:
        yield
    finally:
        _SINK.reset(token)


def advance(n: float) -> None:
    """Report ``n`` units of work done (a no-op outside ``reporting``)."""
    sink = _SINK.get()
    if sink is not None:
        sink(n)


def sink() -> Callable[[float], None] | None:
    """The sink ``advance`` reports to now (None outside ``reporting``): a step that reports
    in units of its own (sentences) installs a sink of its own and passes converted
    amounts (documents) on to this one."""
    return _SINK.get()


def log_every(default: float = DEFAULT_LOG_EVERY) -> float | None:
    """Seconds between progress lines when stderr is not a terminal: ``GOVREPORT_LOG_EVERY``
    (0: a line whenever a document is done; negative: none), else ``default``."""
    value = os.environ.get(LOG_EVERY_ENV, "").strip()
    try:
        seconds = float(value) if value else default
    except ValueError:
        seconds = default
    return None if seconds < 0 else seconds


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min"


class AnnotateProgress:
    """The progress of a batch run (``nlp.annotate.annotate_corpus``): call it with each
    ``ProgressUpdate`` (after every chunk) and install ``advance`` as the ``reporting`` sink
    for the work inside a chunk (documents, fractions of one while sentences are scored).

    On a terminal a tqdm bar over the inputs with documents/s and sentences/s; otherwise a
    line ``annotate: 64/338 documents (19%), 1.4 doc/s, …`` every ``every`` seconds
    (default ``log_every()``; 0: whenever another document is done) from a timer thread, so
    a line comes even while one long chunk runs. ``enabled=False`` shows nothing."""

    def __init__(self, total: int | None, *, stream: TextIO | None = None, enabled: bool = True,
                 every: float | None = None, tty: bool | None = None, desc: str = "annotate"):
        self.total = total
        self.stream = stream or sys.stderr
        self.desc = desc
        self.base = 0  # inputs done at the last update
        self.within = 0.0  # inputs done since, reported inside the chunk
        self.docs = self.sentences = self.errors = 0
        self.t0 = time.perf_counter()
        self.bar: Any = None
        self.every: float | None = None
        self._shown = 0  # whole documents last shown in a line (GOVREPORT_LOG_EVERY=0)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        if not enabled:
            return
        if tty if tty is not None else self.stream.isatty():
            from tqdm import tqdm

            fmt = "{desc}: {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} [{elapsed}<{remaining}{postfix}]" if total else None
            self.bar = tqdm(total=total, desc=desc, unit="doc", file=self.stream, dynamic_ncols=True, bar_format=fmt)
        else:
            self.every = log_every() if every is None else every
            if self.every:
                self._thread = threading.Thread(target=self._tick, name="progress-log", daemon=True)
                self._thread.start()

    @property
    def position(self) -> int:
        """Inputs done, whole ones (never past the total)."""
        n = int(self.base + self.within + 1e-6)
        return min(n, self.total) if self.total is not None else n

    def __call__(self, u) -> None:
        with self._lock:
            self.base, self.within = u.inputs_done, 0.0
            self.docs, self.sentences, self.errors = u.docs, u.sentences, u.errors
            self.total = u.total if u.total is not None else self.total
        self._show()

    def advance(self, n: float) -> None:
        with self._lock:
            self.within += n
        self._show()

    def line(self) -> str:
        """The progress as one line of text."""
        with self._lock:
            done, total, within = self.position, self.total, self.within
            docs, sentences, errors = self.docs, self.sentences, self.errors
        elapsed = time.perf_counter() - self.t0
        rate = (docs + within) / elapsed if elapsed > 0 else 0.0
        head = f"{done}/{total} documents ({100 * done / total:.0f}%)" if total else f"{done} documents"
        left = f", about {_duration((total - done) / rate)} left" if total and rate > 0 and done < total and elapsed >= 1 else ""
        return (f"{self.desc}: {head}, {rate:.2f} doc/s, {sentences} sentences, {errors} error(s), "
                f"{_duration(elapsed)} elapsed{left}")

    def _emit(self) -> None:
        print(self.line(), file=self.stream, flush=True)

    def _show(self) -> None:
        n = self.position
        if self.bar is not None:
            if n != self.bar.n:
                self.bar.update(n - self.bar.n)
            t = max(time.perf_counter() - self.t0, 1e-9)
            self.bar.set_postfix_str(f"{(self.docs + self.within) / t:.1f} doc/s, {self.sentences / t:.0f} sent/s, "
                                     f"{self.errors} error(s)", refresh=False)
        elif self.every == 0 and n != self._shown:
            self._shown = n
            self._emit()

    def _tick(self) -> None:
        while not self._stop.wait(self.every):
            self._emit()

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if self.bar is not None:
            self.bar.close()
