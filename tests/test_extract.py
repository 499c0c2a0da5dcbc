"""Every decision of LABELING.md §2 on short sentences written for these tests."""

from nlp.extract import extract


def spans(text, etype=None):
    return [(e.type, e.text) for e in extract(text) if etype is None or e.type == etype]


def test_law_brackets_and_unbracketed():
    assert spans("严格执行《东湖县重大行政决策程序规定》《东湖县行政执法公示办法》。", "LAW") == [
        ("LAW", "东湖县重大行政决策程序规定"), ("LAW", "东湖县行政执法公示办法")]
    assert spans("组织干部学习宪法,贯彻实施行政复议法,宣传民法典。", "LAW") == [
        ("LAW", "宪法"), ("LAW", "行政复议法"), ("LAW", "民法典")]
    # central documents cited without 《》
    assert spans("认真落实党政主要负责人履行推进法治建设第一责任人职责规定和法治政府建设实施纲要。", "LAW") == [
        ("LAW", "党政主要负责人履行推进法治建设第一责任人职责规定"), ("LAW", "法治政府建设实施纲要")]
    # but not the tail of a local document's name, nor the head of a longer one
    assert spans("印发东湖省法治政府建设实施纲要。", "LAW") == []
    assert spans("推动全省法治政府建设实施纲要落地,2023年行政复议法修订后组织学习。", "LAW") == [
        ("LAW", "法治政府建设实施纲要"), ("LAW", "行政复议法")]
    assert spans("出台提升行政执法质量三年行动计划实施方案。", "LAW") == []
    # a draft local regulation named without 《》: the name, 草案 outside
    assert spans("提请审议东湖省养老服务条例草案、东湖省红十字会条例修订草案。", "LAW") == [
        ("LAW", "东湖省养老服务条例"), ("LAW", "东湖省红十字会条例")]
    # generic words are not names (the corpus cites 《…实施办法》 titles, the lexicon leaves them out)
    assert spans("制定《东湖省物业条例》实施办法和管理办法。", "LAW") == [("LAW", "东湖省物业条例")]
    # nested titles are one entity
    assert spans("制定《关于贯彻〈东湖县法治建设规划〉的实施意见》。", "LAW") == [
        ("LAW", "关于贯彻〈东湖县法治建设规划〉的实施意见")]


def test_law_exclusions():
    # events, days and campaigns named after a law; newspapers and study materials
    for t in ["开展国家宪法日活动。", "组织宪法宣传周。", "开展民法典宣传月活动。", "组织宪法宣誓仪式。",
              "在《人民日报》刊发文章。", "学习《习近平法治思想学习纲要》。",
              # books, lectures, published studies and case write-ups, told by the words around them
              "研读《法治之路》《依法行政十讲》等书籍。", "邀请专家作《新时代法治政府》专题辅导。",
              "编写出版《东湖法治大事记》。", "《东湖调解一线牵》案例入选全省典型。",
              "发布《东湖法治发展报告(2023)》。", "汇编《2024年东湖法治优秀案例》。", "持续开展“学宪法讲宪法”活动。"]:
        assert spans(t, "LAW") == [], t
    # a government's own report is a document
    assert spans("审议《东湖县2023年度法治政府建设情况报告》。", "LAW") == [("LAW", "东湖县2023年度法治政府建设情况报告")]
    # a plan's period belongs to its name, also without 《》
    assert spans("对照法治政府建设实施纲要(2021—2025年)逐项落实。", "LAW") == [("LAW", "法治政府建设实施纲要(2021—2025年)")]
    # and no date inside such a title
    assert spans("学习《东湖法治读本(2025年版)》等读物。") == []
    assert spans("学习《宪法》《民法典》等法律。", "LAW") == [("LAW", "宪法"), ("LAW", "民法典")]
    # books by their form, studies, headlines of articles and case write-ups, programmes, printed copies
    for t in ["研读《论依法行政》。", "课题《完善东湖县物业管理的若干探索》获奖。", "组织学习《习近平谈治国理政》。",
              "编写的《东湖司法所:调解暖人心,服务零距离》入选案例。", "在宣传节目《东湖法治之声》中开设专栏。",
              "印发教材(含《东湖学法课堂》3000册)。", "《东湖奋力建设法治政府》在《东湖日报》刊发。",
              "撰写的《基层执法规范化的路径》获奖。", "编发《東湖區法治政府建設白皮書》。"]:
        assert spans(t, "LAW") == [], t


def test_law_title_cut_off_by_the_paragraph_end():
    # a scraped page or a document's beginning that ends inside a title: what remains is the name
    assert spans("制定印发了《东湖县法治政府建设实施方案(20", "LAW") == [("LAW", "东湖县法治政府建设实施方案(20")]
    assert spans("落实《东湖县行政执法公示办法》《东湖县重大行政  ", "LAW") == [
        ("LAW", "东湖县行政执法公示办法"), ("LAW", "东湖县重大行政")]
    # and no DATE inside it
    assert spans("制定印发了《东湖县2021年度法治政府建") == [("LAW", "东湖县2021年度法治政府建")]
    # an empty bracket, a sentence end after it or a bracket closed later is no cut-off title
    assert spans("基本符合《", "LAW") == []
    assert spans("依照《东湖县规定。下一步继续推进。", "LAW") == []
    from nlp.extract import extract as ex
    assert [e.rule for e in ex("落实《东湖县行政执法公示办法")] == ["law:cut-off-title"]


def test_docno_variants():
    assert spans("根据东府发〔2024〕6号文件", "DOCNO") == [("DOCNO", "东府发〔2024〕6号")]
    assert spans("(东政办[2021]12号)", "DOCNO") == [("DOCNO", "东政办[2021]12号")]
    assert spans("(东政办(2019)92号)", "DOCNO") == [("DOCNO", "东政办(2019)92号")]
    assert spans("依据县政府令第6号执行", "DOCNO") == [("DOCNO", "县政府令第6号")]
    # a field label of page chrome is not part of the number; traditional characters
    assert spans("发文字号东政办发〔2022〕8号", "DOCNO") == [("DOCNO", "东政办发〔2022〕8号")]
    assert spans("(東府辦〔2020〕4號)", "DOCNO") == [("DOCNO", "東府辦〔2020〕4號")]


def test_metric_numbers_units_and_qualifiers():
    assert spans("办结案件142件,合格率达100%,挽回损失248.01万元。", "METRIC") == [
        ("METRIC", "142件"), ("METRIC", "100%"), ("METRIC", "248.01万元")]
    assert spans("开展培训30余次,覆盖干部2800余名。", "METRIC") == [("METRIC", "30余次"), ("METRIC", "2800余名")]
    # qualifiers stay outside the span
    assert spans("出庭率达到95%以上,覆盖约300人,超过20家。", "METRIC") == [
        ("METRIC", "95%"), ("METRIC", "300人"), ("METRIC", "20家")]
    # Chinese numerals with a measure word count
    assert spans("从六个方面推进,分两批次实施,办结三十余件。", "METRIC") == [
        ("METRIC", "六个"), ("METRIC", "两批次"), ("METRIC", "三十余件")]
    # text extracted from a PDF: a space after the digits
    assert spans("开展宣讲 120 余场次,办理 6 万件,满意 21 票。", "METRIC") == [
        ("METRIC", "120 余场次"), ("METRIC", "6 万件"), ("METRIC", "21 票")]
    # the measure word is the unit, the noun after it is not (12个社区, 7个村)
    assert spans("建成12个社区服务站、7个村调解室。", "METRIC") == [("METRIC", "12个"), ("METRIC", "7个")]


def test_metric_exclusions():
    for t in ["拨打12345热线。", "推广“521”模式。", "召开第四次联席会议。", "评选第三批示范点。",
              "建立三级网络。", "升级4.0版系统。", "实现两个首次。", "每年召开一次会议。", "近四年来持续推进。",
              "连续2年获评先进。", "有效期不超过5年。", "落实“四个百分百”要求。", "一是加强学习。",
              "构建三位一体模式。", "每周三组织学习。",
              # versions, service hours, fixed names, a time frame after 近
              "上线东湖智审V2.0项目。", "提供7×24小时服务。", "国家六部委联合发文。",
              "近3个月未发生事故。"]:
        assert spans(t, "METRIC") == [], t
    assert spans("上级先后两次通报表扬。", "METRIC") == [("METRIC", "两次")]
    # 近 before a count is a qualifier, outside the span; units of measure and kinds
    assert spans("培训覆盖公职人员近3万名。", "METRIC") == [("METRIC", "3万名")]
    assert spans("细化为4大类、60项措施,PM2.5平均浓度为28微克/立方米。", "METRIC") == [
        ("METRIC", "4大类"), ("METRIC", "60项"), ("METRIC", "28微克/立方米")]


def test_dates():
    assert spans("2023年度工作要点于2024年1月1日起施行。", "DATE") == [("DATE", "2023年度"), ("DATE", "2024年1月1日")]
    assert spans("成文日期 2024-02-07", "DATE") == [("DATE", "2024-02-07")]
    assert spans("实施2025—2027年行动,时间为2024年3月27日至6月7日。", "DATE") == [
        ("DATE", "2025—2027年"), ("DATE", "2024年3月27日至6月7日")]
    assert spans("今年和去年年底均完成。", "DATE") == []
    # parts of a month and day ranges are part of the date; a bare month after 于/在 is a date
    assert spans("每年2月底前报送,9月份完成,于5月8—9日举办培训,在11月召开会议。", "DATE") == [
        ("DATE", "2月底"), ("DATE", "9月份"), ("DATE", "5月8—9日"), ("DATE", "11月")]
    assert spans("共有11月的数据。", "DATE") == []
    # a year inside a document number is not a DATE
    assert spans("东府发〔2024〕6号", "DATE") == []


def test_target_flag():
    ents = [e for e in extract("力争年底前行政复议纠错率达到95%以上。全年办结案件142件。") if e.type == "METRIC"]
    assert [(e.text, e.target) for e in ents] == [("95%", True), ("142件", False)]
    # in a plans sentence every METRIC is a target
    t = "新建调解室20个。"
    ents = [e for e in extract(t, [(0, len(t), "plans")]) if e.type == "METRIC"]
    assert ents[0].target is True


def test_spans_never_overlap():
    t = "印发《东湖县2023—2025年法治建设规划》(东府发〔2023〕12号),确保2025年达到100%。"
    ents = extract(t)
    for a in ents:
        for b in ents:
            assert a is b or a.end <= b.start or b.end <= a.start
        assert t[a.start:a.end] == a.text


def test_law_standalone_rule_names_in_a_plan_list():
    """A paragraph that is only a rule's full name (the items of a legislative plan) is LAW,
    enumerator left out; a task phrase or a document's own title at its head is not."""
    def laws(text, **kw):
        return [(e.text, text[e.start:e.end]) for e in extract(text, **kw) if e.type == "LAW"]

    assert laws("东湖市城市绿化管理条例") == [("东湖市城市绿化管理条例", "东湖市城市绿化管理条例")]
    assert laws("2.东湖市公共场所控制吸烟办法") == [("东湖市公共场所控制吸烟办法", "东湖市公共场所控制吸烟办法")]
    assert laws("(三)东湖市河道管理规定。") == [("东湖市河道管理规定", "东湖市河道管理规定")]
    assert laws("东湖市城市绿化管理条例", first_paragraph=True) == []  # the document's own title
    assert laws("修订东湖市城市绿化管理条例") == []  # a task (its name is left to the other rules), not a name
    assert laws("起草单位:市城管局") == [] and laws("全年共办理审批事项3200件") == []


def rules_of(text, **kw):
    return [(e.type, e.text, e.rule) for e in extract(text, **kw)]


def test_every_entity_names_its_rule():
    from nlp.rules import all_rules

    registry = {r.name: r for r in all_rules()}
    texts = ["根据东府〔2024〕6号和市政府令第6号,严格执行《东湖县行政执法公示办法》,组织学习宪法、法治政府建设实施纲要。",
             "2023年度办理案件142件,办结率100%,开展培训六次,2024-02-07和10月10日召开会议。",
             "行政处罚法》、《东湖县行政许可办法》", "提请审议东湖省养老服务条例草案。", "于11月开展检查。"]
    seen = set()
    for t in texts:
        for e in extract(t):
            assert e.rule in registry and registry[e.rule].gives == e.type, (e, t)
            assert e.to_dict()["rule"] == e.rule
            seen.add(e.rule)
    assert seen >= {"docno:bracketed", "docno:decree", "law:bracket-title", "law:lexicon-core", "law:lexicon-central",
                    "date:year", "date:numeric", "date:month", "date:bare-month", "metric:arabic", "metric:percent",
                    "metric:chinese", "law:lost-open-bracket", "law:draft-name"}


def test_entity_rules_by_example():
    assert rules_of("根据东府〔2024〕6号文件。") == [("DOCNO", "东府〔2024〕6号", "docno:bracketed")]
    assert rules_of("根据市政府令第6号。") == [("DOCNO", "市政府令第6号", "docno:decree")]
    assert rules_of("1.东湖市文明行为促进条例") == [("LAW", "东湖市文明行为促进条例", "law:standalone-name")]
    assert rules_of("贯彻实施行政复议法。") == [("LAW", "行政复议法", "law:lexicon-core")]
    assert rules_of("2024-02-07召开。") == [("DATE", "2024-02-07", "date:numeric")]
    assert rules_of("办结率达100%。") == [("METRIC", "100%", "metric:percent")]
    assert rules_of("开展培训六次。") == [("METRIC", "六次", "metric:chinese")]
    assert rules_of("受理案件142件。") == [("METRIC", "142件", "metric:arabic")]


def test_declined_candidates_name_their_rule():
    from nlp.extract import declined_candidates

    text = "制定东湖县2025年法治政府建设工作要点,东政办发〔202025。"
    cands = declined_candidates(text, extract(text))
    assert cands and all(c.source == "candidate" and c.rule.startswith("candidate:") for c in cands)
    assert {c.rule for c in cands} >= {"candidate:law-local-name", "candidate:docno-damaged"}
