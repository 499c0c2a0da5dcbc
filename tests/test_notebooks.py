"""The notebooks in notebooks/ run top to bottom in small mode (NLP_NOTEBOOK_SMALL=1), in a
kernel on this Python, with notebooks/ as working directory; a failing cell fails the test.
Every figure they show must have a title and labelled axes. They are stored without outputs,
with prose between code cells. 02 and 03 need ../shared/data and skip without it."""

import json
import os
import sys
from pathlib import Path

import nbformat
import pytest
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient

from conftest import ROOT

NOTEBOOKS = ROOT / "notebooks"
NAMES = ["01_quickstart.ipynb", "02_train_and_evaluate.ipynb", "03_corpus_analysis.ipynb"]
NEEDS_DATA = {"02_train_and_evaluate.ipynb", "03_corpus_analysis.ipynb"}
CELL_TIMEOUT = 240  # seconds per cell (small mode needs far less)
KERNEL = "govreport-nlp-test"

# Run first in the kernel: every figure rendered (inline display or savefig) is checked for a
# title (its axes' or the figure's) and labelled x and y axes; colorbars are exempt.
FIGURE_CHECK = """
import matplotlib.backend_bases as _mbb
_FIGURES = {"n": 0, "problems": []}
_print_figure = _mbb.FigureCanvasBase.print_figure
def _checked_print_figure(self, *args, **kwargs):
    fig = self.figure
    _FIGURES["n"] += 1
    sup = fig.get_suptitle() if hasattr(fig, "get_suptitle") else ""
    for ax in fig.axes:
        if hasattr(ax, "_colorbar") or not ax.get_visible() or not ax.axison:
            continue
        missing = [what for what, text in (("title", ax.get_title() or sup), ("x label", ax.get_xlabel()),
                                            ("y label", ax.get_ylabel())) if not text.strip()]
        if missing:
            _FIGURES["problems"].append(f"figure {_FIGURES['n']} ({ax.get_title() or sup or 'untitled'}): "
                                        f"no {', '.join(missing)}")
    return _print_figure(self, *args, **kwargs)
_mbb.FigureCanvasBase.print_figure = _checked_print_figure
"""
FIGURE_REPORT = "import json as _json; print('FIGURES ' + _json.dumps(_FIGURES))"


def _data_or_skip(name: str) -> None:
    from nlp.lexicon import shared_data_dir

    d = shared_data_dir()
    if d is None or not (d / "reports.jsonl").exists() or not (d / "gold" / "dev.jsonl").exists():
        pytest.skip(f"../shared/data is absent (or GOVREPORT_DATA unset): {name} needs reports.jsonl, gold/dev.jsonl "
                    "and corpus/, which are read at run time and never copied into the repository")


def _kernel_manager(tmp_path: Path) -> KernelManager:
    """A kernel on this very Python (the project's venv), whatever kernelspecs the machine has."""
    kdir = tmp_path / "kernels" / KERNEL
    kdir.mkdir(parents=True)
    (kdir / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "govreport-nlp (test)", "language": "python"}))
    ksm = KernelSpecManager(kernel_dirs=[str(tmp_path / "kernels")], ensure_native_kernel=False)
    return KernelManager(kernel_name=KERNEL, kernel_spec_manager=ksm)


def execute(name: str, tmp_path: Path, small: bool = True,
            timeout: int = CELL_TIMEOUT) -> tuple[nbformat.NotebookNode, dict]:
    """Run a notebook (small mode unless told otherwise); returns it with outputs, and the figure check."""
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    nb.cells.insert(0, nbformat.v4.new_code_cell(FIGURE_CHECK))
    nb.cells.append(nbformat.v4.new_code_cell(FIGURE_REPORT))
    env = dict(os.environ, NLP_NOTEBOOK_SMALL="1" if small else "", NLP_NOTEBOOK_OUT=str(tmp_path / "out"))
    env.pop("MPLBACKEND", None)  # the kernel's inline backend renders (and so checks) every figure
    client = NotebookClient(nb, km=_kernel_manager(tmp_path), timeout=timeout, allow_errors=False,
                            resources={"metadata": {"path": str(NOTEBOOKS)}})
    client.execute(env=env)  # raises CellExecutionError naming the cell that failed
    out = "".join(o.get("text", "") for o in nb.cells[-1].outputs if o.get("output_type") == "stream")
    line = next(ln for ln in out.splitlines() if ln.startswith("FIGURES "))
    return nb, json.loads(line[len("FIGURES "):])


@pytest.mark.parametrize("name", NAMES)
def test_notebook_runs_in_small_mode(name, tmp_path):
    if name in NEEDS_DATA:
        _data_or_skip(name)
    nb, figures = execute(name, tmp_path)
    assert figures["n"] >= 2, f"{name}: expected figures, {figures['n']} rendered"
    assert not figures["problems"], f"{name}: figures without title or axis labels: {figures['problems']}"
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.get("output_type") == "error"]
    assert not errors


@pytest.mark.parametrize("name", NAMES)
def test_notebook_is_stored_clean_with_prose(name):
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and all(c.outputs == [] and c.execution_count is None for c in code), "store notebooks without outputs"
    assert nb.cells[0].cell_type == "markdown" and "NLP_NOTEBOOK_SMALL" in nb.cells[0].source
    for a, b in zip(nb.cells, nb.cells[1:]):
        assert not (a.cell_type == "code" and b.cell_type == "code"), f"{name}: two code cells without prose between"
