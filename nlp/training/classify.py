"""Fine-tune any BERT-family encoder as the sentence classifier.

Data: weak labels of the ``split: train`` reports and the corpus' government work reports
(``nlp.training.data``), optionally hand labels (weighted higher). Each example is a text
pair (heading-path context, sentence), as ``nlp.modeling`` reads them at inference.
Class-weighted cross-entropy, fixed seeds, early stopping on held-out training documents: a
share of the wholly hand-labelled ``split: train`` documents (stratified by document kind) is
left out of training, every sentence of them, and scored by the evaluation harness with the
document in view after each epoch. The development gold is scored once, with the chosen model,
for the model card; it never chooses. The best model is written as a normal HF directory with a
model card and ``validation.json`` (the held-out documents, which ``nlp train decoding`` then
chooses the decoding on).
"""

from __future__ import annotations

import json
import random
import time
from collections import Counter
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import torch

from ..schema import LABELS
from .data import LabelledSentence, weak_gwr_sentences, weak_sentences
from .config import ClassifyConfig




def validation_documents(cfg: ClassifyConfig) -> list:
    """The held-out training documents (``GoldDocument``s of ``hand_gold_documents``):
    ``cfg.valid_fraction`` of the wholly hand-labelled documents of each kind (at least one of a kind
    that has two or more), drawn with ``cfg.seed``; none without hand labels or with ``valid_fraction`` 0."""
    from .data import load_reports
    from .hand import hand_gold_documents

    if cfg.valid_fraction <= 0 or not cfg.hand_labels:
        return []
    data_dir = Path(cfg.reports).parent
    docs = {d.doc_id: d for path in cfg.hand_labels for d in hand_gold_documents(path, data_dir)}
    kinds = {r["id"]: r.get("kind") or "report" for r in load_reports(cfg.reports, "train")}
    rng = random.Random(cfg.seed)
    held = []
    for kind in sorted({kinds.get(d, "report") for d in docs}):
        ids = sorted(d for d in docs if kinds.get(d, "report") == kind)
        rng.shuffle(ids)
        if len(ids) >= 2:  # a kind with one document keeps it for training
            held += ids[: max(1, round(cfg.valid_fraction * len(ids)))]
    return [docs[d] for d in sorted(held)]


def _examples(cfg: ClassifyConfig) -> list[LabelledSentence]:
    """Weak labels, with the hand labels replacing the weak label of every sentence they cover."""
    from .hand import load_hand_labels

    data = weak_sentences(cfg.reports, "train")
    if cfg.corpus and (Path(cfg.corpus) / "gov_work_reports.txt.gz").exists():
        data += weak_gwr_sentences(cfg.corpus)
    hand: list[LabelledSentence] = []
    for path in cfg.hand_labels:
        h = load_hand_labels(path, Path(cfg.reports).parent)
        if h.mismatched:
            print(f"warning: {path}: {len(h.mismatched)} hand labels no longer match the text and were skipped")
        hand += h.sentences
    covered = {(e.doc_id, e.text) for e in hand}
    return [e for e in data if (e.doc_id, e.text) not in covered] + hand


def cap_weak(examples: list[LabelledSentence], per_label: int) -> list[LabelledSentence]:
    """Keep at most ``per_label`` weak examples of each label (the first ones, in the given
    order) and every hand-labelled one. The weak labels are very unbalanced (the government
    work reports' task sections alone give ~9,000 plans sentences); capping them halves the
    training time at the same class balance the loss weights give."""
    seen: Counter = Counter()
    out = []
    for e in examples:
        if not e.source.startswith("hand"):
            seen[e.label] += 1
            if seen[e.label] > per_label:
                continue
        out.append(e)
    return out


def _dataset(examples: list[LabelledSentence], tokenizer, cfg: ClassifyConfig):
    """A 🤗 datasets.Dataset tokenised with ``map`` (cached under ``cfg.cache_dir``)."""
    from datasets import Dataset

    ds = Dataset.from_dict({
        "context": [e.context if cfg.context else "" for e in examples],
        "text": [e.text for e in examples],
        "label": [LABELS.index(e.label) for e in examples],
        "weight": [cfg.hand_weight if e.source.startswith("hand") else 1.0 for e in examples],
    })

    def tok(batch):
        return tokenizer(batch["context"], batch["text"], truncation="longest_first", max_length=cfg.max_length)

    kwargs = {}
    if cfg.cache_dir:
        Path(cfg.cache_dir).mkdir(parents=True, exist_ok=True)
        kwargs["cache_file_name"] = str(Path(cfg.cache_dir) / f"tok-{abs(hash((cfg.base, cfg.max_length, cfg.context, len(examples))))}.arrow")
    return ds.map(tok, batched=True, remove_columns=["context", "text"], **kwargs)


def train_classifier(cfg: ClassifyConfig, progress: bool = True) -> dict:
    from tqdm import tqdm
    from transformers import AutoModelForSequenceClassification, AutoTokenizer, DataCollatorWithPadding

    random.seed(cfg.seed)
    np.random.seed(cfg.seed)
    torch.manual_seed(cfg.seed)
    local = Path(cfg.base).exists()
    tokenizer = AutoTokenizer.from_pretrained(cfg.base, local_files_only=local)
    model = AutoModelForSequenceClassification.from_pretrained(
        cfg.base, num_labels=len(LABELS), id2label=dict(enumerate(LABELS)), label2id={l: i for i, l in enumerate(LABELS)},
        local_files_only=local, dtype=torch.float32)  # a half-precision checkpoint is trained in fp32 (+ bf16 autocast)
    if cfg.reset_head:  # a fine-tuned classifier as the encoder: its head starts afresh
        head = model.classifier
        head.weight.data.normal_(mean=0.0, std=model.config.initializer_range)
        head.bias.data.zero_()
    valid = validation_documents(cfg)
    held = {d.doc_id for d in valid}
    examples = [e for e in _examples(cfg) if e.doc_id not in held]
    rng = random.Random(cfg.seed)
    rng.shuffle(examples)
    if cfg.weak_per_label:
        examples = cap_weak(examples, cfg.weak_per_label)
    if cfg.max_train:
        examples = examples[: cfg.max_train]
    if cfg.context and cfg.context_dropout > 0:
        examples = [replace(e, context="") if rng.random() < cfg.context_dropout else e for e in examples]
    counts = Counter(e.label for e in examples)
    ds = _dataset(examples, tokenizer, cfg)
    # class weights: inverse frequency, normalised to mean 1, absent labels weight 0
    freq = np.array([counts.get(l, 0) for l in LABELS], dtype=np.float64)
    cw = np.where(freq > 0, freq.sum() / np.maximum(freq, 1) / max(1, (freq > 0).sum()), 0.0)
    class_weights = torch.tensor(cw / cw[cw > 0].mean(), dtype=torch.float32)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    model.to(device)
    class_weights = class_weights.to(device)
    collate = DataCollatorWithPadding(tokenizer)
    g = torch.Generator().manual_seed(cfg.seed)
    cols = [c for c in ds.column_names if c in ("input_ids", "attention_mask", "token_type_ids", "label", "weight")]
    loader = torch.utils.data.DataLoader(ds.with_format("torch", columns=cols), batch_size=cfg.batch_size, shuffle=True,
                                         generator=g, collate_fn=lambda rows: collate([{k: v for k, v in r.items()} for r in rows]))
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    total = max(1, cfg.epochs * len(loader))
    warm = int(cfg.warmup_ratio * total)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: (s + 1) / max(1, warm) if s < warm else max(0.0, (total - s) / max(1, total - warm)))
    use_bf16 = device.type == "cuda" and torch.cuda.is_bf16_supported()
    best, best_epoch, history, bad = -1.0, -1, [], 0
    out = Path(cfg.output)
    t0 = time.time()
    for epoch in range(cfg.epochs):
        model.train()
        bar = tqdm(loader, desc=f"epoch {epoch + 1}/{cfg.epochs}", disable=not progress)
        for batch in bar:
            labels = batch.pop("labels")
            weights = batch.pop("weight")
            batch = {k: v.to(device) for k, v in batch.items()}
            with torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=use_bf16):
                logits = model(**batch).logits.float()
            loss = torch.nn.functional.cross_entropy(logits, labels.to(device), weight=class_weights, reduction="none")
            loss = (loss * weights.to(device)).mean()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            opt.zero_grad(set_to_none=True)
            bar.set_postfix(loss=f"{float(loss.detach()):.3f}")
        entry = {"epoch": epoch + 1, "minutes": round((time.time() - t0) / 60, 2)}
        if valid:
            metrics = _scores(model, tokenizer, cfg, valid, "valid")
            entry.update(metrics)
            score = metrics["valid_macro_f1_context"]
        else:
            score = float(epoch)
        history.append(entry)
        if progress:
            tqdm.write(f"epoch {epoch + 1}: " + json.dumps(entry, ensure_ascii=False))
        if score > best:
            best, best_epoch, bad = score, epoch + 1, 0
            model.save_pretrained(str(out), safe_serialization=True)
            tokenizer.save_pretrained(str(out))
        else:
            bad += 1
            if bad >= cfg.patience:
                break
    summary = {"config": asdict(cfg), "train_examples": len(examples), "train_label_counts": dict(counts),
               "hand_label_counts": dict(Counter(e.label for e in examples if e.source == "hand")),
               "class_weights": dict(zip(LABELS, [round(float(x), 3) for x in class_weights.cpu()])),
               "validation_documents": len(valid),
               "validation_sentences": sum(len(p.sentences) for d in valid for p in d.paragraphs),
               "best_epoch": best_epoch, "best_valid_macro_f1_context": best if valid else None, "history": history}
    if best_epoch > 0:
        (out / "validation.json").write_text(json.dumps(
            {"documents": [d.doc_id for d in valid], "hand_labels": list(cfg.hand_labels),
             "valid_fraction": cfg.valid_fraction, "seed": cfg.seed}, indent=1), encoding="utf-8")
        if cfg.dev_gold:  # confirmation only: the chosen model, scored once
            summary["dev"] = _scores(AutoModelForSequenceClassification.from_pretrained(str(out), dtype=torch.float32),
                                     tokenizer, cfg, None, "dev")
    (out / "training_summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=1), encoding="utf-8")
    if best_epoch > 0:
        from ..modeling import DecodingConfig

        if not (out / "decoding.json").exists():
            (out / "decoding.json").write_text(json.dumps(asdict(DecodingConfig()), indent=1), encoding="utf-8")
        tfidf = Path("models/tfidf-baseline")
        write_model_card(out, summary, cfg, baseline_scores(cfg.dev_gold, tfidf) if cfg.dev_gold else None)
    return summary


def _scores(model, tokenizer, cfg: ClassifyConfig, docs: list | None, name: str) -> dict:
    """Macro-F1 with the document in view and sentence alone, through the harness, on ``docs``
    (gold documents) or, for ``None``, on the development gold."""
    import tempfile

    from .. import evaluate as ev
    from ..modeling import BertSentenceLabeller

    with tempfile.TemporaryDirectory() as d:
        model.save_pretrained(d, safe_serialization=True)
        tokenizer.save_pretrained(d)
        lab = BertSentenceLabeller(d, max_length=cfg.max_length)
        if docs is None:
            docs = ev.load_gold(cfg.dev_gold)
        m = ev.score(docs, ev.predict(docs, lab))
    model.train()
    return {f"{name}_macro_f1_context": m["classification"]["sentence"]["macro_f1"],
            f"{name}_macro_f1_alone": m["classification"]["sentence_alone"]["macro_f1"],
            f"{name}_f1_context": {k: round(v["f1"], 4) for k, v in m["classification"]["sentence"]["per_label"].items()}}


def baseline_scores(dev_gold: str, tfidf_dir: str | Path | None = None) -> dict[str, dict]:
    """Dev sentence macro-F1 (in context and alone) of the baselines, through the harness."""
    from .. import evaluate as ev
    from ..baselines import RulesLabeller, TfidfLabeller
    from ..pipeline import HeadingsLabeller

    docs = ev.load_gold(dev_gold)
    labellers = {"headings": HeadingsLabeller(), "rules": RulesLabeller()}
    if tfidf_dir and Path(tfidf_dir).exists():
        labellers["tfidf"] = TfidfLabeller(tfidf_dir)
    out = {}
    for name, lab in labellers.items():
        m = ev.score(docs, ev.predict(docs, lab))["classification"]
        out[name] = {"context": round(m["sentence"]["macro_f1"], 4), "alone": round(m["sentence_alone"]["macro_f1"], 4)}
    return out


def write_model_card(out: Path, summary: dict, cfg: ClassifyConfig, baselines: dict[str, dict] | None = None) -> None:
    """README.md of a fine-tuned classifier: data, recipe (the exact commands), dev scores
    next to the baselines."""
    base = Path(cfg.base)
    pre = None
    if (base / "pretrain_summary.json").exists():
        pre = json.loads((base / "pretrain_summary.json").read_text(encoding="utf-8"))
    best = next((h for h in summary["history"] if h["epoch"] == summary["best_epoch"]), {})
    lines = [
        "---", "language: zh", "library_name: transformers", "pipeline_tag: text-classification", "tags: [bert, govreport-nlp]", "---", "",
        f"# {out.name}: sentence classifier for rule-of-law government annual reports", "",
        "Labels every sentence of a 法治政府建设年度报告 as duty / measures / problems / plans / other "
        "(`LABELING.md`). Input is a text pair: the document context (title | heading path | paragraph lead, "
        "`nlp.modeling.sentence_contexts`) and the sentence; `nlp annotate` decodes the whole document with the "
        "heading prior and the order-aware Viterbi in `decoding.json`.", "",
        "## Data", "",
        f"- {summary['train_examples']} training sentences: weak labels of the `split: train` documents of "
        "`reports.jsonl` and of the government work reports (1990 on) in the corpus, with the team's hand labels "
        f"({', '.join(cfg.hand_labels) or 'none'}, weight {cfg.hand_weight}) replacing the weak label of each sentence they cover"
        + (f"; at most {cfg.weak_per_label} weak-labelled sentences per label." if cfg.weak_per_label else "."),
        f"- label counts: {json.dumps(summary['train_label_counts'], ensure_ascii=False)}; "
        f"hand-labelled: {json.dumps(summary.get('hand_label_counts', {}), ensure_ascii=False)}",
        f"- model selection: {summary.get('validation_documents', 0)} held-out hand-labelled training documents "
        f"({summary.get('validation_sentences', 0)} sentences, not trained on: `validation.json`); "
        "`gold/dev.jsonl` is scored once with the chosen model and never chooses.", "",
        "## Recipe", "",
    ]
    if pre:
        from .pretrain import pretrain_command

        pc = pre["config"]
        lines += [f"Encoder: `{pretrain_command(pc, cfg.base)}` ({pre['steps']} steps, {pre['tokens_seen']:,} tokens, {pre['params']:,} parameters, "
                  f"final MLM loss {pre['final_loss_ema']:.3f}, on {pre['device']}).", ""]
    else:
        lines += [f"Encoder: `{cfg.base}`.", ""]
    lines += [f"Fine-tuning: `{cfg.command_line()}` (seed {cfg.seed}; class-weighted cross-entropy; "
              f"context dropped for {cfg.context_dropout:.0%} of examples; early stopping on the held-out training documents; "
              f"best epoch {summary['best_epoch']}).", "",
              "## Scores (sentence macro-F1 through the evaluation harness, default decoding)", "",
              "| system | held-out training documents, in context | alone | dev, in context | dev, alone |",
              "|---|---|---|---|---|"]
    dev = summary.get("dev") or {}
    nan = float("nan")
    lines.append(f"| this model | {best.get('valid_macro_f1_context', nan):.3f} | {best.get('valid_macro_f1_alone', nan):.3f} "
                 f"| {dev.get('dev_macro_f1_context', nan):.3f} | {dev.get('dev_macro_f1_alone', nan):.3f} |")
    for name, sc in (baselines or {}).items():
        lines.append(f"| {name} baseline | | | {sc['context']:.3f} | {sc['alone']:.3f} |")
    for key, what in (("valid_f1_context", "held-out training documents"), ("dev_f1_context", "dev")):
        per = best.get(key) or dev.get(key)
        if per:
            lines += ["", f"Per label on {what}, in context: " + ", ".join(f"{k} {v:.3f}" for k, v in per.items()) + "."]
    lines += ["", "`nlp train decoding --model DIR` then chooses the decoding on the held-out training documents "
              "(`validation.json`); `nlp eval` gives the scores with it.", ""]
    (out / "README.md").write_text("\n".join(lines), encoding="utf-8")


def summary_line(s: dict, output: str) -> str:
    """One line on a finished fine-tuning run (``train_classifier``'s summary)."""
    dev = (s.get("dev") or {}).get("dev_macro_f1_context")
    return (f"trained on {s['train_examples']} sentences; best epoch {s['best_epoch']}, macro-F1 on "
            f"{s.get('validation_documents', 0)} held-out training documents {s.get('best_valid_macro_f1_context')}"
            + (f", dev (scored once) {dev:.4f}" if dev is not None else "") + f" → {output}")
