from nlp.text import build_document, chrome_rule, match_heading_marker, split_sentences


def test_chrome_rules_each_kind():
    chrome = {
        "索 引 号:123/2024-001": "index_no",
        "• 发布机构:县政府办公室": "meta_field",
        "来源:县政府办 发布时间:2024-01-02 10:00 浏览次数: 12": "publish_line",
        "字体:[大 中 小]": "font_size",
        "打印本页 关闭窗口": "print_close",
        "扫一扫在手机打开当前页": "scan_qr",
        "分享到:": "share",
        "当前位置:首页 > 政务公开": "breadcrumb",
        "网站地图": "site_nav",
        "版权所有:东湖县人民政府 ICP备12345号": "site_footer",
    }
    for line, rule in chrome.items():
        assert chrome_rule(line) == rule, line
    for line in ["县政府常务会议专题研究法治政府建设4次。", "一、主要负责人履行推进法治建设第一责任人职责情况",
                 "全年共打印宣传材料2000份,发布时间均在工作日内完成," * 5]:
        assert chrome_rule(line) is None, line


def test_heading_levels():
    cases = {
        "第一章 总则": 0, "一、主要举措": 1, "(一)深化改革。": 2, "（二）强化监督": 2,
        "1.加强学习": 3, "2、完善制度": 3, "(1)组织培训": 4, "（3）开展检查": 4, "①健全机制": 5,
    }
    for text, level in cases.items():
        hm = match_heading_marker(text)
        assert hm is not None and hm[0] == level, text
    for text in ["一是加强学习", "2023年,全县", "12345热线", "3.5%的增幅", "一年来"]:
        assert match_heading_marker(text) is None, text


def test_sentences_never_break_inside_pairs():
    t = "制定《关于加强执法的通知。第二版》并印发。他说“要依法办事。这是底线。”随后(见附件。)执行;完成"
    spans = split_sentences(t)
    got = [t[a:b] for a, b in spans]
    assert got == ["制定《关于加强执法的通知。第二版》并印发。", "他说“要依法办事。这是底线。”",
                   "随后(见附件。)执行;", "完成"]


def test_unmatched_bracket_does_not_swallow_text():
    t = "根据《某某规定有关要求。现将情况报告如下。"
    assert len(split_sentences(t)) == 2


def test_document_offsets_and_metadata(toy_report):
    doc = build_document(toy_report, "toy")
    assert doc.title == "东湖县人民政府关于2023年度法治政府建设情况的报告"
    assert doc.issuer == "东湖县人民政府"
    assert doc.date == "2024-03-01"
    assert not any("扫一扫" in p.text or "索引号" in p.text for p in doc.paragraphs)
    assert len(doc.removed_chrome) == 5
    for s in doc.sentences:
        assert doc.text[s.start:s.end] == s.text
    for p in doc.paragraphs:
        assert doc.text[p.start:p.end] == p.text
    heads = [p.heading for p in doc.paragraphs if p.heading]
    assert [h.level for h in heads] == [1, 1, 2, 2, 1, 1]
    assert heads[2].text == "(一)深化放管服改革。"
    # heading path of a sentence under (二)
    idx = next(i for i, s in enumerate(doc.sentences) if "纠错率" in s.text)
    assert [h.marker for h in doc.heading_path(idx)] == ["二、", "(二)"]


def test_a_breadcrumb_trail_is_never_the_title():
    doc = build_document("您当前的位置:首页>东湖镇>政府信息公开目录>法治政府建设年度报告\n"
                         "东湖镇2024年法治政府建设年度报告\n2024年,我镇扎实推进法治政府建设。")
    assert doc.title == "东湖镇2024年法治政府建设年度报告"
    doc = build_document("您当前的位置:法治政府建设年度报告\n2024年,我镇扎实推进法治政府建设。")
    assert doc.title is None
