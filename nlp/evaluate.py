"""Evaluation against hand-labelled gold paragraphs (format: LABELING.md §3).

Sentence labels are scored on the gold sentence spans, so segmentation errors are measured
separately. Two modes: in context (the paragraphs of a ``doc_id`` rebuilt into one document,
as a labeller sees a report) and sentence alone. Entities are scored strict (same span and
type) and partial (overlapping span, same type).
"""

from __future__ import annotations

import random
from collections import Counter, OrderedDict, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from .extract import extract
from .io import ReadError, iter_jsonl
from .schema import ENTITY_TYPES, LABELS, Document
from .text import document_from_paragraphs

# --------------------------------------------------------------------------- gold


@dataclass
class GoldParagraph:
    id: str
    doc_id: str
    source: str
    text: str
    label: str
    sentences: list[dict[str, Any]]
    entities: list[dict[str, Any]]


@dataclass
class GoldDocument:
    doc_id: str
    source: str
    paragraphs: list[GoldParagraph]

    def to_document(self) -> Document:
        return document_from_paragraphs(
            [p.text for p in self.paragraphs], self.doc_id,
            [[(s["start"], s["end"]) for s in p.sentences] for p in self.paragraphs])

    @property
    def sentence_labels(self) -> list[str]:
        return [s["label"] for p in self.paragraphs for s in p.sentences]


def load_gold(path: str | Path) -> list[GoldDocument]:
    """Gold paragraphs grouped into documents, in file order. Checks the format
    (``nlp.gold``: raises ``GoldError`` listing every problem, one line each)."""
    from .gold import read_gold_records

    docs: "OrderedDict[str, GoldDocument]" = OrderedDict()
    for i, r in enumerate(read_gold_records(path), 1):
        p = GoldParagraph(r.get("id", f"p{i}"), r["doc_id"], r.get("source", "unknown"), r["text"],
                          r.get("label") or paragraph_label(r["text"], r["sentences"]), r["sentences"],
                          r.get("entities", []))
        docs.setdefault(p.doc_id, GoldDocument(p.doc_id, p.source, [])).paragraphs.append(p)
    return list(docs.values())


def paragraph_label(text: str, sentences: Sequence[dict[str, Any]], labels: Sequence[str] | None = None) -> str:
    """The label covering most characters of a paragraph (LABELING.md rule 5)."""
    cover: Counter[str] = Counter()
    for i, s in enumerate(sentences):
        cover[labels[i] if labels is not None else s["label"]] += s["end"] - s["start"]
    if not cover:
        return "other"
    best = max(cover.values())
    for lab in LABELS:  # deterministic tie-break in label order
        if cover[lab] == best:
            return lab
    return "other"


# --------------------------------------------------------------------------- classification metrics


def classification_metrics(gold: Sequence[str], pred: Sequence[str], labels: Sequence[str] = LABELS) -> dict[str, Any]:
    """Per-label precision/recall/F1/support, macro-F1 over labels with support or predictions,
    accuracy, confusion matrix (rows gold, columns predicted)."""
    if len(gold) != len(pred):
        raise ValueError("gold and pred differ in length")
    per: dict[str, dict[str, float]] = {}
    f1s = []
    for lab in labels:
        tp = sum(1 for g, p in zip(gold, pred) if g == lab and p == lab)
        fp = sum(1 for g, p in zip(gold, pred) if g != lab and p == lab)
        fn = sum(1 for g, p in zip(gold, pred) if g == lab and p != lab)
        support = tp + fn
        prec = tp / (tp + fp) if tp + fp else 0.0
        rec = tp / support if support else 0.0
        f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
        per[lab] = {"precision": prec, "recall": rec, "f1": f1, "support": support}
        if support or tp + fp:  # a label absent from gold and predictions does not count
            f1s.append(f1)
    acc = sum(1 for g, p in zip(gold, pred) if g == p) / len(gold) if gold else 0.0
    cm = [[sum(1 for g, p in zip(gold, pred) if g == a and p == b) for b in labels] for a in labels]
    return {"macro_f1": sum(f1s) / len(f1s) if f1s else 0.0, "accuracy": acc, "per_label": per,
            "confusion": {"labels": list(labels), "matrix": cm}, "n": len(gold)}


# --------------------------------------------------------------------------- entity metrics

Span = tuple[int, int, str]  # start, end, type (per paragraph; the caller keys by paragraph)


def _prf(tp: float, n_pred: float, n_gold: float) -> dict[str, float]:
    p = tp / n_pred if n_pred else 0.0
    r = tp / n_gold if n_gold else 0.0
    return {"precision": p, "recall": r, "f1": 2 * p * r / (p + r) if p + r else 0.0, "support": int(n_gold)}


def entity_metrics(gold: Iterable[tuple[Any, Span]], pred: Iterable[tuple[Any, Span]],
                   types: Sequence[str] = ENTITY_TYPES) -> dict[str, Any]:
    """Strict and partial P/R/F1 per type and micro. Items are (paragraph key, span).

    Duplicate spans count once. Partial: a predicted span matches a gold span of the same
    type that overlaps it, one-to-one (greedy in order of overlap size)."""
    g = sorted(set(gold), key=lambda x: (str(x[0]), x[1]))
    p = sorted(set(pred), key=lambda x: (str(x[0]), x[1]))
    out: dict[str, Any] = {"strict": {"per_type": {}}, "partial": {"per_type": {}}}
    gs, ps = set(g), set(p)
    tot = Counter()
    for t in types:
        gt = {x for x in gs if x[1][2] == t}
        pt = {x for x in ps if x[1][2] == t}
        tp = len(gt & pt)
        out["strict"]["per_type"][t] = _prf(tp, len(pt), len(gt))
        ptp = _partial_matches([x for x in g if x[1][2] == t], [x for x in p if x[1][2] == t])
        out["partial"]["per_type"][t] = _prf(ptp, len(pt), len(gt))
        tot["tp"] += tp
        tot["ptp"] += ptp
        tot["pred"] += len(pt)
        tot["gold"] += len(gt)
    s = _prf(tot["tp"], tot["pred"], tot["gold"])
    pa = _prf(tot["ptp"], tot["pred"], tot["gold"])
    out["strict"].update({"micro_f1": s["f1"], "micro_precision": s["precision"], "micro_recall": s["recall"]})
    out["partial"].update({"micro_f1": pa["f1"], "micro_precision": pa["precision"], "micro_recall": pa["recall"]})
    out["n_gold"], out["n_pred"] = tot["gold"], tot["pred"]
    return out


def _partial_matches(gold: list[tuple[Any, Span]], pred: list[tuple[Any, Span]]) -> int:
    pairs = []
    for gi, (gk, (ga, gb, _)) in enumerate(gold):
        for pi, (pk, (pa, pb, _)) in enumerate(pred):
            if gk == pk and pa < gb and ga < pb:
                pairs.append((min(gb, pb) - max(ga, pa), gi, pi))
    used_g, used_p, n = set(), set(), 0
    for _, gi, pi in sorted(pairs, reverse=True):
        if gi not in used_g and pi not in used_p:
            used_g.add(gi)
            used_p.add(pi)
            n += 1
    return n


# --------------------------------------------------------------------------- running a system


@dataclass
class Predictions:
    """A system's output on a gold file: per document, per gold sentence."""

    context: list[list[str]]  # labels with the document in view
    alone: list[list[str]] | None  # labels with each sentence alone
    entities: list[list[list[dict[str, Any]]]]  # per document, per paragraph: entity dicts
    system: str = ""
    meta: dict[str, Any] = field(default_factory=dict)
    reasons: list[list[str | None]] | None = None  # per document, per gold sentence: the label's reason (rule names)


def predict(gold_docs: list[GoldDocument], labeller: Any, entity_fn: Callable[..., list] | None = None,
            progress: Callable[[Iterable], Iterable] | None = None) -> Predictions:
    """Run a labeller (``name``, ``label(doc)``, ``label_alone(texts)``: a ``SentenceLabeller``) and an
    entity function (text, sentence label spans, keyword ``first_paragraph`` → entities;
    default: the rules) over the gold documents; both are told which paragraph opens the document."""
    ctx, alone, ents, reasons = [], [], [], []
    it = progress(gold_docs) if progress else gold_docs
    for gd in it:
        doc = gd.to_document()
        labeller.label(doc)
        labels = [s.label or "other" for s in doc.sentences]
        ctx.append(labels)
        reasons.append([s.reason for s in doc.sentences])
        texts = [s.text for s in doc.sentences]
        alone.append(list(labeller.label_alone(texts)))
        doc_ents = []
        k = 0
        for j, p in enumerate(gd.paragraphs):
            sl = []
            for s in p.sentences:
                sl.append((s["start"], s["end"], labels[k]))
                k += 1
            found = entity_fn(p.text, sl, first_paragraph=j == 0) if entity_fn is not None else \
                extract(p.text, sl, first_paragraph=j == 0)
            doc_ents.append([_ent_dict(e) for e in found])
        ents.append(doc_ents)
    return Predictions(ctx, alone, ents, labeller.name, reasons=reasons)


def _ent_dict(e: Any) -> dict[str, Any]:
    if isinstance(e, dict):
        return e
    return {"start": e.start, "end": e.end, "type": e.type, "target": bool(e.target) if e.type == "METRIC" else None,
            "source": e.source, "rule": e.rule}


# --------------------------------------------------------------------------- scoring


def score(gold_docs: list[GoldDocument], pred: Predictions, doc_indices: Sequence[int] | None = None) -> dict[str, Any]:
    """Metrics JSON (DESIGN.md contract) for a subset of documents (all by default)."""
    idx = list(range(len(gold_docs))) if doc_indices is None else list(doc_indices)
    g_s, p_s, p_a, g_p, p_p = [], [], [], [], []
    g_e, p_e = [], []
    tgt_ok = tgt_n = 0
    by_source: dict[str, tuple[list[str], list[str]]] = defaultdict(lambda: ([], []))
    n_par = 0
    for rep, di in enumerate(idx):
        gd = gold_docs[di]
        labels = pred.context[di]
        k = 0
        for pi, p in enumerate(gd.paragraphs):
            n_par += 1
            plabs = labels[k:k + len(p.sentences)]
            for j, s in enumerate(p.sentences):
                g_s.append(s["label"])
                p_s.append(plabs[j])
                if pred.alone is not None:
                    p_a.append(pred.alone[di][k + j])
                by_source[p.source][0].append(s["label"])
                by_source[p.source][1].append(plabs[j])
            k += len(p.sentences)
            g_p.append(paragraph_label(p.text, p.sentences))
            p_p.append(paragraph_label(p.text, p.sentences, plabs))
            key = (rep, di, pi)
            gold_ents = {(e["start"], e["end"], e["type"]): e for e in p.entities}
            pred_ents = {(e["start"], e["end"], e["type"]): e for e in pred.entities[di][pi]}
            g_e += [(key, sp) for sp in gold_ents]
            p_e += [(key, sp) for sp in pred_ents]
            for sp, ge in gold_ents.items():
                if sp[2] == "METRIC" and sp in pred_ents:
                    tgt_n += 1
                    tgt_ok += bool(ge.get("target")) == bool(pred_ents[sp].get("target"))
    cls = {"sentence": classification_metrics(g_s, p_s),
           "paragraph": classification_metrics(g_p, p_p)}
    if pred.alone is not None:
        cls["sentence_alone"] = classification_metrics(g_s, p_a)
    cls["by_source"] = {src: classification_metrics(g, p) for src, (g, p) in sorted(by_source.items())}
    ents = entity_metrics(g_e, p_e)
    ents["metric_target_accuracy"] = tgt_ok / tgt_n if tgt_n else None
    ents["metric_target_n"] = tgt_n
    return {"model": pred.system, "n_documents": len(idx), "n_paragraphs": n_par, "n_sentences": len(g_s),
            "classification": cls, "entities": ents}


def bootstrap(gold_docs: list[GoldDocument], pred: Predictions, n: int = 1000, seed: int = 0) -> dict[str, Any]:
    """95% intervals for sentence macro-F1 (in context, alone) and entity strict micro-F1,
    resampling documents with replacement."""
    rng = random.Random(seed)
    keys = {"sentence_macro_f1": [], "sentence_alone_macro_f1": [], "entity_strict_micro_f1": []}
    m = len(gold_docs)
    for _ in range(n):
        sample = [rng.randrange(m) for _ in range(m)]
        s = score(gold_docs, pred, sample)
        keys["sentence_macro_f1"].append(s["classification"]["sentence"]["macro_f1"])
        if "sentence_alone" in s["classification"]:
            keys["sentence_alone_macro_f1"].append(s["classification"]["sentence_alone"]["macro_f1"])
        keys["entity_strict_micro_f1"].append(s["entities"]["strict"]["micro_f1"])
    out = {}
    for k, v in keys.items():
        if v:
            v.sort()
            out[k] = {"low": v[int(0.025 * (len(v) - 1))], "high": v[int(0.975 * (len(v) - 1))]}
    out["n_resamples"] = n
    out["seed"] = seed
    return out


def worst_errors(gold_docs: list[GoldDocument], pred: Predictions, limit: int = 30) -> list[dict[str, Any]]:
    """Misclassified sentences (in context), longest first: the errors a reader cares about."""
    errs = []
    for di, gd in enumerate(gold_docs):
        k = 0
        for p in gd.paragraphs:
            for s in p.sentences:
                pl = pred.context[di][k]
                if pl != s["label"]:
                    errs.append({"doc_id": gd.doc_id, "paragraph": p.id, "source": p.source,
                                 "text": p.text[s["start"]:s["end"]], "gold": s["label"], "pred": pl})
                k += 1
    errs.sort(key=lambda e: -len(e["text"]))
    return errs[:limit]


def predictions_from_metrics(m: dict[str, Any]) -> Predictions:
    p = m.get("predictions")
    if not p:
        raise ValueError("metrics JSON has no predictions (written by an older version?)")
    return Predictions(p["context"], p.get("alone"), p["entities"], m.get("model", ""))


COMPARE_KEYS = {
    "sentence macro-F1": lambda s: s["classification"]["sentence"]["macro_f1"],
    "sentence-alone macro-F1": lambda s: s["classification"].get("sentence_alone", {}).get("macro_f1", float("nan")),
    "paragraph macro-F1": lambda s: s["classification"]["paragraph"]["macro_f1"],
    "entity strict micro-F1": lambda s: s["entities"]["strict"]["micro_f1"],
    "entity partial micro-F1": lambda s: s["entities"]["partial"]["micro_f1"],
    **{f"{t} strict F1": (lambda s, t=t: s["entities"]["strict"]["per_type"][t]["f1"]) for t in ENTITY_TYPES},
    "METRIC target accuracy": lambda s: (s["entities"]["metric_target_accuracy"]
                                         if s["entities"]["metric_target_accuracy"] is not None else float("nan")),
}


def compare(gold_docs: list[GoldDocument], systems: list[Predictions], n: int = 1000, seed: int = 0) -> dict[str, Any]:
    """Scores of several systems on the same gold, and a paired bootstrap test (resampling
    documents) of each system's difference from the first one."""
    full = [score(gold_docs, p) for p in systems]
    rng = random.Random(seed)
    m = len(gold_docs)
    diffs: dict[tuple[int, str], list[float]] = defaultdict(list)
    for _ in range(n):
        sample = [rng.randrange(m) for _ in range(m)]
        base = score(gold_docs, systems[0], sample)
        for k in range(1, len(systems)):
            other = score(gold_docs, systems[k], sample)
            for key, fn in COMPARE_KEYS.items():
                diffs[(k, key)].append(fn(other) - fn(base))
    rows = []
    for key, fn in COMPARE_KEYS.items():
        row = {"metric": key, "scores": [fn(s) for s in full], "diff": [], "p": [], "ci": []}
        for k in range(1, len(systems)):
            d = sorted(diffs[(k, key)])
            obs = fn(full[k]) - fn(full[0])
            le = sum(1 for x in d if x <= 0) / len(d)
            ge = sum(1 for x in d if x >= 0) / len(d)
            row["diff"].append(obs)
            row["p"].append(min(1.0, 2 * min(le, ge)))
            row["ci"].append((d[int(0.025 * (len(d) - 1))], d[int(0.975 * (len(d) - 1))]))
        rows.append(row)
    return {"systems": [s.system for s in systems], "rows": rows, "n_resamples": n, "seed": seed}


class CompareError(ValueError):
    """Metrics files that cannot be compared (unreadable, or made on different gold files)."""


def compare_metric_files(paths: Sequence[str | Path], n: int = 1000, seed: int = 0) -> dict[str, Any]:
    """``compare`` of the runs saved by ``nlp eval --json`` (each keeps its predictions and the
    gold file it was scored on; all must share that gold file). Systems of the same name are
    told apart by their file names."""
    import json

    if len(paths) < 2:
        raise CompareError("a comparison needs at least two metrics JSON files")
    ms = []
    for p in paths:
        try:
            ms.append(json.loads(Path(p).read_text(encoding="utf-8")))
        except (OSError, json.JSONDecodeError) as e:
            raise CompareError(f"{p}: cannot read metrics JSON ({e})") from e
    golds = {m.get("gold") for m in ms}
    if len(golds) != 1 or None in golds:
        raise CompareError(f"{', '.join(map(str, paths))}: runs were not made on the same gold file")
    docs = load_gold(golds.pop())
    preds = [predictions_from_metrics(m) for m in ms]
    if len({pr.system for pr in preds}) < len(preds):
        for p, pr in zip(paths, preds):
            pr.system = f"{pr.system} ({Path(p).name})"
    return compare(docs, preds, n=n, seed=seed)
