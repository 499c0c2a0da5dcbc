"""BERT sentence classifier: tiny random BERT saved by the test, fine-tuned on weak labels of
toy reports, evaluated by the harness; document-aware decoding; model loading errors."""

import json
import subprocess
import sys

import numpy as np
import pytest

from nlp.modeling import sentence_contexts, viterbi
from nlp.schema import LABELS

from conftest import ROOT, TOY_REPORT, save_tiny_bert

CHARS = sorted(set(TOY_REPORT) - set("\n "))


@pytest.fixture(scope="module")
def tiny_bert(tmp_path_factory):
    return save_tiny_bert(tmp_path_factory.mktemp("tiny-bert"), CHARS)


@pytest.fixture(scope="module")
def toy_reports(tmp_path_factory):
    d = tmp_path_factory.mktemp("data")
    rows = [{"id": f"toy-{i}", "kind": "report", "split": "train", "text": TOY_REPORT} for i in range(6)]
    rows.append({"id": "dev-1", "kind": "report", "split": "dev", "text": "不应被用于训练"})
    p = d / "reports.jsonl"
    p.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    return p


def run(*args):
    return subprocess.run([sys.executable, "-m", "nlp", *args], capture_output=True, text=True)


def test_finetune_eval_annotate_with_tiny_bert(tiny_bert, toy_reports, tmp_path):
    out = tmp_path / "cls"
    r = run("train", "classify", "--base", str(tiny_bert), "--output", str(out), "--reports", str(toy_reports),
            "--dev", str(ROOT / "eval" / "gold" / "seed.jsonl"), "--epochs", "2", "--batch-size", "8")
    assert r.returncode == 0, r.stderr[-2000:]
    summary = json.loads((out / "training_summary.json").read_text())
    from nlp.text import build_document

    assert summary["train_examples"] == 6 * len(build_document(TOY_REPORT).sentences)  # split: train only
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["model_type"] == "bert" and sorted(cfg["id2label"].values()) == sorted(LABELS)
    assert (out / "model.safetensors").exists() and not list(out.glob("*.bin"))
    r = run("eval", str(ROOT / "eval" / "gold" / "seed.jsonl"), "--model", str(out), "--json", str(tmp_path / "m.json"),
            "--bootstrap", "0")
    assert r.returncode == 0, r.stderr[-2000:]
    m = json.loads((tmp_path / "m.json").read_text())
    assert m["model"].startswith("model:") and "sentence_alone" in m["classification"]
    # the decoding chosen on a gold file is written next to the model and is one of the grid's settings
    r = run("train", "decoding", "--model", str(out), "--gold", str(ROOT / "eval" / "gold" / "seed.jsonl"))
    assert r.returncode == 0, r.stderr[-2000:]
    dec = json.loads((out / "decoding.json").read_text())
    assert set(dec) == {"backward_penalty", "heading_weight", "use_viterbi", "plan_document_threshold", "chrome_is_other",
                        "problem_cue_weight"}
    assert dec["problem_cue_weight"] in (0.0, 0.3, 0.5, 0.7)
    assert 0 <= dec["heading_weight"] < 1 and dec["plan_document_threshold"] == 0  # no doc_kind/ model here
    assert "macro-F1" in r.stderr and "wrote" in r.stderr
    r = run("train", "decoding", "--model", str(tmp_path / "nope"))
    assert r.returncode != 0 and "nope" in r.stderr and "Traceback" not in r.stderr
    r = run("train", "decoding", "--model", str(out), "--gold", str(ROOT / "eval" / "gold" / "seed.jsonl"), "--cv", "2")
    assert r.returncode != 0 and "--cv needs 2 to 1 folds" in r.stderr and "Traceback" not in r.stderr
    r = run("annotate", str(ROOT / "examples" / "suining-2023.txt"), "--model", str(out), "-o", str(tmp_path / "a.jsonl"))
    assert r.returncode == 0, r.stderr[-2000:]
    rec = json.loads((tmp_path / "a.jsonl").read_text(encoding="utf-8"))
    assert all(s["label_source"].startswith("model:") and set(s["scores"]) == set(LABELS) for s in rec["sentences"])


def test_untrained_encoder_is_refused_with_a_clear_error(tiny_bert, tmp_path):
    r = run("eval", str(ROOT / "eval" / "gold" / "seed.jsonl"), "--model", str(tiny_bert), "--bootstrap", "0")
    assert r.returncode != 0
    assert "report categories" in r.stderr


def test_hub_id_offline_is_a_clear_error(monkeypatch):
    import os

    env = dict(os.environ, HF_HUB_OFFLINE="1")
    r = subprocess.run([sys.executable, "-m", "nlp", "eval", str(ROOT / "eval" / "gold" / "seed.jsonl"),
                        "--model", "no-such-org/no-such-model", "--bootstrap", "0"], capture_output=True, text=True, env=env)
    assert r.returncode != 0
    errs = [ln for ln in r.stderr.splitlines() if ln.startswith("error:")]
    assert errs and "hub id" in errs[0] and "Traceback" not in r.stderr


def test_viterbi_keeps_section_order():
    labels = list(LABELS)  # duty measures problems plans other
    p = np.full((4, 5), 0.05)
    p[0, labels.index("problems")] = 0.8
    p[1, labels.index("measures")] = 0.5  # a measures-looking sentence after problems …
    p[1, labels.index("problems")] = 0.4
    p[2, labels.index("plans")] = 0.8
    p[3, labels.index("other")] = 0.8
    path = [labels[i] for i in viterbi(np.log(p), labels, backward_penalty=2.0)]
    assert path == ["problems", "problems", "plans", "other"]
    # without a penalty the argmax wins
    assert [labels[i] for i in viterbi(np.log(p), labels, 0.0)][1] == "measures"


def test_viterbi_other_does_not_reset_order():
    labels = list(LABELS)
    p = np.full((3, 5), 0.05)
    p[0, labels.index("plans")] = 0.9
    p[1, labels.index("other")] = 0.9
    p[2, labels.index("duty")] = 0.5
    p[2, labels.index("plans")] = 0.4
    path = [labels[i] for i in viterbi(np.log(p), labels, backward_penalty=2.0)]
    assert path == ["plans", "other", "plans"]


def test_tiny_pretrain_finetune_eval_end_to_end(toy_reports, tmp_path):
    """The whole recipe at tiny size through the CLI: pretrain → fine-tune with hand labels → eval."""
    import gzip
    import time

    from nlp.text import build_document
    from nlp.training.hand import standoff_from_keys

    t0 = time.time()
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    with gzip.open(corpus / "toy.txt.gz", "wt", encoding="utf-8") as f:
        f.write("\n".join(line for line in TOY_REPORT.splitlines() if line) * 20)
    enc = tmp_path / "enc"
    r = run("pretrain", "--corpus", str(corpus), "--config", "tiny", "--max-steps", "6", "--warmup-steps", "2",
            "--batch-size", "4", "--seq-len", "32", "--output", str(enc))
    assert r.returncode == 0, r.stderr[-2000:]
    doc = build_document(TOY_REPORT, "toy-0")
    keys = {}
    for pi, p in enumerate(doc.paragraphs):
        for sid in p.sentence_ids:
            s = doc.sentences[sid]
            keys[f"toy-0|{pi}|{s.start - p.start}|{s.end - p.start}"] = "problems" if "有待" in s.text else "measures"
    hand = tmp_path / "hand.jsonl"
    hand.write_text("\n".join(json.dumps(x) for x in standoff_from_keys(keys, toy_reports.parent)), encoding="utf-8")
    out = tmp_path / "cls"
    r = run("train", "classify", "--base", str(enc), "--output", str(out), "--reports", str(toy_reports), "--hand", str(hand),
            "--dev", str(ROOT / "eval" / "gold" / "seed.jsonl"), "--epochs", "1", "--batch-size", "8")
    assert r.returncode == 0, r.stderr[-2000:]
    summary = json.loads((out / "training_summary.json").read_text())
    assert summary["hand_label_counts"]["problems"] >= 1
    card = (out / "README.md").read_text(encoding="utf-8")
    assert "nlp pretrain --config tiny" in card and f"--hand {hand}" in card and "| headings baseline |" in card
    assert json.loads((out / "decoding.json").read_text())["heading_weight"] >= 0
    r = run("eval", str(ROOT / "eval" / "gold" / "seed.jsonl"), "--model", str(out), "--bootstrap", "0")
    assert r.returncode == 0, r.stderr[-2000:]
    assert time.time() - t0 < 60


def test_shipped_default_model_is_a_bert_under_models():
    from nlp.modeling import BertSentenceLabeller
    from nlp.pipeline import default_labeller, default_model_dir

    d = default_model_dir()
    assert d.parent.name == "models"
    cfg = json.loads((d / "config.json").read_text())
    assert cfg["model_type"] == "bert" and sorted(cfg["id2label"].values()) == sorted(LABELS)
    assert (d / "model.safetensors").exists() and not list(d.glob("*.bin")) and not list(d.glob("*.py"))
    assert sum(f.stat().st_size for f in d.iterdir()) <= 30 * 2**20
    assert (d / "README.md").exists()
    assert isinstance(default_labeller(), BertSentenceLabeller)


def test_shipped_model_beats_the_heading_rules_on_dev():
    from conftest import shared_data_or_skip
    from nlp import evaluate as ev
    from nlp.pipeline import default_labeller, get_labeller

    data = shared_data_or_skip()
    docs = ev.load_gold(data / "gold" / "dev.jsonl")
    bert = ev.score(docs, ev.predict(docs, default_labeller()))["classification"]
    rules = ev.score(docs, ev.predict(docs, get_labeller("headings")))["classification"]
    assert bert["sentence"]["macro_f1"] > rules["sentence"]["macro_f1"] + 0.05
    assert bert["sentence_alone"]["macro_f1"] > rules["sentence_alone"]["macro_f1"] + 0.1


def test_decoding_cross_validation_shows_the_optimism_of_choosing_on_dev():
    """Leave-one-document-out: a setting that wins overall only through one document is not
    chosen for that document, so the cross-validated score falls below the chosen one's."""
    from nlp import evaluate as ev
    from nlp.modeling import DecodingConfig
    from nlp.training.decoding import cross_validate

    gold = list(LABELS)
    docs = [ev.GoldDocument(f"d{i}", "t", [ev.GoldParagraph(f"d{i}p{j}", f"d{i}", "t", "甲乙。", lab,
                                                            [{"start": 0, "end": 3, "label": lab}], [])
                                           for j, lab in enumerate(gold)]) for i in range(4)]
    no_ents = [[[] for _ in gold] for _ in docs]
    a = ev.Predictions([["other"] * 5] + [gold] * 3, None, no_ents)  # perfect except on d0
    b = ev.Predictions([gold] + [gold[:-1] + ["duty"]] * 3, None, no_ents)  # one error in d1, d2, d3
    configs = [DecodingConfig(heading_weight=0.0), DecodingConfig(heading_weight=0.3)]
    cv = cross_validate(docs, configs, [a, b], folds=4)
    assert cv.chosen_on_all == ev.score(docs, b)["classification"]["sentence"]["macro_f1"]
    assert cv.chosen_on_all > ev.score(docs, a)["classification"]["sentence"]["macro_f1"]
    assert cv.macro_f1 < cv.chosen_on_all
    assert sorted(f["chosen"]["heading_weight"] for f in cv.per_fold) == [0.0, 0.3, 0.3, 0.3]
    with pytest.raises(ValueError, match="--cv needs 2 to 4 folds"):
        cross_validate(docs, configs, [a, b], folds=5)


def test_the_epoch_is_chosen_on_held_out_training_documents_and_dev_is_read_only_after(tiny_bert, toy_reports, tmp_path,
                                                                                      monkeypatch):
    """Early stopping scores documents held out of the hand-labelled training documents (every
    sentence of them left out of training); the development gold is read only once the choice is
    made (validation.json written), to report it."""
    from nlp import evaluate as ev
    from nlp.text import build_document
    from nlp.training.classify import train_classifier
    from nlp.training.config import ClassifyConfig
    from nlp.training.hand import standoff_from_keys

    keys = {}
    for i in range(6):
        doc = build_document(TOY_REPORT, f"toy-{i}")
        for pi, p in enumerate(doc.paragraphs):
            for sid in p.sentence_ids:
                s = doc.sentences[sid]
                keys[f"toy-{i}|{pi}|{s.start - p.start}|{s.end - p.start}"] = "problems" if "有待" in s.text else "measures"
    hand = tmp_path / "hand.jsonl"
    hand.write_text("\n".join(json.dumps(x) for x in standoff_from_keys(keys, toy_reports.parent)), encoding="utf-8")
    out = tmp_path / "cls"
    dev = ROOT / "eval" / "gold" / "seed.jsonl"
    reads = []
    load_gold = ev.load_gold

    def spy(path, *a, **k):
        reads.append((str(path), (out / "validation.json").exists()))
        return load_gold(path, *a, **k)

    monkeypatch.setattr(ev, "load_gold", spy)
    cfg = ClassifyConfig(output=str(out), base=str(tiny_bert), reports=str(toy_reports), dev_gold=str(dev),
                         hand_labels=[str(hand)], epochs=2, batch_size=8, valid_fraction=0.34)
    summary = train_classifier(cfg, progress=False)
    n = len(build_document(TOY_REPORT).sentences)
    held = json.loads((out / "validation.json").read_text())["documents"]
    assert len(held) == 2 and summary["validation_documents"] == 2 and summary["validation_sentences"] == 2 * n
    assert summary["train_examples"] == 4 * n  # every sentence of a held-out document left out, weak ones included
    assert all("valid_macro_f1_context" in h and not any(k.startswith("dev") for k in h) for h in summary["history"])
    assert summary["best_valid_macro_f1_context"] == max(h["valid_macro_f1_context"] for h in summary["history"])
    assert reads and all(path == str(dev) and chosen for path, chosen in reads)  # dev only after the choice
    assert "dev_macro_f1_context" in summary["dev"]
    assert "held-out training documents" in (out / "README.md").read_text(encoding="utf-8")
    # the decoding is then chosen on those held-out documents only
    r = run("train", "decoding", "--model", str(out), "--hand", str(hand), "--reports", str(toy_reports), "--cv", "2")
    assert r.returncode == 0, r.stderr[-2000:]
    assert "the 2 hand-labelled training documents held out from training" in " ".join(r.stderr.split())
    # or on the hand labels the classifier never saw (records from --unseen-from on); dev is not read
    from nlp.training.decoding import tune_decoding_unseen

    n_reads, before = len(reads), (out / "decoding.json").read_text(encoding="utf-8")
    best, trials, cvr = tune_decoding_unseen(out, hand, toy_reports.parent, 4 * n + 1, cv=2, progress=False)
    assert len(reads) == n_reads and (out / "decoding.json").read_text(encoding="utf-8") == before
    assert sum(f["documents"] for f in cvr.per_fold) == 2 and sum(f["sentences"] for f in cvr.per_fold) == 2 * n
    assert trials[0].config == best and trials[0].macro_f1 == cvr.chosen_on_all >= cvr.macro_f1 - 1.0
    assert any(t.config.backward_penalty == 16.0 for t in trials)
    r = run("train", "decoding", "--model", str(out), "--hand", str(hand), "--reports", str(toy_reports),
            "--unseen-from", str(4 * n + 1), "--cv", "2", "--dry-run")
    assert r.returncode == 0, r.stderr[-2000:]
    assert f"from record {4 * n + 1} on ({2 * n} sentences)" in " ".join(r.stderr.split())
    r = run("train", "decoding", "--model", str(out), "--hand", str(hand), "--reports", str(toy_reports),
            "--unseen-from", str(6 * n), "--cv", "2")
    assert r.returncode != 0 and "--cv needs 2 to 1 folds" in r.stderr and "Traceback" not in r.stderr
    r = run("train", "decoding", "--model", str(out), "--hand", str(hand), "--reports", str(toy_reports),
            "--unseen-from", "1", "--hold", "nope")
    assert r.returncode != 0 and "cannot hold nope" in r.stderr and "Traceback" not in r.stderr
    # held settings stay at the model's values
    best, trials, _ = tune_decoding_unseen(out, hand, toy_reports.parent, 1, cv=2, progress=False,
                                           hold=["backward_penalty", "problem_cue_weight"])
    model_cfg = json.loads((out / "decoding.json").read_text(encoding="utf-8"))
    assert all(t.config.backward_penalty == model_cfg["backward_penalty"] and t.config.use_viterbi
               and t.config.problem_cue_weight == model_cfg["problem_cue_weight"] for t in trials)
    # the sentence-alone model: C by grouped CV on the training sentences, its weight on the held-out documents
    from nlp.alone import load_alone
    from nlp.modeling import BertSentenceLabeller
    from nlp.training.alone import WEIGHTS, train_alone

    res = train_alone(out, hand, toy_reports.parent, progress=False)
    assert res.weight in WEIGHTS and res.held_out_sentences == 2 * n and res.train_sentences == 6 * n
    alone = load_alone(out)
    assert alone is not None and alone.weight == res.weight and "--model" in (out / "alone" / "README.md").read_text()
    lab = BertSentenceLabeller(out)
    texts = [s.text for s in build_document(TOY_REPORT).sentences]
    p = lab.predict_proba(texts)
    combined = alone.combine(texts, p, lab.labels)
    assert combined.shape == p.shape and np.allclose(combined.sum(axis=1), 1, atol=1e-4)
    assert lab.label_alone(texts) == lab.alone_labels(texts, p)
    if res.weight == 1.0:  # all weight on the TF-IDF model: its labels (on this toy data, problems/measures)
        assert set(lab.label_alone(texts)) <= {"problems", "measures", "other"}
    r = run("train", "alone", "--model", str(tmp_path / "nope"))
    assert r.returncode != 0 and "nope" in r.stderr and "Traceback" not in r.stderr
    # the stack: fitted on the hand labels from a record on, C by grouped CV, then part of the decoding
    r = run("train", "stack", "--model", str(out), "--hand", str(hand), "--reports", str(toy_reports),
            "--unseen-from", "1", "--folds", "3")
    assert r.returncode == 0, r.stderr[-2000:]
    cfg = json.loads((out / "stack" / "stack_config.json").read_text(encoding="utf-8"))
    assert cfg["train_sentences"] == 6 * n and cfg["train_documents"] == 6 and cfg["folds"] == 3
    assert set(cfg["cv_by_C"]) and "decoder alone" in (out / "stack" / "README.md").read_text(encoding="utf-8")
    assert cfg["frozen"] == ["problems", "plans"]
    lab = BertSentenceLabeller(out)
    assert lab.stack is not None and lab.stack.frozen == ("problems", "plans")
    doc = build_document(TOY_REPORT)
    probs = lab.predict_proba([s.text for s in doc.sentences], sentence_contexts(doc))
    steps = lab.decode_steps(doc, probs, for_stack=True)
    lab.decode(doc, probs)
    for i, s in enumerate(doc.sentences):  # problems and plans are the decoder's call, both ways
        for frozen in ("problems", "plans"):
            assert (s.label == frozen) == (lab.labels[steps.path[i]] == frozen)
        assert s.reason.endswith("+stack") == (s.label != lab.labels[steps.path[i]])
    (out / "alone").rename(tmp_path / "alone-away")
    with pytest.raises(OSError, match="stack/ needs the sentence-alone model"):
        BertSentenceLabeller(out)
    (tmp_path / "alone-away").rename(out / "alone")
    r = run("train", "stack", "--model", str(out), "--hand", str(hand), "--reports", str(toy_reports),
            "--unseen-from", "1", "--folds", "3", "--freeze", "nope")
    assert r.returncode != 0 and "--freeze nope: not a label" in r.stderr and "Traceback" not in r.stderr
    r = run("train", "stack", "--model", str(out), "--hand", str(hand), "--reports", str(toy_reports),
            "--unseen-from", "999")
    assert r.returncode != 0 and "no hand label from record 999 on" in r.stderr and "Traceback" not in r.stderr
