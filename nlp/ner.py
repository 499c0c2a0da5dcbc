"""Token-classification entity extractor (BIO over LAW, DOCNO, METRIC, DATE) and its
combination with the rule extractors (inference only).

A model made by ``nlp train ner`` is a normal Hugging Face ``BertForTokenClassification``
directory with ``id2label`` over ``TAGS`` and ``ner.json`` (window length, stride and the
per-type combination policy measured on dev). The vocabulary is character-level, so every
token is one character (a run of digits or Latin letters is split into ``##`` pieces);
tags are aligned to tokens through the fast tokenizer's offset mapping and spans come back
as character offsets, never re-found in the text.

Long paragraphs are read in windows of ``max_length`` tokens that overlap by ``stride``
tokens; a token seen by several windows takes the prediction of the window in which it
stands farthest from an edge (most context on both sides). Tags are decoded by a Viterbi
pass that forbids ``I-X`` after anything but ``B-X``/``I-X``, so every span is well formed.

Combination with the rules, per type (``ner.json`` ``combine``):

- ``rules``: rule spans only;
- ``verify``: rule spans, plus the rule-shaped candidates the rules decline
  (``nlp.extract.declined_candidates``: a damaged document number, an unbracketed local rule
  name or a name after 制定/出台/审议/落实…, an unbracketed title ending in a plan period or
  关于…的通知, a bare year) that the model accepts: the geometric-mean probability of their
  ``B-X I-X …`` tags and of the span ending there is at least one half. The rules give the
  bounds (a name may be proposed with several starts; of overlapping accepted ones the
  best-scored is kept), the model the verdict (``source="verified"``). A document number must end in 号
  (LABELING.md: issuer code through 号); an accepted name replaces the rule spans of other
  types it wholly contains (the year of 2024年…工作要点), as in ``cover``. With only ``rules``
  and ``verify`` in use, the model reads just the paragraphs that hold a candidate;
- ``add``: rule spans, plus model spans that overlap no chosen span;
- ``cover``: as ``add``, and a model span that overlaps no rule span of its own type and wholly
  contains rule spans of other types replaces them (an unbracketed title the rules did not see,
  with a year inside it: LABELING.md has no nested spans, and the title wins);
- ``prefer``: model spans first (they replace overlapping rule spans of any type), rule
  spans of the type where the model has none;
- ``model``: model spans only (rule spans of the type dropped).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np

from .extract import declined_candidates, extract, set_metric_targets
from .schema import ENTITY_TYPES, Entity

TAGS: tuple[str, ...] = ("O",) + tuple(f"{p}-{t}" for t in ENTITY_TYPES for p in "BI")
POLICIES: tuple[str, ...] = ("rules", "verify", "add", "cover", "prefer", "model")
MODES: tuple[str, ...] = ("rules", "model", "combined")
IGNORE = -100


@dataclass
class NerSettings:
    """``ner.json`` of a model directory: how to window paragraphs and combine with rules."""

    max_length: int = 128  # tokens per window, [CLS] and [SEP] included
    stride: int = 32  # tokens shared by consecutive windows
    combine: dict[str, str] = field(default_factory=lambda: {t: "add" for t in ENTITY_TYPES})

    def check(self) -> None:
        if self.max_length < 8 or not 0 <= self.stride < self.max_length - 2:
            raise ValueError(f"bad windows: max_length {self.max_length}, stride {self.stride} (need 0 ≤ stride < max_length − 2)")
        for t, p in self.combine.items():
            if t not in ENTITY_TYPES or p not in POLICIES:
                raise ValueError(f"bad combination policy {t}: {p} (types {', '.join(ENTITY_TYPES)}; policies {', '.join(POLICIES)})")

    @classmethod
    def load(cls, model_dir: str | Path) -> "NerSettings":
        p = Path(model_dir) / "ner.json"
        s = cls(**json.loads(p.read_text(encoding="utf-8"))) if p.exists() else cls()
        s.check()
        return s

    def save(self, model_dir: str | Path) -> None:
        (Path(model_dir) / "ner.json").write_text(json.dumps(asdict(self), ensure_ascii=False, indent=1), encoding="utf-8")


# --------------------------------------------------------------------------- windows and alignment


@dataclass
class Windows:
    """Overlapping token windows of several texts, one row per window (the fields that a
    tokenizer's ``BatchEncoding`` with ``return_overflowing_tokens`` has: ``input_ids``,
    ``attention_mask``, ``offset_mapping``, ``overflow_to_sample_mapping``, ``sequence_ids``)."""

    input_ids: list[list[int]] = field(default_factory=list)
    attention_mask: list[list[int]] = field(default_factory=list)
    offset_mapping: list[list[tuple[int, int]]] = field(default_factory=list)
    overflow_to_sample_mapping: list[int] = field(default_factory=list)

    def __getitem__(self, key: str):
        return getattr(self, key)

    def sequence_ids(self, i: int) -> list[int | None]:
        n = len(self.input_ids[i])
        return [None] + [0] * (n - 2) + [None]


def encode_windows(tokenizer, texts: Sequence[str], max_length: int, stride: int) -> Windows:
    """Tokenise ``texts`` into windows of at most ``max_length`` tokens ([CLS] … [SEP]) in which
    consecutive windows of a text share ``stride`` tokens.

    Cut here rather than by the tokenizer's ``return_overflowing_tokens``: tokenizers 0.23.2
    and 0.23.3 cut the same paragraphs into different windows (538 against 624 on dev, with
    tokens left in no window by 0.23.2), and a tagger evaluated under 0.23.2 lost 0.2 of dev F1."""
    cls, sep = tokenizer.cls_token_id, tokenizer.sep_token_id
    if cls is None or sep is None:
        raise ValueError("the entity tagger needs a tokenizer with [CLS] and [SEP] tokens (a BERT-family model)")
    body = max_length - 2
    if body < 1 or not 0 <= stride < body:
        raise ValueError(f"windows of {max_length} tokens need 0 ≤ stride < {body}")
    enc = tokenizer(list(texts), add_special_tokens=False, return_offsets_mapping=True, truncation=False, verbose=False)
    out = Windows()
    for k, (ids, offs) in enumerate(zip(enc["input_ids"], enc["offset_mapping"])):
        start = 0
        while True:
            chunk = ids[start:start + body]
            out.input_ids.append([cls] + list(chunk) + [sep])
            out.attention_mask.append([1] * (len(chunk) + 2))
            out.offset_mapping.append([(0, 0)] + [tuple(o) for o in offs[start:start + body]] + [(0, 0)])
            out.overflow_to_sample_mapping.append(k)
            if start + body >= len(ids):
                break
            start += body - stride
    return out


def window_tokens(enc, i: int) -> list[tuple[int, int, int]]:
    """(position in window, start, end) of the text tokens of window ``i`` (special tokens left out)."""
    seq = enc.sequence_ids(i)
    return [(j, a, b) for j, ((a, b), s) in enumerate(zip(enc["offset_mapping"][i], seq)) if s is not None and b > a]


def align_tags(tokens: Sequence[tuple[int, int, int]], n_positions: int, spans: Sequence[tuple[int, int, str]],
               ignore: Sequence[tuple[int, int]] = ()) -> list[int]:
    """Tag ids for one window: ``B-X`` on the token where a span starts, ``I-X`` inside it,
    ``O`` elsewhere, ``IGNORE`` on special tokens and on tokens that start inside an
    ``ignore`` range and in no span (uncertain silver labels)."""
    out = [IGNORE] * n_positions
    for j, a, _ in tokens:
        tag = "O"
        for s, e, t in spans:
            if s <= a < e:
                tag = ("B-" if a == s else "I-") + t
                break
        else:
            if any(lo <= a < hi for lo, hi in ignore):
                out[j] = IGNORE
                continue
        out[j] = TAGS.index(tag)
    return out


def merge_windows(windows: Sequence[tuple[list[tuple[int, int, int]], np.ndarray]]) -> tuple[list[tuple[int, int]], np.ndarray]:
    """Per-token scores of one text from its windows: each token (keyed by its start) takes
    the row of the window where it has the most context on both sides. Returns the token
    offsets in text order and their score rows."""
    best: dict[int, tuple[int, int, np.ndarray]] = {}  # start -> (context, end, row)
    for tokens, rows in windows:
        if not tokens:
            continue
        first, last = tokens[0][0], tokens[-1][0]
        for j, a, b in tokens:
            ctx = min(j - first, last - j)
            if a not in best or ctx > best[a][0]:
                best[a] = (ctx, b, rows[j])
    starts = sorted(best)
    if not starts:
        return [], np.zeros((0, len(TAGS)), dtype=np.float32)
    return [(a, best[a][1]) for a in starts], np.stack([best[a][2] for a in starts])


def _transitions() -> tuple[np.ndarray, np.ndarray]:
    k = len(TAGS)
    trans = np.zeros((k, k))
    start = np.zeros(k)
    for j, tag in enumerate(TAGS):
        if tag.startswith("I-"):
            start[j] = -np.inf
            for i, prev in enumerate(TAGS):
                if prev[2:] != tag[2:] or prev == "O":
                    trans[i, j] = -np.inf
    return start, trans


_START, _TRANS = _transitions()


def viterbi_bio(logp: np.ndarray) -> list[int]:
    """Most probable tag sequence with no ``I-X`` after ``O`` or another type (nor first)."""
    n = logp.shape[0]
    if n == 0:
        return []
    score = _START + logp[0]
    back = np.zeros((n, len(TAGS)), dtype=np.int64)
    for t in range(1, n):
        cand = score[:, None] + _TRANS  # prev × next
        back[t] = cand.argmax(axis=0)
        score = cand.max(axis=0) + logp[t]
    j = int(score.argmax())
    path = [j]
    for t in range(n - 1, 0, -1):
        j = int(back[t, j])
        path.append(j)
    return path[::-1]


def tags_to_spans(offsets: Sequence[tuple[int, int]], tags: Sequence[int]) -> list[tuple[int, int, str]]:
    """Character spans (start, end, type) from token offsets and tag ids; an ``I-X`` that
    does not continue an ``X`` span starts one."""
    spans: list[tuple[int, int, str]] = []
    cur: list | None = None
    for (a, b), k in zip(offsets, tags):
        tag = TAGS[k]
        if tag == "O":
            cur = None
            continue
        typ = tag[2:]
        if tag.startswith("B-") or cur is None or cur[2] != typ:
            cur = [a, b, typ]
            spans.append(cur)  # type: ignore[arg-type]
        else:
            cur[1] = b
    return [tuple(s) for s in spans]  # type: ignore[misc]


VERIFY_MIN_PROB = 0.5


def verify_candidates(text: str, offsets: Sequence[tuple[int, int]], logp: np.ndarray,
                      rule_ents: Sequence[Entity]) -> list[Entity]:
    """The declined rule candidates of ``text`` that the model accepts (``verify`` policy):
    geometric mean of P(B-X), P(I-X)… over the candidate's tokens ≥ ``VERIFY_MIN_PROB``.
    Where accepted candidates overlap (the rules propose several bounds for one name), the one
    the model scores highest is kept."""
    scored = []
    for c in declined_candidates(text, rule_ents):
        if c.type == "DOCNO" and not c.text.endswith(("号", "號")):
            continue
        prob = span_score(c, offsets, logp)
        if prob is not None and prob >= VERIFY_MIN_PROB:
            scored.append((prob, c))
    out: list[Entity] = []
    for prob, c in sorted(scored, key=lambda x: (-x[0], x[1].start, x[1].end)):
        if not _overlaps(c, out):
            out.append(Entity(c.start, c.end, c.type, c.text, source="verified", attrs={"prob": round(prob, 3)}, rule=c.rule))
    return sorted(out, key=lambda e: e.start)


def span_score(e: Entity, offsets: Sequence[tuple[int, int]], logp: np.ndarray) -> float | None:
    """Geometric mean of P(B-X), P(I-X)… over the tokens of span ``e`` (type X), and of
    1 − P(I-X) at the token after it (the span ends there, rather than going on); None when the
    span does not start and end on token bounds."""
    k = next((j for j, (a, _) in enumerate(offsets) if a == e.start), None)
    if k is None:
        return None
    idx = [k]
    while idx[-1] + 1 < len(offsets) and offsets[idx[-1] + 1][1] <= e.end:
        idx.append(idx[-1] + 1)
    if offsets[idx[-1]][1] != e.end:
        return None
    lp = [logp[idx[0], TAGS.index(f"B-{e.type}")]] + [logp[j, TAGS.index(f"I-{e.type}")] for j in idx[1:]]
    nxt = idx[-1] + 1
    if nxt < len(offsets):
        lp.append(np.log(max(1.0 - float(np.exp(logp[nxt, TAGS.index(f"I-{e.type}")])), 1e-12)))
    return float(np.exp(np.mean(lp)))


# --------------------------------------------------------------------------- combination


def _overlaps(e: Entity, chosen: Sequence[Entity]) -> bool:
    return any(e.start < c.end and c.start < e.end for c in chosen)


def combine(rule_ents: Sequence[Entity], model_ents: Sequence[Entity], policy: dict[str, str]) -> list[Entity]:
    """Rule and model spans of one text, per type by ``policy`` (module docstring); the
    result never overlaps. Types missing from ``policy`` keep the rules."""
    pol = {t: policy.get(t, "rules") for t in ENTITY_TYPES}
    for t, p in pol.items():
        if p not in POLICIES:
            raise ValueError(f"unknown combination policy {p!r} for {t}; choose from {', '.join(POLICIES)}")
    chosen: list[Entity] = []

    def take(ents, keep):
        for e in sorted(ents, key=lambda e: (e.start, -(e.end - e.start))):
            if keep(e) and e.end > e.start and not _overlaps(e, chosen):
                chosen.append(e)

    verified = [e for e in model_ents if e.source == "verified"]
    model_ents = [e for e in model_ents if e.source != "verified"]
    take(model_ents, lambda e: pol[e.type] in ("prefer", "model"))

    def covers(e: Entity) -> bool:  # overlaps rule spans only by containing them, none of its own type
        inside = [r for r in rule_ents if r.start < e.end and e.start < r.end]
        return bool(inside) and all(r.type != e.type and e.start <= r.start and r.end <= e.end
                                    and (r.start, r.end) != (e.start, e.end) for r in inside)

    take(model_ents, lambda e: pol[e.type] == "cover" and covers(e))
    take(verified, lambda e: pol[e.type] == "verify" and covers(e))
    take(rule_ents, lambda e: pol[e.type] != "model")
    take(verified, lambda e: pol[e.type] == "verify")
    take(model_ents, lambda e: pol[e.type] in ("add", "cover"))
    return sorted(chosen, key=lambda e: e.start)


# --------------------------------------------------------------------------- the extractor


class BertEntityExtractor:
    """Entities of paragraphs from a token-classification BERT, alone (``mode="model"``) or
    combined with the rules (``mode="combined"``, the policy of ``ner.json``). An
    ``nlp.components.base.EntityExtractor``: ``name``, ``device`` (a string), ``entities_many``, ``entities``."""

    name: str
    device: str

    def __init__(self, model: str | Path, mode: str = "combined", batch_size: int = 32, device: str | None = None,
                 combine_policy: dict[str, str] | None = None):
        import torch
        from transformers import AutoModelForTokenClassification

        if mode not in ("model", "combined"):
            raise ValueError(f"unknown entity mode {mode!r} for a model; choose from model, combined")
        src = str(model)
        local = Path(src).exists()
        if local and not (Path(src) / "config.json").exists():
            raise OSError(f"{src}: not a model directory (no config.json)")
        from .io import load_pretrained, torch_device

        self.tokenizer, self.model = load_pretrained(AutoModelForTokenClassification, src, "a token classifier")
        if not getattr(self.tokenizer, "is_fast", False):
            raise OSError(f"{src}: the entity extractor needs a fast tokenizer (tokenizer.json) for character offsets")
        id2label = {int(k): v for k, v in self.model.config.id2label.items()}
        if [id2label.get(i) for i in range(len(id2label))] != list(TAGS):
            raise OSError(f"{src}: model tags {sorted(id2label.values())} are not the BIO entity tags {list(TAGS)}; "
                          "train one with `nlp train ner --base ...`")
        self.settings = NerSettings.load(src) if local else NerSettings()
        if combine_policy is not None:
            self.settings.combine = dict(combine_policy)
            self.settings.check()
        self.mode = mode
        self.device = torch_device(device)
        self.model.to(self.device).eval()
        self.batch_size = batch_size
        self.name = f"{Path(src).name if local else src}" + ("+rules" if mode == "combined" else "")

    # -- model spans

    def token_scores(self, texts: Sequence[str]) -> list[tuple[list[tuple[int, int]], np.ndarray]]:
        """Per text: token offsets and tag log-probabilities, windows merged."""
        import torch

        if not texts:
            return []
        enc = encode_windows(self.tokenizer, texts, self.settings.max_length, self.settings.stride)
        n = len(enc["input_ids"])
        owner = enc["overflow_to_sample_mapping"]
        rows: list[np.ndarray | None] = [None] * n
        order = sorted(range(n), key=lambda i: len(enc["input_ids"][i]))
        with torch.inference_mode():
            for b in range(0, n, self.batch_size):
                ids = order[b:b + self.batch_size]
                width = max(len(enc["input_ids"][i]) for i in ids)
                x = torch.zeros((len(ids), width), dtype=torch.long)
                mask = torch.zeros_like(x)
                for r, i in enumerate(ids):
                    seq = enc["input_ids"][i]
                    x[r, :len(seq)] = torch.tensor(seq)
                    mask[r, :len(seq)] = 1
                logits = self.model(input_ids=x.to(self.device), attention_mask=mask.to(self.device)).logits.float()
                logp = torch.log_softmax(logits, dim=-1).cpu().numpy()
                for r, i in enumerate(ids):
                    rows[i] = logp[r]
        per_text: list[list] = [[] for _ in texts]
        for i in range(n):
            per_text[owner[i]].append((window_tokens(enc, i), rows[i]))
        return [merge_windows(w) for w in per_text]

    def model_entities_many(self, texts: Sequence[str], verified: bool = False) -> list[list[Entity]]:
        """Model spans of each text; with ``verified``, also the declined rule candidates the
        model accepts (``source="verified"``, for the ``verify`` combination)."""
        out = []
        for text, (offsets, logp) in zip(texts, self.token_scores(texts)):
            spans = tags_to_spans(offsets, viterbi_bio(logp))
            ents = [Entity(a, b, t, text[a:b], source="model") for a, b, t in spans]
            if verified:
                ents += verify_candidates(text, offsets, logp, extract(text))
            out.append(ents)
        return out

    # -- entities as the pipeline uses them

    def entities_many(self, items: Sequence[tuple]) -> list[list[Entity]]:
        """Entities of several paragraphs in one batched pass. Each item is (text, sentence
        label spans) or (text, sentence label spans, first_paragraph): the rules are told which
        paragraph opens its document, as ``extract`` is. METRIC target flags as the rules set them."""
        texts = [it[0] for it in items]
        pols = set(self.settings.combine.values())
        if self.mode == "combined" and pols <= {"rules", "verify"}:
            # the model only judges the rules' declined candidates: read only the texts that have one
            need = [i for i, t in enumerate(texts)
                    if any(self.settings.combine.get(c.type) == "verify" for c in declined_candidates(t, extract(t)))]
            got = dict(zip(need, self.model_entities_many([texts[i] for i in need], verified=True)))
            model = [got.get(i, []) for i in range(len(texts))]
        else:
            model = self.model_entities_many(texts, verified=self.mode == "combined" and "verify" in pols)
        out = []
        for it, m in zip(items, model):
            text, sl, first = it[0], it[1], bool(it[2]) if len(it) > 2 else False
            ents = combine(extract(text, first_paragraph=first), m, self.settings.combine) if self.mode == "combined" else m
            set_metric_targets(text, ents, sl)
            out.append(ents)
        return out

    def entities(self, text: str, sentence_labels: list[tuple[int, int, str]] | None = None,
                 first_paragraph: bool = False) -> list[Entity]:
        return self.entities_many([(text, sentence_labels, first_paragraph)])[0]


def load_entity_extractor(model: str | Path, mode: str = "combined", device: str | None = None) -> BertEntityExtractor:
    """A token-classification model directory (or hub id) as an entity extractor; raises
    OSError or ValueError with a one-line message."""
    return BertEntityExtractor(model, mode=mode, device=device)
