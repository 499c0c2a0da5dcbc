"""Configuration of the inference pipeline, as plain data, with its choices and ranges checked
in one place.

- ``PipelineConfig``: which pipeline ``nlp.load`` builds (sentence classifier or rule
  labeller, backend, device, entity choice); the command line's ``nlp annotate`` options
  become one (``nlp.pipeline.LabellerSpec`` is its worker-side form).
- ``DecodingConfig``: how a classifier's sentence probabilities are decoded over a document,
  stored with the model (``decoding.json``).

This module imports nothing heavy and nothing from ``nlp.training``.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any, Mapping

BACKENDS: tuple[str, ...] = ("torch", "onnx")
LABELLER_NAMES: tuple[str, ...] = ("headings", "rules", "tfidf")
ENTITY_MODES: tuple[str, ...] = ("rules", "model", "combined")
ENGINES: tuple[str, ...] = ("local", "ray")  # batch engines (nlp.annotate.ENGINES)
SUMMARY_METHODS: tuple[str, ...] = ("centrality", "lead", "textrank")  # nlp.summarize.METHODS
DEVICES: tuple[str, ...] = ("cpu", "cuda", "cuda:N")  # as help shows them (N: a GPU's number)
COMPONENT_NAMES: tuple[str, ...] = ("structure", "labels", "entities", "indicators")
GPU_BATCH_SIZE = 512  # sentences per forward pass on a GPU when none is asked for (sentences are short)


class ConfigError(ValueError):
    """A configuration value out of its choices or range, or two values that do not go together.

    ``ConfigError(message)``, or ``ConfigError(field, problem, path=, use=)`` where ``field``
    names the offending field, ``path`` a missing file and ``use`` = (field, value) a fix; the
    caller spells field names its own way (``message(spell)``: as command-line flags, say), so
    the library's messages name fields, never flags."""

    def __init__(self, field_or_message: str, problem: str | None = None, path: str | None = None,
                 use: tuple[str, Any] | None = None):
        if problem is None:
            self.field, self.problem = None, field_or_message
        else:
            self.field, self.problem = field_or_message, problem
        self.path, self.use = path, use
        super().__init__(self.message())

    def message(self, spell=lambda name: name) -> str:
        if self.path:
            return f"{self.path}: {self.problem}" + (f" ({spell(self.field)})" if self.field else "")
        head = f"{spell(self.field)} {self.problem}" if self.field else self.problem
        return head + (f"; use {spell(self.use[0])} {self.use[1]}" if self.use else "")


PipelineConfigError = ConfigError  # the name the pipeline code uses


def check_choice(what: str, value: Any, choices: tuple[str, ...]) -> None:
    if value is not None and value not in choices:
        raise PipelineConfigError(f"unknown {what} {value!r}; choose from {', '.join(choices)}")


@dataclass(frozen=True)
class PipelineConfig:
    """The choices a pipeline is built from. ``model`` (a directory or hub id) wins over
    ``labeller`` (headings | rules | tfidf); neither gives the default (the shipped classifier,
    as ``nlp annotate`` uses)."""

    model: str | None = None
    labeller: str | None = None
    backend: str | None = None  # torch | onnx (None: from the model directory)
    batch_size: int | None = None  # sentences per forward pass (None: 64, or 512 on a GPU)
    device: str | None = None  # cpu | cuda | cuda:N (None: cuda when available)
    threads: int | None = None  # threads of the labeller (None: all cores)
    ner: str | None = None  # entity tagger (directory or hub id; None: the default entities)
    entities: str | None = None  # rules | model | combined (None: combined with a tagger, else the default)

    def check(self) -> None:
        """Raise ``PipelineConfigError`` for a value out of its choices or range (files are
        checked when loading)."""
        check_choice("labeller", self.labeller, LABELLER_NAMES)
        check_choice("backend", self.backend, BACKENDS)
        check_choice("entities", self.entities, ENTITY_MODES)
        for name in ("batch_size", "threads"):
            v = getattr(self, name)
            if v is not None and (not isinstance(v, int) or v < 1):
                raise PipelineConfigError(f"{name} must be a whole number of at least 1, not {v!r}")
        if self.device is not None and not (self.device == "cpu" or self.device.split(":")[0] == "cuda"):
            raise PipelineConfigError(f"unknown device {self.device!r}; choose cpu, cuda or cuda:N")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "PipelineConfig":
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise PipelineConfigError(f"unknown pipeline settings {', '.join(unknown)}")
        return cls(**dict(d))


@dataclass
class DecodingConfig:
    """How a classifier's sentence probabilities become labels over a document (``decoding.json``)."""

    backward_penalty: float = 2.0  # log-space cost of going back in section order
    heading_weight: float = 0.5  # weight of the heading-derived label (0: ignore headings)
    use_viterbi: bool = True
    # a document whose P(plan document) (``nlp.dockind``, the classifier's ``doc_kind/``) reaches
    # this is read as a plan: its duty probability goes to plans (0: off)
    plan_document_threshold: float = 0.0
    # page chrome (``nlp.text.chrome_rule``: 扫一扫在手机打开当前页, breadcrumbs, site navigation) is
    # ``other`` wherever it stands (LABELING.md), whatever the model reads into it
    chrome_is_other: bool = True
    # weight of a ``problems`` prior on sentences that state a shortcoming (``nlp.weak.PROBLEM_STATEMENT``:
    # 不够, 不深入, 有待, 短板, …的问题) outside the mandated section headings (0: off)
    problem_cue_weight: float = 0.0

    def check(self) -> None:
        """Raise ``PipelineConfigError`` for a value out of its range."""
        if self.backward_penalty < 0:
            raise PipelineConfigError(f"backward_penalty must be at least 0, not {self.backward_penalty}")
        for name in ("heading_weight", "plan_document_threshold", "problem_cue_weight"):
            v = getattr(self, name)
            if not 0 <= v <= 1:
                raise PipelineConfigError(f"{name} must be between 0 and 1, not {v}")

    @classmethod
    def load(cls, model_dir: Path) -> "DecodingConfig":
        p = Path(model_dir) / "decoding.json"
        cfg = cls(**json.loads(p.read_text(encoding="utf-8"))) if p.exists() else cls()
        cfg.check()
        return cfg
