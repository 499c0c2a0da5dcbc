"""The Python API: ``nlp.load`` → ``Pipeline``, ``Document.to_dict``/``from_dict``, ``nlp.read``,
``nlp.to_frame``, and the labeller contract every labeller declares."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

import nlp
from conftest import SAMPLE, TOY_REPORT
from nlp.doc import LABELS

ENV = dict(os.environ, OMP_NUM_THREADS="1", TOKENIZERS_PARALLELISM="false")
INVENTED = ["西湖区人民政府关于2023年度法治政府建设情况的报告\n2023年,全区办理行政复议案件56件。\n"
            "二、存在的不足\n基层执法队伍专业化水平有待提高。\n三、下一步工作安排\n力争行政复议纠错率保持在10%左右。\n",
            "南山镇人民政府法治政府建设工作报告\n全年组织法治培训8场次,参训干部320人次。\n",
            "一、主要举措\n依据《东湖县行政执法公示办法》,公开执法信息1200余条。\n"]


@pytest.fixture(scope="module")
def pipe():
    return nlp.load()


@pytest.fixture(scope="module")
def toy_doc(pipe):
    return pipe(TOY_REPORT, doc_id="toy")


def _nlp(*args):
    return subprocess.run([sys.executable, "-m", "nlp", *map(str, args)], capture_output=True, text=True, env=ENV)


def test_the_readme_one_liner_runs_in_a_fresh_interpreter(tmp_path):
    code = ("import sys, nlp; assert 'torch' not in sys.modules; TEXT = open(sys.argv[1], encoding='utf-8').read(); "
            "p = nlp.load(); d = p(TEXT); print(d.sentences[0].label)")
    (tmp_path / "toy.txt").write_text(TOY_REPORT, encoding="utf-8")
    r = subprocess.run([sys.executable, "-c", code, str(tmp_path / "toy.txt")], capture_output=True, text=True,
                       env=ENV, cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.strip().splitlines()[-1] in LABELS


def test_import_nlp_is_light():
    r = subprocess.run([sys.executable, "-c", "import sys, nlp; nlp.Document; "
                        "print(sorted(m for m in ('torch', 'transformers', 'pandas', 'nlp.pipeline') if m in sys.modules))"],
                       capture_output=True, text=True, env=ENV)
    assert r.returncode == 0 and r.stdout.strip() == "[]", r.stdout + r.stderr[-2000:]


def test_pipeline_components_and_document(pipe, toy_doc):
    assert pipe.component_names == ["structure", "labels", "entities", "indicators"]
    assert "labels" in pipe and pipe["labels"].labeller is pipe.labeller
    assert isinstance(toy_doc, nlp.Document) and toy_doc.id == "toy"
    assert toy_doc.title == "东湖县人民政府关于2023年度法治政府建设情况的报告"
    assert all(s.label in LABELS for s in toy_doc.sentences)
    assert toy_doc.meta["labeller"] == pipe.labeller.name == "model:classifier-small"
    assert any(e.type == "METRIC" for e in toy_doc.entities) and toy_doc.indicators
    ind = {i.indicator: i for i in toy_doc.indicators}["行政机关负责人出庭应诉率"]
    assert ind.target and ind.value == 95 and ind.unit == "%" and ind.qualifier == "以上"
    assert ind.sentence_label == "plans" and toy_doc.text[ind.start:ind.end] == ind.text == "95%"
    with pytest.raises(KeyError):
        pipe["parser"]


def test_pipeline_gives_what_nlp_annotate_writes(pipe, tmp_path):
    """The default pipeline is the one ``nlp annotate`` runs: same records, field for field."""
    from nlp.pipeline import structure_file

    src = tmp_path / "toy.txt"
    src.write_text(TOY_REPORT, encoding="utf-8")
    out = tmp_path / "a.jsonl"
    r = _nlp("annotate", src, SAMPLE, "-o", out)
    assert r.returncode == 0, r.stderr[-2000:]
    recs = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    # the same documents in one batch, as the batch runner labels a chunk: the very same records
    docs = list(pipe.pipe([structure_file(src), structure_file(SAMPLE)]))
    assert [d.to_dict() for d in docs] == recs
    # one by one: the same but for the probabilities' last digit (batches differ in padding)
    for one, rec in zip([pipe.annotate_file(src), nlp.annotate_file(SAMPLE, pipe)], recs):
        d = one.to_dict()
        for s, t in zip(d["sentences"], rec["sentences"]):
            a, b = s.pop("scores"), t.pop("scores")
            assert max(abs(a[k] - b[k]) for k in LABELS) <= 2e-3
        assert d == rec


def test_from_dict_is_the_inverse_of_to_dict(toy_doc):
    d = toy_doc.to_dict()
    back = nlp.Document.from_dict(d)
    assert back == toy_doc and back.to_dict() == d
    assert nlp.Document.from_dict(json.loads(json.dumps(d, ensure_ascii=False))) == toy_doc
    ents = [e for e in toy_doc.entities if e.attrs]
    assert ents and all(nlp.Entity.from_dict(e.to_dict()) == e for e in toy_doc.entities)
    e = nlp.Entity(3, 9, "LAW", "《某某条例》", source="verified", attrs={"prob": 0.91}, rule="law:bracketed")
    assert nlp.Entity.from_dict(e.to_dict()) == e
    assert all(nlp.Sentence.from_dict(s.to_dict()) == s for s in toy_doc.sentences)
    heads = [p.heading for p in toy_doc.paragraphs if p.heading]
    assert heads and all(nlp.Heading.from_dict(h.to_dict()) == h for h in heads)


@pytest.mark.parametrize("suffix", [".jsonl", ".parquet"])
def test_read_round_trips_what_nlp_annotate_writes(suffix, pipe, tmp_path):
    from nlp.outputs import read_records

    src = tmp_path / "in"
    src.mkdir()
    for i, text in enumerate([TOY_REPORT, *INVENTED]):
        (src / f"r{i}.txt").write_text(text, encoding="utf-8")
    out = tmp_path / f"a{suffix}"
    r = _nlp("annotate", src, "-o", out)
    assert r.returncode == 0, r.stderr[-2000:]
    docs = nlp.read(out)
    recs = list(read_records(out))
    assert len(docs) == len(recs) == 4 and all(isinstance(d, nlp.Document) for d in docs)
    assert [d.to_dict() for d in docs] == recs
    assert [d.id for d in docs] == ["r0", "r1", "r2", "r3"]
    assert docs[0] == pipe.annotate_file(src / "r0.txt")  # what the pipeline makes of the same file


def test_read_refuses_what_it_cannot_read(tmp_path):
    from nlp.io import ReadError

    with pytest.raises(ReadError, match="no such file"):
        nlp.read(tmp_path / "none.jsonl")
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"a": 1}\n', encoding="utf-8")
    with pytest.raises(ReadError, match="not an annotated document"):
        nlp.read(bad)
    with pytest.raises(ReadError, match="one row per sentence"):
        nlp.read(tmp_path / "a.csv")


def test_to_frame_one_typed_row_per_sentence_entity_indicator(pipe):
    docs = list(pipe.pipe([TOY_REPORT, *INVENTED], batch_size=2))
    sent = nlp.to_frame(docs, level="sentence")
    assert len(sent) == sum(len(d.sentences) for d in docs)
    assert sent["doc_id"].dtype == "string" and sent["label"].dtype == "string"
    assert str(sent["start"].dtype) == "int64" and str(sent["is_heading"].dtype) == "bool"
    assert str(sent["score_plans"].dtype) == "float64" and sent["score_plans"].notna().all()
    assert list(sent["text"]) == [s.text for d in docs for s in d.sentences]

    ent = nlp.to_frame(docs, level="entity")
    assert len(ent) == sum(len(d.entities) for d in docs)
    assert ent["type"].dtype == "string" and str(ent["target"].dtype) == "boolean"
    assert str(ent["sentence"].dtype) == "Int64" and str(ent["end"].dtype) == "int64"
    assert ent.loc[ent["type"] != "METRIC", "target"].isna().all()
    assert ent.loc[ent["type"] == "METRIC", "target"].notna().all()

    ind = nlp.to_frame(docs, level="indicator")
    assert len(ind) == sum(len(d.indicators) for d in docs) == sum(e.type == "METRIC" for d in docs for e in d.entities)
    assert str(ind["value"].dtype) == "float64" and str(ind["target"].dtype) == "bool"
    assert ind["indicator"].dtype == "string" and str(ind["year"].dtype) == "Int64"
    assert list(ind["metric"]) == [i.text for d in docs for i in d.indicators]

    empty = nlp.to_frame([], level="entity")
    assert len(empty) == 0 and str(empty["start"].dtype) == "int64"
    assert len(nlp.to_frame(docs[0])) == len(docs[0].sentences)
    with pytest.raises(ValueError, match="unknown level"):
        nlp.to_frame(docs, level="paragraph")


def test_pipe_equals_calling_one_by_one(pipe):
    texts = [TOY_REPORT, *INVENTED]
    piped = list(pipe.pipe(texts, batch_size=3))
    single = [pipe(t, doc_id=f"doc-{i}") for i, t in enumerate(texts)]
    assert [d.id for d in piped] == ["doc-0", "doc-1", "doc-2", "doc-3"]
    for a, b in zip(piped, single):
        assert [(s.start, s.end, s.label, s.reason) for s in a.sentences] == \
            [(s.start, s.end, s.label, s.reason) for s in b.sentences]
        assert a.entities == b.entities and a.meta == b.meta
        for s, t in zip(a.sentences, b.sentences):  # batches differ in padding only
            assert max(abs(s.scores[k] - t.scores[k]) for k in LABELS) <= 2e-3
    ids = [d.id for d in pipe.pipe(iter(texts[:2]), batch_size=1, ids=["a", "b"])]
    assert ids == ["a", "b"]


def test_document_repr_is_short(toy_doc):
    r = repr(toy_doc)
    assert len(r) < 200 and r.startswith("Document(id='toy'") and f"{len(toy_doc.sentences)} sentences" in r
    assert TOY_REPORT[:60] not in r


def test_every_labeller_declares_the_contract(pipe):
    from nlp.components.base import DEFAULT_ENTITIES, SentenceLabeller
    from nlp.pipeline import LabellerSpec, get_labeller

    labs = [get_labeller(n) for n in ("headings", "rules", "tfidf")] + [pipe.labeller]
    for lab in labs:
        assert isinstance(lab, SentenceLabeller), lab
        assert isinstance(lab.name, str) and isinstance(lab.device, str)
        assert lab.batch_size is None or lab.batch_size >= 1
        assert lab.backend in (None, "torch", "onnx")
        assert lab.label_alone(["下一步,将持续深化法治政府建设。"])[0] in LABELS
    assert get_labeller("headings").entity_extractor is DEFAULT_ENTITIES  # decided when first used
    assert pipe.labeller.device == "cpu" and pipe.labeller.backend == "torch"
    assert LabellerSpec(name="rules", entities="rules").load().entity_extractor is None
    assert nlp.load(labeller="headings").labeller.name == "headings"


def test_load_refuses_bad_choices_with_one_line_errors(tmp_path):
    with pytest.raises(ValueError, match="unknown labeller 'nope'"):
        nlp.load(labeller="nope")
    with pytest.raises(ValueError, match="batch_size must be a whole number"):
        nlp.load(labeller="headings", batch_size=0)
    with pytest.raises(OSError, match="not a model directory"):
        nlp.load(tmp_path)


def test_pipeline_with_the_heading_rules_needs_no_model():
    p = nlp.load(labeller="headings", entities="rules")
    d = p(TOY_REPORT)
    assert d.meta["labeller"] == "headings" and "entities" not in d.meta
    assert {s.label for s in d.sentences} <= set(LABELS) and d.indicators
    assert [x.to_dict() for x in p.pipe([TOY_REPORT], ids=["doc"])] == [d.to_dict()]

