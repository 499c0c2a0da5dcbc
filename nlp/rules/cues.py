"""Content cues: the words that say what a sentence (or a theme heading) is about, written once
as named word lists, and the named rules that use them.

The same cue lists serve three places, each with its own rules (so each can be scored):
``content:*`` label the sections under theme or generic headings by the heading's words
(``nlp.weak``), ``nostructure:*`` label a document without section headings, ``alone:*`` are the
``rules`` baseline on a sentence alone (``nlp.baselines``); ``cue:problems`` is the model
decoder's problems prior (``nlp.modeling``). A problems cue needs a confirming word of
``PROBLEM_WORDS``; the places differ in which extra words they accept (``不够``, ``不到位``), and
those differences are written here, as data, rather than as three copies of the list.
"""

from __future__ import annotations

from .base import CueRule, WordList, words_pattern

# each entry is a regular-expression fragment; a list matches when any entry does
DUTY_WORDS = WordList("duty", (
    "第一责任人", "主要负责(人|同志)", "党政主要负责", "常务会议?.{0,10}(研究|审议|学法|听取|部署)", "会前学法",
    "学法(制度|清单|计划)", "述法", "党的领导", "党对.{0,8}领导", "党委(统一)?领导", "组织领导", "领导小组",
    "法治(建设|政府建设)?(考核|督察|督查|督导)", "督察", "考核", "责任(落实|清单|制)", "(统筹|谋划|部署)推进",
    "领导干部.{0,6}学法", "习近平法治思想", "学习(宣传)?贯彻.{0,12}(精神|思想)", "理论学习", "思想引领",
    "党建(引领|统领)", "政治(统领|引领)", "压(实|紧).{0,8}责任", "责任.{0,4}压(实|紧)", "法治(建设)?责任", "关键少数"),
    "party leadership, the first responsibility, leaders' study of law, rule-of-law assessment and inspection")
PROBLEMS_WORDS = WordList("problems", (
    "有待", "不够", "不足", "仍需", "仍然?存在", "还存在", "尚未", "尚不", "不到位", "不平衡", "不充分", "短板", "差距",
    "薄弱", "欠缺", "滞后", "缺乏", "不高", "不强", "不健全", "不完善", "不规范", "问题(依然|仍然|还)", "个别", "少数"),
    "shortcomings and weaknesses (有待, 不够, 短板, 差距, 个别, 少数)")
# the words that confirm a problems cue is about a shortcoming (个别 and 少数 alone are not)
PROBLEM_WORDS = WordList("problem-words", ("问题", "不足", "有待", "短板", "差距", "薄弱"),
                         "words naming a shortcoming, which a problems cue needs beside it")
# a sentence stating a shortcoming (the decoder's prior): the problems cues, or a negated quality
# (不深入, 不严不实, 不及时), 偏差, a closing …的问题 / …等问题, 存在…问题. Chosen on the hand-labelled
# train sentences outside mandated headings (precision 0.79, recall 0.40; the cues alone 0.83 / 0.36).
PROBLEM_STATEMENT_WORDS = WordList("problem-statement", PROBLEMS_WORDS.words + (
    "不(够|足|深入|全面|严|实|高|强|到位|健全|完善|规范|平衡|充分|明显|及时|细)", "偏差", "(的|等)问题[。;；]?$",
    "存在.{0,20}问题"), "the problems cues and a negated quality, 偏差, …的问题, 存在…问题")
PLANS_WORDS = WordList("plans", (
    r"^(下一步|下步|今后|明年|\d{4}年[,，]?(我|全|本|市|区|县|将))",
    "将(继续|进一步|持续|着力|重点|全面|深入|加快|加大|坚持|推动|强化|完善|围绕|以)", "力争", "确保", "计划(于|在|到)",
    "拟(于|在)?", "要(以|把|在|进一步|继续|持续|加快|坚持|全面)"),
    "forward-looking words (下一步 at the start, 将继续, 力争, 确保, 计划于)")
MEASURES_WORDS = WordList("measures", (
    "全年", "累计", "共(计|办理|开展|审查|受理|组织)", "完成", "开展", "组织", "印发", "制定", "出台", "办理", "办结", "建立",
    "健全", "推行", "落实", "实现", "获评", "荣获", "修订", "审查", "培训", "举办", "设立", "率达", "同比"),
    "past actions and results (全年, 累计, 完成, 开展, 获评, 率达)")
OTHER_WORDS = WordList("other", (
    r"^(.{0,30}(报告|通知|意见|方案)|.{0,12}[:：]|\d{4}年\d{1,2}月\d{1,2}日|.{2,20}(人民政府|办公室|局))$",
    "现将.{0,30}(报告|通知)如下", "特此报告"),
    "a title, an addressee, a date or issuer line, the report formulas")

WORD_LISTS: tuple[WordList, ...] = (DUTY_WORDS, PROBLEMS_WORDS, PROBLEM_WORDS, PROBLEM_STATEMENT_WORDS, PLANS_WORDS,
                                    MEASURES_WORDS, OTHER_WORDS)

DUTY_CUES = words_pattern(DUTY_WORDS)
PROBLEMS_CUES = words_pattern(PROBLEMS_WORDS)
PROBLEM_STATEMENT = words_pattern(PROBLEM_STATEMENT_WORDS)
PLANS_CUES = words_pattern(PLANS_WORDS)
MEASURES_CUES = words_pattern(MEASURES_WORDS)
OTHER_CUES = words_pattern(OTHER_WORDS)

# --- under a theme or generic heading: the label of the section, from the heading's words (first match)
CONTENT_RULES: tuple[CueRule, ...] = (
    CueRule("content:problems", "problems", "a theme heading with a problems cue and a problem word",
            PROBLEMS_CUES, words_pattern(PROBLEM_WORDS)),
    CueRule("content:duty", "duty", "a theme heading with a duty cue (party leadership, first responsibility …)",
            DUTY_CUES),
    CueRule("content:measures", "measures", "a theme heading without a problems or duty cue: domain work"),
)

# --- a document without section headings (first match)
NO_STRUCTURE_RULES: tuple[CueRule, ...] = (
    CueRule("nostructure:problems", "problems", "no section headings; a problems cue and a problem word (or 不够)",
            PROBLEMS_CUES, words_pattern(PROBLEM_WORDS.words + ("不够",))),
    CueRule("nostructure:plans", "plans", "no section headings; a plans cue", PLANS_CUES),
    CueRule("nostructure:other", "other", "no section headings and no cue"),
)

# --- the rules baseline: each sentence alone, no document (first match; chrome lines come first)
ALONE_RULES: tuple[CueRule, ...] = (
    CueRule("alone:other", "other", "a title, addressee, date or issuer line, or a report formula", OTHER_CUES),
    CueRule("alone:problems", "problems", "a problems cue and a problem word (or 不够, 不到位)",
            PROBLEMS_CUES, words_pattern(PROBLEM_WORDS.words + ("不够", "不到位"))),
    CueRule("alone:plans", "plans", "a plans cue", PLANS_CUES),
    CueRule("alone:duty", "duty", "a duty cue", DUTY_CUES),
    CueRule("alone:measures", "measures", "a measures cue, a digit or a heading enumerator", MEASURES_CUES),
    CueRule("alone:none", "other", "no cue"),
)

# --- the model decoder's sentence prior (nlp.modeling, ``problem_cue_weight``)
PROBLEM_STATEMENT_RULE = CueRule("cue:problems", "problems",
                                 "decoder prior: the sentence states a shortcoming (outside mandated headings)",
                                 PROBLEM_STATEMENT)

CUE_RULES: tuple[CueRule, ...] = CONTENT_RULES + NO_STRUCTURE_RULES + ALONE_RULES + (PROBLEM_STATEMENT_RULE,)
