"""The shipped models travel inside the package: a wheel (``pip install .``, ``pip wheel .``)
copies the repository's ``models/`` into ``nlp/_models``, where ``nlp.io.find_models_dir``
finds them once installed. An editable install (``pip install -e .``) copies nothing: the
package then runs from the source tree and reads ``models/`` in place. All other metadata is
in pyproject.toml."""

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
MODELS = ROOT / "models"
SKIP_DIRS = {"checkpoint", ".cache", "__pycache__"}


def model_files():
    """(source, path inside the package) of every file of the shipped models: hidden files,
    training checkpoints and caches left out."""
    for f in sorted(MODELS.rglob("*")):
        rel = f.relative_to(MODELS)
        if f.is_file() and not any(p.startswith(".") or p in SKIP_DIRS or p.startswith("checkpoint") for p in rel.parts):
            yield f, Path("nlp") / "_models" / rel


class build_py_with_models(build_py):
    def run(self):
        super().run()
        if self.editable_mode or not MODELS.is_dir():
            return
        for src, rel in model_files():
            dest = Path(self.build_lib) / rel
            self.mkpath(str(dest.parent))
            self.copy_file(str(src), str(dest), preserve_mode=False)

    def get_outputs(self, include_bytecode=True):
        outputs = super().get_outputs(include_bytecode)
        if self.editable_mode or not MODELS.is_dir():
            return outputs
        return outputs + [str(Path(self.build_lib) / rel) for _, rel in model_files()]


setup(cmdclass={"build_py": build_py_with_models})
