"""Annotated records and their JSON Schema (docs/schema.json): every record `nlp annotate`
writes (JSONL, Parquet read back, the Python API's ``to_dict``) validates, carries its schema
version and provenance (package version, labeller, model name and weights digest, entity mode),
and input table columns named by ``--keep-columns`` pass through into its meta."""

from __future__ import annotations

import copy
import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT, SAMPLE, TOY_REPORT

jsonschema = pytest.importorskip("jsonschema", reason="jsonschema is a dev dependency (pip install -e '.[dev]')")

SCHEMA = json.loads((ROOT / "docs" / "schema.json").read_text(encoding="utf-8"))
ENV = dict(os.environ, OMP_NUM_THREADS="1", TOKENIZERS_PARALLELISM="false")
ENV.pop("GOVREPORT_MODELS", None)
# short reports written for these tests (not real text)
INVENTED = {
    "qinghe": "清河县人民政府关于2023年度法治政府建设情况的报告\n一、主要举措\n全县办理行政复议案件42件,"
              "依据《清河县行政执法公示办法》公开执法信息860条。\n二、存在的问题\n乡镇执法力量仍然薄弱。\n"
              "三、下一步工作安排\n力争2024年行政复议纠错率控制在8%以内。\n",
    "baisha": "白沙镇法治政府建设工作报告\n全年开展法治宣传活动15场次,覆盖群众2300余人次。\n"
              "印发《白沙镇合法性审查工作规程》(白府发〔2023〕7号)。\n",
    "short": "下一步,将继续推进严格规范公正文明执法。\n",
}


def nlp(*args):
    return subprocess.run([sys.executable, "-m", "nlp", *map(str, args)], capture_output=True, text=True,
                          env=ENV, timeout=600)


def validator():
    cls = jsonschema.validators.validator_for(SCHEMA)
    assert cls is jsonschema.Draft202012Validator
    cls.check_schema(SCHEMA)
    return cls(SCHEMA)


def errors_of(record) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message[:200]}"
            for e in validator().iter_errors(record)]


@pytest.fixture(scope="module")
def default_records(tmp_path_factory):
    """`nlp annotate` with the default pipeline (shipped classifier, entity tagger with the
    rules) over the sample, the toy report and the invented ones."""
    d = tmp_path_factory.mktemp("schema")
    (d / "toy.txt").write_text(TOY_REPORT, encoding="utf-8")
    for name, text in INVENTED.items():
        (d / f"{name}.txt").write_text(text, encoding="utf-8")
    out = d / "out.jsonl"
    r = nlp("annotate", SAMPLE, d / "toy.txt", *(d / f"{n}.txt" for n in INVENTED), "-o", out)
    assert r.returncode == 0, r.stderr[-2000:]
    return [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]


def test_the_schema_is_draft_2020_12():
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    validator()


def test_every_record_of_the_default_pipeline_validates(default_records):
    assert [r["id"] for r in default_records] == ["suining-2023", "toy", *INVENTED]
    for rec in default_records:
        assert errors_of(rec) == [], rec["id"]
    # the schema is not vacuous: the optional parts are there and were checked
    assert any(s.get("scores") for r in default_records for s in r["sentences"])
    assert any("indicator" in e for r in default_records for e in r["entities"])
    assert any(p["heading"] for r in default_records for p in r["paragraphs"])


def test_records_carry_schema_version_and_provenance(default_records):
    from nlp.doc import SCHEMA_VERSION
    from nlp.io import package_version, weights_digest
    from nlp.pipeline import default_model_dir, default_ner_dir

    for rec in default_records:
        assert rec["schema_version"] == SCHEMA_VERSION == SCHEMA["properties"]["schema_version"]["const"]
        prov = rec["meta"]["provenance"]
        assert prov == {
            "package": "govreport-nlp", "version": package_version(), "labeller": "model:classifier-small",
            "model": "classifier-small", "weights": f"sha256:{weights_digest(default_model_dir())}", "backend": None,
            "entities": "combined", "ner": default_ner_dir().name, "ner_weights": f"sha256:{weights_digest(default_ner_dir())}"}
        assert all(s["label_source"] == prov["labeller"] for s in rec["sentences"])
    assert len(prov["weights"]) == len("sha256:") + 16


def test_the_schema_rejects_broken_records(default_records):
    rec = default_records[1]
    broken = []
    for change in (lambda r: r.pop("schema_version"), lambda r: r["meta"].pop("provenance"),
                   lambda r: r["sentences"][0].update(label="achievements"),
                   lambda r: r["entities"][0].update(type="PERSON"),
                   lambda r: r["meta"]["provenance"].update(weights="f87540fc"),
                   lambda r: r["meta"]["provenance"].update(entities="tagger"),
                   lambda r: r["sentences"][0].update(start=-1), lambda r: r.update(extra=1)):
        bad = copy.deepcopy(rec)
        change(bad)
        broken.append(bool(errors_of(bad)))
    assert all(broken), broken


def test_python_api_documents_validate_and_match_the_records(default_records):
    import nlp as nlp_api

    pipe = nlp_api.load(labeller="headings", entities="rules")
    doc = pipe(INVENTED["qinghe"], doc_id="qinghe")
    d = doc.to_dict()
    assert errors_of(d) == []
    assert d["meta"]["provenance"]["labeller"] == "headings" and d["meta"]["provenance"]["entities"] == "rules"
    assert d["meta"]["provenance"]["weights"] is None and d["meta"]["provenance"]["ner"] is None
    # a record read back is the same document, provenance included
    back = nlp_api.Document.from_dict(default_records[0])
    assert back.to_dict() == default_records[0] and back.meta["provenance"] == default_records[0]["meta"]["provenance"]


def _table(rows: list[dict], path: Path) -> Path:
    if path.suffix == ".jsonl":
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    elif path.suffix == ".csv":
        with open(path, "w", encoding="utf-8-sig", newline="") as f:
            w = csv.DictWriter(f, fieldnames=list(rows[0]))
            w.writeheader()
            w.writerows(rows)
    else:
        import pyarrow as pa
        import pyarrow.parquet as pq

        pq.write_table(pa.Table.from_pylist(rows), path)
    return path


ROWS = [{"key": f"k{i}", "body": text, "year": 2023, "region": region, "note": None if i else "首份"}
        for i, (text, region) in enumerate(zip(INVENTED.values(), ["华东", "华南", "西南"]))]


@pytest.mark.parametrize("suffix", [".jsonl", ".parquet", ".csv"])
def test_keep_columns_pass_input_columns_into_the_records(suffix, tmp_path):
    from nlp.outputs import read_records

    src = _table(ROWS, tmp_path / f"in{suffix}")
    outs = {}
    for out_suffix in (".jsonl", ".parquet", ".csv"):
        out = tmp_path / f"out{out_suffix}"
        r = nlp("annotate", src, "-o", out, "--text-column", "body", "--id-column", "key", "--keep-columns",
                "region,year,note", "--labeller", "headings", "--entities", "rules")
        assert r.returncode == 0, r.stderr[-2000:]
        outs[out_suffix] = out
    recs = list(read_records(outs[".jsonl"]))
    assert recs == list(read_records(outs[".parquet"]))
    assert [r["id"] for r in recs] == ["k0", "k1", "k2"]
    as_text = suffix == ".csv"  # a CSV table holds text only
    for rec, row in zip(recs, ROWS):
        assert errors_of(rec) == [], rec["id"]
        want = {c: (str(row[c]) if row[c] is not None else "") if as_text else row[c] for c in ("region", "year", "note")}
        assert {c: rec["meta"][c] for c in want} == want
        assert rec["meta"]["provenance"]["labeller"] == "headings"
    with open(outs[".csv"], encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0])[-2:] == ["region", "note"]  # year is a sentence column already: filled from the kept one
    assert {(r["doc_id"], r["region"], r["year"]) for r in rows} == {("k0", "华东", "2023"), ("k1", "华南", "2023"),
                                                                   ("k2", "西南", "2023")}


def test_a_missing_column_is_one_error_before_any_work(tmp_path):
    src = _table(ROWS, tmp_path / "in.jsonl")
    for args, missing in [(["--keep-columns", "region,province"], "no column 'province' to keep"),
                          ([], "no text column 'text'")]:
        out = tmp_path / "o.jsonl"
        r = nlp("annotate", src, "-o", out, "--labeller", "headings", *(["--text-column", "body"] if args else []), *args)
        assert r.returncode != 0
        lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
        assert len(lines) == 1 and missing in lines[0] and "columns: key, body, year, region, note" in lines[0], r.stderr
        assert not out.exists() and not (tmp_path / "o.errors.jsonl").exists()
    r = nlp("annotate", src, "-o", tmp_path / "o.jsonl", "--text-column", "body", "--keep-columns", "provenance",
            "--labeller", "headings")
    assert r.returncode != 0 and "cannot be kept" in r.stderr and "Traceback" not in r.stderr
