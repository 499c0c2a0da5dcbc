"""Hand-labelled training sentences, stored as standoff labels (no text).

The team labels sentences of ``split: train`` documents of ``reports.jsonl`` and of the
government work reports in the corpus by LABELING.md. The repository keeps only where each
sentence is and its label (``eval/hand/train_sentences.jsonl``); the text is joined from
``../shared/data`` at run time. One record per sentence::

    {"source": "reports", "doc": "rep-…", "para": 3, "start": 18, "end": 113, "label": "duty", "sha1": "…"}
    {"source": "corpus", "file": "gov_work_reports.txt.gz", "line": 12345, "start": 0, "end": 52,
     "label": "problems", "sha1": "…"}

``para`` is the paragraph index of the document as ``nlp.text.build_document`` reads it,
``line`` the 0-based line of the corpus file; ``start``/``end`` are character offsets in
that paragraph (line after the same normalisation); ``sha1`` is the first 10 hex digits of
the SHA-1 of the sentence text, so that a change in reading is detected, never silently
mislabelled.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from ..schema import LABELS
from ..text import build_document
from .data import LabelledSentence, gwr_documents_with_lines, load_reports


def fingerprint(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:10]


@dataclass
class HandLabels:
    sentences: list[LabelledSentence]
    doc_ids: set[str] = field(default_factory=set)  # documents with at least one hand label
    mismatched: list[dict] = field(default_factory=list)  # records whose text no longer matches


def _gwr_index(corpus_dir: Path):
    """{corpus line: (Document, paragraph index)} for the government work reports."""
    index = {}
    for doc_id, text, linenos in gwr_documents_with_lines(corpus_dir, min_year=0):
        doc = build_document(text, doc_id)
        j = 0
        raw = text.split("\n")
        for pi, p in enumerate(doc.paragraphs):
            while j < len(raw) and raw[j].strip() != p.text and p.text not in raw[j]:
                j += 1
            if j < len(raw):
                index[linenos[j]] = (doc, pi)
                j += 1
    return index


def locate(doc, para: int, start: int, end: int) -> int | None:
    """Index of the sentence of ``doc`` at paragraph ``para`` with offsets start..end."""
    if para >= len(doc.paragraphs):
        return None
    p = doc.paragraphs[para]
    for sid in p.sentence_ids:
        s = doc.sentences[sid]
        if s.start - p.start == start and s.end - p.start == end:
            return sid
    return None


@dataclass
class HandSite:
    """One hand label resolved in its document: the record's 0-based index in the file, the
    document as ``build_document`` reads it, the sentence index and the label."""

    record: int
    doc: object
    sentence: int
    label: str


def unseen_by_document(sites: list[HandSite], unseen_from: int) -> tuple[dict, dict[str, dict[int, str]]]:
    """The hand labels (``hand_label_sites``) from record ``unseen_from`` (1-based) on, by document:
    the documents as ``build_document`` reads them (id → document) and their labelled sentences
    (id → {sentence index: label}). Work-report windows count: only their labelled sentences are
    scored. These are the labels a classifier trained on the earlier records never saw (its model
    card says which). Empty when no record is that late."""
    docs: dict = {}
    labelled: dict[str, dict[int, str]] = defaultdict(dict)
    for s in sites:
        if s.record >= unseen_from - 1:
            docs[s.doc.id] = s.doc
            labelled[s.doc.id][s.sentence] = s.label
    return docs, dict(labelled)


def hand_label_sites(path: str | Path, data_dir: str | Path) -> tuple[list[HandSite], list[dict]]:
    """Join standoff labels with the text in ``data_dir`` (``reports.jsonl``, ``corpus/``): the
    labels that match their sentence, and the records that no longer do. Only ``split: train``
    documents are accepted."""
    data_dir = Path(data_dir)
    records = [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]
    for r in records:
        if r["label"] not in LABELS:
            raise ValueError(f"{path}: unknown label {r['label']!r}")
    train = {r["id"]: r for r in load_reports(data_dir / "reports.jsonl", "train")}
    docs: dict[str, object] = {}
    gwr = _gwr_index(data_dir / "corpus") if any(r["source"] == "corpus" for r in records) else {}
    sites: list[HandSite] = []
    mismatched: list[dict] = []
    for i, r in enumerate(records):
        if r["source"] == "reports":
            if r["doc"] not in train:
                raise ValueError(f"{path}: document {r['doc']} is not a split: train document")
            doc = docs.get(r["doc"])
            if doc is None:
                doc = docs[r["doc"]] = build_document(train[r["doc"]]["text"], r["doc"])
            para = r["para"]
        elif r["source"] == "corpus" and r["file"] == "gov_work_reports.txt.gz":
            if r["line"] not in gwr:
                mismatched.append(r)
                continue
            doc, para = gwr[r["line"]]
        else:
            raise ValueError(f"{path}: unknown source {r.get('source')!r} / file {r.get('file')!r}")
        sid = locate(doc, para, r["start"], r["end"])
        if sid is None or fingerprint(doc.sentences[sid].text) != r["sha1"]:
            mismatched.append(r)
            continue
        sites.append(HandSite(i, doc, sid, r["label"]))
    return sites, mismatched


def load_hand_labels(path: str | Path, data_dir: str | Path) -> HandLabels:
    """The hand labels of ``path`` as training sentences (text and document context joined from
    ``data_dir``; see ``hand_label_sites``)."""
    from ..modeling import sentence_contexts

    sites, mismatched = hand_label_sites(path, data_dir)
    ctx_cache: dict[str, list[str]] = {}
    out = HandLabels([], mismatched=mismatched)
    for site in sites:
        doc = site.doc
        if doc.id not in ctx_cache:
            ctx_cache[doc.id] = sentence_contexts(doc)
        out.sentences.append(LabelledSentence(doc.id, doc.sentences[site.sentence].text, site.label, "hand",
                                              ctx_cache[doc.id][site.sentence], "hand"))
        out.doc_ids.add(doc.id)
    return out


def standoff_from_keys(labels: dict[str, str], data_dir: str | Path) -> list[dict]:
    """Standoff records from ``{"doc|para|start|end": label}`` keys (the form in which
    labelling batches are handed out); government work report keys become corpus lines."""
    data_dir = Path(data_dir)
    train = {r["id"]: r for r in load_reports(data_dir / "reports.jsonl", "train")}
    by_doc: dict[str, list[tuple[int, int, int, str]]] = defaultdict(list)
    for key, lab in labels.items():
        d, p, a, b = key.split("|")
        by_doc[d].append((int(p), int(a), int(b), lab))
    gwr_rev = {}
    if any(d.startswith("gwr-corpus-") for d in by_doc):
        for line, (doc, pi) in _gwr_index(data_dir / "corpus").items():
            gwr_rev[(doc.id, pi)] = (line, doc)
    out = []
    for d, items in by_doc.items():
        if d.startswith("gwr-corpus-"):
            for p, a, b, lab in sorted(items):
                line, doc = gwr_rev[(d, p)]
                text = doc.paragraphs[p].text[a:b]
                out.append({"source": "corpus", "file": "gov_work_reports.txt.gz", "line": line, "start": a, "end": b,
                            "label": lab, "sha1": fingerprint(text)})
        else:
            doc = build_document(train[d]["text"], d)
            for p, a, b, lab in sorted(items):
                text = doc.paragraphs[p].text[a:b]
                out.append({"source": "reports", "doc": d, "para": p, "start": a, "end": b, "label": lab,
                            "sha1": fingerprint(text)})
    return out


def hand_gold_documents(path: str | Path, data_dir: str | Path) -> list:
    """The hand-labelled training documents as gold (``nlp.evaluate.GoldDocument``): the
    ``split: train`` documents of ``reports.jsonl`` whose every sentence carries a hand label
    (reports and plan documents are labelled whole; work-report windows are not, and are left
    out). What choices on training data score against; dev is never read."""
    from ..evaluate import GoldDocument, GoldParagraph, paragraph_label

    data_dir = Path(data_dir)
    recs = [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]
    by_doc: dict[str, dict[tuple[int, int, int], str]] = defaultdict(dict)
    for r in recs:
        if r["source"] == "reports":
            by_doc[r["doc"]][(r["para"], r["start"], r["end"])] = r["label"]
    train = {r["id"]: r for r in load_reports(data_dir / "reports.jsonl", "train")}
    out = []
    for doc_id, labels in by_doc.items():
        if doc_id not in train:
            raise ValueError(f"{path}: document {doc_id} is not a split: train document")
        doc = build_document(train[doc_id]["text"], doc_id)
        paras = []
        for pi, p in enumerate(doc.paragraphs):
            sents = []
            for sid in p.sentence_ids:
                s = doc.sentences[sid]
                lab = labels.get((pi, s.start - p.start, s.end - p.start))
                if lab is None:
                    break
                sents.append({"start": s.start - p.start, "end": s.end - p.start, "label": lab})
            if len(sents) < len(p.sentence_ids):
                paras = None
                break
            paras.append(GoldParagraph(f"{doc_id}-p{pi}", doc_id, "hand", p.text, paragraph_label(p.text, sents),
                                       sents, []))
        if paras:
            out.append(GoldDocument(doc_id, "hand", paras))
    return out
