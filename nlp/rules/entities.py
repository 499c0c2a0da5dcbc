"""Entity rules (LABELING.md §2): the patterns that propose LAW, DOCNO, DATE and METRIC spans,
each a named rule whose name becomes ``Entity.rule``. ``nlp.extract`` applies them with their
exclusions (ordinals, slogans, events named after a law …) and resolves overlaps
(DOCNO > LAW > DATE > METRIC). The ``candidate:*`` rules propose the spans the rules decline
(``source="candidate"``), for a token classifier to verify (``nlp.ner``)."""

from __future__ import annotations

import re

from .base import EntityRule

# --------------------------------------------------------------------------- DOCNO

_OPEN = "〔\\[［(（【"
_CLOSE = "〕\\]］)）】"
_DOCNO_BRACKETED = (rf"(?P<code>[\u4e00-\u9fa5]{{1,12}})\s*[{_OPEN}]\s*(?P<year>(19|20)\d{{2}})\s*[{_CLOSE}]\s*"
                    rf"(?P<num>\d{{1,5}})\s*[号號]")
_DOCNO_DECREE = r"(?P<ling>[\u4e00-\u9fa5]{1,12}令\s*(\d{4}年)?\s*第\s*[\d一二三四五六七八九十百零〇]+\s*[号號])"
DOCNO_RE = re.compile(_DOCNO_BRACKETED + "|" + _DOCNO_DECREE)

DOCNO_BRACKETED = EntityRule("docno:bracketed", "DOCNO", "issuer code, year in brackets, number, 号 (遂府〔2024〕6号)",
                             re.compile(_DOCNO_BRACKETED))
DOCNO_DECREE = EntityRule("docno:decree", "DOCNO", "a decree number (市政府令第6号, 商务部令2020年第2号)",
                          re.compile(_DOCNO_DECREE))

# --------------------------------------------------------------------------- LAW

LAW_SUFFIX = r"(法典|法|条例|规定|规则|办法|细则|纲要|意见|决定|通知|方案|规划|计划|标准|准则|制度|协议|清单|要点|安排|指引|指南|目录)"
DRAFT_VERB_WORDS = "审议|起草|制定|修订|修改|推进|论证|完成|提请|出台|报送"
# a plan's period in parentheses: (2023—2025年)
PERIOD = r"\s*[（(]\s*(?:19|20)\d{2}\s*[—\-–~～至]+\s*(?:19|20)\d{2}\s*年?\s*[）)]"

LAW_STANDALONE = EntityRule(
    "law:standalone-name", "LAW",
    "a paragraph that is only the full name of a rule, as a legislative plan lists its bills (1.东湖市文明行为促进条例)",
    re.compile(r"^\s*(?:\d{1,2}\s*[.、．]|[（(]\s*[一二三四五六七八九十\d]{1,3}\s*[）)])?\s*"
               r"([\u4e00-\u9fff（）()\d]{4,40}?(?:条例|办法|规定|细则|规则))\s*[。;；]?\s*$"))
LAW_BRACKET_TITLE = EntityRule("law:bracket-title", "LAW", "a title in 《》 that is not a book, study, lecture or newspaper")
LAW_CUT_OFF = EntityRule(
    "law:cut-off-title", "LAW",
    "a 《 title cut off by the end of the paragraph (a scraped page or a document's beginning): what remains inside")
LAW_LOST_OPEN = EntityRule(
    "law:lost-open-bracket", "LAW", "a law name before a closing 》 whose opening 《 was lost in scraping (行政处罚法》、《…)",
    re.compile(r"(?<![《\u4e00-\u9fa5])([\u4e00-\u9fa5]{2,20}" + LAW_SUFFIX + r")》"))
LAW_DRAFT = EntityRule(
    "law:draft-name", "LAW", "a draft local regulation named without 《》 (审议东湖省养老服务条例草案): the name, 草案 outside",
    re.compile(rf"(?:(?<=[，。；、：:,;\s])|^|(?<={DRAFT_VERB_WORDS}))"
               r"([\u4e00-\u9fa5]{1,10}?(?:省|市|县|区|州|自治区|特区)[\u4e00-\u9fa5（）()]{2,30}?(?:条例|办法|规定|规则|细则))"
               r"(?=(?:修订)?草案|[（(](?:修订)?草案[）)]|[（(]修订[）)])"))
LAW_LEXICON_CORE = EntityRule("law:lexicon-core", "LAW", "an unbracketed national law of the core lexicon (学习宪法, 行政复议法)")
LAW_LEXICON_CENTRAL = EntityRule("law:lexicon-central", "LAW",
                                 "an unbracketed central document of the lexicon (法治政府建设实施纲要)")
LAW_LEXICON_CORPUS = EntityRule("law:lexicon-corpus", "LAW",
                                "an unbracketed law name the corpus cites in 《》 (the lexicon built from the corpus)")
LEXICON_RULE_OF = {"lexicon-core": LAW_LEXICON_CORE, "lexicon-central": LAW_LEXICON_CENTRAL,
                   "lexicon-corpus": LAW_LEXICON_CORPUS}

# --------------------------------------------------------------------------- DATE

_Y = r"(?:19|20)\d{2}"
_CNY = r"[二一][〇○零0OＯ一二三四五六七八九]{3}"
_CNMD = r"[一二三四五六七八九十]{1,3}"
_DATE_YEAR = (
    rf"(?:{_Y}|{_CNY})\s*(?:[—–\-~～至到]\s*(?:{_Y}|{_CNY}))?年"
    rf"(?:\s*(?:\d{{1,2}}|{_CNMD})\s*月(?:份)?(?:\s*(?:\d{{1,2}}|{_CNMD})\s*[日号])?)?"
    rf"(?:\s*(?:[—–\-~～至到]\s*(?:(?:\d{{1,2}}|{_CNMD})\s*月)?\s*(?:\d{{1,2}}|{_CNMD})\s*[日号]))?"
    rf"(?:度|末|初|底(?!线))?")
_DATE_NUMERIC = (rf"{_Y}-\d{{1,2}}-\d{{1,2}}(?!\d)"
                 rf"|{_Y}\.\d{{1,2}}\.\d{{1,2}}(?!\d)"
                 rf"|{_Y}/\d{{1,2}}/\d{{1,2}}(?!\d)")
# a month with its day, a day range (10月10—11日) or a part of the month (10月份, 1月底, 3月上旬)
_DATE_MONTH = (rf"(?<![\d第])\d{{1,2}}月(?:\d{{1,2}}\s*[—–\-~～至到]\s*\d{{1,2}}[日号]|\d{{1,2}}[日号]|份|底|初|末|[上中下]旬)?"
               rf"(?:\s*[—–\-~～至到]\s*(?:\d{{1,2}}月)?\d{{1,2}}[日号])?")

DATE_YEAR = EntityRule("date:year", "DATE", "a year with what follows (2023年, 2023年度, 2024年1月1日, 2025—2027年)",
                       re.compile(_DATE_YEAR))
DATE_NUMERIC = EntityRule("date:numeric", "DATE", "a date in digits (2024-02-07, 2024.02.07, 2024/02/07)",
                          re.compile(_DATE_NUMERIC))
DATE_MONTH = EntityRule("date:month", "DATE", "a month with its day, a day range or part (10月10日, 1月底, 3月上旬)",
                        re.compile(_DATE_MONTH))
DATE_BARE_MONTH = EntityRule("date:bare-month", "DATE", "a month alone that names a time (于11月, 11月起)")
# one expression, a named group per rule (the first alternative that matches wins, as in one regex)
DATE_RE = re.compile(rf"(?P<year>{_DATE_YEAR})|(?P<numeric>{_DATE_NUMERIC})|(?P<month>{_DATE_MONTH})")
DATE_RULE_OF_GROUP = {"year": DATE_YEAR, "numeric": DATE_NUMERIC, "month": DATE_MONTH}

# --------------------------------------------------------------------------- METRIC

AR_NUM = r"\d+(?:\.\d+)?"
CN_DIGITS = "零〇一二两三四五六七八九十百千万亿兩萬億"
CN_NUM = rf"[{CN_DIGITS}]+"
_MAG = r"(?:[万亿千百萬億]+)?"
_APPROX = r"(?:余|多)?"
UNITS = sorted(
    """% ％ ‰ 个百分点 百分点 倍 个工作日 工作日 个月 小时 分钟 秒 天 日 周
    人次 家次 户次 件次 场次 辆次 艘次 批次 期次 车次 架次 项次 个次 次 人 名 位 户 家 所 座 处 个 项 件 条 部 份 篇 本 册 套 台 辆 艘 张 幅
    场 期 批 类 起 宗 例 起 单 笔 组 支 队 轮 门 节 课时 学时 元 万元 亿元 千元 美元 吨 公斤 千克 斤 亩 公顷 平方米 平方公里 公里 千米 米
    立方米 千瓦 千瓦时 項 個 條 場 場次 萬元 億元 張 輛 戶 處 項次 萬人次 张次 册次 份次 人数 名次 项目 条次 课 堂 次会议 篇次 页 GB 兆 户次 种 块 栋 间 所次 只 头 株 棵 票 大项 小项 大类 微克/立方米 毫克/立方米 毫克/升""".split(),
    key=len, reverse=True)
_UNIT_RE = "|".join(re.escape(u) for u in UNITS)
# a range is one METRIC: 3至5个, 1.2-1.5亿元, and 90%-95% (a percent repeated on both bounds)
# text extracted from PDFs often has a space after the digits (280 余场次, 5 万件)
_SP_MAG = r"(?:\s?[万亿千百萬億]+)?"
_SP_APPROX = r"(?:\s?(?:余|多))?"
METRIC_RE = re.compile(
    rf"(?P<num>(?:{AR_NUM}{_SP_MAG}|{CN_NUM}){_SP_APPROX}"
    rf"(?:(?P<pct>[%％‰])?\s*[—–\-~～至到]\s*(?:{AR_NUM}{_SP_MAG}|{CN_NUM}))?{_APPROX}{_MAG})"
    rf"\s*(?P<unit>(?(pct)[%％‰]|(?:{_UNIT_RE})))")

METRIC_PERCENT = EntityRule("metric:percent", "METRIC", "a percentage or per-mille (100%, 90%-95%, 3‰)", METRIC_RE)
METRIC_ARABIC = EntityRule("metric:arabic", "METRIC", "a number in digits with its unit (16502人次, 248.01万元, 30余次)",
                           METRIC_RE)
METRIC_CHINESE = EntityRule("metric:chinese", "METRIC", "a number in Chinese numerals with a measure word (六个, 两批次)",
                            METRIC_RE)

# --------------------------------------------------------------------------- declined candidates

# Rule-shaped spans the rules do not emit because LABELING.md may or may not call them entities:
# an unbracketed name of an issuer's rule or plan (东湖市城市管理条例, 东湖县2025年…工作要点), a bare
# year (2023全国…), a damaged document number (东州府办发〔202431号, 东政办发〔202025).
CANDIDATE_RULES: tuple[EntityRule, ...] = (
    EntityRule("candidate:law-local-name", "LAW", "declined: an unbracketed name of a local rule or plan (东湖市…条例)",
               re.compile(r"[\u4e00-\u9fa5]{1,8}(?:省|市|县|区|州|盟|旗)[\u4e00-\u9fa5\d（）()—\-]{2,30}?" + LAW_SUFFIX
                          + r"(?![\u4e00-\u9fa5])")),
    # a name after a verb of making or following a rule or plan, up to a rule-like ending
    # (制定2023年法治政府建设工作要点, 审议东湖省养老服务条例草案, 落实…职责规定)
    EntityRule("candidate:law-after-verb", "LAW", "declined: a name after a verb of making or following a rule (制定…要点)",
               re.compile(r"(?<=制定|出台|印发|修订|修改|审议|落实|执行|贯彻|学习|围绕|根据|按照|依据|编制|完成|实施|抓好|对照|对标)"
                          r"[^，。；、：:,;\s《》“”\"（）()〈〉<>]{2,40}?" + LAW_SUFFIX
                          + rf"(?:{PERIOD})?"
                          r"(?=[，。；、：:,;\s）)]|等|和|及|与|草案|修订草案|的(?!通知|意见|决定)|$)")),
    # an unbracketed title recognisable by its tail: a plan name with its period
    # (…实施方案(2023—2025年)) or a notice (关于…的通知)
    EntityRule("candidate:law-titled", "LAW", "declined: an unbracketed title with a plan period or 关于…的通知",
               re.compile(r"[^，,。；;：:、\s《》“”\"]{2,40}?" + LAW_SUFFIX + PERIOD
                          + r"(?:的(?:通知|意见|决定|批复))?"
                          r"|关于[^，,。；;：:\s《》“”\"]{4,60}?的(?:通知|意见|决定|批复)")),
    EntityRule("candidate:date-bare-year", "DATE", "declined: a bare year without 年 (2023全国…)",
               re.compile(r"(?<![\d.\-])(?:19|20)\d{2}(?![\d年.\-—–~～至到/%％])")),
    EntityRule("candidate:docno-damaged", "DOCNO", "declined: a damaged document number (东政办发〔202025)",
               re.compile(r"[\u4e00-\u9fa5]{1,12}\s*[〔\[［【]\s*(?:19|20)\d{2}[^号\s]{0,6}号?")),
)

ENTITY_RULES: tuple[EntityRule, ...] = (
    DOCNO_BRACKETED, DOCNO_DECREE,
    LAW_STANDALONE, LAW_BRACKET_TITLE, LAW_CUT_OFF, LAW_LOST_OPEN, LAW_DRAFT, LAW_LEXICON_CORE, LAW_LEXICON_CENTRAL, LAW_LEXICON_CORPUS,
    DATE_YEAR, DATE_NUMERIC, DATE_MONTH, DATE_BARE_MONTH,
    METRIC_PERCENT, METRIC_ARABIC, METRIC_CHINESE,
    *CANDIDATE_RULES,
)
