"""Do the GPU and the CPU give the same answers? Entity tagger and sentence classifier on dev,
run on CUDA (default attention, batch 1, eager attention) and on the CPU.

    python eval/gpu_consistency.py --ner NER_DIR --model CLASSIFIER_DIR --gold ../shared/data/gold/dev.jsonl

Written after a tagger scored dev strict micro-F1 0.684 when evaluated on an H100 during
training and 0.890 on a CPU with the same weights."""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch


def ner_scores(path: str, gold: str, device: str, batch_size: int = 32, attn: str | None = None) -> dict:
    from transformers import AutoModelForTokenClassification

    from nlp.ner import BertEntityExtractor
    from nlp.training.ner import _gold_paragraphs, _strict_f1, dev_model_entities

    _, paras = _gold_paragraphs(gold)
    ext = BertEntityExtractor(path, mode="model", device=device, batch_size=batch_size)
    if attn:
        ext.model = AutoModelForTokenClassification.from_pretrained(path, dtype=torch.float32, attn_implementation=attn)
        ext.model.to(device).eval()
    t = time.time()
    s = _strict_f1(paras, dev_model_entities(ext, paras))
    s["seconds"] = round(time.time() - t, 1)
    return s


def nan_check(path: str, device: str) -> dict:
    """One padded batch: are there NaNs in the logits, and do padded and unpadded runs agree?"""
    from transformers import AutoModelForTokenClassification, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(path)
    model = AutoModelForTokenClassification.from_pretrained(path, dtype=torch.float32).to(device).eval()
    texts = ["依据《行政复议法》办结案件142件。", "全年共办结行政复议案件一百四十二件，出庭应诉率达93.16%，较上年提高5个百分点。"]
    enc = tok(texts, padding=True, return_tensors="pt").to(device)
    with torch.inference_mode():
        padded = model(**enc).logits.float()
        alone = model(**tok(texts[:1], return_tensors="pt").to(device)).logits.float()
    n = alone.shape[1]
    return {"nan_in_padded_batch": bool(torch.isnan(padded).any()),
            "max_diff_padded_vs_alone": float((padded[0, :n] - alone[0]).abs().max())}


def classifier_diff(path: str, gold: str, device: str) -> dict:
    from nlp.evaluate import load_gold
    from nlp.modeling import BertSentenceLabeller

    texts = []
    for doc in load_gold(gold)[:20]:
        for p in doc.paragraphs:
            texts += [p.text[s["start"]:s["end"]] for s in p.sentences]
    texts = [t for t in texts if t][:300]
    a = BertSentenceLabeller(path, device=device).predict_proba(texts)
    b = BertSentenceLabeller(path, device="cpu").predict_proba(texts)
    return {"sentences": len(texts), "max_abs_prob_diff": float(np.abs(a - b).max()),
            "argmax_agree": float((a.argmax(1) == b.argmax(1)).mean())}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ner")
    ap.add_argument("--model")
    ap.add_argument("--gold", default="../shared/data/gold/dev.jsonl")
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = ap.parse_args()
    out = {}
    if args.ner:
        out["nan_check"] = nan_check(args.ner, args.device)
        print(json.dumps(out["nan_check"]), flush=True)
        for name, kw in [("device", {}), ("device_batch1", {"batch_size": 1}), ("device_eager", {"attn": "eager"}),
                         ("cpu", {"device": "cpu"})]:
            kw = {"device": args.device, **kw}
            out[name] = ner_scores(args.ner, args.gold, **kw)
            print(name, json.dumps(out[name]), flush=True)
    if args.model:
        out["classifier"] = classifier_diff(args.model, args.gold, args.device)
        print("classifier", json.dumps(out["classifier"]), flush=True)


if __name__ == "__main__":
    main()
