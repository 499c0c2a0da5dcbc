"""Command-line plumbing shared by the commands: options built from config dataclasses (so a
training option is declared once, in ``nlp.training.config``), one-line failures, progress.

Nothing here knows a model or a report; ``nlp.cli`` holds the commands.
"""

from __future__ import annotations

import inspect
import sys
import typing
from dataclasses import MISSING, fields
from pathlib import Path
from typing import Any, Callable, NoReturn, Optional

import typer
from rich.console import Console

err = Console(stderr=True)  # notes and progress: silent with --quiet
errors = Console(stderr=True)  # errors: printed even with --quiet
out = Console()


def fail(msg: str, code: int = 1) -> NoReturn:
    """Print ``error: msg`` (one line) and exit with ``code``."""
    error(msg)
    raise typer.Exit(code)


def error(msg: str) -> None:
    """Print ``error: msg`` on stderr (also with --quiet)."""
    errors.print(f"[red]error:[/red] {msg}", highlight=False, soft_wrap=True)


def set_verbosity(quiet: bool = False, verbose: bool = False) -> None:
    """``--quiet``: errors only (no notes, progress or warnings on stderr); ``--verbose``: the
    package's debug log (``nlp.*`` loggers) and other libraries' info lines on stderr."""
    import logging
    import os
    import warnings

    if quiet and verbose:
        fail("give either --quiet or --verbose, not both")
    fmt = "%(asctime)s %(levelname)s %(name)s: %(message)s"
    if quiet:
        err.quiet = True
        warnings.simplefilter("ignore")
        os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
        logging.basicConfig(level=logging.ERROR, format=fmt, stream=sys.stderr)
        logging.getLogger().setLevel(logging.ERROR)
    elif verbose:
        logging.basicConfig(level=logging.INFO, format=fmt, stream=sys.stderr)
        logging.getLogger("nlp").setLevel(logging.DEBUG)


def choices_metavar(choices) -> str:
    """How help shows an option's choices: ``[a|b|c]``."""
    return "[" + "|".join(map(str, choices)) + "]"


def choice(default: Any, flag: str, choices, help: str) -> Any:
    """An option whose value is one of ``choices``, shown as such in help; the command checks
    the value (so that a wrong one is a one-line error naming the choices)."""
    return typer.Option(default, flag, metavar=choices_metavar(choices), help=help)


def first_line(e: BaseException) -> str:
    return (str(e).splitlines() or [type(e).__name__])[0]


def shared_default(given: Optional[Path], name: str, flag: str) -> Path:
    """``given``, or ``name`` inside ../shared/data; fails with a clear message if neither exists."""
    if given is None:
        from .lexicon import shared_data_dir

        d = shared_data_dir()
        if d is None:
            fail(f"no {flag} given and ../shared/data not found (set GOVREPORT_DATA)")
        given = d / name
    if not Path(given).exists():
        fail(f"{given}: no such file or directory")
    return Path(given)


def progress(desc: str):
    from tqdm import tqdm

    def wrap(items):
        return tqdm(items, desc=desc, unit="doc", disable=True if err.quiet else None, file=sys.stderr)

    return wrap


def _flag(f) -> str:
    return f.metadata.get("flag") or "--" + f.name.replace("_", "-")


def config_command(app: typer.Typer | None, name: str, cls: type, *, shared: dict[str, str] | None = None,
                   extra: list[inspect.Parameter] | None = None) -> Callable:
    """Register ``fn(cfg, **extra)`` as command ``name`` of ``app`` (with ``app`` None: return the
    command for the caller to register), its options made from the
    fields of the config dataclass ``cls`` that carry ``cli`` metadata (help, flag, default).

    ``shared`` maps a field to a path inside ../shared/data used when the option is not given
    (the option is then optional). ``extra``: further parameters passed to ``fn`` as keywords.
    The config is checked (``cfg.check()``) before ``fn`` runs; a ``ConfigError`` is reported
    with the field's flag."""
    from .training.config import ConfigError

    shared = shared or {}
    hints = typing.get_type_hints(cls)
    cli_fields = [f for f in fields(cls) if f.metadata.get("cli")]
    params = []
    for f in cli_fields:
        required = f.default is MISSING and f.default_factory is MISSING and f.name not in shared
        ann = hints[f.name]
        if f.metadata.get("negate"):
            ann, default = bool, False
        elif required:
            default = ...
        elif f.name in shared:
            ann, default = Optional[str], None
        elif f.default_factory is not MISSING:
            ann, default = Optional[ann], None  # a list option: repeat it
        else:
            default = f.default
        if typing.get_origin(ann) in (typing.Union, getattr(__import__("types"), "UnionType", None)):
            inner = [a for a in typing.get_args(ann) if a is not type(None)]
            ann = Optional[inner[0]]
        kw = {"metavar": choices_metavar(f.metadata["choices"])} if f.metadata.get("choices") else {}
        opt = typer.Option(default, _flag(f), help=f.metadata.get("help") or None, **kw)
        params.append(inspect.Parameter(f.name, inspect.Parameter.KEYWORD_ONLY, default=opt, annotation=ann))
    params += extra or []

    def register(fn: Callable) -> Callable:
        def command(**kw: Any) -> None:
            values = {}
            for f in cli_fields:
                v = kw.pop(f.name)
                if f.metadata.get("negate"):
                    v = not v
                elif f.name in shared and v is None:
                    v = str(shared_default(None, shared[f.name], _flag(f)))
                elif f.default_factory is not MISSING and v is None:
                    v = f.default_factory()
                values[f.name] = v
            cfg = cls(**values)
            try:
                cfg.check()
            except ConfigError as e:
                by_name = {x.name: x for x in fields(cls)}
                fail(e.message(lambda name: _flag(by_name[name])))
            fn(cfg, **kw)

        command.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
        command.__annotations__ = {}
        command.__doc__ = fn.__doc__
        command.__name__ = fn.__name__
        if app is not None:
            app.command(name)(command)
        return command

    return register


def param(name: str, ann: Any, default: Any, flag: str, help: str, choices=None) -> inspect.Parameter:
    """A further option for ``config_command``'s ``extra`` (with ``choices``, shown as ``choice`` shows them)."""
    opt = choice(default, flag, choices, help) if choices else typer.Option(default, flag, help=help)
    return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=opt, annotation=ann)


def flag_of(name: str) -> str:
    """A config field as the command line spells it."""
    return {"dev_gold": "--dev", "hand_labels": "--hand", "name": "--labeller"}.get(name, "--" + name.replace("_", "-"))


def one_line(e: BaseException) -> str:
    """An error as one line; a config error names command-line flags instead of fields, and a
    missing shipped model names the explicit alternative (the heading rules)."""
    from .config import ConfigError
    from .io import ModelNotFoundError

    if isinstance(e, ModelNotFoundError):
        return f"{first_line(e)}; or give --labeller headings to label with the heading rules"
    return e.message(flag_of) if isinstance(e, ConfigError) else first_line(e)
