"""The training commands (``nlp train …``, ``nlp pretrain``): options made from the training
configs (``nlp.training.config``), one call into ``nlp.training``, one line printed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from .cli_options import config_command, err, fail, first_line, one_line, param, shared_default
from .training.config import ClassifyConfig, NerTrainConfig, PretrainConfig

train_app = typer.Typer(no_args_is_help=True, help="Train models (training code is separate from inference).")
_REPORTS = {"reports": "reports.jsonl"}
BASELINES = ("tfidf",)  # nlp train classify --baseline


def _train(run, cfg, *, model_errors: bool = True) -> dict:
    """Run a training function; a model that cannot be loaded or bad data is one line."""
    try:
        return run(cfg)
    except OSError as e:
        fail(f"{cfg.base}: {first_line(e)}" if model_errors and getattr(cfg, "base", None) else first_line(e))
    except ValueError as e:
        fail(first_line(e))


@config_command(train_app, "classify", ClassifyConfig, shared=_REPORTS, extra=[
    param("baseline", Optional[str], None, "--baseline", "train a baseline instead of BERT", choices=BASELINES)])
def train_classify(cfg: ClassifyConfig, baseline: Optional[str] = None) -> None:
    """Train a sentence classifier on weak labels of the split: train documents (plus hand labels)."""
    cfg = cfg.with_data_defaults()
    if baseline == "tfidf":
        from .training.tfidf import train_tfidf

        t = train_tfidf(cfg.reports, cfg.output, corpus_dir=cfg.corpus, seed=cfg.seed)
        err.print(f"trained TF-IDF baseline on {t['train_sentences']} weak-labelled sentences → {cfg.output}")
        return
    if baseline is not None:
        fail(f"unknown --baseline {baseline!r}; available: {', '.join(BASELINES)}")
    if cfg.base is None:
        fail("give --base ENCODER (a BERT directory or hub id) or --baseline tfidf")
    from .training.classify import summary_line, train_classifier

    cfg.cache_dir = str(Path(cfg.output) / ".cache")
    err.print(summary_line(_train(train_classifier, cfg), cfg.output), highlight=False)


@train_app.command("doc-kind")
def train_doc_kind_cmd(
    output: Path = typer.Option(..., "--output", help="directory to write, e.g. MODEL/doc_kind (read by the decoder)"),
    reports: Optional[Path] = typer.Option(None, "--reports", help="reports.jsonl (default: ../shared/data/reports.jsonl)"),
    c: float = typer.Option(10.0, "--c", help="inverse regularisation strength of the logistic regression"),
    threshold: float = typer.Option(0.5, "--threshold", help="P(plan) from which a document counts as a plan document"),
    seed: int = typer.Option(0, "--seed"),
) -> None:
    """Train the document-kind model (report or plan document) on the kind field of the split: train
    rows of reports.jsonl; put it in a classifier's doc_kind/ folder for the decoder to use."""
    from .training.dockind import summary_line, train_doc_kind

    reports = shared_default(reports, "reports.jsonl", "--reports")
    try:
        cfg = train_doc_kind(reports, output, c=c, threshold=threshold, seed=seed)
    except (OSError, ValueError) as e:
        fail(first_line(e))
    err.print(summary_line(cfg, str(output)), highlight=False)


@train_app.command("decoding")
def train_decoding(
    model: Path = typer.Option(..., "--model", help="fine-tuned sentence classifier directory"),
    hand: Path = typer.Option(Path("eval/hand/train_sentences.jsonl"), "--hand",
                              help="standoff hand labels: their wholly labelled split: train documents are scored"),
    gold: Optional[Path] = typer.Option(None, "--gold", help="choose on this gold JSONL instead (your own training "
                                        "documents; never the development set you report)"),
    reports: Optional[Path] = typer.Option(None, "--reports", help="reports.jsonl (default: ../shared/data/reports.jsonl)"),
    dry_run: bool = typer.Option(False, "--dry-run", help="show the scores, do not write decoding.json"),
    top: int = typer.Option(8, "--top", help="rows of the score table to show"),
    cv: Optional[int] = typer.Option(None, "--cv", help="cross-validate the choice over K folds of documents "
                                     "(default 5, fewer for fewer documents; 0: off)"),
    unseen_from: Optional[int] = typer.Option(None, "--unseen-from", min=1,
                                              help="choose on the hand labels from this record (1-based) on, "
                                              "the ones the classifier never saw, work-report windows included"),
    hold: list[str] = typer.Option([], "--hold", help="with --unseen-from: keep this setting at the model's value "
                                   "(heading_weight, backward_penalty, use_viterbi, plan_document_threshold, "
                                   "problem_cue_weight), for what those labels cannot judge; repeatable"),
) -> None:
    """Choose the document-aware decoding (heading prior, order-aware Viterbi, plan documents when
    MODEL/doc_kind/ exists, the problems cue) of a classifier on hand-labelled training documents
    (document-level cross-validation) and write it to MODEL/decoding.json. Where MODEL/validation.json
    lists the documents held out from its training, only those are used; with --unseen-from, every
    hand label from that record on (the ones made after the classifier was trained)."""
    from .training.decoding import report_lines, trials_table, tune_decoding, tune_decoding_unseen
    from .training.hand import hand_gold_documents

    if not (model / "config.json").exists():
        fail(f"{model}: not a model directory (no config.json)")
    try:
        if hold and unseen_from is None:
            fail("--hold needs --unseen-from")
        if unseen_from is not None:
            if gold is not None:
                fail("--unseen-from and --gold: give one of them")
            best, trials, cv_result = tune_decoding_unseen(
                model, hand, shared_default(reports, "reports.jsonl", "--reports").parent, unseen_from,
                write=not dry_run, cv=cv if cv is not None else 5, hold=hold)
            where = f"the hand labels of {hand} from record {unseen_from} on ({sum(f['sentences'] for f in cv_result.per_fold)} sentences)"
        else:
            if gold is None:
                docs = hand_gold_documents(hand, shared_default(reports, "reports.jsonl", "--reports").parent)
                where = f"{len(docs)} hand-labelled training documents of {hand}"
                if (model / "validation.json").exists():  # the documents the model was not trained on
                    held = set(json.loads((model / "validation.json").read_text(encoding="utf-8"))["documents"])
                    docs = [d for d in docs if d.doc_id in held]
                    where = f"the {len(docs)} hand-labelled training documents held out from training (validation.json)"
            else:
                docs, where = str(gold), str(gold)
            best, trials, cv_result = tune_decoding(model, docs, write=not dry_run, cv=cv)
    except (OSError, ValueError) as e:
        fail(one_line(e))
    err.print(trials_table(trials[:top], f"decoding of {model} on {where} (sentence macro-F1 in context)"))
    for line in report_lines(best, cv_result, None if dry_run else model / "decoding.json"):
        err.print(line, highlight=False)


@train_app.command("alone")
def train_alone_cmd(
    model: Path = typer.Option(..., "--model", help="fine-tuned sentence classifier directory (with validation.json)"),
    hand: Path = typer.Option(Path("eval/hand/train_sentences.jsonl"), "--hand", help="standoff hand labels"),
    reports: Optional[Path] = typer.Option(None, "--reports", help="reports.jsonl (default: ../shared/data/reports.jsonl)"),
    seed: int = typer.Option(0, "--seed"),
) -> None:
    """Train the sentence-alone model of a classifier (MODEL/alone/: char TF-IDF on the hand labels,
    combined with the classifier without context; the weight chosen on its held-out training documents)."""
    from .training.alone import train_alone

    if not (model / "config.json").exists():
        fail(f"{model}: not a model directory (no config.json)")
    try:
        r = train_alone(model, hand, shared_default(reports, "reports.jsonl", "--reports").parent, seed=seed)
    except (OSError, ValueError) as e:
        fail(one_line(e))
    err.print(f"wrote {r.output}: C {r.c:g} (grouped CV {r.cv_macro_f1[r.c]:.4f}), weight {r.weight:g} "
              f"(macro-F1 alone {r.held_out[r.weight]:.4f} on {r.held_out_sentences} held-out sentences; "
              f"the classifier alone {r.held_out[0.0]:.4f}, TF-IDF alone {r.held_out[1.0]:.4f})", highlight=False)


@train_app.command("stack")
def train_stack_cmd(
    model: Path = typer.Option(..., "--model", help="fine-tuned sentence classifier directory (with alone/)"),
    unseen_from: int = typer.Option(..., "--unseen-from", min=1,
                                    help="first record (1-based) of --hand that the classifier was not trained on"),
    hand: Path = typer.Option(Path("eval/hand/train_sentences.jsonl"), "--hand", help="standoff hand labels"),
    reports: Optional[Path] = typer.Option(None, "--reports", help="reports.jsonl (default: ../shared/data/reports.jsonl)"),
    folds: int = typer.Option(5, "--folds", min=2, help="document-grouped cross-validation folds for C"),
    freeze: Optional[list[str]] = typer.Option(
        None, "--freeze", help="a label the stack never moves a sentence to or from (repeatable; default: problems "
        "and plans, which the unseen hand labels hold too few of; `none`: no label)"),
    seed: int = typer.Option(0, "--seed"),
) -> None:
    """Train the stack of a classifier (MODEL/stack/: a second decoding stage fitted on hand labels the
    classifier never saw; C by document-grouped cross-validation)."""
    from .training.stack import train_stack

    if not (model / "config.json").exists():
        fail(f"{model}: not a model directory (no config.json)")
    try:
        frozen = None if not freeze else tuple(lab for lab in freeze if lab != "none")
        r = train_stack(model, hand, shared_default(reports, "reports.jsonl", "--reports").parent, unseen_from,
                        folds=folds, seed=seed, frozen=frozen)
    except (OSError, ValueError) as e:
        fail(one_line(e))
    best = r.cv[r.c]
    err.print(f"wrote {r.output}: C {r.c:g}; {len(r.cv)} settings; on {r.sentences} sentences of {r.documents} documents "
              f"out of fold: macro-F1 {best['macro_f1']:.4f} (decoder alone {r.decoder['macro_f1']:.4f}), accuracy "
              f"{best['accuracy']:.4f} ({r.decoder['accuracy']:.4f})", highlight=False)


@config_command(train_app, "ner", NerTrainConfig, shared=_REPORTS)
def train_ner_cmd(cfg: NerTrainConfig) -> None:
    """Train a BIO entity tagger (LAW, DOCNO, METRIC, DATE) on silver spans of the rules plus hand labels."""
    from .training.ner import summary_line, train_ner

    cfg = cfg.with_data_defaults()
    err.print(summary_line(_train(train_ner, cfg), cfg.output), highlight=False, soft_wrap=True)


@config_command(None, "pretrain", PretrainConfig, shared={"corpus": "corpus"})
def pretrain(cfg: PretrainConfig) -> None:
    """Masked-LM pretraining of a character-level Chinese BERT on the corpus."""
    from .training.pretrain import pretrain as run, summary_line

    try:
        s = run(cfg)
    except FileNotFoundError as e:
        fail(str(e))
    err.print(summary_line(s, cfg.output), highlight=False)


export_app = typer.Typer(no_args_is_help=True, help="Export models for deployment.")


@export_app.command("onnx")
def export_onnx_cmd(
    model: Path = typer.Option(..., "--model", help="fine-tuned sentence classifier directory"),
    output: Path = typer.Option(..., "--output", help="ONNX model directory to write"),
    int8: bool = typer.Option(False, "--int8", help="dynamic int8 quantisation of the weights (onnxruntime)"),
    opset: int = typer.Option(17, "--opset"),
) -> None:
    """Export a sentence classifier to ONNX (tokenizer, labels and decoding kept): nlp annotate --backend onnx --model OUTPUT."""
    try:
        from .onnx_backend import export_onnx
    except ImportError as e:
        fail(f"ONNX export needs onnx and onnxruntime ({e})")
    try:
        r = export_onnx(model, output, int8=int8, opset=opset)
    except OSError as e:
        fail(str(e))
    err.print(f"exported {'int8 ' if r.int8 else ''}ONNX (opset {r.opset}, {r.size_bytes / 1e6:.1f} MB; "
              f"max |Δp| vs PyTorch on sample sentences {r.max_abs_diff:.2g}) → {r.output}", highlight=False)
