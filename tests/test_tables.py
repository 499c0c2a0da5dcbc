"""Analysis-ready tables and small CLI conveniences: ``nlp --version``, the sentence CSV
(scores, heading path, title, year, entity offsets, BOM) and ``nlp entities``."""

import csv
import subprocess
import sys

import nlp


def run(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "nlp", *args], capture_output=True, text=True, cwd=cwd)


def test_version_prints_the_package_version():
    r = run("--version")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == f"govreport-nlp {nlp.__version__}"
