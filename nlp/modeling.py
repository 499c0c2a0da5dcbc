"""BERT sentence classifier at inference time, and document-aware decoding.

Any BERT-family checkpoint fine-tuned by ``nlp train classify`` (a normal Hugging Face
directory, or a hub id) labels sentences. The model reads each sentence as a text pair:
its context (the heading path of the section it stands in) and the sentence. Over a whole
document an order-aware Viterbi decoder combines the sentence probabilities with the
reports' section order (duty → measures → problems → plans; ``other`` anywhere) and, when
present, the mandated section headings.
"""

from __future__ import annotations

import contextlib
import functools
import json
import math
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Sequence

import numpy as np

from .alone import AloneModel, load_alone
from .components.base import SentenceLabeller
from .config import DecodingConfig
from .doc import LABELS, Document
from .progress import advance
from .stack import StackModel, load_stack

__all__ = ["BertSentenceLabeller", "DecodingConfig", "SECTION_ORDER", "cpu_has_native_bf16", "sentence_contexts",
           "viterbi"]

SECTION_ORDER = {"duty": 0, "measures": 1, "problems": 2, "plans": 3}


def sentence_contexts(doc: Document) -> list[str]:
    """The document context a model reads with each sentence: the document title, the
    heading path of the section it stands in (outermost first) and, inside a plain
    paragraph, the paragraph's first sentence (which often frames the rest: 我们也清醒看到…,
    下一步…). Parts are joined with `` | `` and cut to fixed lengths; training
    (``nlp.training``) and inference both use this one function."""
    title = (doc.title or "")[:40]
    out = []
    for i, s in enumerate(doc.sentences):
        path = [h.text for h in doc.heading_path(i)]
        if s.is_heading and path:
            path = path[:-1]
        para = doc.paragraphs[s.paragraph]
        first = para.sentence_ids[0] if para.sentence_ids else i
        lead = doc.sentences[first].text[:40] if (para.heading is None and first != i) else ""
        parts = [title if s.text != doc.title else "", " / ".join(path)[:80], lead]
        out.append(" | ".join(parts))
    return out


def viterbi(logp: np.ndarray, labels: Sequence[str], backward_penalty: float) -> list[int]:
    """Most probable label sequence where moving back in section order costs
    ``backward_penalty`` (log space). ``other`` is free to enter and leave; the state keeps
    the last section seen so that duty → other → duty is not a backward move."""
    n, k = logp.shape
    if n == 0:
        return []
    order = [SECTION_ORDER.get(lab, -1) for lab in labels]
    # state = (label index, last section index or -1)
    states = [(lab, sec) for lab in range(k) for sec in range(-1, 4)
              if (order[lab] < 0) or (order[lab] == sec)]
    idx = {s: i for i, s in enumerate(states)}
    ns = len(states)
    score = np.full(ns, -np.inf)
    for (lab, sec), i in idx.items():
        if sec == -1 or order[lab] >= 0:
            score[i] = logp[0, lab]
    back = np.zeros((n, ns), dtype=np.int64)
    for t in range(1, n):
        new = np.full(ns, -np.inf)
        for (lab, sec), j in idx.items():
            best, arg = -np.inf, 0
            for (plab, psec), i in idx.items():
                if score[i] == -np.inf:
                    continue
                if order[lab] < 0:  # other keeps the last section
                    if sec != psec:
                        continue
                    cost = 0.0
                else:
                    if sec != order[lab]:
                        continue
                    cost = backward_penalty if (psec >= 0 and order[lab] < psec) else 0.0
                v = score[i] - cost
                if v > best:
                    best, arg = v, i
            if best > -np.inf:
                new[j] = best + logp[t, lab]
                back[t, j] = arg
        score = new
    j = int(np.argmax(score))
    path = [j]
    for t in range(n - 1, 0, -1):
        j = int(back[t, j])
        path.append(j)
    path.reverse()
    return [states[j][0] for j in path]


DEFAULT_MAX_LENGTH = 160  # tokens per (context, sentence) pair for a model that does not say


def trained_max_length(model_dir: str | Path) -> int | None:
    """The pair length a classifier was fine-tuned with (``max_length`` in its
    ``training_summary.json``); inference uses the same length by default: longer pairs gave
    the same dev score (0.839 vs 0.838 for classifier-small) at 1.4× the time."""
    p = Path(model_dir) / "training_summary.json"
    try:
        n = json.loads(p.read_text(encoding="utf-8")).get("config", {}).get("max_length")
    except (OSError, ValueError, AttributeError):
        return None
    return int(n) if isinstance(n, int) and n >= 16 else None


def classifier_doc_kind(model_dir: str | Path):
    """The classifier's document-kind model (``MODEL/doc_kind/``, see ``nlp.dockind``), or None."""
    from .dockind import load_doc_kind

    return load_doc_kind(model_dir)


def title_sentences(doc: Document, max_paragraphs: int = 6) -> list[int]:
    """Indices of the sentences that are the document's own title (``doc.title``, found by
    ``nlp.text``; a title split over two lines gives two sentences), in its first paragraphs."""
    title = re.sub(r"\s+", "", doc.title or "")
    if len(title) < 6:
        return []
    out = []
    for i, s in enumerate(doc.sentences):
        t = re.sub(r"\s+", "", s.text).rstrip("。.")
        if s.paragraph < max_paragraphs and len(t) >= 4 and t in title:
            out.append(i)
    return out


@functools.lru_cache(maxsize=1)
def cpu_has_native_bf16() -> bool:
    """Whether this CPU computes bf16 natively (AVX512-BF16 or AMX), where bf16 autocast runs the
    BERT about twice as fast as float32 (classifier-small on this project's EPYC: 0.84 vs 1.76 s
    per batch of 64, probabilities within 0.0002). ``GOVREPORT_CPU_BF16=0`` turns it off, ``=1`` on."""
    env = os.environ.get("GOVREPORT_CPU_BF16", "").strip().lower()
    if env in ("0", "false", "no", "off"):
        return False
    if env in ("1", "true", "yes", "on"):
        return True
    try:
        flags = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace").split()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


class BertSentenceLabeller(SentenceLabeller):
    """Labels sentences with a fine-tuned BERT sequence classifier."""

    backend = "torch"
    alone: AloneModel | None = None  # MODEL/alone/: the hand-label TF-IDF model for sentences read alone
    stack: StackModel | None = None  # MODEL/stack/: the second stage of the decoding

    def __init__(self, model: str | Path, batch_size: int = 64, max_length: int | None = None, device: str | None = None):
        import torch
        from transformers import AutoModelForSequenceClassification

        from .io import load_pretrained, torch_device

        src = str(model)
        local = Path(src).exists()
        self.tokenizer, self.model = load_pretrained(AutoModelForSequenceClassification, src, "a sentence classifier")
        id2label = {int(k): v for k, v in self.model.config.id2label.items()}
        if sorted(id2label.values()) != sorted(LABELS):
            raise OSError(f"{src}: model labels {sorted(id2label.values())} are not the report categories {list(LABELS)}; "
                          "fine-tune it first with `nlp train classify --base ...`")
        self.labels = [id2label[i] for i in range(len(id2label))]
        self.device = torch_device(device)
        self.model.to(self.device).eval()
        self.batch_size = batch_size
        self.max_length = max_length or (trained_max_length(src) if local else None) or DEFAULT_MAX_LENGTH
        self.decoding = DecodingConfig.load(Path(src)) if local else DecodingConfig()
        self.doc_kind = classifier_doc_kind(src) if local else None
        self.alone = load_alone(src) if local else None
        self.stack = load_stack(src, self.labels) if local else None
        if self.stack is not None and self.alone is None:
            raise OSError(f"{src}: stack/ needs the sentence-alone model (alone/), which is missing")
        self.name = f"model:{Path(src).name if local else src}"

    @contextlib.contextmanager
    def inference_context(self) -> Iterator[Any]:
        """``torch.inference_mode``, plus bf16 autocast on a GPU and on a CPU with native bf16
        (``cpu_has_native_bf16``): the context of the batch runs."""
        import torch

        with torch.inference_mode():
            if self.device.startswith("cuda") and torch.cuda.is_bf16_supported():
                with torch.autocast("cuda", dtype=torch.bfloat16):
                    yield
            elif self.device == "cpu" and cpu_has_native_bf16():
                with torch.autocast("cpu", dtype=torch.bfloat16):
                    yield
            else:
                yield

    def predict_proba(self, texts: Sequence[str], contexts: Sequence[str] | None = None) -> np.ndarray:
        """Probabilities (n × labels), batched by length (no padding to the maximum)."""
        n = len(texts)
        out = np.zeros((n, len(self.labels)), dtype=np.float32)
        if n == 0:
            return out
        ctx = list(contexts) if contexts is not None else [""] * n
        order = sorted(range(n), key=lambda i: len(texts[i]) + len(ctx[i]))
        for b in range(0, n, self.batch_size):
            ids = order[b:b + self.batch_size]
            out[ids] = self._probs([ctx[i] for i in ids], [texts[i] for i in ids])
            advance(len(ids))  # sentences scored (nlp.progress: a batch run's progress)
        return out

    def _probs(self, contexts: list[str], texts: list[str]) -> np.ndarray:
        """Probabilities of one batch of (context, sentence) pairs (the backend's forward pass)."""
        import torch

        with torch.inference_mode():
            enc = self.tokenizer(contexts, texts, truncation="longest_first", max_length=self.max_length,
                                 padding=True, return_tensors="pt").to(self.device)
            return torch.softmax(self.model(**enc).logits.float(), dim=-1).cpu().numpy()

    def label_alone(self, texts: list[str]) -> list[str]:
        """Each sentence with no document context: the model without context (combined with the
        hand-label TF-IDF model of ``MODEL/alone/`` where there is one, ``nlp.alone``), then the
        sentence-level rules of the decoding (page chrome, the problems cue); no headings, no
        section order, no document kind."""
        return self.alone_labels(texts, self.predict_proba(texts))

    def alone_labels(self, texts: Sequence[str], probs: np.ndarray) -> list[str]:
        """``label_alone`` on probabilities already computed without context."""
        if self.alone is not None:
            probs = self.alone.combine(texts, probs, self.labels)
        logp = np.log(np.clip(probs, 1e-6, 1.0))
        self.sentence_cues(texts, logp, ["model"] * len(texts))
        return [self.labels[i] for i in logp.argmax(axis=1)]

    def sentence_cues(self, texts: Sequence[str], logp: np.ndarray, reasons: list[str],
                      mandated: Sequence[bool] | None = None) -> None:
        """The decoding's rules that read one sentence (in place on ``logp`` and ``reasons``): the
        problems prior on a sentence stating a shortcoming (``problem_cue_weight``) unless it stands
        under a mandated section heading (``mandated``), and page chrome as ``other``
        (``chrome_is_other``)."""
        if self.decoding.problem_cue_weight > 0 and "problems" in self.labels:
            from .weak import PROBLEM_STATEMENT

            w = self.decoding.problem_cue_weight
            prior = np.full(len(self.labels), math.log(1e-3))
            prior[self.labels.index("problems")] = 0.0
            for i, t in enumerate(texts):
                # under a mandated heading the section decides (LABELING.md: section wins)
                if not (mandated and mandated[i]) and PROBLEM_STATEMENT.search(t):
                    logp[i] = (1 - w) * logp[i] + w * prior
                    reasons[i] = f"{reasons[i]}+cue:problems"
        if self.decoding.chrome_is_other and "other" in self.labels:
            from .text import chrome_rule

            for i, t in enumerate(texts):
                rule = chrome_rule(t.strip())
                if rule:
                    logp[i] = math.log(1e-6)
                    logp[i, self.labels.index("other")] = 0.0
                    reasons[i] = f"chrome:{rule}"

    def label(self, doc: Document) -> None:
        self.decode(doc, self.predict_proba([s.text for s in doc.sentences], sentence_contexts(doc)))

    def label_many(self, docs: Sequence[Document]) -> None:
        """Label several documents with one batched pass over all their sentences (sorted
        by length across documents), then decode each document."""
        texts, ctxs, bounds = [], [], []
        for doc in docs:
            a = len(texts)
            texts += [s.text for s in doc.sentences]
            ctxs += sentence_contexts(doc)
            bounds.append((a, len(texts)))
        probs = self.predict_proba(texts, ctxs)
        for doc, (a, b) in zip(docs, bounds):
            self.decode(doc, probs[a:b])

    def decode(self, doc: Document, probs: np.ndarray) -> None:
        """Document-aware decoding of sentence probabilities: heading prior, then the
        order-aware Viterbi (``decoding.json``), then the stack (``MODEL/stack/``) where the
        model has one; writes labels and scores onto ``doc``."""
        d = self.decode_steps(doc, probs, for_stack=self.stack is not None)
        path, reasons = d.path, d.reasons
        if self.stack is not None and path:
            revised = self.stack.revise(self.stack_features(doc, probs, d), path, d.fixed)
            reasons = [f"{r}+stack" if a != b else r for r, a, b in zip(reasons, path, revised)]
            path = revised
        for i, s in enumerate(doc.sentences):
            s.label = self.labels[path[i]]
            s.label_source = self.name
            s.reason = reasons[i]
            s.scores = {lab: round(float(d.probs[i, j]), 4) for j, lab in enumerate(self.labels)}

    def stack_features(self, doc: Document, probs: np.ndarray, d: "DecodeSteps") -> np.ndarray:
        """The stack's features (``nlp.stack.sentence_features``) of ``doc``: ``probs`` are the
        classifier's in context, ``d`` the decoder's steps on them."""
        from .stack import sentence_features

        if self.alone is None:
            raise OSError(f"{self.name}: the stack needs the sentence-alone model (MODEL/alone/)")
        texts = [s.text for s in doc.sentences]
        tfidf = self.alone.predict_proba(texts)[:, [self.alone.labels.index(lab) for lab in self.labels]]
        heading = [self.labels.index(lab) if lab is not None else None for lab in d.heading]
        return sentence_features(np.log(np.clip(probs, 1e-6, 1.0)), d.path, heading,
                                 np.log(np.clip(tfidf, 1e-6, 1.0)), d.p_plan)

    def decode_steps(self, doc: Document, probs: np.ndarray, for_stack: bool = False) -> "DecodeSteps":
        """The decoder without the stack: the path, each sentence's reason, the probabilities shown
        (after the plan-document rule), the mandated heading label above each sentence, the
        document's plan probability and which sentences a rule fixed. ``for_stack``: find the
        heading and plan probability even where the decoding itself does not use them."""
        from .weak import label_document

        texts = [s.text for s in doc.sentences]
        reasons = ["model"] * len(texts)
        p_plan = 0.0
        if self.doc_kind is not None and texts and (self.decoding.plan_document_threshold > 0 or for_stack):
            p_plan = self.doc_kind.plan_probability(doc)
        if self.doc_kind is not None and self.decoding.plan_document_threshold > 0 and texts:
            plan_doc = p_plan >= self.decoding.plan_document_threshold
            doc.meta["document_kind"] = {"kind": "plans" if plan_doc else "report", "p_plans": round(p_plan, 4)}
            if plan_doc:
                # a plan document's arrangements are plans (LABELING.md), however much they read like duty
                probs = probs.copy()
                d, pl = self.labels.index("duty"), self.labels.index("plans")
                probs[:, pl] += probs[:, d]
                probs[:, d] = 0.0
                reasons = ["model+plan-document"] * len(texts)
        logp = np.log(np.clip(probs, 1e-6, 1.0))
        mandated = [False] * len(texts)
        heading: list[str | None] = [None] * len(texts)
        if (self.decoding.heading_weight > 0 or self.decoding.problem_cue_weight > 0 or for_stack) and texts:
            weak = label_document(doc)
            # only the mandated section headings: theme and generic headings are content guesses
            mandated = [w.reason.startswith("heading:") and not w.reason.endswith(("theme", "generic"))
                        and w.label in self.labels for w in weak]
            heading = [w.label if m else None for w, m in zip(weak, mandated)]
            for i, w in enumerate(weak):
                if mandated[i] and self.decoding.heading_weight > 0:
                    prior = np.full(len(self.labels), math.log(1e-3))
                    prior[self.labels.index(w.label)] = 0.0
                    logp[i] = (1 - self.decoding.heading_weight) * logp[i] + self.decoding.heading_weight * prior
                    reasons[i] = f"{reasons[i]}+{w.reason[:24]}"
        self.sentence_cues(texts, logp, reasons, mandated)
        if self.decoding.chrome_is_other and "other" in self.labels:
            for i in title_sentences(doc):  # LABELING.md: the report title is `other`
                logp[i] = math.log(1e-6)
                logp[i, self.labels.index("other")] = 0.0
                reasons[i] = "title"
        if self.decoding.use_viterbi:
            path = viterbi(logp, self.labels, self.decoding.backward_penalty)
        else:
            path = list(logp.argmax(axis=1))
        fixed = [r == "title" or r.startswith("chrome:") for r in reasons]
        return DecodeSteps([int(i) for i in path], reasons, probs, heading, p_plan, fixed)


@dataclass
class DecodeSteps:
    """What ``BertSentenceLabeller.decode_steps`` found for one document (see there)."""

    path: list[int]
    reasons: list[str]
    probs: np.ndarray
    heading: list[str | None]
    p_plan: float
    fixed: list[bool]
