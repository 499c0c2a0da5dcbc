"""Our own small Chinese BERT: a character vocabulary built from the corpus and masked-LM
pretraining with sequence packing, checkpoint/resume, bf16 on GPU.

    nlp pretrain --corpus ../shared/data/corpus --config mini --output models/encoder-mini
"""

from __future__ import annotations

import gzip
import json
import lzma
import math
import os
import random
import time
import unicodedata
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Iterator

import torch

from .config import PretrainConfig

SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]

CONFIGS = {
    # name: (layers, hidden, heads, intermediate)
    "tiny": (2, 32, 2, 64),
    "mini": (4, 256, 4, 1024),
    "small": (6, 384, 6, 1536),
    "base": (12, 768, 12, 3072),
}


# --------------------------------------------------------------------------- vocabulary


def _is_cjk(ch: str) -> bool:
    cp = ord(ch)
    return (0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF or 0x20000 <= cp <= 0x2A6DF or 0xF900 <= cp <= 0xFAFF
            or 0x2F800 <= cp <= 0x2FA1F)


def corpus_files(corpus_dir: str | Path) -> list[Path]:
    d = Path(corpus_dir)
    files = sorted(d.glob("*.txt.gz")) + sorted(d.glob("*.txt.xz")) + sorted(d.glob("*.txt"))
    if not files:
        raise FileNotFoundError(f"{corpus_dir}: no *.txt.gz, *.txt.xz or *.txt corpus files")
    return files


def _open(f: Path):
    if f.suffix == ".gz":
        return gzip.open(f, "rt", encoding="utf-8")
    if f.suffix == ".xz":
        return lzma.open(f, "rt", encoding="utf-8")
    return open(f, encoding="utf-8")


def build_vocab(corpus_dir: str | Path, max_size: int = 12000, min_count: int = 3,
                extra_texts: list[str] | None = None) -> list[str]:
    """BERT special tokens, digits and Latin letters (with ## continuations), then CJK
    characters and symbols by corpus frequency, up to ``max_size`` entries."""
    counts: Counter[str] = Counter()
    for f in corpus_files(corpus_dir):
        with _open(f) as fh:
            for line in fh:
                counts.update(line.strip())
    for t in extra_texts or []:
        counts.update(t)
    base = list(SPECIALS)
    base += [str(d) for d in range(10)] + [f"##{d}" for d in range(10)]
    base += [chr(c) for c in range(ord("a"), ord("z") + 1)] + [f"##{chr(c)}" for c in range(ord("a"), ord("z") + 1)]
    # BERT's basic tokenizer splits CJK characters and punctuation into single tokens;
    # other runs of letters/digits become wordpieces, covered by the letters and ## pieces above
    seen = set(base)
    chars = []
    for ch, n in counts.most_common():
        if n < min_count:
            break
        if ch.isspace() or ch in seen:
            continue
        if ch.isascii() and ch.isalnum():
            continue
        if unicodedata.category(ch).startswith("C"):
            continue
        if "A" <= ch.upper() <= "Z" and not ch.isascii():
            continue
        chars.append(ch)
        seen.add(ch)
    # lower-cased tokenizer: fold full-width letters and digits too (NFKC is not applied by BERT)
    vocab = base + chars
    return vocab[:max_size]


def save_tokenizer(vocab: list[str], output: str | Path, model_max_length: int = 512):
    from transformers import BertTokenizerFast

    out = Path(output)
    out.mkdir(parents=True, exist_ok=True)
    (out / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    tok = BertTokenizerFast(vocab={t: i for i, t in enumerate(vocab)}, do_lower_case=True, tokenize_chinese_chars=True,
                            model_max_length=model_max_length)
    if len(tok) != len(vocab):
        raise RuntimeError(f"tokenizer has {len(tok)} entries, vocabulary {len(vocab)}")
    tok.save_pretrained(str(out))
    return tok


# --------------------------------------------------------------------------- data




def line_stream(files: list[Path], seed: int, upweight: tuple[str, ...] = (), shard: int = 0,
                num_shards: int = 1) -> Iterator[str]:
    """Endless stream of corpus lines mixing the files by size (named ones 3× more often).
    With ``num_shards`` > 1 only every ``num_shards``-th line of each file (from ``shard``)
    is read, so parallel data-loader workers see disjoint parts of the corpus."""
    rng = random.Random(seed)
    weights = [f.stat().st_size * (3 if any(u in f.name for u in upweight) else 1) for f in files]
    handles: dict[int, object] = {}
    lineno: dict[int, int] = {}
    while True:
        i = rng.choices(range(len(files)), weights=weights)[0]
        fh = handles.get(i)
        if fh is None:
            fh, lineno[i] = _open(files[i]), 0
            handles[i] = fh
        line = fh.readline()
        if not line:
            fh.close()
            handles[i], lineno[i] = _open(files[i]), 0
            continue
        lineno[i] += 1
        if num_shards > 1 and (lineno[i] - 1) % num_shards != shard:
            continue
        line = line.strip()
        if len(line) >= 8:
            yield line


def packed_blocks(tokenizer, lines: Iterator[str], seq_len: int, masking: str = "char",
                  chunk: int = 256) -> Iterator[tuple[list[int], list[int]]]:
    """[CLS] … [SEP] blocks of exactly ``seq_len`` tokens packed from consecutive lines
    (lines separated by [SEP]); with word ids for whole-word masking (-1 for specials)."""
    cls, sep = tokenizer.cls_token_id, tokenizer.sep_token_id
    body = seq_len - 2
    buf_ids: list[int] = []
    buf_words: list[int] = []
    word_counter = 0
    if masking == "wwm":
        import jieba

        jieba.setLogLevel(60)
    while True:
        batch = [next(lines) for _ in range(chunk)]
        if masking == "wwm":
            seg = [list(jieba.cut(t)) for t in batch]
            enc = tokenizer(seg, is_split_into_words=True, add_special_tokens=False)
        else:
            enc = tokenizer(batch, add_special_tokens=False)
        for k, ids in enumerate(enc["input_ids"]):
            if masking == "wwm":
                wids = enc.word_ids(k)
                words = [word_counter + (w if w is not None else 0) for w in wids]
                word_counter += (max((w for w in wids if w is not None), default=0) + 1)
            else:
                words = list(range(word_counter, word_counter + len(ids)))
                word_counter += len(ids)
            buf_ids += ids + [sep]
            buf_words += words + [-1]
            while len(buf_ids) >= body:
                yield [cls] + buf_ids[:body] + [sep], [-1] + buf_words[:body] + [-1]
                buf_ids, buf_words = buf_ids[body:], buf_words[body:]


class _BlockBatches(torch.utils.data.IterableDataset):
    """Endless (input_ids, word_ids) batches of packed blocks; each data-loader worker reads
    its own share of the corpus lines (every n-th line, its own file mix), so tokenising and
    word segmentation run in parallel with the training steps."""

    def __init__(self, tokenizer, files: list[Path], seed: int, upweight: tuple[str, ...], seq_len: int,
                 masking: str, batch_size: int):
        self.tokenizer, self.files, self.seed, self.upweight = tokenizer, files, seed, upweight
        self.seq_len, self.masking, self.batch_size = seq_len, masking, batch_size

    def __iter__(self):
        info = torch.utils.data.get_worker_info()
        wid, n = (info.id, info.num_workers) if info is not None else (0, 1)
        # worker 0 (or the training process itself) keeps the plain seed: the stream of earlier versions
        lines = line_stream(self.files, self.seed + 1009 * wid, self.upweight, shard=wid, num_shards=n)
        blocks = packed_blocks(self.tokenizer, lines, self.seq_len, self.masking)
        while True:
            ids, words = zip(*(next(blocks) for _ in range(self.batch_size)))
            yield torch.tensor(ids), torch.tensor(words)


def batch_stream(tokenizer, files: list[Path], seed: int, upweight: tuple[str, ...], seq_len: int, masking: str,
                 batch_size: int, workers: int = 0) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Batches of packed blocks, made in the training process (``workers=0``, the exact
    stream of earlier versions) or by ``workers`` data-loader processes."""
    ds = _BlockBatches(tokenizer, files, seed, upweight, seq_len, masking, batch_size)
    if workers <= 0:
        yield from ds
        return
    yield from torch.utils.data.DataLoader(ds, batch_size=None, num_workers=workers, prefetch_factor=4,
                                           pin_memory=torch.cuda.is_available())


def _tokenize_lines(args: tuple[str, list[str]]) -> "np.ndarray":
    """Token ids of ``lines``, each followed by [SEP] (a worker of ``tokenize_corpus``)."""
    import numpy as np
    from transformers import BertTokenizerFast

    tok_dir, lines = args
    tok = _TOKENIZERS.get(tok_dir)
    if tok is None:
        tok = _TOKENIZERS[tok_dir] = BertTokenizerFast.from_pretrained(tok_dir)
    sep = tok.sep_token_id
    out: list[int] = []
    for ids in tok(lines, add_special_tokens=False, verbose=False)["input_ids"]:
        out += ids
        out.append(sep)
    return np.asarray(out, dtype=np.int32)


_TOKENIZERS: dict = {}


def tokenize_corpus(tok_dir: str | Path, files: list[Path], workers: int = 0, chunk_lines: int = 20000,
                    progress: bool = True) -> list["np.ndarray"]:
    """Each corpus file as one array of token ids (its lines of ≥ 8 characters, each followed by
    [SEP]), tokenised by ``workers`` processes (0: in this process)."""
    import multiprocessing as mp

    import numpy as np
    from tqdm import tqdm

    jobs: list[tuple[int, list[str]]] = []
    for i, f in enumerate(files):
        with _open(f) as fh:
            lines = [ln.strip() for ln in fh]
        lines = [ln for ln in lines if len(ln) >= 8]
        jobs += [(i, lines[k:k + chunk_lines]) for k in range(0, len(lines), chunk_lines)]
    parts: list[list] = [[] for _ in files]
    args = [(str(tok_dir), lines) for _, lines in jobs]
    bar = tqdm(total=len(jobs), desc="tokenise corpus", disable=not progress, unit="chunk")
    if workers > 0:
        with mp.get_context("spawn").Pool(workers) as pool:
            for (i, _), ids in zip(jobs, pool.imap(_tokenize_lines, args)):
                parts[i].append(ids)
                bar.update(1)
    else:
        for (i, _), a in zip(jobs, args):
            parts[i].append(_tokenize_lines(a))
            bar.update(1)
    bar.close()
    return [np.concatenate(p) if p else np.zeros(0, dtype=np.int32) for p in parts]


class MemoryBlocks:
    """Blocks of ``seq_len`` tokens ([CLS] … [SEP]) cut at random places of the tokenised corpus,
    held on the training device: a block's file is drawn by size (``upweight`` files 3× more
    often, as in ``line_stream``), then its start uniformly within that file. Character masking
    is done on the device too, so a training step never waits for the CPU."""

    def __init__(self, arrays: list, names: list[str], upweight: tuple[str, ...], seq_len: int, device,
                 cls_id: int, sep_id: int, seed: int):
        body = seq_len - 2
        keep = [k for k, a in enumerate(arrays) if len(a) > body]
        if not keep:
            raise ValueError(f"no corpus file has more than {body} tokens")
        self.flat = torch.cat([torch.from_numpy(arrays[k]) for k in keep]).to(device)
        lens = torch.tensor([len(arrays[k]) for k in keep], dtype=torch.float64)
        self.starts = torch.cat([torch.zeros(1, dtype=torch.float64), lens.cumsum(0)[:-1]]).to(device)
        self.spans = (lens - body).to(device)  # valid start offsets per file
        w = torch.tensor([float(len(arrays[k])) * (3 if any(u in names[k] for u in upweight) else 1) for k in keep])
        self.weights = (w / w.sum()).to(device)
        self.body, self.device, self.cls, self.sep = body, device, cls_id, sep_id
        self.tokens = int(lens.sum())
        self.gen = torch.Generator(device=device).manual_seed(seed)
        self.offsets = torch.arange(body, device=device)

    def batch(self, batch_size: int) -> torch.Tensor:
        f = torch.multinomial(self.weights, batch_size, replacement=True, generator=self.gen)
        u = torch.rand(batch_size, generator=self.gen, device=self.device, dtype=torch.float64)
        start = (self.starts[f] + (u * self.spans[f]).floor()).long()
        body = self.flat[start[:, None] + self.offsets]
        col = lambda v: torch.full((batch_size, 1), v, dtype=body.dtype, device=self.device)  # noqa: E731
        return torch.cat([col(self.cls), body, col(self.sep)], dim=1).long()

    def mask(self, input_ids: torch.Tensor, tokenizer, mask_prob: float) -> tuple[torch.Tensor, torch.Tensor]:
        """BERT character masking as in ``mask_batch`` (80 % [MASK], 10 % random, 10 % kept), on the device."""
        special = input_ids < len(SPECIALS)
        chosen = (torch.rand(input_ids.shape, generator=self.gen, device=self.device) < mask_prob) & ~special
        labels = input_ids.masked_fill(~chosen, -100)
        r = torch.rand(input_ids.shape, generator=self.gen, device=self.device)
        rnd = torch.randint(len(SPECIALS), len(tokenizer), input_ids.shape, generator=self.gen, device=self.device)
        ids = torch.where(chosen & (r < 0.8), torch.full_like(input_ids, tokenizer.mask_token_id), input_ids)
        ids = torch.where(chosen & (r >= 0.8) & (r < 0.9), rnd, ids)
        return ids, labels


def mask_batch(input_ids: torch.Tensor, word_ids: torch.Tensor, tokenizer, mask_prob: float,
               gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """BERT masking (80% [MASK], 10% random, 10% kept) over whole words: every token of a
    chosen word is masked together (for character masking each token is its own word)."""
    labels = input_ids.clone()
    special = word_ids < 0
    # one random draw per word id, shared by its tokens
    uniq, inverse = torch.unique(word_ids, return_inverse=True)
    word_draw = torch.rand(uniq.shape, generator=gen)
    chosen = (word_draw[inverse] < mask_prob) & ~special
    labels[~chosen] = -100
    ids = input_ids.clone()
    r = torch.rand(ids.shape, generator=gen)
    ids[chosen & (r < 0.8)] = tokenizer.mask_token_id
    rand_pos = chosen & (r >= 0.8) & (r < 0.9)
    ids[rand_pos] = torch.randint(len(SPECIALS), len(tokenizer), ids.shape, generator=gen)[rand_pos]
    return ids, labels


# --------------------------------------------------------------------------- training


def model_config(name: str, vocab_size: int, max_position: int = 512):
    from transformers import BertConfig

    layers, hidden, heads, inter = CONFIGS[name]
    return BertConfig(vocab_size=vocab_size, hidden_size=hidden, num_hidden_layers=layers, num_attention_heads=heads,
                      intermediate_size=inter, max_position_embeddings=max_position, type_vocab_size=2,
                      hidden_dropout_prob=0.1, attention_probs_dropout_prob=0.1)


def pretrain(cfg: PretrainConfig, progress: bool = True) -> dict:
    """Run (or resume) MLM pretraining; writes a normal HF BERT directory to ``cfg.output``."""
    from tqdm import tqdm
    from transformers import BertForMaskedLM, BertTokenizerFast

    out = Path(cfg.output)
    out.mkdir(parents=True, exist_ok=True)
    ckpt_dir = out / "checkpoint"
    torch.manual_seed(cfg.seed)
    random.seed(cfg.seed)
    if (out / "vocab.txt").exists():
        tok = BertTokenizerFast.from_pretrained(str(out))
    else:
        tok = save_tokenizer(build_vocab(cfg.corpus, cfg.vocab_size), out)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    resume = (ckpt_dir / "state.pt").exists()
    if resume:
        model = BertForMaskedLM.from_pretrained(str(ckpt_dir), dtype=torch.float32)
    else:
        model = BertForMaskedLM(model_config(cfg.config, len(tok)))
    model.to(device)
    decay = [p for n, p in model.named_parameters() if p.ndim >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.ndim < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=cfg.lr, betas=(0.9, 0.98), eps=1e-6, fused=device.type == "cuda")
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True

    budget_s = cfg.max_minutes * 60 if cfg.max_minutes else None
    clock = {"t0": time.time()}

    def lr_at(step: int) -> float:
        """Linear warmup, then linear decay to 0 at ``max_steps`` or, with a time budget,
        at whichever comes first (so a budgeted run still ends with a fully decayed LR)."""
        if step < cfg.warmup_steps:
            return (step + 1) / cfg.warmup_steps
        left = (cfg.max_steps - step) / max(1, cfg.max_steps - cfg.warmup_steps)
        if budget_s:
            left = min(left, 1.0 - (time.time() - clock["t0"]) / budget_s)
        return max(0.0, left)

    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_at)
    step, tokens_seen, history = 0, 0, []
    data_seed = cfg.seed
    if resume:
        # the optimizer state is a plain tensor dict: load it without unpickling arbitrary objects
        state = torch.load(ckpt_dir / "state.pt", map_location=device, weights_only=True)
        opt.load_state_dict(state["optimizer"])
        sched.load_state_dict(state["scheduler"])
        meta = json.loads((ckpt_dir / "progress.json").read_text())
        step, tokens_seen, history = meta["step"], meta["tokens_seen"], meta["history"]
        data_seed = cfg.seed + step  # a fresh data order after resuming
    gen = torch.Generator().manual_seed(cfg.seed * 1000 + step)
    files = corpus_files(cfg.corpus)
    if cfg.data == "memory":
        if cfg.masking != "char":
            raise ValueError("--data memory masks characters on the device: use --masking char")
        t_tok = time.time()
        arrays = tokenize_corpus(out, files, cfg.workers, progress=progress)
        blocks = MemoryBlocks(arrays, [f.name for f in files], cfg.upweight, cfg.seq_len, device,
                              tok.cls_token_id, tok.sep_token_id, data_seed)
        del arrays
        data_info = {"corpus_tokens": blocks.tokens, "tokenise_minutes": round((time.time() - t_tok) / 60, 2)}

        def next_batch():
            return blocks.mask(blocks.batch(cfg.batch_size), tok, cfg.mask_prob)
    elif cfg.data == "stream":
        batches = batch_stream(tok, files, data_seed, cfg.upweight, cfg.seq_len, cfg.masking, cfg.batch_size, cfg.workers)
        data_info = {}

        def next_batch():
            input_ids, words = next(batches)
            masked, labels = mask_batch(input_ids, words, tok, cfg.mask_prob, gen)
            return masked.to(device, non_blocking=True), labels.to(device, non_blocking=True)
    else:
        raise ValueError(f"unknown data mode {cfg.data!r}: stream or memory")
    use_bf16 = device.type == "cuda" and torch.cuda.is_bf16_supported()
    model.train()
    t0 = clock["t0"] = time.time()
    deadline = t0 + budget_s if budget_s else None
    bar = tqdm(total=cfg.max_steps, initial=step, desc="pretrain", disable=not progress, unit="step")
    loss_ema = None
    tok_t0, tok_start = time.time(), tokens_seen

    def save(final: bool = False) -> None:
        target = out if final else ckpt_dir
        model.save_pretrained(str(target), safe_serialization=True)
        if not final:
            torch.save({"optimizer": opt.state_dict(), "scheduler": sched.state_dict()}, ckpt_dir / "state.pt.part")
            os.replace(ckpt_dir / "state.pt.part", ckpt_dir / "state.pt")
            (ckpt_dir / "progress.json").write_text(json.dumps({"step": step, "tokens_seen": tokens_seen,
                                                                "history": history}))

    last = min(cfg.max_steps, cfg.stop_step or cfg.max_steps)
    pending: list[torch.Tensor] = []
    while step < last and (deadline is None or time.time() < deadline):
        masked, labels = next_batch()
        with torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=use_bf16):
            loss = model(input_ids=masked, labels=labels).loss  # packed blocks: no padding, no mask
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        opt.zero_grad(set_to_none=True)
        step += 1
        tokens_seen += masked.numel()
        pending.append(loss.detach())  # read back in groups: a float() per step would stall the GPU queue
        if step % cfg.log_every == 0 or step >= last:
            for lv in torch.stack(pending).float().cpu().tolist():
                loss_ema = lv if loss_ema is None else 0.98 * loss_ema + 0.02 * lv
            pending.clear()
        if step % cfg.log_every == 0:
            tps = (tokens_seen - tok_start) / max(1e-6, time.time() - tok_t0)
            history.append({"step": step, "loss": round(loss_ema, 4), "tokens": tokens_seen, "tokens_per_s": round(tps)})
            bar.set_postfix(loss=f"{loss_ema:.3f}", tok_s=f"{tps:,.0f}")
        bar.update(1)
        if step % cfg.save_every == 0:
            save()
    bar.close()
    for lv in (torch.stack(pending).float().cpu().tolist() if pending else []):
        loss_ema = lv if loss_ema is None else 0.98 * loss_ema + 0.02 * lv
    save()
    save(final=True)
    tok.save_pretrained(str(out))
    summary = {"config": asdict(cfg), "steps": step, "tokens_seen": tokens_seen, "final_loss_ema": loss_ema if loss_ema is not None else (history[-1]["loss"] if history else None),
               "device": str(device) if device.type == "cpu" else torch.cuda.get_device_name(0),
               "bf16": use_bf16, "minutes_this_run": round((time.time() - t0) / 60, 2),
               "params": sum(p.numel() for p in model.parameters()), **data_info, "history": history[-200:]}
    (out / "pretrain_summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=1))
    write_encoder_card(out, summary)
    return summary


def pretrain_command(pc: dict, output: str | None = None) -> str:
    """The ``nlp pretrain`` command line of a run's config (``pretrain_summary.json``'s ``config``)."""
    parts = [f"nlp pretrain --config {pc['config']} --corpus {pc['corpus']} --masking {pc.get('masking', 'char')}",
             f"--data {pc.get('data', 'stream')}" + (f" --workers {pc['workers']}" if pc.get("workers") else ""),
             f"--seq-len {pc['seq_len']} --batch-size {pc['batch_size']} --lr {pc['lr']} --warmup-steps {pc['warmup_steps']}",
             f"--max-steps {pc['max_steps']}" + (f" --max-minutes {pc['max_minutes']}" if pc.get("max_minutes") else "")
             + (f" --stop-step {pc['stop_step']}" if pc.get("stop_step") else ""),
             f"--seed {pc.get('seed', 0)} --output {output or pc['output']}"]
    return " ".join(parts)


def _vocab_size(out: Path) -> int | str:
    p = out / "vocab.txt"
    return sum(1 for line in p.read_text(encoding="utf-8").splitlines() if line) if p.exists() else "?"


def write_encoder_card(out: Path, summary: dict) -> None:
    """README.md model card of a pretrained encoder directory: data, recipe, the run's numbers."""
    pc = summary["config"]
    layers, hidden, heads, inter = CONFIGS[pc["config"]]
    hist = summary.get("history") or []
    tps = hist[-1]["tokens_per_s"] if hist else None
    lines = [
        "---", "language: zh", "library_name: transformers", "pipeline_tag: fill-mask", "tags: [bert, govreport-nlp]", "---", "",
        f"# {out.name}: a character-level Chinese BERT pretrained by `nlp pretrain`", "",
        f"A {layers}-layer / {hidden}-hidden BERT ({heads} heads, feed-forward {inter}; {summary['params']:,} parameters "
        "with the masked-LM head), `model_type: bert`, safetensors, with a character vocabulary of "
        f"{_vocab_size(out)} entries (`vocab.txt`; BERT special tokens, CJK characters and symbols by frequency in the "
        "corpus, digits, Latin wordpieces). Load it with `AutoTokenizer` / "
        "`AutoModelForMaskedLM`, or give the directory to `nlp train classify --base` / `nlp train ner --base`.", "",
        "## Data", "",
        f"The corpus files under `{pc['corpus']}`: lines of at least 8 characters, files drawn by size "
        f"({', '.join(pc.get('upweight') or []) or 'none'} three times as often), packed into blocks of {pc['seq_len']} tokens "
        f"([CLS] … [SEP], lines separated by [SEP]); {pc.get('masking', 'char')} masking of 15 % of the tokens "
        "(80 % [MASK], 10 % random, 10 % kept)."
        + (f" The corpus was tokenised once ({summary['corpus_tokens']:,} tokens) and blocks drawn at random places."
           if summary.get("corpus_tokens") else ""), "",
        "## Recipe", "",
        f"`{pretrain_command(pc, str(out))}`", "",
        f"AdamW (betas 0.9 / 0.98, weight decay 0.01), linear warm-up over {pc['warmup_steps']} steps and linear decay"
        + (" to zero at the time budget" if pc.get("max_minutes") else "") + f"; seed {pc.get('seed', 0)}"
        + ("; bf16 autocast" if summary.get("bf16") else "") + ".", "",
        "## This run", "",
        "| steps | tokens | final MLM loss (EMA) | tokens/s | minutes | device |", "|---|---|---|---|---|---|",
        f"| {summary['steps']:,} | {summary['tokens_seen']:,} | "
        + (f"{summary['final_loss_ema']:.3f}" if summary.get("final_loss_ema") is not None else "–")
        + f" | {f'{tps:,}' if tps else '–'} | {summary.get('minutes_this_run', '–')} | {summary.get('device', '–')} |", "",
        "`pretrain_summary.json` has the loss curve. A run with a time budget stops at a step count that depends "
        "on the machine.", ""]
    (out / "README.md").write_text("\n".join(lines), encoding="utf-8")


def mlm_eval_loss(model_dir: str | Path, texts: list[str], seq_len: int = 128, seed: int = 0) -> float:
    """Mean masked-LM loss of a pretrained model on held-out texts (fixed masks for comparisons)."""
    from transformers import BertForMaskedLM, BertTokenizerFast

    tok = BertTokenizerFast.from_pretrained(str(model_dir))
    model = BertForMaskedLM.from_pretrained(str(model_dir), dtype=torch.float32).eval()
    gen = torch.Generator().manual_seed(seed)
    blocks = packed_blocks(tok, iter(texts * 1000), seq_len, "char", chunk=min(256, len(texts)))
    losses = []
    with torch.inference_mode():
        for _ in range(8):
            ids, words = zip(*(next(blocks) for _ in range(16)))
            m, lab = mask_batch(torch.tensor(ids), torch.tensor(words), tok, 0.15, gen)
            losses.append(float(model(input_ids=m, labels=lab).loss))
    return sum(losses) / len(losses) if losses else math.nan


def summary_line(s: dict, output: str) -> str:
    """One line on a finished pretraining run (``pretrain``'s summary)."""
    return f"pretrained {s['steps']} steps ({s['tokens_seen']:,} tokens), loss {s['final_loss_ema']:.3f} → {output}"
