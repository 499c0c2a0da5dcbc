"""Training data: weak-labelled sentences from the ``split: train`` report documents."""

from __future__ import annotations

import gzip
import json
import re
from dataclasses import dataclass
from pathlib import Path

from ..text import build_document
from ..weak import label_document


@dataclass
class LabelledSentence:
    doc_id: str
    text: str
    label: str
    reason: str
    context: str  # what the model reads with the sentence: nlp.modeling.sentence_contexts
    source: str = "weak"


def load_reports(path: str | Path, split: str = "train") -> list[dict]:
    rows = [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]
    return [r for r in rows if r.get("split") == split]


def weak_sentences(reports_path: str | Path, split: str = "train") -> list[LabelledSentence]:
    """Every sentence of the ``split`` documents with its heading-derived weak label."""
    if split != "train":
        raise ValueError("train only on split: train documents")
    out: list[LabelledSentence] = []
    for r in load_reports(reports_path, split):
        out += _weak(build_document(r["text"], r["id"]), r.get("kind"))
    return out


def _weak(doc, kind: str | None) -> list[LabelledSentence]:
    from ..modeling import sentence_contexts

    ctx = sentence_contexts(doc)
    return [LabelledSentence(doc.id, doc.sentences[i].text, w.label, w.reason, ctx[i], f"weak:{kind or 'report'}")
            for i, w in enumerate(label_document(doc, kind))]


_GWR_TITLE = re.compile(r"^((19|20)\d{2})年.{0,20}政府工作报告$")


def gwr_documents(corpus_dir: str | Path, min_year: int = 1990) -> list[tuple[str, str]]:
    """(doc_id, text) for each government work report in ``gov_work_reports.txt.gz``
    from ``min_year`` on (NPC resolutions and other texts between reports are dropped)."""
    return [(d, text) for d, text, _ in gwr_documents_with_lines(corpus_dir, min_year)]


MIN_SHARED_SENTENCE = 10  # shorter gold sentences (headings, formulas) recur across documents by chance
# Formulas recur across years (thanks, exchange-rate and price targets: up to 3 dev sentences in
# one report of the corpus); a report that dev holds excerpts of shares dozens.
MAX_SHARED_SENTENCES = 4


def dev_sentences(data_dir: str | Path) -> set[str]:
    """The sentence texts of the development set (``gold/dev.jsonl`` under ``data_dir``) of at
    least ``MIN_SHARED_SENTENCE`` characters: training data must hold none of them. Empty when
    the file is absent."""
    path = Path(data_dir) / "gold" / "dev.jsonl"
    if not path.exists():
        return set()
    out = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            r = json.loads(line)
            for s in r.get("sentences") or []:
                t = r["text"][s["start"]:s["end"]].strip()
                if len(t) >= MIN_SHARED_SENTENCE:
                    out.add(t)
    return out


class DevOverlapError(ValueError):
    """A training source holds text of the development set."""


def gwr_documents_with_lines(corpus_dir: str | Path, min_year: int = 1990) -> list[tuple[str, str, list[int]]]:
    """Like ``gwr_documents``, with the 0-based corpus line number of each kept line. A report
    that holds a sentence of the development set (``../gold/dev.jsonl`` beside the corpus) is
    refused: ``DevOverlapError`` (more than ``MAX_SHARED_SENTENCES`` dev sentences in it)."""
    docs: list[tuple[str, list[str], list[int]]] = []
    keep = False
    with gzip.open(Path(corpus_dir) / "gov_work_reports.txt.gz", "rt", encoding="utf-8") as f:
        for lineno, line in enumerate(f):
            line = line.strip()
            m = _GWR_TITLE.match(line)
            if m:
                keep = int(m.group(1)) >= min_year
                if keep:
                    docs.append((f"gwr-corpus-{m.group(1)}", [line], [lineno]))
                continue
            if re.search(r"决议$|^第.{1,4}届全国人民代表大会", line):
                keep = False
            if keep and line:
                docs[-1][1].append(line)
                docs[-1][2].append(lineno)
    out = [(d, "\n".join(lines), nums) for d, lines, nums in docs]
    dev = dev_sentences(Path(corpus_dir).parent)
    for d, text, _ in out:
        shared = [s for s in dev if s in text]
        if len(shared) > MAX_SHARED_SENTENCES:
            raise DevOverlapError(f"{Path(corpus_dir) / 'gov_work_reports.txt.gz'}: {d} holds {len(shared)} sentences "
                                  "of the development set; training on it would leak dev into the model")
    return out


def weak_gwr_sentences(corpus_dir: str | Path, min_year: int = 1990) -> list[LabelledSentence]:
    out: list[LabelledSentence] = []
    for doc_id, text in gwr_documents(corpus_dir, min_year):
        out += _weak(build_document(text, doc_id), "gwr")
    return out
