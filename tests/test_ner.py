"""Entity tagger: windows and alignment, BIO decoding, combination with the rules, standoff
hand entities, and a tiny random BERT trained and used end to end through the CLI."""

import gzip
import json
import random
import subprocess
import sys

import numpy as np
import pytest

from conftest import ROOT, TOY_REPORT, save_tiny_bert
from nlp.extract import extract
from nlp.ner import (IGNORE, TAGS, align_tags, combine, encode_windows, merge_windows, tags_to_spans, viterbi_bio,
                     window_tokens)
from nlp.schema import Entity
from nlp.text import build_document

EXTRA = "《》〔〕号令第年月日%．.0123456789遂府办发规定条例办法"
CHARS = sorted(set(TOY_REPORT + EXTRA) - set("\n "))


@pytest.fixture(scope="module")
def tiny_bert(tmp_path_factory):
    return save_tiny_bert(tmp_path_factory.mktemp("tiny-bert"), CHARS)


@pytest.fixture(scope="module")
def tokenizer(tiny_bert):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(tiny_bert))


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("data")
    rows = [{"id": f"toy-{i}", "kind": "report", "split": "train", "text": TOY_REPORT} for i in range(4)]
    rows.append({"id": "toy-dev", "kind": "report", "split": "dev", "text": TOY_REPORT})
    (d / "reports.jsonl").write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    (d / "corpus").mkdir()
    lines = ["根据遂府办发〔2023〕12号,印发《东湖县行政规范性文件管理办法》,2023年审查文件15件,合格率100%。",
             "一句没有实体的话。", "县政府令第3号公布《东湖县城市管理条例》,2024年1月1日起施行。"] * 5
    with gzip.open(d / "corpus" / "laws.txt.gz", "wt", encoding="utf-8") as f:
        f.write("\n".join(lines))
    return d


def run(*args):
    return subprocess.run([sys.executable, "-m", "nlp", *args], capture_output=True, text=True)


# --------------------------------------------------------------------------- windows, alignment, decoding


def _perfect_rows(tags):
    rows = np.full((len(tags), len(TAGS)), -30.0)
    for j, t in enumerate(tags):
        rows[j, t if t != IGNORE else 0] = 0.0
    return rows


def test_windows_cover_long_text_with_overlap_and_round_trip(tokenizer):
    text = "根据遂府办发〔2023〕12号,印发《东湖县行政规范性文件管理办法》,2023年审查文件15件,合格率100%。" * 4
    spans = [(e.start, e.end, e.type) for e in extract(text)]
    assert {t for *_, t in spans} == {"DOCNO", "LAW", "DATE", "METRIC"}
    enc = encode_windows(tokenizer, [text], max_length=24, stride=6)
    n = len(enc["input_ids"])
    assert n > 4 and all(len(x) <= 24 for x in enc["input_ids"])
    toks = [window_tokens(enc, i) for i in range(n)]
    # consecutive windows share `stride` tokens; together they cover every character but none twice in order
    for a, b in zip(toks, toks[1:]):
        assert [t[1] for t in a[-6:]] == [t[1] for t in b[:6]]
    covered = sorted({t[1] for w in toks for t in w})
    assert covered == [i for i, c in enumerate(text) if not c.isspace()]
    # one character per token: the vocabulary is character-level (digits as ## pieces)
    assert all(b - a == 1 for w in toks for _, a, b in w)
    wins = [(toks[i], _perfect_rows(align_tags(toks[i], len(enc["input_ids"][i]), spans))) for i in range(n)]
    offsets, logp = merge_windows(wins)
    assert tags_to_spans(offsets, viterbi_bio(logp)) == spans


def test_windows_are_cut_by_us_full_length_for_several_texts(tokenizer):
    """Windows do not depend on the tokenizer's overflow handling (tokenizers 0.23.2 and 0.23.3
    differ there): every window but a text's last is full, texts map to their windows in order,
    an empty text gets one window, and a stride that leaves no progress is refused."""
    texts = ["依法行政" * 30, "", "办结案件142件。", "法治政府建设" * 11]
    enc = encode_windows(tokenizer, texts, max_length=32, stride=8)
    owners = enc["overflow_to_sample_mapping"]
    assert owners == sorted(owners) and set(owners) == {0, 1, 2, 3}
    for k, text in enumerate(texts):
        rows = [i for i, o in enumerate(owners) if o == k]
        assert all(len(enc["input_ids"][i]) == 32 for i in rows[:-1])
        full = tokenizer(text, add_special_tokens=False)["input_ids"]
        body = [enc["input_ids"][i][1:-1] for i in rows]
        rebuilt = body[0] + [t for b in body[1:] for t in b[8:]]
        assert rebuilt == full
        assert all(enc["input_ids"][i][0] == tokenizer.cls_token_id and enc["input_ids"][i][-1] == tokenizer.sep_token_id
                   for i in rows)
    assert enc["input_ids"][owners.index(1)] == [tokenizer.cls_token_id, tokenizer.sep_token_id]
    with pytest.raises(ValueError, match="stride"):
        encode_windows(tokenizer, texts, max_length=10, stride=8)


def test_align_tags_bio_special_tokens_and_ignore(tokenizer):
    text = "印发《办法》2023年"
    enc = encode_windows(tokenizer, [text], 64, 0)
    toks = window_tokens(enc, 0)
    tags = align_tags(toks, len(enc["input_ids"][0]), [(3, 5, "LAW")], ignore=[(6, 10)])
    assert tags[0] == IGNORE and tags[-1] == IGNORE  # [CLS], [SEP]
    by_char = {a: TAGS[t] if t != IGNORE else None for (j, a, _), t in zip(toks, [tags[j] for j, _, _ in toks])}
    assert by_char[3] == "B-LAW" and by_char[4] == "I-LAW" and by_char[2] == "O" and by_char[5] == "O"
    assert all(by_char[i] is None for i in range(6, 10)) and by_char[10] == "O"  # uncertain: no loss


def test_merge_prefers_the_window_with_more_context():
    left = ([(0, 0, 1), (1, 1, 2), (2, 2, 3)], np.array([[0.0] * 9, [1.0] * 9, [2.0] * 9]))
    right = ([(0, 1, 2), (1, 2, 3), (2, 3, 4)], np.array([[5.0] * 9, [6.0] * 9, [7.0] * 9]))
    offsets, rows = merge_windows([left, right])
    assert offsets == [(0, 1), (1, 2), (2, 3), (3, 4)]
    # char 1 is in the middle of `left` (context 1) and at the edge of `right` (context 0)
    assert rows[1][0] == 1.0 and rows[2][0] == 6.0


def test_viterbi_never_starts_inside_or_switches_type():
    k = {t: i for i, t in enumerate(TAGS)}
    lp = np.full((3, len(TAGS)), -10.0)
    lp[0, k["I-LAW"]] = 0.0  # most probable alone, but I cannot start
    lp[0, k["B-LAW"]] = -1.0
    lp[1, k["I-DATE"]] = 0.0  # I-DATE after a LAW is not allowed
    lp[1, k["I-LAW"]] = -2.0
    lp[2, k["O"]] = 0.0
    assert [TAGS[i] for i in viterbi_bio(lp)] == ["B-LAW", "I-LAW", "O"]
    # stray I tags (e.g. from argmax) still make spans
    assert tags_to_spans([(0, 1), (1, 2), (3, 4)], [k["I-DATE"], k["I-DATE"], k["B-METRIC"]]) == [(0, 2, "DATE"), (3, 4, "METRIC")]
    assert tags_to_spans([], []) == []


# --------------------------------------------------------------------------- combination


def E(a, b, t, src="rules"):
    return Entity(a, b, t, "x" * (b - a), source=src)


def test_combination_policies():
    rules = [E(0, 4, "DATE"), E(10, 14, "LAW"), E(20, 24, "METRIC")]
    model = [E(0, 12, "LAW", "model"), E(30, 33, "DOCNO", "model"), E(20, 23, "METRIC", "model"), E(40, 42, "DATE", "model")]

    def spans(pol):
        return [(e.start, e.end, e.type, e.source) for e in combine(rules, model, pol)]

    assert spans({}) == [(0, 4, "DATE", "rules"), (10, 14, "LAW", "rules"), (20, 24, "METRIC", "rules")]
    # add: model spans only where no rule span is
    assert spans({"LAW": "add", "DOCNO": "add", "METRIC": "add", "DATE": "add"}) == [
        (0, 4, "DATE", "rules"), (10, 14, "LAW", "rules"), (20, 24, "METRIC", "rules"), (30, 33, "DOCNO", "model"),
        (40, 42, "DATE", "model")]
    # prefer: model LAW boundaries replace the overlapping rule spans of any type
    assert spans({"LAW": "prefer", "METRIC": "rules"}) == [(0, 12, "LAW", "model"), (20, 24, "METRIC", "rules")]
    # cover: as add, and a model LAW span that wholly contains a rule DATE replaces it (no nesting);
    # the model LAW (0, 12) also overlaps the rule LAW (10, 14), so it does not cover
    assert spans({"LAW": "cover"}) == spans({})
    title = [E(0, 16, "LAW", "model"), E(30, 33, "DOCNO", "model")]
    inner = [E(5, 9, "DATE"), E(20, 24, "METRIC")]
    got = [(e.start, e.end, e.type, e.source) for e in combine(inner, title, {"LAW": "cover", "DOCNO": "cover"})]
    assert got == [(0, 16, "LAW", "model"), (20, 24, "METRIC", "rules"), (30, 33, "DOCNO", "model")]
    same = [E(0, 16, "DATE")]  # identical bounds: not covered (the model only relabels a rule span)
    assert [e.source for e in combine(same, title, {"LAW": "cover"})] == ["rules"]
    # model: rule spans of the type dropped
    assert spans({"METRIC": "model"}) == [(0, 4, "DATE", "rules"), (10, 14, "LAW", "rules"), (20, 23, "METRIC", "model")]
    with pytest.raises(ValueError, match="unknown combination policy"):
        combine(rules, model, {"LAW": "both"})


def test_verify_accepts_declined_candidates_the_model_believes():
    import numpy as np

    from nlp.extract import declined_candidates
    from nlp.ner import TAGS, verify_candidates

    text = "按照东州府办发〔202431号和遂府〔20246,入选2023全国案例"
    rules = extract(text)
    assert not any(e.type == "DOCNO" for e in rules)  # damaged numbers: the rules decline them
    cands = {(e.type, e.text) for e in declined_candidates(text, rules)}
    assert ("DOCNO", "东州府办发〔202431号") in cands  # the running sentence (按照) trimmed off
    assert ("DATE", "2023") in cands
    offsets = [(i, i + 1) for i in range(len(text))]  # one token per character
    logp = np.full((len(text), len(TAGS)), np.log(0.9))
    logp[:, 1:] = np.log(0.1 / (len(TAGS) - 1))  # "O" everywhere ...
    a = text.index("东州")
    b = text.index("号") + 1
    for j in range(a, b):  # ... except a confident DOCNO over the damaged number
        logp[j] = np.log(0.02)
        logp[j, TAGS.index("B-DOCNO" if j == a else "I-DOCNO")] = np.log(0.9)
    c = text.index("遂府")
    for j in range(c, c + 8):  # the model also likes the cut-off one, which has no 号
        logp[j] = np.log(0.02)
        logp[j, TAGS.index("B-DOCNO" if j == c else "I-DOCNO")] = np.log(0.9)
    got = verify_candidates(text, offsets, logp, rules)
    assert [(e.type, e.text, e.source) for e in got] == [("DOCNO", "东州府办发〔202431号", "verified")]
    # verify takes them, other policies ignore them, and rules-only leaves them out
    assert [e.text for e in combine(rules, got, {"DOCNO": "verify"}) if e.type == "DOCNO"] == ["东州府办发〔202431号"]
    assert not any(e.type == "DOCNO" for e in combine(rules, got, {"DOCNO": "add"}))
    assert not any(e.type == "DOCNO" for e in combine(rules, got, {}))


def test_verify_keeps_the_bounds_the_model_scores_highest():
    """An unbracketed title is proposed with several starts (the regex's, 关于, after a verb); of
    the accepted ones that overlap, the best-scored is kept, and it replaces the year inside it."""
    import numpy as np

    from nlp.extract import declined_candidates
    from nlp.ner import TAGS, verify_candidates

    text = "我们已印发关于落实东湖市执法提升行动方案(2024—2026年)的通知,2024年完成"
    rules = extract(text)
    cands = [e.text for e in declined_candidates(text, rules) if e.type == "LAW"]
    name = "关于落实东湖市执法提升行动方案(2024—2026年)的通知"
    assert name in cands and any(c.startswith("我们已印发") for c in cands)
    offsets = [(i, i + 1) for i in range(len(text))]
    logp = np.full((len(text), len(TAGS)), np.log(0.02))
    logp[:, 0] = np.log(0.9)
    a, b = text.index("关于"), text.index("通知") + 2
    logp[text.index("我们")] = np.log(0.02)
    logp[text.index("我们"), TAGS.index("B-LAW")] = np.log(0.6)  # the sloppy start: accepted, but lower
    for j in range(text.index("我们") + 1, b):
        logp[j] = np.log(0.02)
        logp[j, TAGS.index("I-LAW")] = np.log(0.9)
    logp[a] = np.log(0.02)
    logp[a, TAGS.index("B-LAW")] = np.log(0.9)
    got = verify_candidates(text, offsets, logp, rules)
    assert [e.text for e in got] == [name]
    kept = combine(rules, got, {"LAW": "verify"})
    assert [(e.type, e.text) for e in kept] == [("LAW", name), ("DATE", "2024年")]


def test_choose_policy_keeps_rules_unless_a_type_gains():
    from types import SimpleNamespace

    from nlp.training.ner import choose_policy

    text = "东湖市城市管理条例与《行政复议法》"
    gold = SimpleNamespace(text=text, entities=[{"start": 0, "end": 9, "type": "LAW"}, {"start": 11, "end": 16, "type": "LAW"}])
    paras = [(0, 0, gold)]
    rules = [extract(text)]
    assert [(e.start, e.end) for e in rules[0]] == [(11, 16)]
    good = [[E(0, 9, "LAW", "model")]]
    pol, s = choose_policy(paras, rules, good)
    assert pol["LAW"] in ("add", "cover", "prefer") and s["LAW"] == 1.0 and pol["DATE"] == "rules"
    assert pol["LAW"] == "add"  # ties go to the policy that keeps more of the rules
    bad = [[E(0, 3, "LAW", "model"), E(11, 13, "LAW", "model")]]
    pol, _ = choose_policy(paras, rules, bad)
    assert pol == {"LAW": "rules", "DOCNO": "rules", "METRIC": "rules", "DATE": "rules"}


# --------------------------------------------------------------------------- silver noise care


def test_uncertain_ranges_and_bracket_dropout():
    from nlp.training.ner import NerExample, drop_brackets, uncertain_ranges

    text = "印发东湖市城市管理条例,入选2023全国典型案例,见东州府办发〔202431号,依据《行政复议法》。"
    spans = [(e.start, e.end, e.type) for e in extract(text)]
    got = [text[a:b] for a, b in uncertain_ranges(text, spans)]
    assert any("东湖市城市管理条例" in g for g in got)
    assert "2023" in got
    assert any("〔202431号" in g for g in got)
    assert not any("行政复议法" in g for g in got)  # a silver span is trusted
    ex = NerExample("reports", "d|0", text, spans, [], 1.0, 0.05)
    out = drop_brackets(ex, 1.0, random.Random(0))
    assert "《" not in out.text and "》" not in out.text
    assert [out.text[a:b] for a, b, t in out.spans if t == "LAW"] == ["行政复议法"]
    assert drop_brackets(ex, 0.0, random.Random(0)) is ex


def test_year_dropout_writes_years_running_into_a_name_as_bare_years():
    from nlp.training.ner import drop_year_suffix, silver_example

    text = "入选“2023年全国典型案例”,2023年度完成,2022年以来,2024年5月"
    ex = silver_example("reports", "d|0", text, 0.05)
    out = drop_year_suffix(ex, 1.0, random.Random(0))
    assert out.text.startswith("入选“2023全国典型案例”")
    assert [out.text[a:b] for a, b, t in out.spans if t == "DATE"] == ["2023", "2023年度", "2022年", "2024年5月"]
    assert drop_year_suffix(ex, 0.0, random.Random(0)) is ex


def test_silver_says_nothing_inside_a_probable_unbracketed_title():
    from nlp.training.ner import silver_example

    text = "印发关于落实某市执法质量提升行动方案(2024—2026年)的通知,2024年完成"
    assert any(e.type == "DATE" and e.text == "2024—2026年" for e in extract(text))
    ex = silver_example("reports", "d|0", text, 0.05)
    assert [text[a:b] for a, b, _ in ex.spans] == ["2024年"]  # the period inside the title is not a DATE
    assert any(text[a:b].endswith("(2024—2026年)的通知") for a, b in ex.ignore)
    bracketed = "印发《某市执法质量提升行动方案(2024—2026年)》"
    assert silver_example("reports", "d|0", bracketed, 0.05).ignore == []  # a silver LAW is trusted


def test_local_attention_init_only_when_positions_are_unstructured(tiny_bert):
    import torch
    from transformers import AutoModelForTokenClassification

    from nlp.training.ner import local_attention_init, position_structure

    m = AutoModelForTokenClassification.from_pretrained(str(tiny_bert), num_labels=len(TAGS), num_hidden_layers=1,
                                                        attn_implementation="eager")
    assert m.config.num_hidden_layers == 1
    pos = m.bert.embeddings.position_embeddings.weight
    assert position_structure(pos.detach()) < 0.1  # random, like an encoder pretrained for a few steps
    assert not local_attention_init(m, "keep")
    assert local_attention_init(m, "auto")
    assert position_structure(pos.detach()) > 0.3
    m.eval()
    with torch.no_grad():
        att = m.bert(input_ids=torch.randint(5, 30, (1, 40)), output_attentions=True).attentions[0][0]
    prev = float(torch.stack([att[0, i, i - 1] for i in range(1, 40)]).mean())
    nxt = float(torch.stack([att[1, i, i + 1] for i in range(39)]).mean())
    assert prev > 0.5 and nxt > 0.5, (prev, nxt)  # heads 0 and 1 look at the previous and the next token
    assert not local_attention_init(m, "auto")  # structured positions are kept
    with pytest.raises(ValueError, match="position init"):
        local_attention_init(m, "zeros")


# --------------------------------------------------------------------------- hand-labelled entities


def _hand_labels(doc_id="toy-1"):
    doc = build_document(TOY_REPORT, doc_id)
    labels = {}
    for pi, p in enumerate(doc.paragraphs):
        labels[f"{doc_id}|{pi}"] = [(e.type, e.text, p.text[:e.start].count(e.text) + 1) for e in extract(p.text)]
    return doc, labels


def test_hand_entities_round_trip_without_text(data_dir, tmp_path):
    from nlp.training.hand_entities import load_hand_entities, read_entity_tsv, standoff_entities

    doc, labels = _hand_labels()
    lines = []
    for key, items in labels.items():
        lines += [f"{key}\t{t}\t{s}\t{n}" for t, s, n in items] or [f"{key}\t-\t-\t0"]
    tsv = tmp_path / "ents.tsv"
    tsv.write_text("\n".join(lines), encoding="utf-8")
    assert read_entity_tsv(tsv) == labels
    recs = standoff_entities(labels, data_dir)
    assert all(set(r) == {"source", "doc", "para", "start", "end", "type", "sha1"} for r in recs)
    empty = [r for r in recs if r["type"] is None]
    assert empty and len(empty) == sum(1 for v in labels.values() if not v)
    path = tmp_path / "hand.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in recs), encoding="utf-8")
    assert "东湖" not in path.read_text(encoding="utf-8")  # no text stored
    h = load_hand_entities(path, data_dir)
    assert not h.mismatched and len(h.paragraphs) == len(doc.paragraphs)
    for p in h.paragraphs:
        assert p.spans == [(e.start, e.end, e.type) for e in extract(p.text)]


def test_hand_entities_drift_dev_and_overlap_are_caught(data_dir, tmp_path):
    from nlp.training.hand_entities import load_hand_entities, standoff_entities

    _, labels = _hand_labels()
    key = next(k for k, v in labels.items() if len(v) >= 2)
    recs = standoff_entities({key: labels[key]}, data_dir)
    path = tmp_path / "hand.jsonl"
    drift = [dict(recs[0], sha1="0123456789")] + recs[1:]
    path.write_text("\n".join(json.dumps(r) for r in drift), encoding="utf-8")
    h = load_hand_entities(path, data_dir)
    assert h.paragraphs == [] and len(h.mismatched) == len(recs)  # the whole paragraph is left out
    overlap = recs + [dict(recs[0], end=recs[1]["end"], sha1=None)]
    from nlp.training.hand import fingerprint

    text = build_document(TOY_REPORT, "toy-1").paragraphs[recs[0]["para"]].text
    overlap[-1]["sha1"] = fingerprint(text[overlap[-1]["start"]:overlap[-1]["end"]])
    path.write_text("\n".join(json.dumps(r) for r in overlap), encoding="utf-8")
    with pytest.raises(ValueError, match="overlap"):
        load_hand_entities(path, data_dir)
    path.write_text(json.dumps(dict(recs[0], doc="toy-dev")), encoding="utf-8")
    with pytest.raises(ValueError, match="split: train"):
        load_hand_entities(path, data_dir)
    with pytest.raises(ValueError, match="fewer than"):
        standoff_entities({key: [("LAW", "不在文中", 1)]}, data_dir)


def test_hold_out_leaves_those_paragraphs_to_the_silver(data_dir, tmp_path):
    from nlp.training.hand_entities import standoff_entities
    from nlp.training.ner import NerTrainConfig, build_examples

    _, labels = _hand_labels()
    hand = tmp_path / "hand.jsonl"
    hand.write_text("\n".join(json.dumps(r) for r in standoff_entities(labels, data_dir)), encoding="utf-8")
    held = sorted(labels)[:2]
    keys = tmp_path / "held.txt"
    keys.write_text("\n".join(held) + "\n", encoding="utf-8")
    cfg = NerTrainConfig(base="b", output="o", reports=str(data_dir / "reports.jsonl"), hand_labels=[str(hand)],
                         corpus_lines=0, bracket_dropout=0.0)
    examples, counts = build_examples(cfg)
    assert counts["hand_paragraphs"] == len(labels)
    cfg.hold_out = str(keys)
    examples, counts = build_examples(cfg)
    assert counts["hand_paragraphs"] == len(labels) - 2
    by_key = {e.key: e for e in examples}
    assert all(by_key[k].source == "reports" for k in held)  # silver, not gone
    assert f"--hold-out {keys}" in cfg.command_line()


def test_shipped_hand_entities_join():
    from conftest import shared_data_or_skip
    from nlp.training.hand_entities import load_hand_entities

    data = shared_data_or_skip()
    path = ROOT / "eval" / "hand" / "train_entities.jsonl"
    if not path.exists():
        pytest.skip("no hand-labelled entities in eval/hand yet")
    h = load_hand_entities(path, data)
    assert not h.mismatched and len(h.paragraphs) >= 400


# --------------------------------------------------------------------------- end to end


def _train_eval_compare_annotate(tiny_bert, data_dir, tmp_path):
    """Train through the CLI, then eval (rules, model, combined), compare and annotate with it."""
    import time

    from nlp.ner import NerSettings
    from nlp.training.hand_entities import standoff_entities

    t0 = time.time()
    _, labels = _hand_labels()
    hand = tmp_path / "hand.jsonl"
    hand.write_text("\n".join(json.dumps(r) for r in standoff_entities(labels, data_dir)), encoding="utf-8")
    out = tmp_path / "ner"
    seed_gold = ROOT / "eval" / "gold" / "seed.jsonl"
    r = run("train", "ner", "--base", str(tiny_bert), "--output", str(out), "--reports", str(data_dir / "reports.jsonl"),
            "--dev", str(seed_gold), "--hand", str(hand), "--epochs", "2", "--batch-size", "8", "--corpus-lines", "6",
            "--max-length", "32", "--stride", "8", "--lr", "1e-3", "--layers", "1", "--threads", "1")
    assert r.returncode == 0, r.stderr[-3000:]
    assert "trained on" in r.stderr and "dev strict micro-F1 rules" in r.stderr
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["model_type"] == "bert" and cfg["architectures"] == ["BertForTokenClassification"]
    assert [cfg["id2label"][str(i)] for i in range(len(TAGS))] == list(TAGS)
    assert (out / "model.safetensors").exists() and not list(out.glob("*.bin")) and not (out / ".best").exists()
    settings = NerSettings.load(out)
    assert settings.max_length == 32 and settings.stride == 8 and set(settings.combine) == {"LAW", "DOCNO", "METRIC", "DATE"}
    summary = json.loads((out / "training_summary.json").read_text())
    assert summary["data"]["hand_paragraphs"] == len(labels) and summary["data"]["corpus_lines"] == {"laws.txt.gz": 6}
    assert summary["data"]["report_paragraphs_silver"] == 3 * len(labels)  # split: train only, hand replaces silver
    assert summary["layers"] == 1 and summary["local_attention_init"] and cfg["num_hidden_layers"] == 1
    # the combination never loses to the rules on dev, per type
    dev = summary["dev"]
    for t in ("LAW", "DOCNO", "METRIC", "DATE"):
        assert dev["model+rules"]["per_type"][t]["f1"] >= dev["rules"]["per_type"][t]["f1"]
    card = (out / "README.md").read_text(encoding="utf-8")
    assert f"--hand {hand}" in card and "--max-length 32" in card and "| model+rules |" in card

    runs = {}
    for name, extra in [("rules", ["--entities", "rules"]), ("model", ["--ner", str(out), "--entities", "model"]),
                        ("combined", ["--ner", str(out)])]:
        runs[name] = tmp_path / f"{name}.json"
        r = run("eval", str(seed_gold), "--labeller", "headings", "--json", str(runs[name]), "--bootstrap", "0", *extra)
        assert r.returncode == 0, r.stderr[-2000:]
    m = {k: json.loads(v.read_text()) for k, v in runs.items()}
    assert m["rules"]["entities_system"] == "rules" and m["model"]["entities_system"] == "ner"
    assert m["combined"]["entities_system"] == "ner+rules"
    assert m["combined"]["entities"]["strict"]["micro_f1"] >= m["rules"]["entities"]["strict"]["micro_f1"]
    r = run("eval", "--compare", str(runs["rules"]), str(runs["model"]), str(runs["combined"]), "--bootstrap", "20",
            "--md", str(tmp_path / "cmp.md"))
    assert r.returncode == 0, r.stderr[-2000:]
    md = (tmp_path / "cmp.md").read_text(encoding="utf-8")
    for row in ("LAW strict F1", "DOCNO strict F1", "METRIC strict F1", "DATE strict F1", "METRIC target accuracy"):
        assert row in md
    assert "headings + rules" in md and "headings + ner+rules" in md

    r = run("annotate", str(ROOT / "examples" / "suining-2023.txt"), "--labeller", "headings", "--ner", str(out),
            "-o", str(tmp_path / "a.jsonl"))
    assert r.returncode == 0, r.stderr[-2000:]
    rec = json.loads((tmp_path / "a.jsonl").read_text(encoding="utf-8"))
    assert rec["meta"]["entities"] == "ner+rules"
    ents = rec["entities"]
    assert all(rec["text"][e["start"]:e["end"]] == e["text"] for e in ents)
    assert all("indicator" in e for e in ents if e["type"] == "METRIC")
    spans = sorted((e["start"], e["end"]) for e in ents)
    assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:]))  # never overlapping
    assert time.time() - t0 < 120
    return out


@pytest.fixture(scope="module")
def trained_ner(tiny_bert, data_dir, tmp_path_factory):
    return _train_eval_compare_annotate(tiny_bert, data_dir, tmp_path_factory.mktemp("e2e"))


def test_train_eval_compare_annotate_with_tiny_bert(trained_ner):
    assert (trained_ner / "model.safetensors").exists()  # the checks run in _train_eval_compare_annotate


def test_default_entities_follow_the_shipped_entity_model(trained_ner, monkeypatch):
    from nlp import pipeline
    from nlp.pipeline import HeadingsLabeller, LabellerSpec, annotate_text

    monkeypatch.setattr(pipeline, "DEFAULT_NER", None)
    assert annotate_text(TOY_REPORT, labeller=HeadingsLabeller()).meta.get("entities") is None  # the rules
    monkeypatch.setattr(pipeline, "MODELS_DIR", trained_ner.parent)
    monkeypatch.setattr(pipeline, "DEFAULT_NER", trained_ner.name)
    doc = annotate_text(TOY_REPORT, labeller=HeadingsLabeller())
    assert doc.meta["entities"] == "ner+rules"
    assert LabellerSpec(name="headings", entities="rules").load().entity_extractor is None
    assert LabellerSpec(name="headings", entities="model").load().entity_extractor.name == "ner"


def test_bad_entity_options_are_one_line_errors(tiny_bert, tmp_path):
    gold = str(ROOT / "eval" / "gold" / "seed.jsonl")
    import os

    no_models = dict(os.environ, GOVREPORT_MODELS=str(tmp_path / "no-models"))  # no shipped entity tagger
    for args, msg in [(["--entities", "both"], "unknown entities"),
                      (["--ner", str(tmp_path)], "not a model directory"),
                      (["--ner", str(tiny_bert)], "not the BIO entity tags"),
                      (["--entities", "model"], "--entities model needs an entity model made by `nlp train ner`; use --ner DIR")]:
        r = subprocess.run([sys.executable, "-m", "nlp", "eval", gold, "--labeller", "headings", "--bootstrap", "0", *args],
                           capture_output=True, text=True, env=no_models)
        assert r.returncode != 0, args
        errs = [ln for ln in r.stderr.splitlines() if ln.startswith("error:")]
        assert errs and msg in errs[0] and "Traceback" not in r.stderr, r.stderr[-1500:]
    r = run("annotate", str(ROOT / "examples" / "suining-2023.txt"), "--labeller", "headings", "--ner", str(tmp_path),
            "-o", str(tmp_path / "a.jsonl"))
    assert r.returncode != 0 and "not a model directory" in r.stderr and "Traceback" not in r.stderr
    r = run("train", "ner", "--base", str(tiny_bert), "--output", str(tmp_path / "x"), "--reports", str(tmp_path / "none.jsonl"))
    assert r.returncode != 0 and "no such file" in r.stderr


def test_combined_entities_are_told_the_first_paragraph_as_the_rules_are(trained_ner):
    """A document's own title (its first paragraph) is not LAW in the combined mode either:
    with every type kept from the rules, the combination gives exactly the rules' spans."""
    from nlp.ner import BertEntityExtractor
    from nlp.pipeline import HeadingsLabeller, add_entities, annotate_text
    from nlp.schema import ENTITY_TYPES

    ext = BertEntityExtractor(trained_ner, mode="combined", combine_policy={t: "rules" for t in ENTITY_TYPES})
    name = "东湖市城市绿化管理条例"
    assert [e.type for e in ext.entities(name)] == ["LAW"]
    assert ext.entities(name, first_paragraph=True) == []
    doc = annotate_text(f"{name}\n\n{name}\n", labeller=HeadingsLabeller())
    add_entities(doc, ext)
    assert [(e.start, e.type) for e in doc.entities] == [(doc.paragraphs[1].start, "LAW")]


def test_verify_only_reads_just_the_texts_with_candidates_and_agrees_with_a_full_pass(trained_ner):
    from nlp.ner import BertEntityExtractor, combine
    from nlp.schema import ENTITY_TYPES

    policy = {t: "verify" for t in ENTITY_TYPES}
    ext = BertEntityExtractor(trained_ner, mode="combined", combine_policy=policy)
    texts = ["依据《行政复议法》办结案件12件。", "见东州府办发〔202431号,入选2023全国案例。", "制定东湖市养犬管理工作方案。"]
    seen = []
    full = ext.model_entities_many(texts, verified=True)
    orig = ext.model_entities_many
    ext.model_entities_many = lambda ts, verified=False: seen.extend(ts) or orig(ts, verified)
    got = ext.entities_many([(t, None) for t in texts])
    assert seen == texts[1:]  # the first text has no declined candidate: the model is not run on it
    want = [combine(extract(t), m, policy) for t, m in zip(texts, full)]
    assert [[(e.start, e.end, e.type) for e in g] for g in got] == [[(e.start, e.end, e.type) for e in w] for w in want]


def test_shipped_entity_tagger_verifies_damaged_document_numbers():
    """models/ner-small, combined as its ner.json says (DOCNO and DATE verify): a document number
    whose closing bracket was lost in scraping is taken, a cut-off one without 号 is not, a bare
    year before a period is taken, and every other span is the rules'."""
    from nlp.ner import BertEntityExtractor, NerSettings

    d = ROOT / "models" / "ner-small"
    assert NerSettings.load(d).combine["DOCNO"] == "verify"
    ext = BertEntityExtractor(d, mode="combined", device="cpu")
    text = "按照《东湖区2024年法治政府建设工作要点》(东湖府办发〔202419号)要求,全区完成各项任务。"
    got = [(e.type, e.text, e.source) for e in ext.entities(text)]
    assert got == [("LAW", "东湖区2024年法治政府建设工作要点", "rules"), ("DOCNO", "东湖府办发〔202419号", "verified")]
    cut = "附件:东湖府发〔20247"
    assert not any(e.type == "DOCNO" for e in ext.entities(cut))
    # DATE verify: a bare year in front of a period is taken, one inside an index number is not
    assert NerSettings.load(d).combine["DATE"] == "verify"
    assert [(e.type, e.text, e.source) for e in ext.entities("2022全年开展行政执法检查12次。")] == [
        ("DATE", "2022", "verified"), ("METRIC", "12次", "rules")]
    assert not any(e.type == "DATE" for e in ext.entities("索引号2023东湖001"))
    plain = "依据《行政复议法》办结案件12件,2024年完成。"
    assert [(e.start, e.end, e.type) for e in ext.entities(plain)] == [(e.start, e.end, e.type) for e in extract(plain)]
