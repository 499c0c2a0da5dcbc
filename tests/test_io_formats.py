"""The sample report as published in other forms gives the same annotation as the .txt."""

import html

import pytest

from nlp.io import ReadError, decode_bytes, html_to_text, read_document_text
from nlp.pipeline import annotate_file

from conftest import SAMPLE


def _signature(doc):
    return ([(s.start, s.end, s.text, s.label) for s in doc.sentences],
            [(e.start, e.end, e.type, e.text, e.target) for e in doc.entities])


@pytest.fixture(scope="module")
def reference():
    return _signature(annotate_file(SAMPLE))


def _lines():
    return SAMPLE.read_text(encoding="utf-8").splitlines()


def _write_html(path):
    body = "\n".join(f"<p>{html.escape(line)}</p>" for line in _lines())
    page = f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>报告</title>
<script>var x = "一、不应出现的脚本文字";</script><style>p {{ margin: 0 }}</style></head>
<body><div class="nav-menu"><a href="/">网站首页</a><a href="#">机构设置</a></div>
<div id="content">{body}</div>
<div class="bdshare"><a>分享到微信</a></div><footer>主办单位:某某</footer></body></html>"""
    path.write_text(page, encoding="utf-8")


def _write_docx(path):
    import docx

    d = docx.Document()
    for line in _lines():
        d.add_paragraph(line)
    d.save(str(path))


@pytest.mark.parametrize("kind", ["gb18030", "utf-8-sig", "utf-16", "utf-16-le-nobom", "html", "docx"])
def test_same_annotation_in_every_format(tmp_path, reference, kind):
    text = SAMPLE.read_text(encoding="utf-8")
    p = tmp_path / "report.dat"  # extension deliberately says nothing: detection is from the bytes
    if kind == "html":
        _write_html(p)
    elif kind == "docx":
        _write_docx(p)
    elif kind == "utf-16-le-nobom":
        p.write_bytes(text.encode("utf-16-le"))
    else:
        p.write_bytes(text.encode(kind))
    doc = annotate_file(p, doc_id="x")
    assert doc.format == ("html" if kind == "html" else "docx" if kind == "docx" else "txt")
    assert _signature(doc) == reference


def test_gbk_is_detected_not_guessed():
    text, enc = decode_bytes("法治政府建设年度报告。全年办结行政复议案件142件。".encode("gbk"))
    assert enc == "gb18030" and "行政复议" in text


def test_html_drops_scripts_navigation_share():
    page = ("<html><body><nav>首页 机构</nav><script>alert('x')</script><div class='share-box'>分享到</div>"
            "<div><p>第一段<b>加粗</b>文字。</p><p>第二段。</p></div></body></html>")
    assert html_to_text(page) == "第一段加粗文字。\n第二段。"


def test_pdf_text_layer(tmp_path):
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    p = tmp_path / "r.pdf"
    c = canvas.Canvas(str(p))
    c.setFont("STSong-Light", 12)
    c.drawString(50, 800, "一、主要负责人履行职责情况")
    c.drawString(50, 780, "全年办结行政复议案件142件。")
    c.save()
    raw = read_document_text(p)
    assert raw.format == "pdf"
    assert raw.text.splitlines() == ["一、主要负责人履行职责情况", "全年办结行政复议案件142件。"]


@pytest.mark.parametrize("content,problem", [(b"", "empty file"), (b"\x00\x01\x02\xff\xfe\x00" * 50, "binary"),
                                             (b"PK\x03\x04garbage", "zip")])
def test_bad_files_raise_one_line_errors(tmp_path, content, problem):
    p = tmp_path / "bad.txt"
    p.write_bytes(content)
    with pytest.raises(ReadError) as ei:
        read_document_text(p)
    msg = str(ei.value)
    assert msg.startswith(str(p)) and problem in msg and "\n" not in msg


def test_missing_path():
    with pytest.raises(ReadError, match="no such file"):
        read_document_text("/nonexistent/report.txt")
