"""Training configurations, each option declared once.

Every field of a training config carries its own documentation and constraints
(``option(...)``): the command line builds its options from these fields
(``nlp.cli_options.config_command``), ``check()`` validates choices and ranges in one place,
and ``command_line()`` writes the command that reproduces a run into its model card. This
module imports nothing heavy, so the command line can read it without loading torch.
"""

from __future__ import annotations

import dataclasses
from dataclasses import MISSING, dataclass, field, fields
from pathlib import Path
from typing import Any, Callable, Sequence

from ..config import ConfigError

__all__ = ["ClassifyConfig", "ConfigError", "NerTrainConfig", "PretrainConfig", "option"]


def option(default: Any = MISSING, *, help: str = "", flag: str | None = None, choices: Sequence[Any] | None = None,
           min: float | None = None, max: float | None = None, below_max: bool = False, cli: bool = True,
           default_factory: Callable[[], Any] | None = None, negate: bool = False, exists: bool = False) -> Any:
    """A config field with its documentation and constraints.

    ``flag``: the command-line spelling when it is not ``--field-name``; ``negate``: a boolean
    field whose option sets it to False (``--no-context``); ``cli=False``: not a command-line
    option (set by the caller or fixed); ``below_max``: ``max`` is exclusive; ``exists``: a path
    (or list of paths) that must exist."""
    meta = {"help": help, "flag": flag, "choices": tuple(choices) if choices else None, "min": min, "max": max,
            "below_max": below_max, "cli": cli, "negate": negate, "exists": exists}
    if default_factory is not None:
        return field(default_factory=default_factory, metadata=meta)
    return field(default=default, metadata=meta)


def flag_of(f: dataclasses.Field) -> str:
    return f.metadata.get("flag") or "--" + f.name.replace("_", "-")


class TrainingConfig:
    """Shared behaviour of the training configs (dataclasses using ``option``)."""

    command: str = ""  # the command that runs this config, e.g. "nlp train classify"

    def check(self) -> None:
        """Raise ``ConfigError`` for the first value out of its choices or range."""
        for f in fields(self):  # type: ignore[arg-type]
            m, v = f.metadata, getattr(self, f.name)
            if v is None or not m:
                continue
            if m.get("exists"):
                for p in (v if isinstance(v, (list, tuple)) else [v]):
                    if not Path(p).exists():
                        raise ConfigError(f.name, "no such file or directory", path=str(p))
            if m.get("choices") and v not in m["choices"]:
                c = [str(x) for x in m["choices"]]
                raise ConfigError(f.name, f"must be {', '.join(c[:-1])} or {c[-1]} (got {v!r})")
            if m.get("min") is not None and v < m["min"]:
                raise ConfigError(f.name, f"must be ≥ {m['min']:g} (got {v!r})")
            if m.get("max") is not None and (v >= m["max"] if m.get("below_max") else v > m["max"]):
                raise ConfigError(f.name, f"must be {'<' if m.get('below_max') else '≤'} {m['max']:g} (got {v!r})")
        self._check()

    def _check(self) -> None:
        """Constraints between fields (subclasses)."""

    def with_data_defaults(self) -> "TrainingConfig":
        """Fill unset data paths from the data folder around ``reports`` (``corpus/``,
        ``gold/dev.jsonl``) where those exist, as ../shared/data is laid out."""
        reports = getattr(self, "reports", None)
        if not reports:
            return self
        root = Path(reports).parent
        changes = {}
        if "corpus" in {f.name for f in fields(self)} and getattr(self, "corpus") is None and (root / "corpus").is_dir():  # type: ignore[arg-type]
            changes["corpus"] = str(root / "corpus")
        if "dev_gold" in {f.name for f in fields(self)} and getattr(self, "dev_gold") is None and (root / "gold" / "dev.jsonl").exists():  # type: ignore[arg-type]
            changes["dev_gold"] = str(root / "gold" / "dev.jsonl")
        return dataclasses.replace(self, **changes) if changes else self  # type: ignore[type-var]

    def command_line(self) -> str:
        """The command that reproduces this config: required options, then those that differ
        from their defaults."""
        parts = [self.command]
        for f in fields(self):  # type: ignore[arg-type]
            if not f.metadata.get("cli", False):
                continue
            v = getattr(self, f.name)
            if f.default is MISSING and f.default_factory is MISSING:
                parts.append(f"{flag_of(f)} {v}")
                continue
            default = f.default if f.default is not MISSING else f.default_factory()  # type: ignore[misc]
            if v == default:
                continue
            if f.metadata.get("negate"):
                parts.append(flag_of(f))
            elif isinstance(v, bool):
                parts.append(flag_of(f) if v else f"--no-{flag_of(f)[2:]}")
            elif isinstance(v, (list, tuple)):
                parts += [f"{flag_of(f)} {x}" for x in v]
            else:
                parts.append(f"{flag_of(f)} {v}")
        return " ".join(parts)


@dataclass(kw_only=True)
class ClassifyConfig(TrainingConfig):
    """Fine-tuning a sentence classifier (``nlp train classify``)."""

    command = "nlp train classify"
    output: str = option(help="model directory to write")
    base: str | None = option(None, help="BERT-family encoder: local directory or hub id")
    reports: str = option(help="reports.jsonl (default: ../shared/data/reports.jsonl)", exists=True)
    corpus: str | None = option(None, cli=False)  # beside reports when present
    dev_gold: str | None = option(None, flag="--dev", exists=True,
                                  help="gold JSONL scored once with the chosen model, for the model card; never used "
                                       "to choose (default: ../shared/data/gold/dev.jsonl)")
    valid_fraction: float = option(0.2, min=0, max=1, below_max=True,
                                   help="share of the wholly hand-labelled training documents held out (every sentence "
                                        "of them) to choose the epoch; 0: keep the last epoch")
    reset_head: bool = option(False, help="start a new classification head (when --base is a fine-tuned classifier)")
    epochs: int = option(3, min=1)
    batch_size: int = option(32, min=1)
    lr: float = option(5e-5, min=0)
    max_length: int = option(128, min=8)
    weight_decay: float = option(0.01, cli=False)
    warmup_ratio: float = option(0.06, cli=False)
    seed: int = option(0)
    max_train: int | None = option(None, min=1, help="use at most this many training sentences")
    weak_per_label: int | None = option(None, min=0, help="use at most this many weak-labelled sentences of each label "
                                                          "(hand labels are all kept)")
    context: bool = option(True, negate=True, flag="--no-context", help="train on sentences alone (no heading path)")
    hand_labels: list[str] = option(default_factory=list, flag="--hand", exists=True,
                                    help="standoff hand labels (repeatable), e.g. eval/hand/train_sentences.jsonl")
    hand_weight: float = option(3.0, min=0, help="loss weight of hand-labelled sentences")
    context_dropout: float = option(0.3, min=0, max=1, help="share of examples trained without context")
    patience: int = option(2, cli=False)
    cache_dir: str | None = option(None, cli=False)


POSITION_INITS = ("auto", "local", "keep")


@dataclass(kw_only=True)
class NerTrainConfig(TrainingConfig):
    """Training a BIO entity tagger (``nlp train ner``)."""

    command = "nlp train ner"
    output: str = option(help="model directory to write")
    base: str = option(help="BERT-family encoder with a fast tokenizer: local directory or hub id")
    reports: str = option(help="reports.jsonl (default: ../shared/data/reports.jsonl)", exists=True)
    corpus: str | None = option(None, exists=True, help="folder of *.txt.gz corpus files (default: beside the reports)")
    dev_gold: str | None = option(None, flag="--dev", exists=True, help="gold JSONL for choosing the epoch and the combination "
                                                           "(default: ../shared/data/gold/dev.jsonl)")
    hand_labels: list[str] = option(default_factory=list, flag="--hand", exists=True,
                                    help="standoff hand-labelled entities (repeatable), e.g. eval/hand/train_entities.jsonl")
    hand_weight: float = option(3.0, min=0, help="loss weight of hand-labelled paragraphs")
    hold_out: str | None = option(None, exists=True, help="file of doc|para lines whose hand labels are left out (they stay silver), "
                                             "to score the tagger on them afterwards")
    corpus_lines: int = option(3000, min=0, help="corpus lines sampled for silver spans (0: reports only)")
    corpus_files: tuple[str, ...] = option(("gov_work_reports.txt.gz", "laws.txt.gz", "xinwenlianbo.txt.gz"), cli=False)
    max_length: int = option(128, min=8, help="tokens per window")
    stride: int = option(32, min=0, help="tokens shared by consecutive windows")
    epochs: int = option(3, min=1)
    batch_size: int = option(16, min=1)
    lr: float = option(5e-4, min=0)
    weight_decay: float = option(0.01, cli=False)
    warmup_ratio: float = option(0.06, cli=False)
    label_smoothing: float = option(0.05, min=0, max=1, below_max=True, help="label smoothing on silver tokens")
    bracket_dropout: float = option(0.2, min=0, max=1, help="share of silver 《LAW》 titles trained without brackets")
    year_dropout: float = option(0.0, min=0, max=1, help="share of silver years running into a name (2023年全国…) "
                                                         "trained as bare years")
    max_windows: int | None = option(None, min=1, help="use at most this many training windows")
    layers: int | None = option(None, min=1, help="keep only the first N encoder layers (default: all)")
    position_init: str = option("auto", choices=POSITION_INITS,
                                help="local attention (neighbour heads, sinusoidal positions) when the encoder's "
                                     "positions are still random (auto), always (local) or never (keep)")
    threads: int | None = option(None, min=1, help="torch threads (default: all cores)")
    seed: int = option(0)
    cache_dir: str | None = option(None, cli=False)

    def _check(self) -> None:
        if self.stride >= self.max_length - 2:
            raise ConfigError("stride", f"must be below max_length − 2 ({self.max_length - 2})")


PRETRAIN_SIZES = ("tiny", "mini", "small", "base")


@dataclass(kw_only=True)
class PretrainConfig(TrainingConfig):
    """Masked-LM pretraining of a character-level Chinese BERT (``nlp pretrain``)."""

    command = "nlp pretrain"
    output: str = option(help="model directory to write (resumes from its checkpoint/)")
    corpus: str = option(help="folder of *.txt.gz corpus files (default: ../shared/data/corpus)", exists=True)
    config: str = option("mini", choices=PRETRAIN_SIZES, help="encoder size")
    seq_len: int = option(128, min=8)
    batch_size: int = option(64, min=1)
    lr: float = option(5e-4, min=0)
    warmup_steps: int = option(500, min=0)
    max_steps: int = option(20000, min=1, help="schedule length (linear decay to 0)")
    max_minutes: float | None = option(None, min=0, help="time budget: stop (and save) after this long; the LR decays "
                                                         "to 0 by then")
    stop_step: int | None = option(None, min=1, help="stop (and save) at this step; the schedule still runs to max_steps")
    mask_prob: float = option(0.15, cli=False)
    masking: str = option("char", choices=("char", "wwm"), help="char | wwm (whole words from jieba)")
    seed: int = option(0)
    save_every: int = option(500, min=1)
    vocab_size: int = option(12000, min=100)
    upweight: tuple[str, ...] = option(("gov_work_reports", "cpc_congress_reports"), cli=False)
    log_every: int = option(50, min=1, help="steps between loss/throughput records")
    workers: int = option(0, min=0, help="data-loader processes for tokenising/packing (0: none; use several on a GPU)")
    data: str = option("stream", choices=("stream", "memory"),
                       help="stream: lines tokenised as training goes | memory: the corpus tokenised once and blocks "
                            "drawn and masked on the device (fast on a GPU; char masking)")

    def _check(self) -> None:
        if self.data == "memory" and self.masking != "char":
            raise ConfigError("data", "memory masks characters on the device", use=("masking", "char"))
