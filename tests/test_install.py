"""Installing the package: a wheel built from the repository carries the shipped models
(``nlp/_models``, setup.py), so that in a fresh virtual environment holding only that wheel
``nlp annotate`` labels with the shipped classifier; where no model can be found it stops with
one line naming the heading rules as the explicit choice. An editable install keeps reading
the repository's ``models/``.

The fresh environments reuse this environment's dependencies (torch, transformers, …) through
a ``.pth`` file, so that only the package itself is installed, from the wheel, offline."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from conftest import ROOT, SAMPLE

MODELS = ("classifier-small", "ner-small", "tfidf-baseline", "encoder-mini")
SOURCE = ("nlp", "models", "pyproject.toml", "setup.py", "MANIFEST.in", "README.md")


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("GOVREPORT_MODELS", "PYTHONPATH", "VIRTUAL_ENV")}
    env.update(OMP_NUM_THREADS="1", TOKENIZERS_PARALLELISM="false", PIP_NO_INDEX="1",
               PIP_DISABLE_PIP_VERSION_CHECK="1", **extra)
    return env


def _run(cmd: list, cwd: Path, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(c) for c in cmd], cwd=cwd, capture_output=True, text=True, env=_env(**env), timeout=600)


def _source_copy(dst: Path) -> Path:
    """The files a build reads, copied out of the working tree (the build writes build/ and
    *.egg-info next to them)."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "checkpoint*", ".cache", "*.part")
    for name in SOURCE:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, dst / name, ignore=ignore)
        else:
            shutil.copy2(src, dst / name)
    return dst


def _fresh_venv(path: Path) -> Path:
    """A new virtual environment whose site-packages also sees this one's (deps only: this
    environment's own install of the package is not activated there). Returns its python."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(path)], check=True)
    py = path / "bin" / "python"
    site = Path(subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, check=True).stdout.strip())
    ours = dict.fromkeys(sysconfig.get_paths()[k] for k in ("purelib", "platlib"))
    (site / "_govreport_deps.pth").write_text("\n".join(ours) + "\n", encoding="utf-8")
    return py


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    pytest.importorskip("setuptools", reason="building the wheel needs setuptools (a dev dependency)")
    d = tmp_path_factory.mktemp("wheel")
    src = _source_copy(d / "src")
    r = _run([sys.executable, "-m", "pip", "wheel", src, "--no-deps", "--no-build-isolation", "-w", d / "dist"], cwd=d)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-3000:]
    (whl,) = (d / "dist").glob("govreport_nlp-*.whl")
    return whl


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> Path:
    """A fresh virtual environment with the wheel installed (no other copy of the package)."""
    py = _fresh_venv(tmp_path_factory.mktemp("venv") / "venv")
    r = _run([py, "-m", "pip", "install", "--no-deps", "--no-index", "--ignore-installed", wheel], cwd=wheel.parent)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-3000:]
    return py


def test_the_wheel_holds_the_shipped_models(wheel):
    with zipfile.ZipFile(wheel) as z:
        sizes = {i.filename: i.file_size for i in z.infolist()}
    for name in MODELS:
        files = {f: n for f, n in sizes.items() if f.startswith(f"nlp/_models/{name}/")}
        assert any(f.endswith("model.safetensors") for f in files), name
        assert sum(files.values()) <= 30 * 2**20, name
        local = {f"nlp/_models/{p.relative_to(ROOT / 'models').as_posix()}"
                 for p in (ROOT / "models" / name).rglob("*") if p.is_file() and "checkpoint" not in str(p)}
        assert local <= set(files), name  # every file of the model, the model card included
    assert "nlp/_models/classifier-small/README.md" in sizes and "nlp/resources/" in "".join(sizes)
    assert not any(f.endswith(".bin") or "/checkpoint" in f for f in sizes)


def test_the_installed_wheel_labels_with_the_shipped_model(installed, tmp_path):
    from nlp.io import weights_digest

    where = _run([installed, "-c", "import nlp, nlp.io; print(nlp.__file__); print(nlp.io.find_models_dir())"], cwd=tmp_path)
    assert where.returncode == 0, where.stderr[-2000:]
    pkg, models = where.stdout.split()
    site = Path(installed).parent.parent
    assert Path(pkg).is_relative_to(site) and Path(models) == Path(pkg).parent / "_models"
    out = tmp_path / "a.jsonl"
    r = _run([Path(installed).parent / "nlp", "annotate", SAMPLE, "-o", out], cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-3000:]
    (rec,) = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert {s["label_source"] for s in rec["sentences"]} == {"model:classifier-small"}
    prov = rec["meta"]["provenance"]
    assert prov["labeller"] == "model:classifier-small" and prov["entities"] == "combined" and prov["ner"] == "ner-small"
    # the installed copy is the repository's model, file for file
    assert prov["weights"] == f"sha256:{weights_digest(ROOT / 'models' / 'classifier-small')}"


def test_without_models_annotate_stops_with_one_line(installed, tmp_path):
    nlp_cmd = Path(installed).parent / "nlp"
    empty = tmp_path / "no-models"
    empty.mkdir()

    def one_error(**env: str) -> str:
        r = _run([nlp_cmd, "annotate", SAMPLE, "-o", tmp_path / "a.jsonl"], cwd=tmp_path, **env)
        lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
        assert r.returncode != 0 and len(lines) == 1, r.stderr[-3000:]
        assert not (tmp_path / "a.jsonl").exists()
        return lines[0]

    line = one_error(GOVREPORT_MODELS=str(empty))
    assert line.startswith("error: ") and "--labeller headings" in line and str(empty) in line
    # the package's own models gone: the same line, naming where it looked
    packaged = Path(_run([installed, "-c", "import nlp.io; print(nlp.io.PACKAGED_MODELS)"], cwd=tmp_path).stdout.strip())
    hidden = packaged.with_name("_models.hidden")
    packaged.rename(hidden)
    try:
        line = one_error()
        assert "--labeller headings" in line and str(packaged) in line
        r = _run([nlp_cmd, "annotate", SAMPLE, "-o", tmp_path / "b.jsonl", "--labeller", "headings"], cwd=tmp_path)
        assert r.returncode == 0, r.stderr[-3000:]
        rec = json.loads((tmp_path / "b.jsonl").read_text(encoding="utf-8"))
        assert rec["meta"]["provenance"]["labeller"] == "headings"
        assert rec["meta"]["provenance"]["entities"] == "rules"  # no entity tagger to be found either
    finally:
        hidden.rename(packaged)


def test_an_editable_install_reads_the_repository_models(tmp_path):
    pytest.importorskip("setuptools", reason="an editable install needs setuptools (a dev dependency)")
    src = tmp_path / "src"
    src.mkdir()
    for name in SOURCE:  # the models by link: an editable install copies none of them
        if name == "models":
            (src / name).symlink_to(ROOT / name, target_is_directory=True)
        elif (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, src / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(ROOT / name, src / name)
    py = _fresh_venv(tmp_path / "venv")
    r = _run([py, "-m", "pip", "install", "--no-deps", "--no-index", "--no-build-isolation", "--ignore-installed",
              "-e", src], cwd=tmp_path)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-3000:]
    where = _run([py, "-c", "import nlp, nlp.io, nlp.pipeline; print(nlp.__file__); print(nlp.io.find_models_dir()); "
                            "print(nlp.pipeline.default_model_dir())"], cwd=tmp_path)
    assert where.returncode == 0, where.stderr[-2000:]
    pkg, models, default = map(Path, where.stdout.split())
    assert pkg == src / "nlp" / "__init__.py" and models == src / "models"
    assert (default / "config.json").exists() and not (src / "nlp" / "_models").exists()
