"""Lexicon word lists for unbracketed LAW mentions (学习宪法, 贯彻实施行政复议法), written for this
project; ``nlp.lexicon`` adds the names the corpus cites in 《》. A lexicon match's entity rule
names the list it came from (``law:lexicon-core``, ``law:lexicon-central``, ``law:lexicon-corpus``)."""

from __future__ import annotations

from .base import WordList

# national laws and regulations most cited in these reports
CORE_LAWS = WordList("lexicon-core", tuple("""宪法 民法典 立法法 监察法 行政复议法 行政诉讼法 行政处罚法 行政许可法 行政强制法 国家赔偿法
公务员法 法律援助法 人民调解法 公职人员政务处分法 国务院组织法 地方各级人民代表大会和地方各级人民政府组织法
刑法 刑事诉讼法 民事诉讼法 治安管理处罚法 安全生产法 环境保护法 食品安全法 有组织犯罪法 反有组织犯罪法
外商投资法 数据安全法 网络安全法 个人信息保护法 反电信网络诈骗法 乡村振兴促进法 国家安全法 保守国家秘密法
档案法 统计法 预算法 审计法 土地管理法 城乡规划法 道路交通安全法 消防法 未成年人保护法 妇女权益保障法
劳动法 劳动合同法 社会保险法 村民委员会组织法 城市居民委员会组织法 行政复议法实施条例 政府信息公开条例
重大行政决策程序暂行条例 优化营商环境条例 信访工作条例 法规规章备案条例 规章制定程序条例 行政法规制定程序条例
国务院工作规则 保障农民工工资支付条例 行政执法机关移送涉嫌犯罪案件的规定""".split()),
    "national laws and regulations most cited in the reports")

# central party and state documents the reports cite without 《》 (the unbracketed mentions in the
# team's hand-labelled train paragraphs are the evidence)
CENTRAL_DOCS = WordList("lexicon-central", tuple("""法治政府建设实施纲要 法治中国建设规划 法治社会建设实施纲要 全面深化法治领域改革纲要
党政主要负责人履行推进法治建设第一责任人职责规定 法治政府建设与责任落实督察工作规定
领导干部应知应会党内法规和国家法律清单 中国共产党政法工作条例 中国共产党章程 党章
提升行政执法质量三年行动计划""".split()),
    "central party and state documents cited without 《》")

LEXICON_LISTS: tuple[WordList, ...] = (CORE_LAWS, CENTRAL_DOCS)
