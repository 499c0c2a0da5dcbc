"""Fine-tune any BERT-family encoder as a token classifier for the entities (BIO over LAW,
DOCNO, METRIC, DATE), and choose how to combine it with the rules.

Data: every paragraph of the ``split: train`` documents of ``reports.jsonl`` and a sample of
corpus lines rich in 《》, document numbers, percentages and years, with silver spans from
the rule extractors (``nlp.extract.extract``); paragraphs the team labelled by hand
(``eval/hand/train_entities.jsonl``) take their hand spans instead, with a higher loss
weight. Paragraphs are cut into windows of ``max_length`` tokens overlapping by ``stride``
(``nlp.ner.encode_windows``, the same windows as at inference).

Care for silver noise:

- tokens in *uncertain* places get no loss (ignore index): places where the rules decline a
  candidate that LABELING.md may well call an entity — an unbracketed name of a local rule or
  plan (…市…条例), a bare year (2023全国…), a damaged document number (〔202431号) — so the
  model is not taught ``O`` exactly where the rules are known to miss;
- in the news corpus a 《》 title without a law-like ending is uncertain too (programmes,
  films and books are not LAW);
- label smoothing on silver tokens only (hand tokens are trusted);
- bracket dropout: for a share of the silver LAW titles the 《》 are removed from the text (the
  span kept), so the model learns law names from their wording, as they appear unbracketed
  and in scraped text that lost a bracket.

An encoder whose position embeddings are still random (the project's CPU-pretrained one) gets
local attention at the start (``local_attention_init``), so that the tagger sees its neighbours.

Fixed seeds; the checkpoint with the best model-only strict micro-F1 on the dev gold is kept;
then the per-type combination with the rules is chosen on dev (every policy of
``nlp.ner.POLICIES`` per type; a type keeps the rules unless a policy beats them) and written
to ``ner.json``; a model card gives the data, the exact command and the dev scores of the
rules, the model and the combination.
"""

from __future__ import annotations

import gzip
import itertools
import json
import random
import re
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np
import torch

from ..extract import DOCNO_RE, LAW_SUFFIX, declined_candidates, extract
from ..ner import IGNORE, POLICIES, TAGS, NerSettings, align_tags, combine, encode_windows, window_tokens
from ..schema import ENTITY_TYPES, Entity
from ..text import build_document
from .data import load_reports
from .config import NerTrainConfig




@dataclass
class NerExample:
    source: str  # reports | corpus:FILE | hand
    key: str  # doc|para or file:line
    text: str
    spans: list[tuple[int, int, str]]
    ignore: list[tuple[int, int]] = field(default_factory=list)
    weight: float = 1.0
    smoothing: float = 0.0


# --------------------------------------------------------------------------- silver data


def _open_text(path: Path):
    import lzma

    opener = gzip.open if path.suffix == ".gz" else lzma.open if path.suffix == ".xz" else open
    return opener(path, "rt", encoding="utf-8", errors="replace")

def uncertain_ranges(text: str, spans: Sequence[tuple[int, int, str]]) -> list[tuple[int, int]]:
    """Ranges where a silver ``O`` is not trusted: the rule-shaped candidates the rules declined
    (``nlp.extract.declined_candidates``; candidates overlapping a silver span are left alone,
    except a LAW name holding spans of other types, such as a year)."""
    ents = [Entity(a, b, t, text[a:b]) for a, b, t in spans]
    return [(e.start, e.end) for e in declined_candidates(text, ents)]


_LAW_LIKE = re.compile(LAW_SUFFIX + r"\s*(?:[（(][^）)]{0,20}[）)])?$")


def silver_example(source: str, key: str, text: str, smoothing: float) -> NerExample:
    """Rule spans as silver labels. In the news corpus, where 《》 mostly name programmes,
    films and books, a title without a law-like ending (法, 条例, 办法, 规划, 意见 …) is
    uncertain rather than LAW. Inside the candidates the rules decline (``uncertain_ranges``; among
    them probable unbracketed titles, …方案(2023—2025年), 关于…的通知) the silver has no spans and
    no ``O``."""
    spans = [(e.start, e.end, e.type) for e in extract(text)]
    ignore = uncertain_ranges(text, spans)
    # silver spans inside a probable name (a year in 2024年…工作要点) are not trusted either
    spans = [s for s in spans if not any(a <= s[0] and s[1] <= b and (a, b) != s[:2] for a, b in ignore)]
    if source == "corpus:xinwenlianbo.txt.gz":
        doubtful = [(a, b, t) for a, b, t in spans if t == "LAW" and not _LAW_LIKE.search(text[a:b])]
        spans = [s for s in spans if s not in doubtful]
        ignore += [(a, b) for a, b, _ in doubtful]
    return NerExample(source, key, text, spans, ignore, 1.0, smoothing)


def report_paragraphs(reports_path: str | Path) -> list[tuple[str, int, str]]:
    """(doc, paragraph index, text) of every paragraph of the ``split: train`` documents."""
    out = []
    for r in load_reports(reports_path, "train"):
        doc = build_document(r["text"], r["id"])
        out += [(r["id"], i, p.text) for i, p in enumerate(doc.paragraphs)]
    return out


_RICH = re.compile(r"《[^》]{2,40}》|%|％|(?:19|20)\d{2}年|[〔\[［(（]\s*(?:19|20)\d{2}\s*[〕\]］)）]\s*\d+\s*号|令第.{1,4}号|万元|人次")


def sample_corpus_lines(corpus_dir: str | Path, files: Sequence[str], n: int, seed: int) -> list[tuple[str, int, str]]:
    """(file, 0-based line, text) of ``n`` corpus lines (split evenly over ``files``) that have
    at least two entity cues; a quarter of each file's share goes to lines with a document
    number, the rarest type. Reservoir sampling with a fixed seed."""
    corpus_dir = Path(corpus_dir)
    def resolve(name: str) -> Path | None:  # the .txt.xz recompression of a .txt.gz file counts as that file
        for p in (corpus_dir / name, corpus_dir / name.replace(".txt.gz", ".txt.xz")):
            if p.exists():
                return p
        return None

    present = [f for f in files if resolve(f) is not None]
    if not present or n <= 0:
        return []
    per = n // len(present)
    out = []
    for fi, name in enumerate(present):
        rng = random.Random(seed * 1000 + fi)
        pools: dict[bool, list[tuple[str, int, str]]] = {True: [], False: []}  # with / without a document number
        seen = Counter()
        with _open_text(resolve(name)) as f:
            for lineno, line in enumerate(f):
                line = line.strip()
                if not 15 <= len(line) <= 1200 or len(_RICH.findall(line)) < 2:
                    continue
                key = bool(DOCNO_RE.search(line))
                seen[key] += 1
                pool = pools[key]
                if len(pool) < per:
                    pool.append((name, lineno, line))
                elif (j := rng.randrange(seen[key])) < per:
                    pool[j] = (name, lineno, line)
        for pool in pools.values():
            rng.shuffle(pool)
        # a quarter for document numbers; either pool gives what the other lacks
        chosen = pools[True][: max(per // 4, per - len(pools[False]))]
        chosen += pools[False][: per - len(chosen)]
        out += sorted(chosen)
    return out


def _remove_chars(ex: NerExample, cut: set[int]) -> NerExample:
    """``ex`` with the characters at positions ``cut`` removed, spans and ignore ranges shifted."""
    if not cut:
        return ex
    t = ex.text
    shift = np.cumsum([0] + [1 if i in cut else 0 for i in range(len(t))])  # removed characters before i

    def m(i: int) -> int:
        return int(i - shift[i])

    return NerExample(ex.source, ex.key, "".join(c for i, c in enumerate(t) if i not in cut),
                      [(m(a), m(b), typ) for a, b, typ in ex.spans],
                      [(m(a), m(b)) for a, b in ex.ignore if m(b) > m(a)], ex.weight, ex.smoothing)


def drop_brackets(ex: NerExample, rate: float, rng: random.Random) -> NerExample:
    """Remove the 《》 around a share ``rate`` of the LAW spans (offsets shifted)."""
    t = ex.text
    cut = set()
    for a, b, typ in ex.spans:
        if typ == "LAW" and a > 0 and b < len(t) and t[a - 1] == "《" and t[b] == "》" and rng.random() < rate:
            cut.update((a - 1, b))
    return _remove_chars(ex, cut)


_YEAR_ONLY = re.compile(r"(?:19|20)\d{2}年")
_YEAR_GOES_ON = re.compile(r"[\u4e00-\u9fa5]")
_TEMPORAL_NEXT = set("度底初末中前后以起至到间内上下来春夏秋冬半一二三四五六七八九十")


def drop_year_suffix(ex: NerExample, rate: float, rng: random.Random) -> NerExample:
    """Write a share ``rate`` of the silver year DATEs (2023年) that run on into a name as bare
    years (2023全国…典型案例, 2022全年): the 年 removed, the DATE kept on the four digits. The
    rules decline bare years (an identifier may look like one), so the silver has none; a year
    followed by a temporal word (年度, 年底, 年以来, 年上半年 …) is left alone."""
    t = ex.text
    cut = set()
    for a, b, typ in ex.spans:
        if (typ == "DATE" and _YEAR_ONLY.fullmatch(t[a:b]) and b < len(t) and _YEAR_GOES_ON.match(t[b])
                and t[b] not in _TEMPORAL_NEXT and rng.random() < rate):
            cut.add(b - 1)
    return _remove_chars(ex, cut)


def build_examples(cfg: NerTrainConfig) -> tuple[list[NerExample], dict]:
    """Silver examples of the train reports and the corpus sample, hand-labelled paragraphs
    replacing their silver version; and counts for the model card."""
    from .hand_entities import load_hand_entities

    rng = random.Random(cfg.seed)
    hand = {}
    held = set(Path(cfg.hold_out).read_text(encoding="utf-8").split()) if cfg.hold_out else set()
    for path in cfg.hand_labels:
        h = load_hand_entities(path, Path(cfg.reports).parent)
        if h.mismatched:
            print(f"warning: {path}: {len(h.mismatched)} hand labels no longer match the text; their paragraphs were skipped")
        for p in h.paragraphs:
            if f"{p.doc}|{p.para}" not in held:
                hand[(p.doc, p.para)] = NerExample("hand", f"{p.doc}|{p.para}", p.text, list(p.spans), [], cfg.hand_weight, 0.0)
    examples: list[NerExample] = []
    n_reports = 0
    for doc, i, text in report_paragraphs(cfg.reports):
        if (doc, i) in hand:
            examples.append(hand.pop((doc, i)))
        else:
            examples.append(silver_example("reports", f"{doc}|{i}", text, cfg.label_smoothing))
            n_reports += 1
    if hand:  # every hand record names a train paragraph (the loader checks), so this is a bug
        raise ValueError(f"hand-labelled paragraphs not found among the train paragraphs: {sorted(hand)[:3]}")
    n_corpus = Counter()
    if cfg.corpus and cfg.corpus_lines > 0:
        for name, line, text in sample_corpus_lines(cfg.corpus, cfg.corpus_files, cfg.corpus_lines, cfg.seed):
            examples.append(silver_example(f"corpus:{name}", f"{name}:{line}", text, cfg.label_smoothing))
            n_corpus[name] += 1
    if cfg.bracket_dropout > 0:
        examples = [drop_brackets(e, cfg.bracket_dropout, rng) if e.source != "hand" else e for e in examples]
    if cfg.year_dropout > 0:
        examples = [drop_year_suffix(e, cfg.year_dropout, rng) if e.source != "hand" else e for e in examples]
    counts = {
        "report_paragraphs_silver": n_reports,
        "hand_paragraphs": sum(1 for e in examples if e.source == "hand"),
        "corpus_lines": dict(n_corpus),
        "spans": dict(Counter(t for e in examples for *_, t in e.spans)),
        "hand_spans": dict(Counter(t for e in examples if e.source == "hand" for *_, t in e.spans)),
        "uncertain_ranges": sum(len(e.ignore) for e in examples),
    }
    return examples, counts


def build_dataset(examples: Sequence[NerExample], tokenizer, cfg: NerTrainConfig):
    """A 🤗 datasets.Dataset of windows (``input_ids``, ``attention_mask``, ``labels``,
    ``weight``, ``smoothing``) made with ``map`` (cached under ``cfg.cache_dir``)."""
    from datasets import Dataset

    ds = Dataset.from_dict({
        "text": [e.text for e in examples],
        "spans": [json.dumps(e.spans) for e in examples],
        "ignore": [json.dumps(e.ignore) for e in examples],
        "weight": [e.weight for e in examples],
        "smoothing": [e.smoothing for e in examples],
    })

    def windows(batch):
        enc = encode_windows(tokenizer, batch["text"], cfg.max_length, cfg.stride)
        out = {"input_ids": [], "attention_mask": [], "labels": [], "weight": [], "smoothing": []}
        for i, src in enumerate(enc["overflow_to_sample_mapping"]):
            spans = [tuple(s) for s in json.loads(batch["spans"][src])]
            ignore = [tuple(s) for s in json.loads(batch["ignore"][src])]
            labels = align_tags(window_tokens(enc, i), len(enc["input_ids"][i]), spans, ignore)
            if all(x == IGNORE for x in labels):
                continue
            out["input_ids"].append(enc["input_ids"][i])
            out["attention_mask"].append(enc["attention_mask"][i])
            out["labels"].append(labels)
            out["weight"].append(batch["weight"][src])
            out["smoothing"].append(batch["smoothing"][src])
        return out

    kwargs = {}
    if cfg.cache_dir:
        Path(cfg.cache_dir).mkdir(parents=True, exist_ok=True)
        key = abs(hash((cfg.base, cfg.max_length, cfg.stride, len(examples), sum(len(e.text) for e in examples))))
        kwargs["cache_file_name"] = str(Path(cfg.cache_dir) / f"ner-{key}.arrow")
    return ds.map(windows, batched=True, remove_columns=ds.column_names, **kwargs)


def _length_grouped_batches(lengths: Sequence[int], batch_size: int, rng: random.Random) -> list[list[int]]:
    """Shuffled batches of similar length (sorted inside chunks of 50 batches): little padding."""
    idx = list(range(len(lengths)))
    rng.shuffle(idx)
    chunk = batch_size * 50
    batches = []
    for c in range(0, len(idx), chunk):
        part = sorted(idx[c:c + chunk], key=lambda i: lengths[i])
        batches += [part[b:b + batch_size] for b in range(0, len(part), batch_size)]
    rng.shuffle(batches)
    return batches


def _collate(ds, ids: list[int]) -> dict[str, torch.Tensor]:
    rows = ds[ids]
    width = max(len(x) for x in rows["input_ids"])
    n = len(ids)
    x = torch.zeros((n, width), dtype=torch.long)
    mask = torch.zeros_like(x)
    y = torch.full((n, width), IGNORE, dtype=torch.long)
    for r in range(n):
        k = len(rows["input_ids"][r])
        x[r, :k] = torch.tensor(rows["input_ids"][r])
        mask[r, :k] = 1
        y[r, :k] = torch.tensor(rows["labels"][r])
    return {"input_ids": x, "attention_mask": mask, "labels": y,
            "weight": torch.tensor(rows["weight"], dtype=torch.float32),
            "smoothing": torch.tensor(rows["smoothing"], dtype=torch.float32)}


def token_loss(logits: torch.Tensor, labels: torch.Tensor, weight: torch.Tensor, smoothing: torch.Tensor) -> torch.Tensor:
    """Cross-entropy per token with per-window label smoothing and weight; ignored tokens
    count nothing. Mean over the weighted counted tokens."""
    logp = torch.log_softmax(logits.float(), dim=-1)
    mask = labels != IGNORE
    safe = labels.clamp(min=0)
    nll = -logp.gather(-1, safe.unsqueeze(-1)).squeeze(-1)
    uniform = -logp.mean(dim=-1)
    eps = smoothing[:, None]
    loss = (1 - eps) * nll + eps * uniform
    w = weight[:, None] * mask
    return (loss * w).sum() / w.sum().clamp(min=1e-9)


# --------------------------------------------------------------------------- dev scoring


def _gold_paragraphs(dev_gold: str):
    from .. import evaluate as ev

    docs = ev.load_gold(dev_gold)
    paras = [(di, pi, p) for di, gd in enumerate(docs) for pi, p in enumerate(gd.paragraphs)]
    return docs, paras


def _strict_f1(paras, pred: Sequence[Sequence[Entity]]) -> dict:
    """Strict micro-F1 and per-type F1 of entity predictions on the gold paragraphs (spans counted once)."""
    tp, n_pred, n_gold = Counter(), Counter(), Counter()
    for (_, _, p), ents in zip(paras, pred):
        g = {(e["start"], e["end"], e["type"]) for e in p.entities}
        q = {(e.start, e.end, e.type) for e in ents}
        for x in g:
            n_gold[x[2]] += 1
        for x in q:
            n_pred[x[2]] += 1
            tp[x[2]] += x in g

    def f1(t, pr, go):
        return 2 * t / (pr + go) if pr + go else 0.0

    out = {"micro_f1": round(f1(sum(tp.values()), sum(n_pred.values()), sum(n_gold.values())), 4)}
    out.update({t: round(f1(tp[t], n_pred[t], n_gold[t]), 4) for t in ENTITY_TYPES})
    return out


def choose_policy(paras, rule_ents: Sequence[Sequence[Entity]], model_ents: Sequence[Sequence[Entity]]) -> tuple[dict, dict]:
    """The per-type combination with the best strict micro-F1 on dev among those that score
    at least the rules' F1 on every type (``rules`` everywhere qualifies); ties go to the
    policy that keeps more rules. Returns the policy and its scores."""
    base = _strict_f1(paras, rule_ents)
    best, best_key, best_scores = {t: "rules" for t in ENTITY_TYPES}, None, base
    for combo in itertools.product(POLICIES, repeat=len(ENTITY_TYPES)):
        pol = dict(zip(ENTITY_TYPES, combo))
        s = _strict_f1(paras, [combine(r, m, pol) for r, m in zip(rule_ents, model_ents)])
        if any(s[t] < base[t] for t in ENTITY_TYPES):
            continue
        key = (s["micro_f1"], sum(s[t] > base[t] for t in ENTITY_TYPES), -sum(POLICIES.index(p) for p in combo))
        if best_key is None or key > best_key:
            best, best_key, best_scores = pol, key, s
    return best, best_scores


def dev_model_entities(extractor, paras, verified: bool = False) -> list[list[Entity]]:
    """Model spans of the dev paragraphs; with ``verified`` (for ``choose_policy``), also the
    declined rule candidates the model accepts."""
    return extractor.model_entities_many([p.text for _, _, p in paras], verified=verified)


# --------------------------------------------------------------------------- model set-up

POSITION_INITS = ("auto", "local", "keep")


def position_structure(weight: torch.Tensor) -> float:
    """Mean cosine similarity of adjacent position embeddings: near 0 for positions that
    pretraining has not yet shaped (random), high for learned or sinusoidal ones."""
    return float(torch.nn.functional.cosine_similarity(weight[:-1], weight[1:], dim=-1).mean())


def local_attention_init(model, how: str = "auto", alpha: float = 2.0) -> bool:
    """Give a BERT a view of its neighbours from the first step, when ``how`` is ``local``, or
    ``auto`` and the encoder's position embeddings are still unstructured (adjacent
    cosine < 0.1, as after a few hundred MLM steps on a CPU).

    A token tagger must see its neighbours (the unit after a number, the 《 before a title).
    With random absolute positions a transformer has to learn attention to a neighbour pair
    by pair, which a CPU budget does not allow (the tagger left units out of METRIC spans).
    So: the first ``head_size`` dimensions of the position embeddings become sinusoids of
    decreasing frequency (π/2·0.88^k), the word embeddings step back in those dimensions
    (×0.1), and heads 0 and 1 of layer 0 get query/key maps that rotate a position onto the
    previous and the next one, so that they attend to the previous and the next token
    (their value maps, and everything else, stay as pretrained and are trained as usual).
    Returns whether the model was changed."""
    import math

    if how not in POSITION_INITS:
        raise ValueError(f"unknown position init {how!r}; choose from {', '.join(POSITION_INITS)}")
    base = model.base_model
    emb = base.embeddings
    pos = emb.position_embeddings.weight
    if how == "keep" or (how == "auto" and position_structure(pos.detach()) >= 0.1):
        return False
    att = base.encoder.layer[0].attention.self
    hd, d = att.attention_head_size, pos.shape[1]
    if att.num_attention_heads < 2 or hd % 2:
        raise ValueError("local attention needs at least two attention heads of even size")
    freqs = torch.tensor([(math.pi / 2) * 0.88 ** k for k in range(hd // 2)])
    idx = torch.arange(pos.shape[0], dtype=torch.float32)[:, None]
    pe = torch.zeros(pos.shape)
    pe[:, 0:hd:2] = torch.sin(idx * freqs)
    pe[:, 1:hd:2] = torch.cos(idx * freqs)
    word = float(emb.word_embeddings.weight.detach().norm(dim=-1).mean())
    with torch.no_grad():
        pos.copy_(pe * word / math.sqrt(hd / 2))
        emb.word_embeddings.weight[:, :hd] *= 0.1
        for head, offset in ((0, -1), (1, 1)):
            q = torch.zeros(hd, d)
            k = torch.zeros(hd, d)
            for j, f in enumerate(freqs.tolist()):
                sn, cs = math.sin(f * offset), math.cos(f * offset)
                k[2 * j, 2 * j] = k[2 * j + 1, 2 * j + 1] = 1.0
                # q_i = the position i + offset: sin(a+b) = sin a cos b + cos a sin b, cos(a+b) = cos a cos b − sin a sin b
                q[2 * j, 2 * j], q[2 * j, 2 * j + 1] = cs, sn
                q[2 * j + 1, 2 * j], q[2 * j + 1, 2 * j + 1] = -sn, cs
            rows = slice(head * hd, (head + 1) * hd)
            att.query.weight[rows] = q * alpha
            att.query.bias[rows] = 0.0
            att.key.weight[rows] = k
            att.key.bias[rows] = 0.0
    return True


# --------------------------------------------------------------------------- training


def train_ner(cfg: NerTrainConfig, progress: bool = True) -> dict:
    from tqdm import tqdm
    from transformers import AutoModelForTokenClassification, AutoTokenizer

    from ..ner import BertEntityExtractor

    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    random.seed(cfg.seed)
    np.random.seed(cfg.seed)
    torch.manual_seed(cfg.seed)
    settings = NerSettings(max_length=cfg.max_length, stride=cfg.stride)
    settings.check()
    local = Path(cfg.base).exists()
    tokenizer = AutoTokenizer.from_pretrained(cfg.base, local_files_only=local)
    if not getattr(tokenizer, "is_fast", False):
        raise OSError(f"{cfg.base}: a fast tokenizer (tokenizer.json) is needed for character offsets")
    extra = {"num_hidden_layers": cfg.layers} if cfg.layers else {}
    model = AutoModelForTokenClassification.from_pretrained(
        cfg.base, num_labels=len(TAGS), id2label=dict(enumerate(TAGS)), label2id={t: i for i, t in enumerate(TAGS)},
        local_files_only=local, dtype=torch.float32, **extra)
    positions_replaced = local_attention_init(model, cfg.position_init)
    t_data = time.time()
    examples, counts = build_examples(cfg)
    ds = build_dataset(examples, tokenizer, cfg)
    rng = random.Random(cfg.seed)
    if cfg.max_windows and len(ds) > cfg.max_windows:
        keep = sorted(rng.sample(range(len(ds)), cfg.max_windows))
        ds = ds.select(keep)
    counts["windows"] = len(ds)
    counts["hand_windows"] = sum(1 for w in ds["weight"] if w != 1.0)
    data_minutes = (time.time() - t_data) / 60
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    model.to(device)
    lengths = [len(x) for x in ds["input_ids"]]
    steps_per_epoch = (len(ds) + cfg.batch_size - 1) // cfg.batch_size
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    total = max(1, cfg.epochs * steps_per_epoch)
    warm = int(cfg.warmup_ratio * total)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: (s + 1) / max(1, warm) if s < warm else max(0.0, (total - s) / max(1, total - warm)))
    out = Path(cfg.output)
    out.mkdir(parents=True, exist_ok=True)
    paras = None
    if cfg.dev_gold:
        _, paras = _gold_paragraphs(cfg.dev_gold)
    best, best_epoch, history = -1.0, -1, []
    t0 = time.time()
    for epoch in range(cfg.epochs):
        model.train()
        batches = _length_grouped_batches(lengths, cfg.batch_size, rng)
        bar = tqdm(batches, desc=f"epoch {epoch + 1}/{cfg.epochs}", disable=not progress, mininterval=5)
        run_loss = None
        for ids in bar:
            b = _collate(ds, ids)
            logits = model(input_ids=b["input_ids"].to(device), attention_mask=b["attention_mask"].to(device)).logits
            loss = token_loss(logits, b["labels"].to(device), b["weight"].to(device), b["smoothing"].to(device))
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            opt.zero_grad(set_to_none=True)
            run_loss = float(loss.detach()) if run_loss is None else 0.98 * run_loss + 0.02 * float(loss.detach())
            bar.set_postfix(loss=f"{run_loss:.4f}")
        entry = {"epoch": epoch + 1, "minutes": round((time.time() - t0) / 60, 2), "loss_ema": round(run_loss or 0.0, 4)}
        model.save_pretrained(str(out), safe_serialization=True)
        tokenizer.save_pretrained(str(out))
        settings.save(out)
        if paras is not None:
            ext = BertEntityExtractor(out, mode="model", device=str(device))
            s = _strict_f1(paras, dev_model_entities(ext, paras))
            entry["dev_model"] = s
            score = s["micro_f1"]
        else:
            score = float(epoch)
        history.append(entry)
        print(json.dumps(entry), flush=True)
        if score > best:
            best, best_epoch = score, epoch + 1
            (out / ".best").mkdir(exist_ok=True)
            model.save_pretrained(str(out / ".best"), safe_serialization=True)
    # the best epoch's weights become the model
    import shutil

    best_dir = out / ".best"
    if best_dir.exists():
        shutil.copyfile(best_dir / "model.safetensors", out / "model.safetensors")
        shutil.rmtree(best_dir)
    summary = {"config": asdict(cfg), "data": counts, "data_minutes": round(data_minutes, 2),
               "layers": model.config.num_hidden_layers, "local_attention_init": positions_replaced,
               "params": sum(p.numel() for p in model.parameters()),
               "train_minutes": round((time.time() - t0) / 60, 2), "best_epoch": best_epoch, "history": history}
    if paras is not None:
        ext = BertEntityExtractor(out, mode="model", device=str(device))
        rule_ents = [extract(p.text, first_paragraph=pi == 0) for _, pi, p in paras]
        model_ents = dev_model_entities(ext, paras, verified=True)
        policy, _ = choose_policy(paras, rule_ents, model_ents)
        settings.combine = policy
        settings.save(out)
        summary["combine"] = policy
        summary["dev"] = dev_scores(cfg.dev_gold, out)
    (out / "training_summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=1), encoding="utf-8")
    write_model_card(out, summary, cfg)
    return summary


def dev_scores(dev_gold: str, model_dir: str | Path) -> dict[str, dict]:
    """Entity scores on the dev gold through the harness, for the rules, the model alone and
    the combination. Sentence labels (for METRIC target flags) come from the default
    pipeline's labeller, as in ``nlp eval``."""
    from .. import evaluate as ev
    from ..ner import BertEntityExtractor
    from ..pipeline import default_labeller

    docs = ev.load_gold(dev_gold)
    lab = default_labeller()
    context = []
    for gd in docs:
        doc = gd.to_document()
        lab.label(doc)
        context.append([s.label or "other" for s in doc.sentences])
    systems = {"rules": None, "model": BertEntityExtractor(model_dir, mode="model"),
               "model+rules": BertEntityExtractor(model_dir, mode="combined")}
    out = {}
    for name, ext in systems.items():
        ents = []
        for di, gd in enumerate(docs):
            items, k = [], 0
            for p in gd.paragraphs:
                items.append((p.text, [(s["start"], s["end"], context[di][k + j]) for j, s in enumerate(p.sentences)],
                              not items))
                k += len(p.sentences)
            got = ext.entities_many(items) if ext else [extract(t, sl, first_paragraph=f) for t, sl, f in items]
            ents.append([[ev._ent_dict(e) for e in es] for es in got])
        m = ev.score(docs, ev.Predictions(context, None, ents, name))["entities"]
        out[name] = {"strict_micro_f1": round(m["strict"]["micro_f1"], 4),
                     "partial_micro_f1": round(m["partial"]["micro_f1"], 4),
                     "per_type": {t: {k: round(v, 4) if isinstance(v, float) else v for k, v in d.items()}
                                  for t, d in m["strict"]["per_type"].items()},
                     "metric_target_accuracy": round(m["metric_target_accuracy"] or 0.0, 4)}
    return out


def write_model_card(out: Path, summary: dict, cfg: NerTrainConfig) -> None:
    """README.md of an entity model: data, recipe (the exact command), dev scores of the
    rules, the model and the combination."""
    d = summary["data"]
    lines = [
        "---", "language: zh", "library_name: transformers", "pipeline_tag: token-classification",
        "tags: [bert, govreport-nlp, ner]", "---", "",
        f"# {out.name}: entity tagger for rule-of-law government annual reports", "",
        "BIO token classification over the entity types of `LABELING.md` §2 (LAW, DOCNO, METRIC, DATE) on a "
        "character-level BERT; spans come back as character offsets through the tokenizer's offset mapping. "
        f"Paragraphs are read in windows of {cfg.max_length} tokens overlapping by {cfg.stride} "
        "(`nlp.ner`, `ner.json`); tags are decoded by a BIO-constrained Viterbi. `nlp annotate --ner DIR` and "
        "`nlp eval GOLD --ner DIR` use it combined with the rule extractors by the per-type policy in `ner.json` "
        "(chosen on dev); `--entities model` uses it alone. METRIC target flags and indicator structuring are "
        "the rules' (`nlp.extract`, `nlp.indicators`), applied to whichever spans are kept.", "",
        "## Data", "",
        f"- {d['report_paragraphs_silver']} paragraphs of the `split: train` documents of `reports.jsonl` with silver "
        "spans from the rule extractors;",
        f"- {d['hand_paragraphs']} hand-labelled paragraphs of the same documents "
        f"({', '.join(cfg.hand_labels) or 'none'}; standoff, text joined at run time; spans "
        f"{json.dumps(d['hand_spans'])}), replacing their silver version, loss weight {cfg.hand_weight};",
        f"- corpus lines with at least two entity cues (《》, document numbers, %, years, 万元, 人次), silver: "
        f"{json.dumps(d['corpus_lines'], ensure_ascii=False)};",
        f"- {d['windows']} windows in all; silver spans {json.dumps(d['spans'])}.", "",
        "Silver-noise care: no loss on tokens in places where the rules decline a candidate that may be an "
        f"entity ({d['uncertain_ranges']} ranges: unbracketed names of local rules and plans, bare years, damaged "
        f"document numbers; in the news corpus, 《》 titles without a law-like ending); label smoothing {cfg.label_smoothing} on silver tokens only; bracket dropout "
        f"{cfg.bracket_dropout} (silver 《LAW》 titles trained without their brackets); year dropout {cfg.year_dropout} "
        "(silver years running into a name, 2023年全国…, trained as bare years, 2023全国…). Dev (`gold/dev.jsonl`) is never "
        "trained on; it chose the epoch and the combination.", "",
        "## Recipe", "",
        f"`{cfg.command_line()}` (seed {cfg.seed}; {summary['data_minutes']} min data, {summary['train_minutes']} min "
        f"training; best epoch {summary['best_epoch']} of {cfg.epochs}).", "",
        f"Encoder: `{cfg.base}`, {summary['layers']} layer(s) kept, {summary['params']:,} parameters; position embeddings "
        + ("made local (`nlp.training.ner.local_attention_init`: the encoder's were still unstructured, adjacent-position "
           "cosine < 0.1): sinusoids in the first head's dimensions and two heads of layer 0 set to attend to the previous "
           "and the next token, so that the tagger sees its neighbours within the few steps a CPU allows."
           if summary["local_attention_init"] else "kept from the encoder."), "",
    ]
    dev = summary.get("dev")
    if dev:
        lines += ["Combination chosen on dev: " + ", ".join(f"{t} `{p}`" for t, p in summary["combine"].items())
                  + " (`rules`: rule spans only; `verify`: rule spans plus the candidates the rules decline — damaged "
                  "document numbers, unbracketed local rule names, bare years — that the model accepts; `add`: model "
                  "spans added where they overlap no rule span; `cover`: as `add`, and a model span replaces the rule "
                  "spans of other types it wholly contains; `prefer`: model spans first; `model`: model spans only).", "",
                  "## Scores on `gold/dev.jsonl` (entity strict F1, `nlp eval`)", "",
                  "| system | micro-F1 | LAW | DOCNO | METRIC | DATE | partial micro-F1 | METRIC target acc. |",
                  "|---|---|---|---|---|---|---|---|"]
        for name, s in dev.items():
            lines.append(f"| {name} | {s['strict_micro_f1']:.3f} | " + " | ".join(f"{s['per_type'][t]['f1']:.3f}" for t in ENTITY_TYPES)
                         + f" | {s['partial_micro_f1']:.3f} | {s['metric_target_accuracy']:.3f} |")
        lines += ["", "Dev chose the epoch and the combination, so these scores overstate held-out quality.", ""]
    (out / "README.md").write_text("\n".join(lines), encoding="utf-8")


def summary_line(s: dict, output: str) -> str:
    """One line on a finished tagger run (``train_ner``'s summary)."""
    line = f"trained on {s['data']['windows']} windows in {s['train_minutes']} min; best epoch {s['best_epoch']}"
    if "dev" in s:
        d = s["dev"]
        line += (f"; dev strict micro-F1 rules {d['rules']['strict_micro_f1']:.3f}, model {d['model']['strict_micro_f1']:.3f}, "
                 f"model+rules {d['model+rules']['strict_micro_f1']:.3f} (combination: "
                 + ", ".join(f"{t} {p}" for t, p in s["combine"].items()) + ")")
    return f"{line} → {output}"
