"""Per-category extractive summaries, key figures, cited regulations and report scorecards.

``summarize(doc)`` takes an annotated ``Document`` (sentence labels from a labeller, entities
from ``pipeline.finish_document``) and, for each mandated part (duty, measures, problems,
plans), picks the ``k`` most representative sentences, kept in document order:

- ``centrality`` (default): sentences are embedded by mean-pooling the last hidden state
  of a BERT over the sentence alone (``load_encoder``: the classifier's pretrained base
  encoder when it is at hand, else the classifier's own BERT), centred on the document's
  mean embedding; a sentence's centrality is its mean cosine similarity to the other
  sentences of its part, rescaled to [0, 1] within the part (optionally mixed with the
  classifier's probability of the label, ``confidence_weight``, 0 by default: it did not
  raise label precision on the dev set); then MMR (maximal marginal relevance) ranks the
  part's sentences, each step taking ``λ·relevance − (1−λ)·max similarity to those
  already taken``.
- ``lead``: the first ``k`` sentences of each part.
- ``textrank``: a graph over the part's sentences weighted by character-bigram overlap
  (Mihalcea & Tarau's similarity, |A∩B| / (log(|A|+1) + log(|B|+1))), ranked by PageRank (power
  iteration, damping 0.85).

Candidates are the part's sentences that are not headings, have at least ``MIN_CHARS``
characters and, unless a mandated section heading backs their label, a model probability of
at least ``min_confidence`` (0.5) for it. With a character ``budget`` the parts take turns (rank 1 of every
part, then rank 2, …), each taking its best remaining sentence that still fits.

Key figures are the most salient rows of the indicator table (``key_figures``: rule in its
docstring); regulations are the LAW entities normalised and counted
(``indicators.regulation_counts``). ``scorecard`` measures a report (record or
``Document``) against the mandated structure; ``nlp report`` (``corpus_report``) uses it.
``char_rouge`` scores a summary against a reference at character level.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence, Union

import numpy as np

from .io import record_year
from .indicators import indicator_rows, regulation_counts, regulation_rows, resolve_laws
from .schema import LABELS, SECTION_LABELS, Document

Record = Mapping[str, Any]
DocLike = Union[Document, Record]

METHODS: tuple[str, ...] = ("centrality", "lead", "textrank")
MIN_CHARS = 8  # shorter sentences (dates, signatures, 市委:) are never chosen
MMR_LAMBDA = 0.7
CONFIDENCE_WEIGHT = 0.0  # share of the label probability in a sentence's relevance (centrality)
MIN_CONFIDENCE = 0.5  # candidates need this probability of their label unless a mandated heading backs it
PAGERANK_DAMPING = 0.85

CATEGORY_TITLES: dict[str, str] = {
    "duty": "主要负责人履行推进法治建设第一责任人职责",
    "measures": "推进法治政府建设的主要举措和成效",
    "problems": "存在的不足和原因",
    "plans": "下一年度推进法治政府建设的主要安排",
}

# --------------------------------------------------------------------------- encoders


class BertEncoder:
    """Sentence embeddings from a BERT-family model: mean of the last hidden state over the
    sentence's tokens (padding masked). Works with the model of a ``BertSentenceLabeller``
    (its ``base_model``, i.e. the encoder without the classification head) or any encoder."""

    def __init__(self, tokenizer: Any, model: Any, name: str = "bert", batch_size: int = 64, max_length: int = 128):
        self.tokenizer = tokenizer
        self.model = model
        self.name = name
        self.batch_size = batch_size
        self.max_length = max_length

    @classmethod
    def from_labeller(cls, labeller: Any) -> "BertEncoder | None":
        """The encoder of a loaded ``BertSentenceLabeller``; None for other labellers."""
        from .modeling import BertSentenceLabeller

        if not isinstance(labeller, BertSentenceLabeller) or labeller.backend != "torch":
            return None
        return cls(labeller.tokenizer, labeller.model, name=f"{labeller.name} (mean-pooled last hidden state)",
                   batch_size=labeller.batch_size)

    @classmethod
    def load(cls, path: str | Path) -> "BertEncoder":
        """The encoder of a BERT directory or hub id (heads, e.g. an MLM or classification
        head, are left out)."""
        import torch
        from transformers import AutoModel, AutoTokenizer
        from transformers.utils import logging as hf_logging

        src = str(path)
        local = Path(src).exists()
        level = hf_logging.get_verbosity()
        hf_logging.set_verbosity_error()  # the unused head weights are expected, not news
        try:
            tok = AutoTokenizer.from_pretrained(src, local_files_only=local)
            model = AutoModel.from_pretrained(src, local_files_only=local, dtype=torch.float32)
        finally:
            hf_logging.set_verbosity(level)
        model.eval()
        return cls(tok, model, name=f"model:{Path(src).name if local else src} (mean-pooled last hidden state)")

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        import torch

        n = len(texts)
        hidden = getattr(getattr(self.model, "config", None), "hidden_size", 0)
        out = np.zeros((n, hidden), dtype=np.float32)
        if n == 0:
            return out
        device = next(self.model.parameters()).device
        base = getattr(self.model, "base_model", None) or self.model
        order = sorted(range(n), key=lambda i: len(texts[i]))
        with torch.inference_mode():
            for b in range(0, n, self.batch_size):
                ids = order[b:b + self.batch_size]
                enc = self.tokenizer([texts[i] for i in ids], truncation=True, max_length=self.max_length,
                                     padding=True, return_tensors="pt").to(device)
                try:
                    last = base(**enc).last_hidden_state
                except (AttributeError, TypeError):  # a model without base_model: ask for hidden states
                    last = self.model(**enc, output_hidden_states=True).hidden_states[-1]
                mask = enc["attention_mask"].unsqueeze(-1).to(last.dtype)
                pooled = (last * mask).sum(1) / mask.sum(1).clamp(min=1.0)
                out[ids] = pooled.float().cpu().numpy()
        return out


class CharTfidfEncoder:
    """Character 1–2-gram TF-IDF vectors fitted on the texts given (no model needed): the
    fallback when the labeller has no BERT (rules, TF-IDF, ONNX) and no default model exists."""

    name = "char 1-2-gram TF-IDF"

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        from sklearn.feature_extraction.text import TfidfVectorizer

        if not texts:
            return np.zeros((0, 1), dtype=np.float32)
        vec = TfidfVectorizer(analyzer="char", ngram_range=(1, 2), sublinear_tf=True)
        return vec.fit_transform(texts).toarray().astype(np.float32)


def base_encoder_dir(model_dir: str | Path | None) -> Path | None:
    """The pretrained encoder a fine-tuned classifier was made from (``base`` in its
    ``training_summary.json``), when that directory exists here; else None."""
    if model_dir is None:
        return None
    d = Path(model_dir)
    summary = d / "training_summary.json"
    if not summary.exists():
        return None
    try:
        import json

        base = json.loads(summary.read_text(encoding="utf-8")).get("config", {}).get("base")
    except (OSError, ValueError, AttributeError):
        return None
    if not base:
        return None
    b = Path(base)
    for cand in ([b] if b.is_absolute() else [d.parent.parent / b, d.parent / b.name, d / b]):
        if (cand / "config.json").exists():
            return cand.resolve()
    return None


def _labeller_model_dir(labeller: Any) -> Path | None:
    from .modeling import BertSentenceLabeller

    model = labeller.model if isinstance(labeller, BertSentenceLabeller) and labeller.backend == "torch" else None
    src = getattr(model, "name_or_path", None) or getattr(getattr(model, "config", None), "_name_or_path", None)
    return Path(src) if src and Path(src).exists() else None


def load_encoder(model: str | Path | None = None, labeller: Any = None, use_base: bool = True) -> Any:
    """Sentence embeddings for centrality and themes.

    ``model`` (a directory or hub id) when given is used as is. Otherwise the classifier is
    the labeller's model (or the shipped default when the labeller has no BERT), and with
    ``use_base`` its pretrained base encoder (``base_encoder_dir``), or else the shipped
    pretrained encoder ``models/encoder-mini``, is preferred: fine-tuning pulls a part's sentences together
    (on the sample, mean centred cosine within a part 0.18 against −0.16 across parts, vs 0.06
    / −0.07 for the base encoder), so the classifier's space mostly measures how typical a
    sentence is of its label, the base encoder's what it is about. Without either, the
    classifier's own BERT; without any model, character TF-IDF."""
    if model is not None:
        return BertEncoder.load(model)
    own = BertEncoder.from_labeller(labeller) if labeller is not None else None
    if own is not None:
        model_dir = _labeller_model_dir(labeller)
    else:
        from .pipeline import default_model_dir

        model_dir = default_model_dir() if (default_model_dir() / "config.json").exists() else None
    base = base_encoder_dir(model_dir) if use_base else None
    if base is None and use_base:
        from .pipeline import DEFAULT_ENCODER, MODELS_DIR

        shipped = MODELS_DIR / DEFAULT_ENCODER
        base = shipped if (shipped / "config.json").exists() else None
    if base is not None:
        return BertEncoder.load(base)
    if own is not None:
        return own
    if model_dir is not None:
        return BertEncoder.load(model_dir)
    return CharTfidfEncoder()


def normalise_rows(x: np.ndarray, center: bool = True) -> np.ndarray:
    """Rows centred on their mean (removes the direction all sentences share) and L2-normalised."""
    x = np.asarray(x, dtype=np.float64)
    if center and len(x) > 1:
        x = x - x.mean(axis=0, keepdims=True)
    norm = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.where(norm > 0, norm, 1.0)


# --------------------------------------------------------------------------- ranking


def centrality_scores(sim: np.ndarray) -> np.ndarray:
    """Mean similarity of each item to the others (1.0 for a lone item)."""
    n = len(sim)
    if n <= 1:
        return np.ones(n)
    return (sim.sum(axis=1) - np.diag(sim)) / (n - 1)


def mmr_order(relevance: np.ndarray, sim: np.ndarray, lam: float = MMR_LAMBDA) -> list[int]:
    """All items ranked by maximal marginal relevance: each step takes the item maximising
    ``lam·relevance − (1−lam)·max similarity to the items already taken``."""
    n = len(relevance)
    left = list(range(n))
    order: list[int] = []
    max_sim = np.full(n, -np.inf)
    while left:
        if order:
            scores = [lam * relevance[i] - (1 - lam) * max_sim[i] for i in left]
        else:
            scores = [relevance[i] for i in left]
        best = left[int(np.argmax(scores))]
        order.append(best)
        left.remove(best)
        max_sim = np.maximum(max_sim, sim[best])
    return order


def char_bigrams(text: str) -> set[str]:
    chars = [c for c in text if _is_content_char(c)]
    return {a + b for a, b in zip(chars, chars[1:])}


def textrank_similarity(a: set[str], b: set[str]) -> float:
    """Mihalcea & Tarau (2004): overlap normalised by the log lengths, here of character-bigram
    sets: |A∩B| / (log(|A|+1) + log(|B|+1)) (the +1 keeps one-bigram sentences finite)."""
    if not a or not b:
        return 0.0
    den = math.log(len(a) + 1) + math.log(len(b) + 1)
    return len(a & b) / den if den > 0 else 0.0


def pagerank(weights: np.ndarray, damping: float = PAGERANK_DAMPING, iters: int = 100, tol: float = 1e-8) -> np.ndarray:
    """PageRank over a weighted undirected graph (power iteration; a node without edges
    spreads its rank evenly)."""
    n = len(weights)
    if n == 0:
        return np.zeros(0)
    w = np.asarray(weights, dtype=np.float64).copy()
    np.fill_diagonal(w, 0.0)
    out = w.sum(axis=1, keepdims=True)
    trans = np.where(out > 0, w / np.where(out > 0, out, 1.0), 1.0 / n)  # row-stochastic
    r = np.full(n, 1.0 / n)
    for _ in range(iters):
        new = (1 - damping) / n + damping * trans.T @ r
        if np.abs(new - r).sum() < tol:
            return new
        r = new
    return r


# --------------------------------------------------------------------------- summary data


@dataclass
class SelectedSentence:
    sentence: int  # index into Document.sentences
    label: str
    start: int
    end: int
    text: str
    score: float  # the method's score (relevance, PageRank, or 1/position for lead)
    rank: int  # 0 = the method's first choice within the part


@dataclass
class KeyFigure:
    indicator: str
    metric: str  # the METRIC span as written
    value: float | None
    unit: str
    qualifier: str | None
    target: bool
    sentence_label: str | None
    sentence: int
    salience: float
    context: str  # the sentence it stands in

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Scorecard:
    """How a report measures up to the mandated structure (rules: ``scorecard``)."""

    doc_id: str
    title: str | None
    year: int | None
    issuer_level: str | None
    n_chars: int  # characters of all sentences (the cleaned text without line breaks and chrome)
    parts_present: dict[str, bool]  # duty, measures, problems, plans: ≥ 1 non-heading sentence
    n_parts_present: int
    label_shares: dict[str, float]  # share of n_chars per label, other included
    n_metrics: int
    metrics_per_1000_chars: float
    n_regulations: int  # distinct LAW names (indicators.resolve_laws)
    n_regulation_mentions: int
    problems_sentences: int  # non-heading problems sentences
    problems_specific: int
    problems_specificity: float | None  # problems_specific / problems_sentences (None without problems)
    plans_sentences: int
    plans_with_targets: int  # plans sentences with ≥ 1 METRIC flagged target
    plans_target_share: float | None
    # report | plans (the decoder's document-kind model, ``meta.document_kind``, else ``meta.kind``
    # from the input table or ``--meta``); None when nothing says
    document_kind: str | None = None

    @property
    def all_parts_present(self) -> bool:
        return self.n_parts_present == len(SECTION_LABELS)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["all_parts_present"] = self.all_parts_present
        return d


@dataclass
class Summary:
    doc_id: str
    title: str | None
    issuer: str | None
    date: str | None
    method: str
    k: int
    budget: int | None
    encoder: str | None
    overview: str
    categories: dict[str, list[SelectedSentence]]
    key_figures: list[KeyFigure]
    regulations: list[dict[str, Any]]
    scorecard: Scorecard
    labeller: str | None = None
    notes: list[str] = field(default_factory=list)

    def selected(self) -> list[SelectedSentence]:
        """All selected sentences, in document order."""
        return sorted((s for ss in self.categories.values() for s in ss), key=lambda s: s.start)

    def text(self) -> str:
        """The selected sentences joined in document order (what ROUGE scores)."""
        return "".join(s.text for s in self.selected())

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.doc_id, "title": self.title, "issuer": self.issuer, "date": self.date,
                "method": self.method, "k": self.k, "budget": self.budget, "encoder": self.encoder,
                "labeller": self.labeller, "overview": self.overview,
                "categories": {c: [asdict(s) for s in ss] for c, ss in self.categories.items()},
                "key_figures": [f.to_dict() for f in self.key_figures],
                "regulations": self.regulations, "scorecard": self.scorecard.to_dict(), "notes": self.notes}

    def to_markdown(self) -> str:
        return render_summary_markdown(self)


# --------------------------------------------------------------------------- helpers on records


def _as_record(doc: DocLike) -> Record:
    return doc.to_dict() if isinstance(doc, Document) else doc


def _is_content_char(c: str) -> bool:
    return c.isalnum()  # CJK ideographs, letters and digits; punctuation and spaces are not content


def record_issuer_level(rec: Record) -> str | None:
    meta = rec.get("meta") or {}
    v = meta.get("issuer_level")
    return str(v) if v not in (None, "") else None


def record_document_kind(rec: Record) -> str | None:
    """``report`` or ``plans``: what the decoder decided (``meta.document_kind``), else the
    ``kind`` column of the input table or ``--meta`` (``report`` stays ``report``, any other
    kind is a plan/problem document, ``plans``)."""
    meta = rec.get("meta") or {}
    dk = meta.get("document_kind")
    if isinstance(dk, Mapping) and dk.get("kind") in ("report", "plans"):
        return str(dk["kind"])
    k = meta.get("kind")
    if isinstance(k, str) and k.strip():
        return "report" if k.strip() == "report" else "plans"
    return None


def _sentence_text(rec: Record, s: Mapping[str, Any]) -> str:
    return s.get("text") or rec["text"][s["start"]:s["end"]]


def _entities_by_sentence(rec: Record) -> list[list[Mapping[str, Any]]]:
    import bisect

    sents = rec["sentences"]
    starts = [s["start"] for s in sents]
    out: list[list[Mapping[str, Any]]] = [[] for _ in sents]
    for e in rec.get("entities", []):
        i = bisect.bisect_right(starts, e["start"]) - 1
        if 0 <= i < len(sents) and e["end"] <= sents[i]["end"]:
            out[i].append(e)
    return out


# --------------------------------------------------------------------------- scorecard

# Concrete objects of rule-of-law work: a problems sentence naming one of these (or a figure
# or a regulation) says what is wrong with what. Generic formulas (有待提升, 还需加强, 认识不到位,
# 仍有差距, 个别单位/少数干部 …) name no object and do not count.
CONCRETE_CUES: tuple[str, ...] = (
    "执法", "复议", "诉讼", "应诉", "案件", "审批", "许可", "处罚", "强制", "规范性文件", "合法性审查", "备案",
    "合同", "信息公开", "政务公开", "政务服务", "证明事项", "营商环境", "乡镇", "街道", "社区", "村", "编制",
    "经费", "平台", "系统", "数据", "网格", "律师", "法律顾问", "公证", "调解", "仲裁", "信访", "热线", "立法",
    "规章", "听证", "重大行政决策", "法制审核", "权责清单", "清单", "档案", "证照", "投诉", "举报")
CONCRETE_RE = re.compile("|".join(map(re.escape, CONCRETE_CUES)))


def is_specific_problem(text: str, entity_types: Iterable[str] = ()) -> bool:
    """A problems sentence is specific when it contains a METRIC, LAW or DOCNO entity, or a
    concrete-object cue (``CONCRETE_CUES``: 执法, 复议, 案件, 规范性文件, 乡镇, 编制, 平台 …);
    otherwise it is a generic formula."""
    if set(entity_types) & {"METRIC", "LAW", "DOCNO"}:
        return True
    return bool(CONCRETE_RE.search(text))


def scorecard(doc: DocLike) -> Scorecard:
    """The scorecard of one annotated report (``Document`` or ``nlp annotate`` record).

    - ``n_chars``: characters of all sentences; ``label_shares``: their share per label.
    - ``parts_present``: a part is present with at least one non-heading sentence of its label.
    - ``metrics_per_1000_chars``: METRIC entities (achieved and target) per 1,000 of n_chars.
    - ``n_regulations``: distinct LAW names as the regulations table counts them (``indicators.resolve_laws``).
    - ``problems_specificity``: share of non-heading problems sentences that are specific
      (``is_specific_problem``).
    - ``plans_with_targets``: non-heading plans sentences with at least one METRIC flagged
      ``target``; ``plans_target_share`` is their share of the plans sentences.
    """
    rec = _as_record(doc)
    sents = rec["sentences"]
    ents = _entities_by_sentence(rec)
    chars: Counter[str] = Counter()
    present = {lab: False for lab in SECTION_LABELS}
    prob_n = prob_spec = plan_n = plan_tgt = 0
    for s, es in zip(sents, ents):
        lab = s.get("label") or "other"
        chars[lab] += s["end"] - s["start"]
        if s.get("is_heading"):
            continue
        if lab in present:
            present[lab] = True
        if lab == "problems":
            prob_n += 1
            prob_spec += is_specific_problem(_sentence_text(rec, s), (e.get("type") for e in es))
        elif lab == "plans":
            plan_n += 1
            plan_tgt += any(e.get("type") == "METRIC" and e.get("target") for e in es)
    n_chars = sum(chars.values())
    entities = rec.get("entities", [])
    n_metrics = sum(1 for e in entities if e.get("type") == "METRIC")
    laws = [name for _, name in resolve_laws(rec) if name]  # as the regulations table counts them
    return Scorecard(
        doc_id=str(rec.get("id")), title=rec.get("title"), year=record_year(rec), issuer_level=record_issuer_level(rec),
        n_chars=n_chars, parts_present=present, n_parts_present=sum(present.values()),
        label_shares={lab: (chars[lab] / n_chars if n_chars else 0.0) for lab in LABELS},
        n_metrics=n_metrics, metrics_per_1000_chars=(1000.0 * n_metrics / n_chars if n_chars else 0.0),
        n_regulations=len(set(laws)), n_regulation_mentions=len(laws),
        problems_sentences=prob_n, problems_specific=prob_spec,
        problems_specificity=(prob_spec / prob_n if prob_n else None),
        plans_sentences=plan_n, plans_with_targets=plan_tgt, plans_target_share=(plan_tgt / plan_n if plan_n else None),
        document_kind=record_document_kind(rec))


# --------------------------------------------------------------------------- key figures

_PERCENT_UNITS = ("%", "‰", "％")


def figure_salience(row: Mapping[str, Any]) -> float:
    """Salience of one indicator row (``indicators.indicator_rows``):

    +3 a target (a goal, e.g. in plans); +2 a percentage; +1.5 a rate (率) named in the
    indicator; +0.5 an amount of money; + up to 0.5 for the size of a count
    (log10(value)/10, values in 万/亿 scaled); −2 outside the four parts (preamble,
    signature); −1.5 when the indicator phrase is too short to say what is measured (涉及)."""
    unit = row.get("unit") or ""
    ind = row.get("indicator") or ""
    s = 0.0
    if row.get("target"):
        s += 3.0
    pct = any(u in unit for u in _PERCENT_UNITS)
    if pct:
        s += 2.0
    if "率" in ind:
        s += 1.5
    if unit.endswith("元"):
        s += 0.5
    v = row.get("value")
    if not pct and isinstance(v, (int, float)) and v > 0:
        scale = 1e8 if unit.startswith("亿") else 1e4 if unit.startswith("万") else 1.0
        s += min(math.log10(v * scale + 1) / 10, 0.5)
    if row.get("sentence_label") not in SECTION_LABELS:
        s -= 2.0
    if len(re.sub(r"[^\u4e00-\u9fff]", "", ind)) < 3:
        s -= 1.5
    return round(s, 4)


def key_figures(doc: Document, n: int = 10) -> list[KeyFigure]:
    """The ``n`` most salient indicator rows (``figure_salience``), most salient first (ties in
    document order); the same indicator with the same value is listed once."""
    rows = indicator_rows([doc])
    scored = []
    seen: set[tuple[str, str]] = set()
    for pos, r in enumerate(rows):
        key = (r.get("indicator") or "", r.get("metric") or "")
        if key in seen:
            continue
        seen.add(key)
        scored.append((figure_salience(r), pos, r))
    scored.sort(key=lambda t: (-t[0], t[1]))
    out = []
    for sal, _, r in scored[:n]:
        out.append(KeyFigure(indicator=r.get("indicator") or "", metric=r.get("metric") or "", value=r.get("value"),
                             unit=r.get("unit") or "", qualifier=r.get("qualifier"), target=bool(r.get("target")),
                             sentence_label=r.get("sentence_label"), sentence=r["sentence"], salience=sal,
                             context=doc.sentences[r["sentence"]].text))
    return out


# --------------------------------------------------------------------------- selection


def heading_backed(sentence: Any) -> bool:
    """The sentence's label was decided with a mandated section heading in view (reason
    ``heading:…`` or ``model+heading:…``), not by the model's reading alone."""
    return "heading:" in (sentence.reason or "")


def candidates(doc: Document, label: str, min_confidence: float = 0.0) -> list[int]:
    """Sentences that may speak for a part: its label, not a heading, at least MIN_CHARS
    characters, and, unless a mandated heading backs the label, a model probability of the
    label of at least ``min_confidence`` (labellers without probabilities: no such check)."""
    out = []
    for i, s in enumerate(doc.sentences):
        if s.label != label or s.is_heading or sum(map(_is_content_char, s.text)) < MIN_CHARS:
            continue
        if min_confidence > 0 and s.scores and not heading_backed(s) and s.scores.get(label, 0.0) < min_confidence:
            continue
        out.append(i)
    return out


def _confidence(doc: Document, i: int, label: str) -> float:
    sc = doc.sentences[i].scores
    return float(sc.get(label, 0.0)) if sc else 1.0


def rank_part(doc: Document, label: str, method: str = "centrality", embeddings: np.ndarray | None = None,
              lam: float = MMR_LAMBDA, confidence_weight: float = CONFIDENCE_WEIGHT,
              min_confidence: float = MIN_CONFIDENCE) -> list[tuple[int, float]]:
    """(sentence index, score) for every candidate of one part, best first."""
    cand = candidates(doc, label, min_confidence)
    if not cand:
        return []
    if method == "lead":
        return [(i, 1.0 / (r + 1)) for r, i in enumerate(cand)]
    if method == "textrank":
        grams = [char_bigrams(doc.sentences[i].text) for i in cand]
        w = np.array([[textrank_similarity(a, b) if x != y else 0.0 for y, b in enumerate(grams)]
                      for x, a in enumerate(grams)])
        pr = pagerank(w)
        order = sorted(range(len(cand)), key=lambda j: (-pr[j], j))
        return [(cand[j], float(pr[j])) for j in order]
    if method != "centrality":
        raise ValueError(f"unknown method {method!r}; choose from {', '.join(METHODS)}")
    if embeddings is None:
        raise ValueError("centrality needs sentence embeddings")
    e = embeddings[cand]
    sim = e @ e.T
    cen = centrality_scores(sim)
    span = cen.max() - cen.min()
    cen01 = (cen - cen.min()) / span if span > 1e-12 else np.ones(len(cand))
    conf = np.array([_confidence(doc, i, label) for i in cand])
    rel = (1 - confidence_weight) * cen01 + confidence_weight * conf
    order = mmr_order(rel, sim, lam)
    return [(cand[j], float(rel[j])) for j in order]


def select(ranked: Mapping[str, list[tuple[int, float]]], doc: Document, k: int,
           budget: int | None = None) -> dict[str, list[SelectedSentence]]:
    """Up to ``k`` sentences per part; with a character budget the parts take turns, each
    taking its best remaining sentence that still fits. Each part's choice in document order."""
    chosen: dict[str, list[tuple[int, float, int]]] = {lab: [] for lab in ranked}
    if budget is None:
        for lab, r in ranked.items():
            chosen[lab] = [(i, s, n) for n, (i, s) in enumerate(r[:k])]
    else:
        left = budget
        pos = {lab: 0 for lab in ranked}
        progress = True
        while progress:
            progress = False
            for lab, r in ranked.items():
                if len(chosen[lab]) >= k:
                    continue
                while pos[lab] < len(r):
                    i, s = r[pos[lab]]
                    pos[lab] += 1
                    n = len(doc.sentences[i].text)
                    if n <= left:
                        chosen[lab].append((i, s, pos[lab] - 1))
                        left -= n
                        progress = True
                        break
    out: dict[str, list[SelectedSentence]] = {}
    for lab, items in chosen.items():
        out[lab] = []
        for i, s, n in sorted(items):
            sent = doc.sentences[i]
            out[lab].append(SelectedSentence(i, lab, sent.start, sent.end, sent.text, round(s, 6), n))
    return out


def document_embeddings(doc: Document, encoder: Any) -> np.ndarray:
    """Embeddings of all sentences of ``doc``, centred on the mean of the candidate
    sentences of the four parts and L2-normalised."""
    raw = np.asarray(encoder.encode([s.text for s in doc.sentences]), dtype=np.float64)
    cand = sorted({i for lab in SECTION_LABELS for i in candidates(doc, lab)})
    if len(cand) > 1:
        raw = raw - raw[cand].mean(axis=0, keepdims=True)
    return normalise_rows(raw, center=False)


# --------------------------------------------------------------------------- summary


def _overview(doc: Document, sc: Scorecard, cats: Mapping[str, list[SelectedSentence]], n_regs: int) -> str:
    names = {"duty": "履职", "measures": "举措", "problems": "问题", "plans": "计划"}
    missing = [names[lab] for lab in SECTION_LABELS if not sc.parts_present[lab]]
    parts = "四个法定部分齐全" if not missing else f"缺少{'、'.join(missing)}部分"
    head = (f"全文约{sc.n_chars}字，{parts}；引用法规文件{n_regs}部；"
            f"数量指标{sc.n_metrics}个（每千字{sc.metrics_per_1000_chars:.1f}个）。")
    firsts = [min(ss, key=lambda s: s.rank) for ss in cats.values() if ss]
    return head + "".join(s.text for s in sorted(firsts, key=lambda s: s.start))


def summarize(doc: Document, method: str = "centrality", k: int = 3, budget: int | None = None, encoder: Any = None,
              n_figures: int = 10, lam: float = MMR_LAMBDA, confidence_weight: float = CONFIDENCE_WEIGHT,
              min_confidence: float = MIN_CONFIDENCE) -> Summary:
    """Summarise an annotated document (labels and entities set). ``encoder`` is needed for
    ``centrality`` (``load_encoder``)."""
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; choose from {', '.join(METHODS)}")
    if k < 1:
        raise ValueError("k must be ≥ 1")
    if budget is not None and budget < 1:
        raise ValueError("budget must be ≥ 1 character")
    emb = None
    if method == "centrality":
        if encoder is None:
            encoder = load_encoder()
        emb = document_embeddings(doc, encoder)
    ranked = {lab: rank_part(doc, lab, method, emb, lam, confidence_weight, min_confidence) for lab in SECTION_LABELS}
    cats = select(ranked, doc, k, budget)
    sc = scorecard(doc)
    regs = regulation_rows(regulation_counts([doc]))
    notes = [f"no {lab} sentences found" for lab in SECTION_LABELS if not ranked[lab]]
    return Summary(doc_id=doc.id, title=doc.title, issuer=doc.issuer, date=doc.date, method=method, k=k, budget=budget,
                   encoder=getattr(encoder, "name", None) if method == "centrality" else None,
                   overview=_overview(doc, sc, cats, len(regs)), categories=cats,
                   key_figures=key_figures(doc, n_figures), regulations=regs, scorecard=sc,
                   labeller=doc.meta.get("labeller"), notes=notes)


# --------------------------------------------------------------------------- Markdown


def _md_cell(x: Any) -> str:
    if x is None:
        return "–"
    if isinstance(x, float):
        return f"{x:g}" if abs(x) >= 1 or x == 0 else f"{x:.3f}"
    return str(x).replace("|", "\\|").replace("\n", " ")


def _md_table(rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(_md_cell(c) for c in rows[0]) + " |", "|" + "---|" * len(rows[0])]
    lines += ["| " + " | ".join(_md_cell(c) for c in r) + " |" for r in rows[1:]]
    return "\n".join(lines)


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:.1f}%"


def scorecard_rows(sc: Scorecard) -> list[list[Any]]:
    rows: list[list[Any]] = [["measure", "value"]]
    rows.append(["mandated parts present", f"{sc.n_parts_present}/4 ("
                 + ", ".join(f"{lab} {'✓' if sc.parts_present[lab] else '✗'}" for lab in SECTION_LABELS) + ")"])
    rows.append(["share of text (characters)", ", ".join(f"{lab} {_pct(sc.label_shares[lab])}" for lab in LABELS)])
    rows.append(["characters (sentences)", sc.n_chars])
    rows.append(["METRIC indicators per 1,000 characters", f"{sc.metrics_per_1000_chars:.2f} ({sc.n_metrics} in all)"])
    rows.append(["regulations cited (distinct / mentions)", f"{sc.n_regulations} / {sc.n_regulation_mentions}"])
    rows.append(["specific problems sentences", f"{sc.problems_specific}/{sc.problems_sentences} ({_pct(sc.problems_specificity)})"])
    rows.append(["plans sentences with numeric targets", f"{sc.plans_with_targets}/{sc.plans_sentences} ({_pct(sc.plans_target_share)})"])
    return rows


def _qualifier_note(f: KeyFigure) -> str:
    """Qualifiers outside the METRIC span (以上, 左右, 超过 …), as written after the value."""
    q = [x for x in (f.qualifier or "").split(",") if x and x not in f.metric]
    return f" ({'、'.join(q)})" if q else ""


def render_summary_markdown(s: Summary) -> str:
    out = [f"# 摘要 Summary: {s.title or s.doc_id}", ""]
    meta = [f"document `{s.doc_id}`"]
    if s.issuer:
        meta.append(f"issuer {s.issuer}")
    if s.date:
        meta.append(f"date {s.date}")
    how = f"method `{s.method}`, k = {s.k}" + (f", budget {s.budget} characters" if s.budget else "")
    if s.encoder:
        how += f", embeddings: {s.encoder}"
    if s.labeller:
        how += f", labels: {s.labeller}"
    out += ["; ".join(meta) + ". " + how + ".", "", "## Overview 概览", "", s.overview, ""]
    for lab in SECTION_LABELS:
        out += [f"## {CATEGORY_TITLES[lab]} ({lab})", ""]
        sel = s.categories.get(lab) or []
        out += [f"- {x.text}" for x in sel] if sel else ["(no sentences of this part found)"]
        out.append("")
    out += ["## Key figures 关键数据", ""]
    if s.key_figures:
        out.append(_md_table([["indicator", "value", "part", "target", "salience"]] +
                             [[f.indicator, f.metric + _qualifier_note(f), f.sentence_label,
                               "yes" if f.target else "", f.salience] for f in s.key_figures]))
    else:
        out.append("(no numeric indicators found)")
    out += ["", "## Regulations cited 引用法规", ""]
    if s.regulations:
        out.append(_md_table([["regulation", "kind", "mentions"]] +
                             [[r["name"], r["kind"], r["mentions"]] for r in s.regulations]))
    else:
        out.append("(no regulations cited)")
    out += ["", "## Scorecard 评分卡", "", _md_table(scorecard_rows(s.scorecard)), ""]
    if s.notes:
        out += ["Notes: " + "; ".join(s.notes) + ".", ""]
    return "\n".join(out)


# --------------------------------------------------------------------------- ROUGE


def rouge_tokens(text: str) -> list[str]:
    """Characters for character-level ROUGE: letters, digits and CJK ideographs (punctuation,
    spaces and Markdown marks dropped)."""
    return [c for c in text if _is_content_char(c)]


def _prf(overlap: float, n_cand: int, n_ref: int) -> dict[str, float]:
    p = overlap / n_cand if n_cand else 0.0
    r = overlap / n_ref if n_ref else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"p": p, "r": r, "f": f}


def rouge_n(cand: Sequence[str], ref: Sequence[str], n: int) -> dict[str, float]:
    """ROUGE-N over token sequences: clipped n-gram overlap; precision, recall, F1."""
    cg = Counter(tuple(cand[i:i + n]) for i in range(len(cand) - n + 1))
    rg = Counter(tuple(ref[i:i + n]) for i in range(len(ref) - n + 1))
    overlap = sum((cg & rg).values())
    return _prf(overlap, sum(cg.values()), sum(rg.values()))


def lcs_length(a: Sequence[str], b: Sequence[str]) -> int:
    """Length of the longest common subsequence (O(len(a)·len(b)) time, O(len(b)) memory)."""
    if not a or not b:
        return 0
    prev = [0] * (len(b) + 1)
    for x in a:
        cur = [0]
        for j, y in enumerate(b, 1):
            cur.append(prev[j - 1] + 1 if x == y else max(prev[j], cur[j - 1]))
        prev = cur
    return prev[-1]


def rouge_l(cand: Sequence[str], ref: Sequence[str]) -> dict[str, float]:
    """ROUGE-L: LCS / candidate length (precision), LCS / reference length (recall), F1."""
    return _prf(lcs_length(cand, ref), len(cand), len(ref))


def char_rouge(candidate: str, reference: str) -> dict[str, dict[str, float]]:
    """Character-level ROUGE-1, ROUGE-2 and ROUGE-L (each p, r, f) of a summary against a reference."""
    c, r = rouge_tokens(candidate), rouge_tokens(reference)
    return {"rouge-1": rouge_n(c, r, 1), "rouge-2": rouge_n(c, r, 2), "rouge-l": rouge_l(c, r)}
