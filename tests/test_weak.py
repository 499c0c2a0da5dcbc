from nlp.text import build_document, document_from_paragraphs
from nlp.weak import label_document, section_of_heading


def test_section_heading_variants():
    cases = {
        "一、主要负责人履行推进法治建设第一责任人职责情况": "duty",
        "二、推进法治政府建设的主要举措和成效": "measures",
        "二、主要工作及成效": "measures",
        "二、主要做法及成效": "measures",
        "三、存在的不足和原因": "problems",
        "三、存在的问题及原因": "problems",
        "四、下步工作打算": "plans",
        "四、2024年工作安排": "plans",
        "四、下一年度推进法治政府建设的主要安排": "plans",
        "一、工作开展情况": "generic",
    }
    for text, label in cases.items():
        assert section_of_heading(text) == label, text


def test_toy_report_labels(toy_report):
    doc = build_document(toy_report, "toy")
    label_document(doc)
    by_text = {s.text: s for s in doc.sentences}
    assert by_text["县委:"].label == "other"
    assert by_text["县委:"].reason == "before first section"
    assert by_text["一、主要负责人履行推进法治建设第一责任人职责情况"].label == "duty"
    assert by_text["(一)深化放管服改革。"].label == "measures"
    assert by_text["二是基层法治力量不足。"].label == "problems"
    assert by_text["下一步,县政府将持续深化法治政府建设。"].label == "plans"
    assert by_text["东湖县人民政府"].label == "other"
    assert by_text["2024年2月20日"].label == "other"
    assert all(s.label_source == "headings" and s.reason for s in doc.sentences)


def test_theme_organised_report_uses_content_cues():
    paras = ["2023年,本局坚持依法行政。", "一、坚持党的领导,统筹推进法治建设", "局党组专题研究法治工作3次。",
             "二、依法全面履行政府职能", "全年办理许可事项120件。"]
    doc = document_from_paragraphs(paras, "theme")
    labels = [w.label for w in label_document(doc)]
    assert labels == ["other", "duty", "duty", "measures", "measures"]
