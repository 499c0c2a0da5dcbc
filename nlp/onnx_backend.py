"""ONNX export of a fine-tuned sentence classifier, and an ONNX Runtime labeller.

``export_onnx`` turns a model directory written by ``nlp train classify`` into a
self-describing ONNX model directory: ``model.onnx`` (dynamic batch and sequence axes;
optionally dynamic int8 quantisation of the weights with ``onnxruntime.quantization``),
the tokenizer, ``config.json`` (labels), ``decoding.json``, the model card, and
``onnx_config.json`` (what was exported, how, and the largest probability difference
from PyTorch measured on sample inputs).

``OnnxSentenceLabeller`` reads such a directory with ONNX Runtime and the ``tokenizers``
library only (PyTorch is not imported). It is a ``BertSentenceLabeller``: ``label``,
``label_many`` and the document-aware ``decode`` are inherited; only ``predict_proba`` runs
on ONNX Runtime.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ContextManager, Sequence

import numpy as np

from .config import DecodingConfig
from .doc import LABELS
from .alone import load_alone
from .stack import load_stack
from .modeling import DEFAULT_MAX_LENGTH, BertSentenceLabeller, classifier_doc_kind, trained_max_length

ONNX_FILE = "model.onnx"
ONNX_CONFIG = "onnx_config.json"
_INPUTS = ("input_ids", "attention_mask", "token_type_ids")
_SAMPLE = [("东湖县人民政府 | 一、主要负责人履行推进法治建设第一责任人职责情况", "县政府常务会议专题研究法治政府建设4次。"),
           ("", "下一步,县政府将持续深化法治政府建设。"),
           ("报告 | 三、存在的问题及原因", "一是部分执法人员能力有待提升;二是基层法治力量不足。")]


@dataclass
class OnnxExportResult:
    output: str
    source: str
    int8: bool
    opset: int
    size_bytes: int
    max_abs_diff: float  # largest |p_onnx - p_torch| over the sample sentences


def _pad_token(model_dir: Path) -> str:
    p = model_dir / "tokenizer_config.json"
    if p.exists():
        tok = json.loads(p.read_text(encoding="utf-8")).get("pad_token")
        if isinstance(tok, dict):
            tok = tok.get("content")
        if isinstance(tok, str):
            return tok
    return "[PAD]"


class _PairTokenizer:
    """The fast tokenizer's backend (``tokenizer.json``) called as ``AutoTokenizer`` does for
    ``tok(contexts, texts, truncation="longest_first", max_length=n, padding=True)``, without
    importing transformers (which imports PyTorch)."""

    def __init__(self, model_dir: Path, max_length: int):
        from tokenizers import Tokenizer

        self.tok = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        pad = _pad_token(model_dir)
        pad_id = self.tok.token_to_id(pad)
        self.tok.no_truncation()
        self.tok.enable_truncation(max_length=max_length, strategy="longest_first", direction="right")
        self.tok.enable_padding(direction="right", pad_id=0 if pad_id is None else pad_id, pad_token=pad, pad_type_id=0)

    def __call__(self, contexts: Sequence[str], texts: Sequence[str]) -> dict[str, np.ndarray]:
        encs = self.tok.encode_batch(list(zip(contexts, texts)))
        return {"input_ids": np.array([e.ids for e in encs], dtype=np.int64),
                "attention_mask": np.array([e.attention_mask for e in encs], dtype=np.int64),
                "token_type_ids": np.array([e.type_ids for e in encs], dtype=np.int64)}


class OnnxSentenceLabeller(BertSentenceLabeller):
    """Labels sentences with a classifier exported by ``export_onnx`` (ONNX Runtime)."""

    backend = "onnx"

    def __init__(self, model: str | Path, batch_size: int = 64, max_length: int | None = None, device: str | None = None,
                 threads: int | None = None):
        import onnxruntime as ort

        d = Path(model)
        max_length = max_length or trained_max_length(d) or DEFAULT_MAX_LENGTH
        if not (d / ONNX_FILE).exists():
            raise OSError(f"{d}: not an ONNX model directory (no {ONNX_FILE}); make one with `nlp export onnx`")
        cfg = json.loads((d / "config.json").read_text(encoding="utf-8"))
        id2label = {int(k): v for k, v in cfg.get("id2label", {}).items()}
        if sorted(id2label.values()) != sorted(LABELS):
            raise OSError(f"{d}: model labels {sorted(id2label.values())} are not the report categories {list(LABELS)}")
        self.labels = [id2label[i] for i in range(len(id2label))]
        if (d / "tokenizer.json").exists():
            self.tokenizer = _PairTokenizer(d, max_length)
        else:  # a slow-tokenizer directory: transformers' tokenizer (imports PyTorch)
            from transformers import AutoTokenizer

            hf = AutoTokenizer.from_pretrained(str(d), local_files_only=True)
            self.tokenizer = lambda ctx, texts: dict(hf(list(ctx), list(texts), truncation="longest_first",
                                                        max_length=max_length, padding=True, return_tensors="np"))
        opts = ort.SessionOptions()
        if threads:
            opts.intra_op_num_threads = threads
            opts.inter_op_num_threads = 1
        available = ort.get_available_providers()
        want_cuda = device.startswith("cuda") if device else "CUDAExecutionProvider" in available
        providers = (["CUDAExecutionProvider"] if want_cuda and "CUDAExecutionProvider" in available else []) + \
            ["CPUExecutionProvider"]
        self.session = ort.InferenceSession(str(d / ONNX_FILE), sess_options=opts, providers=providers)
        self.input_names = [i.name for i in self.session.get_inputs()]
        self.device = "cuda" if providers[0] == "CUDAExecutionProvider" else "cpu"
        self.batch_size = batch_size
        self.max_length = max_length
        self.decoding = DecodingConfig.load(d)
        self.doc_kind = classifier_doc_kind(d)
        self.alone = load_alone(d)
        self.stack = load_stack(d, self.labels)
        if self.stack is not None and self.alone is None:
            raise OSError(f"{d}: stack/ needs the sentence-alone model (alone/), which is missing")
        meta = d / ONNX_CONFIG
        self.quantization = json.loads(meta.read_text(encoding="utf-8")).get("quantization") if meta.exists() else None
        self.name = f"model:{d.name}"

    def inference_context(self) -> ContextManager[Any]:
        """Nothing: ONNX Runtime runs without PyTorch's inference mode or autocast."""
        return contextlib.nullcontext()

    def _probs(self, contexts: list[str], texts: list[str]) -> np.ndarray:
        """One batch through the ONNX Runtime session (the batching loop is the PyTorch labeller's)."""
        enc = self.tokenizer(contexts, texts)
        logits = self.session.run(None, {k: enc[k] for k in self.input_names})[0].astype(np.float32)
        logits -= logits.max(axis=1, keepdims=True)
        e = np.exp(logits)
        return e / e.sum(axis=1, keepdims=True)


def export_onnx(model_dir: str | Path, output: str | Path, int8: bool = False, opset: int = 17) -> OnnxExportResult:
    """Export a fine-tuned sentence classifier directory to ONNX (dynamic batch and sequence
    axes); ``int8`` quantises the weights dynamically. The output directory is written whole
    or not at all."""
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    src = Path(model_dir)
    if not (src / "config.json").exists():
        raise OSError(f"{src}: not a model directory (no config.json)")
    try:
        tok = AutoTokenizer.from_pretrained(str(src), local_files_only=True)
        model = AutoModelForSequenceClassification.from_pretrained(str(src), local_files_only=True, use_safetensors=True,
                                                                   attn_implementation="eager", dtype=torch.float32)
    except Exception as e:  # OSError, ValueError; safetensors' SafetensorError for a truncated or garbage file
        why = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise OSError(f"cannot load a sentence classifier from {src}: {why}") from None
    labels = sorted(model.config.id2label.values())
    if labels != sorted(LABELS):
        raise OSError(f"{src}: model labels {labels} are not the report categories {list(LABELS)}; fine-tune it first")
    model.eval()
    out = Path(output)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        tok.save_pretrained(str(tmp))
        model.config.save_pretrained(str(tmp))
        for f in ("decoding.json", "README.md", "training_summary.json"):
            if (src / f).exists():
                shutil.copy2(src / f, tmp / f)
        for sub in ("doc_kind", "alone", "stack"):
            if (src / sub).is_dir():
                shutil.copytree(src / sub, tmp / sub)
        enc = tok([c for c, _ in _SAMPLE], [t for _, t in _SAMPLE], padding=True, return_tensors="pt")
        names = [k for k in _INPUTS if k in enc]
        fp32 = tmp / ("model.fp32.onnx" if int8 else ONNX_FILE)
        axes = {k: {0: "batch", 1: "sequence"} for k in names}
        axes["logits"] = {0: "batch"}
        with warnings.catch_warnings(), torch.inference_mode():
            warnings.simplefilter("ignore")
            torch.onnx.export(model, tuple(enc[k] for k in names), str(fp32), input_names=names,
                              output_names=["logits"], dynamic_axes=axes, opset_version=opset, dynamo=False)
        if int8:
            from onnxruntime.quantization import QuantType, quantize_dynamic

            root = logging.getLogger()
            level = root.level
            root.setLevel(logging.ERROR)  # its advice to pre-process fails on BERT (incomplete symbolic shapes)
            try:
                quantize_dynamic(str(fp32), str(tmp / ONNX_FILE), weight_type=QuantType.QInt8)
            finally:
                root.setLevel(level)
            fp32.unlink()
        with torch.inference_mode():
            ref = torch.softmax(model(**enc).logits.float(), dim=-1).numpy()
        (tmp / ONNX_CONFIG).write_text(json.dumps(
            {"format": "onnx", "file": ONNX_FILE, "opset": opset, "quantization": "dynamic-int8" if int8 else None,
             "inputs": names, "source": str(src.resolve())}, indent=1), encoding="utf-8")
        lab = OnnxSentenceLabeller(tmp)
        got = lab.predict_proba([t for _, t in _SAMPLE], [c for c, _ in _SAMPLE])
        order = [lab.labels.index(model.config.id2label[i]) for i in range(ref.shape[1])]
        diff = float(np.abs(got[:, order] - ref).max())
        meta = json.loads((tmp / ONNX_CONFIG).read_text(encoding="utf-8"))
        meta["max_abs_prob_diff_vs_torch"] = round(diff, 6)
        (tmp / ONNX_CONFIG).write_text(json.dumps(meta, indent=1), encoding="utf-8")
        size = (tmp / ONNX_FILE).stat().st_size
        if out.exists():
            old = out.with_name(f".{out.name}.old")
            if old.exists():
                shutil.rmtree(old)
            os.replace(out, old)
            os.replace(tmp, out)
            shutil.rmtree(old)
        else:
            os.replace(tmp, out)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
    return OnnxExportResult(str(out), str(src), int8, opset, size, diff)
