"""The user README and the documentation in docs/: size, no development narrative, links that
resolve, and the codebook shipped inside the package."""
from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DOCS = ROOT / "docs"
README_MAX_CHARS = 20_000

_LINK = re.compile(r"\]\(([^)\s]+)\)")


def _markdown_files() -> list[Path]:
    return [README, *sorted(DOCS.glob("*.md"))]


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    s = heading.strip().lower()
    s = re.sub(r"[^\w\- ]", "", s)
    return s.replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    text = path.read_text(encoding="utf-8")
    text = re.sub(r"```.*?```", "", text, flags=re.S)
    return {_slug(m.group(1)) for m in re.finditer(r"^#{1,6}\s+(.+?)\s*$", text, flags=re.M)}


def test_readme_is_at_most_20000_characters():
    assert len(README.read_text(encoding="utf-8")) <= README_MAX_CHARS


def test_readme_has_no_development_narrative():
    text = README.read_text(encoding="utf-8")
    assert not re.search(r"\bsessions?\b", text, flags=re.I)


def test_docs_do_not_narrate_sessions():
    for path in sorted(DOCS.glob("*.md")):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"\bsessions? \d", text, flags=re.I), path.name


def test_docs_hold_the_lab_record_and_the_codebook():
    for name in ("index.md", "labels.md", "methods.md", "experiments.md", "benchmarks.md"):
        assert (DOCS / name).is_file(), name


def test_packaged_codebook_is_docs_labels():
    shipped = ROOT / "nlp" / "resources" / "labels.md"
    assert shipped.read_bytes() == (DOCS / "labels.md").read_bytes()
    packaged = resources.files("nlp").joinpath("resources", "labels.md")
    assert packaged.read_text(encoding="utf-8") == (DOCS / "labels.md").read_text(encoding="utf-8")


def test_codebook_defines_every_label_and_entity_type():
    from nlp.doc import ENTITY_TYPES, LABELS

    text = (DOCS / "labels.md").read_text(encoding="utf-8")
    for name in (*LABELS, *ENTITY_TYPES):
        assert f"| `{name}` |" in text, name


def test_relative_links_resolve():
    for path in _markdown_files():
        text = re.sub(r"```.*?```", "", path.read_text(encoding="utf-8"), flags=re.S)
        for target in _LINK.findall(text):
            if re.match(r"[a-z]+:", target):
                continue
            file_part, _, anchor = target.partition("#")
            dest = (path.parent / file_part).resolve() if file_part else path
            assert dest.exists(), f"{path.name}: {target}"
            if anchor and dest.suffix == ".md":
                assert anchor in _anchors(dest), f"{path.name}: {target}"
