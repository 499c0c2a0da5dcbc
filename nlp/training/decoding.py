"""Choose a classifier's document-aware decoding (``decoding.json``) on training documents.

The sentence probabilities of every gold document are computed once; each decoding setting
(heading prior weight, order-aware Viterbi on/off and its backward penalty, plan documents read
as plans or not when the model has a ``doc_kind/`` model, the weight of the problems prior on
sentences that state a shortcoming) is then scored by
the evaluation harness on those probabilities, and the best setting by sentence macro-F1 in
context is written next to the model. The documents are the hand-labelled training documents
(``nlp.training.hand.hand_gold_documents``) or a gold file given explicitly; dev is never read.
Document-level cross-validation says how much the choice flatters itself.

    nlp train decoding --model models/classifier-small --hand eval/hand/train_sentences.jsonl --cv 5
"""

from __future__ import annotations

import itertools
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from .. import evaluate as ev
from ..config import ConfigError
from ..modeling import BertSentenceLabeller, DecodingConfig, sentence_contexts
from .data import load_reports

HEADING_WEIGHTS = (0.0, 0.3, 0.5, 0.7, 0.9)
DEFAULT_FOLDS = 5
BACKWARD_PENALTIES = (0.5, 1.0, 2.0, 4.0, 8.0, 16.0)
PROBLEM_CUE_WEIGHTS = (0.0, 0.3, 0.5, 0.7)


@dataclass
class DecodingTrial:
    config: DecodingConfig
    macro_f1: float
    per_label: dict[str, float]


@dataclass
class DecodingCV:
    """How much choosing the decoding on the gold file flatters it: the documents are split into
    ``folds``; each fold is labelled with the setting that scores best on the other folds, and
    the pooled labels are scored once (``macro_f1``), next to the best setting's score on all
    documents (``chosen_on_all``)."""

    folds: int
    macro_f1: float
    chosen_on_all: float
    per_fold: list[dict]
    # by document kind: sentences, documents, and macro-F1 / accuracy of the model's own setting
    # ("before") and of the cross-validated choice ("cv"); only ``tune_decoding_unseen`` fills it
    per_kind: dict | None = None


def _trial_key(cfg: DecodingConfig, macro_f1: float) -> tuple:
    # best score first; ties go to the simpler setting (no plan documents, no problems prior, no Viterbi,
    # lower heading weight, lower prior weight)
    return (-round(macro_f1, 6), cfg.plan_document_threshold > 0, cfg.problem_cue_weight > 0, cfg.use_viterbi,
            cfg.heading_weight, cfg.problem_cue_weight)


def _settings(lab: BertSentenceLabeller) -> list[DecodingConfig]:
    """The grid: every heading weight, Viterbi off or on at each backward penalty, plan documents off
    or (with a document-kind model, MODEL/doc_kind/) at the threshold the kind model was
    cross-validated with, and every problems-cue weight."""
    plan_thresholds = [0.0] + ([float(lab.doc_kind.config.get("threshold", 0.5))] if lab.doc_kind is not None else [])
    settings = [DecodingConfig(heading_weight=w, use_viterbi=False, plan_document_threshold=t, problem_cue_weight=c)
                for w, t, c in itertools.product(HEADING_WEIGHTS, plan_thresholds, PROBLEM_CUE_WEIGHTS)]
    settings += [DecodingConfig(backward_penalty=b, heading_weight=w, use_viterbi=True, plan_document_threshold=t,
                                problem_cue_weight=c)
                 for w, b, t, c in itertools.product(HEADING_WEIGHTS, BACKWARD_PENALTIES, plan_thresholds,
                                                     PROBLEM_CUE_WEIGHTS)]
    return settings


def _fold_of(n: int, folds: int, seed: int) -> list[int]:
    """Documents 0..n-1 shuffled (``random.Random(seed)``) and dealt round-robin into ``folds``."""
    import random

    order = list(range(n))
    random.Random(seed).shuffle(order)
    fold_of = [0] * n
    for i, d in enumerate(order):
        fold_of[d] = i % folds
    return fold_of


HOLDABLE = ("heading_weight", "backward_penalty", "use_viterbi", "plan_document_threshold", "problem_cue_weight")


def tune_decoding_unseen(model_dir: str | Path, hand: str | Path, data_dir: str | Path, unseen_from: int, *,
                         write: bool = False, cv: int = DEFAULT_FOLDS, seed: int = 0, hold: Sequence[str] = (),
                         progress: bool = True) -> tuple[DecodingConfig, list[DecodingTrial], DecodingCV]:
    """Choose the decoding on the hand labels the classifier never saw: records ``unseen_from``
    (1-based) on of ``hand`` (``nlp.training.hand.unseen_by_document``), whole reports and plan
    documents and the windows of government work reports alike (each document is decoded whole, its
    labelled sentences are scored). Every setting of the grid is scored by sentence macro-F1 over
    those sentences; document-level cross-validation says how much the choice flatters itself.
    ``hold`` names settings (``HOLDABLE``) kept at the model's values: the ones these labels cannot
    judge (the plan-document rule where they hold no plan document). Ties go to the setting closest
    to the model's, then to the simpler one. With ``write``, saves the best setting as ``decoding.json``."""
    from ..evaluate import classification_metrics
    from .hand import hand_label_sites, unseen_by_document

    bad = sorted(set(hold) - set(HOLDABLE))
    if bad:
        raise ValueError(f"cannot hold {', '.join(bad)}: the settings are {', '.join(HOLDABLE)}")
    lab = BertSentenceLabeller(model_dir)
    lab.stack = None  # the decoder alone
    sites, _ = hand_label_sites(hand, data_dir)
    docs, labelled = unseen_by_document(sites, unseen_from)
    doc_ids = sorted(docs)
    if not 2 <= cv <= len(doc_ids):
        raise ValueError(f"{hand}: --cv needs 2 to {len(doc_ids)} folds (one document at least in each, "
                         f"from record {unseen_from} on), got {cv}")
    it = doc_ids
    if progress:
        from tqdm import tqdm

        it = tqdm(doc_ids, desc="documents")
    probs = {d: lab.predict_proba([s.text for s in docs[d].sentences], sentence_contexts(docs[d])) for d in it}
    where = [(k, i) for k, d in enumerate(doc_ids) for i in sorted(labelled[d])]
    gold = [labelled[doc_ids[k]][i] for k, i in where]
    current = lab.decoding
    settings = [c for c in _settings(lab) if all(getattr(c, h) == getattr(current, h) for h in hold)
                and (c.use_viterbi or "backward_penalty" not in hold)]
    if not settings:
        raise ValueError(f"{model_dir}: no setting of the grid keeps {', '.join(hold)} at the model's values")

    def key(cfg: DecodingConfig, f1: float) -> tuple:
        moved = sum(getattr(cfg, h) != getattr(current, h) for h in HOLDABLE)
        return (-round(f1, 6), moved) + _trial_key(cfg, f1)[1:]

    preds = []
    trials = []
    grid = settings
    if progress:
        from tqdm import tqdm

        grid = tqdm(settings, desc="decoding settings")
    for cfg in grid:
        lab.decoding = cfg
        paths = [lab.decode_steps(docs[d], probs[d]).path for d in doc_ids]
        pred = [lab.labels[paths[k][i]] for k, i in where]
        preds.append(pred)
        m = classification_metrics(gold, pred)
        trials.append(DecodingTrial(cfg, m["macro_f1"], {k: round(v["f1"], 4) for k, v in m["per_label"].items()}))
    fold_of = _fold_of(len(doc_ids), cv, seed)
    pooled: list[str] = [""] * len(gold)
    per_fold = []
    for f in range(cv):
        rest = [j for j, (k, _) in enumerate(where) if fold_of[k] != f]
        held = [j for j, (k, _) in enumerate(where) if fold_of[k] == f]
        scores = [classification_metrics([gold[j] for j in rest], [pr[j] for j in rest])["macro_f1"] for pr in preds]
        best = min(range(len(settings)), key=lambda i: key(settings[i], scores[i]))
        for j in held:
            pooled[j] = preds[best][j]
        per_fold.append({"documents": sum(1 for k in range(len(doc_ids)) if fold_of[k] == f), "sentences": len(held),
                         "chosen": asdict(settings[best]), "score_on_other_folds": round(scores[best], 4)})
    # by kind: work-report windows (corpus), and the kind field of reports.jsonl for the rest
    kinds = {r["id"]: r.get("kind") or "report" for r in load_reports(Path(data_dir) / "reports.jsonl", "train")}
    kind_of = ["work report" if doc_ids[k].startswith("gwr-corpus-") else kinds.get(doc_ids[k], "report") for k, _ in where]
    before = next((preds[i] for i, c in enumerate(settings) if c == current), None)
    per_kind = {}
    for kd in sorted(set(kind_of)) + ["all"]:
        js = [j for j, x in enumerate(kind_of) if x == kd or kd == "all"]
        g = [gold[j] for j in js]
        row = {"sentences": len(js), "documents": len({where[j][0] for j in js})}
        for name, pr in (("before", before), ("cv", pooled)):
            if pr is not None:
                m = classification_metrics(g, [pr[j] for j in js])
                row[name] = {"macro_f1": round(m["macro_f1"], 4), "accuracy": round(m["accuracy"], 4)}
        per_kind[kd] = row
    trials.sort(key=lambda t: key(t.config, t.macro_f1))
    result = DecodingCV(cv, classification_metrics(gold, pooled)["macro_f1"], trials[0].macro_f1, per_fold, per_kind)
    best_cfg = trials[0].config
    if write:
        (Path(model_dir) / "decoding.json").write_text(json.dumps(asdict(best_cfg), indent=1), encoding="utf-8")
    return best_cfg, trials, result


def cross_validate(docs: list, configs: list[DecodingConfig], preds: list, folds: int, seed: int = 0) -> DecodingCV:
    """Document-level cross-validation of the choice among ``configs`` (``preds[i]``: the harness
    predictions of ``configs[i]`` on ``docs``)."""
    if not 2 <= folds <= len(docs):
        raise ValueError(f"--cv needs 2 to {len(docs)} folds (one document at least in each), got {folds}")
    fold_of = _fold_of(len(docs), folds, seed)
    context: list = [None] * len(docs)
    per_fold = []
    for f in range(folds):
        held = [d for d in range(len(docs)) if fold_of[d] == f]
        rest = [d for d in range(len(docs)) if fold_of[d] != f]
        scores = [ev.score(docs, pr, rest)["classification"]["sentence"]["macro_f1"] for pr in preds]
        best = min(range(len(configs)), key=lambda i: _trial_key(configs[i], scores[i]))
        for d in held:
            context[d] = preds[best].context[d]
        per_fold.append({"documents": len(held), "chosen": asdict(configs[best]), "score_on_other_folds": round(scores[best], 4)})
    pooled = ev.Predictions(context, None, preds[0].entities, "cv")
    all_scores = [ev.score(docs, pr)["classification"]["sentence"]["macro_f1"] for pr in preds]
    return DecodingCV(folds, ev.score(docs, pooled)["classification"]["sentence"]["macro_f1"],
                      max(all_scores), per_fold)


class _CachedLabeller:
    """A BertSentenceLabeller whose probabilities are computed once per document."""

    def __init__(self, lab: BertSentenceLabeller):
        self.lab, self.name = lab, lab.name
        self.cache: dict[tuple[str, str], np.ndarray] = {}
        self.alone: dict[tuple[str, ...], np.ndarray] = {}

    def label(self, doc) -> None:
        key = (doc.id, doc.text)
        if key not in self.cache:
            self.cache[key] = self.lab.predict_proba([s.text for s in doc.sentences], sentence_contexts(doc))
        self.lab.decode(doc, self.cache[key])

    def label_alone(self, texts: list[str]) -> list[str]:
        # the probabilities are cached; the sentence-level rules depend on the setting being tried
        key = tuple(texts)
        if key not in self.alone:
            self.alone[key] = self.lab.predict_proba(texts)
        return self.lab.alone_labels(texts, self.alone[key])


def tune_decoding(model_dir: str | Path, gold: str | Path | list, write: bool = True, progress: bool = True,
                  cv: int | None = 0) -> tuple[DecodingConfig, list[DecodingTrial], DecodingCV | None]:
    """Grid-search the decoding of ``model_dir`` on ``gold`` (a gold file, or the documents
    themselves: ``GoldDocument``s such as ``hand_gold_documents``); returns the best setting, all
    trials (best first) and, with ``cv`` folds, the cross-validated score of the choice; with
    ``write``, saves the best setting as ``decoding.json``."""
    lab = BertSentenceLabeller(model_dir)
    cached = _CachedLabeller(lab)
    docs = gold if isinstance(gold, list) else ev.load_gold(gold)
    if cv is None:  # the default: 5 folds, fewer for fewer documents, none for one
        cv = min(DEFAULT_FOLDS, len(docs)) if len(docs) >= 2 else 0
    if cv and not 2 <= cv <= len(docs):
        raise ConfigError("cv", f"needs 2 to {len(docs)} folds (one document at least in each), got {cv}")
    settings = _settings(lab)
    trials = []
    it = settings
    if progress:
        from tqdm import tqdm

        it = tqdm(settings, desc="decoding settings")
    preds = []
    for cfg in it:
        lab.decoding = cfg
        pr = ev.predict(docs, cached)
        preds.append(pr)
        m = ev.score(docs, pr)["classification"]["sentence"]
        trials.append(DecodingTrial(cfg, m["macro_f1"], {k: round(v["f1"], 4) for k, v in m["per_label"].items()}))
    result = cross_validate(docs, settings, preds, cv) if cv else None
    trials.sort(key=lambda t: _trial_key(t.config, t.macro_f1))
    best = trials[0].config
    if write:
        (Path(model_dir) / "decoding.json").write_text(json.dumps(asdict(best), indent=1), encoding="utf-8")
    return best, trials, result


def trials_table(trials: list[DecodingTrial], title: str):
    """A rich table of decoding trials (best first)."""
    from rich.table import Table

    table = Table(title=title)
    labels = list(trials[0].per_label) if trials else []
    for col in ["heading weight", "viterbi", "backward penalty", "plan documents", "problems cue", "macro-F1"] + labels:
        table.add_column(col, justify="right")
    for t in trials:
        c = t.config
        table.add_row(f"{c.heading_weight:g}", "yes" if c.use_viterbi else "no",
                      f"{c.backward_penalty:g}" if c.use_viterbi else "-",
                      f"P ≥ {c.plan_document_threshold:g}" if c.plan_document_threshold > 0 else "off",
                      f"{c.problem_cue_weight:g}" if c.problem_cue_weight > 0 else "off", f"{t.macro_f1:.4f}",
                      *(f"{t.per_label[k]:.3f}" for k in labels))
    return table


def report_lines(best: DecodingConfig, cv: DecodingCV | None, written: Path | None) -> list[str]:
    """What a decoding choice says: the setting (and where it was written), the cross-validation."""
    lines = [("best (not written): " if written is None else f"wrote {written}: ") + json.dumps(asdict(best))]
    if cv is not None:
        lines.append(f"{cv.folds}-fold cross-validation over documents (each fold decoded with the setting best on "
                     f"the others): sentence macro-F1 {cv.macro_f1:.4f}, against {cv.chosen_on_all:.4f} "
                     "for the setting chosen on all documents")
        for i, f in enumerate(cv.per_fold, 1):
            c = f["chosen"]
            lines.append(f"  fold {i}: {f['documents']} documents; chosen: heading weight {c['heading_weight']:g}, "
                         f"viterbi {'penalty ' + format(c['backward_penalty'], 'g') if c['use_viterbi'] else 'off'}, "
                         f"plan documents {c['plan_document_threshold']:g}, problems cue {c['problem_cue_weight']:g}")
        for kd, row in (cv.per_kind or {}).items():
            had = (f"the model's setting {row['before']['macro_f1']:.4f} / {row['before']['accuracy']:.4f}, "
                   if "before" in row else "")
            lines.append(f"  {kd}: {row['documents']} documents, {row['sentences']} sentences; macro-F1 / accuracy: "
                         f"{had}cross-validated choice {row['cv']['macro_f1']:.4f} / {row['cv']['accuracy']:.4f}")
    return lines
