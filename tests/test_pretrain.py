"""Vocabulary building and masked-LM pretraining on a tiny corpus written by the test."""

import gzip
import random

import pytest
import torch

from nlp.training.pretrain import PretrainConfig, build_vocab, mask_batch, pretrain

WORDS = "法治 政府 建设 依法 行政 执法 监督 复议 诉讼 改革 服务 推进 加强 完善 制度 工作 全面 落实 年度 报告".split()


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    d = tmp_path_factory.mktemp("corpus")
    rng = random.Random(0)
    with gzip.open(d / "toy.txt.gz", "wt", encoding="utf-8") as f:
        for i in range(300):
            f.write("".join(rng.choice(WORDS) for _ in range(rng.randint(5, 25))) + f"。全年办结{i}件,ABC提升。\n")
    return d


def test_vocab_has_specials_digits_latin_and_cjk(corpus):
    vocab = build_vocab(corpus, max_size=500, min_count=1)
    assert vocab[:5] == ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    for t in ["0", "##7", "a", "##b", "法", "。", ","]:
        assert t in vocab
    assert "A" not in vocab  # the tokenizer lower-cases
    assert len(vocab) == len(set(vocab)) <= 500


def test_whole_word_masking_masks_words_together():
    class Tok:
        mask_token_id = 4

        def __len__(self):
            return 50

    ids = torch.arange(10, 30).reshape(1, 20)
    words = torch.tensor([[-1] + [i // 4 for i in range(18)] + [-1]])
    gen = torch.Generator().manual_seed(0)
    _, labels = mask_batch(ids, words, Tok(), 0.5, gen)
    chosen = labels[0] != -100
    assert not chosen[0] and not chosen[-1]
    for w in words[0].unique().tolist():
        if w >= 0:
            sel = chosen[words[0] == w]
            assert bool(sel.all()) or not bool(sel.any())


def test_pretrain_resume_and_autotokenizer(corpus, tmp_path):
    from transformers import AutoModelForMaskedLM, AutoTokenizer

    out = tmp_path / "enc"
    base = dict(corpus=str(corpus), output=str(out), config="tiny", seq_len=32, batch_size=8, warmup_steps=2,
                save_every=5, vocab_size=300, log_every=2)
    s1 = pretrain(PretrainConfig(max_steps=10, **base), progress=False)
    assert s1["steps"] == 10
    s2 = pretrain(PretrainConfig(max_steps=14, masking="wwm", **base), progress=False)
    assert s2["steps"] == 14 and s2["tokens_seen"] == 14 * 8 * 32  # resumed, not restarted
    card = (out / "README.md").read_text(encoding="utf-8")  # a model card with the command and this run's numbers
    assert "pipeline_tag: fill-mask" in card and f"nlp pretrain --config tiny --corpus {corpus} --masking wwm" in card
    assert "--max-steps 14" in card and f"--output {out}" in card and "| 14 | 3,584 |" in card
    assert (out / "model.safetensors").exists() and not list(out.glob("*.bin"))
    tok = AutoTokenizer.from_pretrained(str(out))
    model = AutoModelForMaskedLM.from_pretrained(str(out))
    assert model.config.model_type == "bert"
    enc = tok("全年办结12件。", return_tensors="pt")
    assert tok.unk_token_id not in enc["input_ids"][0].tolist()
    assert model(**enc).logits.shape[-1] == len(tok)


def test_xz_corpus_files_and_disjoint_worker_shards(tmp_path):
    import itertools
    import lzma

    from nlp.training.pretrain import corpus_files, line_stream

    lines = [f"第{i}行法治政府建设内容" for i in range(40)]
    with lzma.open(tmp_path / "toy.txt.xz", "wt", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    files = corpus_files(tmp_path)
    assert [p.name for p in files] == ["toy.txt.xz"]
    shards = [list(itertools.islice(line_stream(files, seed=k, shard=k, num_shards=3), 40)) for k in range(3)]
    assert all(shards)
    assert not (set(shards[0]) & set(shards[1])) and not (set(shards[1]) & set(shards[2]))
    assert set().union(*map(set, shards)) == set(lines)  # the shards cover the file together


def test_pretrain_with_data_loader_workers_and_time_budget(corpus, tmp_path):
    out = tmp_path / "enc"
    s = pretrain(PretrainConfig(corpus=str(corpus), output=str(out), config="tiny", seq_len=32, batch_size=8,
                                warmup_steps=2, max_steps=6, save_every=100, vocab_size=300, log_every=2, workers=2,
                                max_minutes=5), progress=False)
    assert s["steps"] == 6 and s["tokens_seen"] == 6 * 8 * 32 and s["config"]["workers"] == 2
    assert (out / "model.safetensors").exists() and s["final_loss_ema"] > 0


def test_memory_data_blocks_are_corpus_slices_and_masking_keeps_specials(corpus, tmp_path):
    """--data memory: the corpus is tokenised once; every block is [CLS] + a contiguous slice of one
    file's token stream + [SEP], and masking never touches [CLS]/[SEP]."""
    from transformers import BertTokenizerFast

    from nlp.training.pretrain import MemoryBlocks, save_tokenizer, tokenize_corpus

    tok = save_tokenizer(build_vocab(corpus, 300, min_count=1), tmp_path / "tok")
    files = sorted(corpus.glob("*.txt.gz"))
    arrays = tokenize_corpus(tmp_path / "tok", files, workers=0, progress=False)
    with gzip.open(files[0], "rt", encoding="utf-8") as f:
        first = f.readline().strip()
    want = tok(first, add_special_tokens=False)["input_ids"] + [tok.sep_token_id]
    assert arrays[0][: len(want)].tolist() == want  # lines in order, each closed by [SEP]
    blocks = MemoryBlocks(arrays, [f.name for f in files], (), 32, torch.device("cpu"), tok.cls_token_id,
                          tok.sep_token_id, seed=1)
    ids = blocks.batch(16)
    assert ids.shape == (16, 32) and (ids[:, 0] == tok.cls_token_id).all() and (ids[:, -1] == tok.sep_token_id).all()
    stream = arrays[0].tolist()
    text = ",".join(map(str, stream))
    for row in ids[:, 1:-1].tolist():
        assert ",".join(map(str, row)) in text
    masked, labels = blocks.mask(ids, tok, 0.5)
    chosen = labels != -100
    assert not chosen[:, 0].any() and not chosen[:, -1].any()
    assert 0.3 < chosen.float().mean() < 0.6 and (labels[chosen] == ids[chosen]).all()
    assert (masked[~chosen] == ids[~chosen]).all() and (masked == tok.mask_token_id).any()
    assert isinstance(tok, BertTokenizerFast)


def test_pretrain_memory_data_mode_runs_and_reports_corpus_tokens(corpus, tmp_path):
    out = tmp_path / "enc"
    s = pretrain(PretrainConfig(corpus=str(corpus), output=str(out), config="tiny", seq_len=32, batch_size=8,
                                warmup_steps=2, max_steps=6, save_every=100, vocab_size=300, log_every=2, data="memory"),
                 progress=False)
    assert s["steps"] == 6 and s["tokens_seen"] == 6 * 8 * 32 and s["corpus_tokens"] > 3000
    assert (out / "model.safetensors").exists() and s["final_loss_ema"] > 0
    with pytest.raises(ValueError, match="char"):
        pretrain(PretrainConfig(corpus=str(corpus), output=str(tmp_path / "e2"), config="tiny", seq_len=32,
                                batch_size=8, max_steps=2, vocab_size=300, data="memory", masking="wwm"), progress=False)
