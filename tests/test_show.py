"""`nlp show`: one HTML page per annotated document and an index; text escaped, entities
highlighted, pages named by `nlp.show.page_name`, rendered in headless Chromium."""

import json
import re
import subprocess
import sys

import pytest

from conftest import CHROMIUM, FLAGS, TOY_REPORT, render_in_chromium

import nlp
from nlp.show import ShowError, page_name, render_page, select


def _nlp(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "nlp", *map(str, args)], capture_output=True, text=True, cwd=cwd)


@pytest.fixture(scope="module")
def annotated(tmp_path_factory):
    d = tmp_path_factory.mktemp("show")
    (d / "toy.txt").write_text(TOY_REPORT, encoding="utf-8")
    r = _nlp("annotate", d / "toy.txt", "-o", d / "x.jsonl", "--labeller", "headings")
    assert r.returncode == 0, r.stderr
    return d / "x.jsonl"


@pytest.fixture(scope="module")
def pages(annotated):
    out = annotated.parent / "pages"
    r = _nlp("show", annotated, "-o", out)
    assert r.returncode == 0, r.stderr
    return out


def test_show_writes_a_page_per_document_and_an_index(pages):
    assert sorted(p.name for p in pages.iterdir()) == ["index.html", "toy.html"]
    index = (pages / "index.html").read_text(encoding="utf-8")
    assert '<a href="toy.html">toy</a>' in index
    assert "东湖县人民政府关于2023年度法治政府建设情况的报告" in index
    row = index[index.index('href="toy.html"'):].split("</tr>")[0]
    # sentences, then per label (duty, measures, problems, plans, other), then entities
    assert re.findall(r'class="num">(\d+)<', row)[:6] == ["20", "3", "5", "3", "3", "6"]


def test_page_colours_sentences_and_highlights_entities(pages):
    page = (pages / "toy.html").read_text(encoding="utf-8")
    assert '<mark class="ent ent-LAW" data-type="LAW" title="LAW · rule: law:bracket-title">东湖县法治政府建设考核办法</mark>' in page
    target = re.search(r'<mark class="ent ent-METRIC target" data-type[^>]*>([^<]*)</mark>', page)
    assert target and target.group(1) == "95%"
    assert re.search(r'<mark class="ent ent-METRIC"[^>]*title="[^"]*indicator: 纠错率[^"]*">18\.5%</mark>', page)
    assert re.search(r'<span class="s s-problems"[^>]*title="problems · reason: heading:problems[^"]*">一是部分执法人员能力有待提升;</span>', page)
    assert re.search(r'<h2 class="h"><span class="s s-plans"[^>]*>四、下一年度工作安排</span></h2>', page)
    assert re.search(r'<h3 class="h"><span class="s s-measures"[^>]*>\(一\)深化放管服改革。</span></h3>', page)
    assert 'id="legend"' in page and all(f"s-{lab}" in page for lab in nlp.doc.LABELS)
    # self-contained: inline CSS, nothing fetched
    assert "<link" not in page and "<script" not in page and "src=" not in page and "http" not in page
    assert '<a href="index.html">' in page


def test_scores_show_on_hover():
    doc = nlp.load(labeller="headings")(TOY_REPORT)
    s = next(s for s in doc.sentences if s.label == "plans" and not s.is_heading)
    s.scores = {"plans": 0.875, "measures": 0.1, "duty": 0.025}
    page = render_page(doc)
    assert re.search(r'title="plans \(p = 0\.88\) · others: measures 0\.10, duty 0\.03 · reason: [^"]+">'
                     + re.escape(s.text[:5]), page)


def test_document_text_is_escaped(tmp_path):
    text = TOY_REPORT.replace("二是基层法治力量不足。", "二是基层<script>alert(1)</script>法治力量不足。")
    doc = nlp.load(labeller="headings")(text)
    doc.id = "evil<id>"
    doc.title = "<b>title</b>"
    (tmp_path / "x.jsonl").write_text(json.dumps(doc.to_dict(), ensure_ascii=False) + "\n", encoding="utf-8")
    r = _nlp("show", tmp_path / "x.jsonl", "-o", tmp_path / "out")
    assert r.returncode == 0, r.stderr
    page = (tmp_path / "out" / page_name("evil<id>")).read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script" not in page
    assert "&lt;b&gt;title&lt;/b&gt;" in page and "<b>" not in page
    index = (tmp_path / "out" / "index.html").read_text(encoding="utf-8")
    assert "evil&lt;id&gt;" in index and "&lt;b&gt;title&lt;/b&gt;" in index and "<b>" not in index


def test_page_name_is_filesystem_safe_and_distinct():
    assert page_name("toy") == "toy.html"
    assert page_name("report-2023_01.v2") == "report-2023_01.v2.html"
    ids = ["a/b", "a_b", "A", "a", "index", "..", "", "东湖县", "西湖县", "x" * 300, "x" * 301, "c:\\d", "a b"]
    names = [page_name(i) for i in ids]
    assert len(set(n.lower() for n in names)) == len(ids)
    for n in names:
        assert re.fullmatch(r"[a-z0-9][a-z0-9._-]{0,120}\.html", n), n
        assert n != "index.html"


def test_show_selects_ids_and_reads_parquet(tmp_path):
    (tmp_path / "toy.txt").write_text(TOY_REPORT, encoding="utf-8")
    (tmp_path / "two.txt").write_text(TOY_REPORT.replace("东湖县", "西湖县"), encoding="utf-8")
    r = _nlp("annotate", tmp_path / "toy.txt", tmp_path / "two.txt", "-o", tmp_path / "x.parquet", "--labeller", "headings")
    assert r.returncode == 0, r.stderr
    r = _nlp("show", tmp_path / "x.parquet", "--id", "two", "-o", tmp_path / "out")
    assert r.returncode == 0, r.stderr
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["index.html", "two.html"]
    assert "西湖县法治政府建设考核办法</mark>" in (tmp_path / "out" / "two.html").read_text(encoding="utf-8")
    r = _nlp("show", tmp_path / "x.parquet", "--id", "nope", "-o", tmp_path / "none")
    assert r.returncode == 1 and "no document with id 'nope'" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and not (tmp_path / "none").exists()
    r = _nlp("show", tmp_path / "toy.txt", "-o", tmp_path / "none")
    assert r.returncode == 1 and "toy.txt" in r.stderr and "Traceback" not in r.stderr


def test_select_refuses_a_shared_id():
    doc = nlp.load(labeller="headings")(TOY_REPORT)
    with pytest.raises(ShowError, match="more than once"):
        select([doc, doc], None)
    with pytest.raises(ShowError, match="no document with id"):
        select([doc], ["other"])
    assert select([doc], [doc.id]) == [doc]


@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (.ci/run installs Debian's chromium)")
def test_page_renders_in_chromium(pages, tmp_path):
    dom = render_in_chromium(pages / "toy.html", tmp_path)
    assert re.search(r'<mark class="ent ent-LAW"[^>]*>东湖县法治政府建设考核办法</mark>', dom)
    assert re.search(r'<span class="s s-duty"[^>]*>县政府常务会议专题研究法治政府建设', dom)
    # the index is mostly white space (one row), so only its DOM is checked
    index = subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={tmp_path / 'u3'}", "--dump-dom",
                            (pages / "index.html").as_uri()], capture_output=True, text=True, timeout=120).stdout
    assert '<a href="toy.html">toy</a>' in index


def test_eval_report_links_worst_errors_to_show_pages(tmp_path):
    from conftest import ROOT, SAMPLE

    r = _nlp("annotate", SAMPLE, "-o", tmp_path / "x.jsonl", "--labeller", "headings")
    assert r.returncode == 0, r.stderr
    r = _nlp("show", tmp_path / "x.jsonl", "-o", tmp_path / "pages")
    assert r.returncode == 0, r.stderr
    report = tmp_path / "eval" / "r.html"
    r = _nlp("eval", ROOT / "eval" / "gold" / "seed.jsonl", "--labeller", "rules", "--bootstrap", "0",
             "--html", report, "--pages", tmp_path / "pages")
    assert r.returncode == 0, r.stderr
    errors = report.read_text(encoding="utf-8").split('id="errors"')[1]
    hrefs = set(re.findall(r'<td><a href="([^"]+)">', errors))
    assert hrefs == {"../pages/" + page_name(SAMPLE.stem)}
    assert all((report.parent / h).is_file() for h in hrefs)
    r = _nlp("eval", ROOT / "eval" / "gold" / "seed.jsonl", "--labeller", "rules", "--bootstrap", "0", "--html", report)
    assert r.returncode == 0 and "<a href" not in report.read_text(encoding="utf-8").split('id="errors"')[1]
