"""Lexicon of law names for unbracketed LAW mentions (学习宪法, 贯彻实施行政复议法).

The lexicon is built from the formal-Chinese corpus (``corpus/*.txt.gz``: every 《…法》,
《…法典》 and 《…条例》 title cited there, with the 中华人民共和国 prefix also stripped) and
cached under the user's cache directory. A short core list of national laws is always
included, so the extractor works without the corpus too.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

# national laws and regulations most cited in these reports (written for this project)
CORE_LAWS = """宪法 民法典 立法法 监察法 行政复议法 行政诉讼法 行政处罚法 行政许可法 行政强制法 国家赔偿法
公务员法 法律援助法 人民调解法 公职人员政务处分法 国务院组织法 地方各级人民代表大会和地方各级人民政府组织法
刑法 刑事诉讼法 民事诉讼法 治安管理处罚法 安全生产法 环境保护法 食品安全法 有组织犯罪法 反有组织犯罪法
外商投资法 数据安全法 网络安全法 个人信息保护法 反电信网络诈骗法 乡村振兴促进法 国家安全法 保守国家秘密法
档案法 统计法 预算法 审计法 土地管理法 城乡规划法 道路交通安全法 消防法 未成年人保护法 妇女权益保障法
劳动法 劳动合同法 社会保险法 村民委员会组织法 城市居民委员会组织法 行政复议法实施条例 政府信息公开条例
重大行政决策程序暂行条例 优化营商环境条例 信访工作条例 法规规章备案条例 规章制定程序条例 行政法规制定程序条例
国务院工作规则 保障农民工工资支付条例 行政执法机关移送涉嫌犯罪案件的规定""".split()

# central party and state documents these reports cite without 《》 (written for this project;
# the unbracketed mentions in the team's hand-labelled train paragraphs are the evidence)
CENTRAL_DOCS = """法治政府建设实施纲要 法治中国建设规划 法治社会建设实施纲要 全面深化法治领域改革纲要
党政主要负责人履行推进法治建设第一责任人职责规定 法治政府建设与责任落实督察工作规定
领导干部应知应会党内法规和国家法律清单 中国共产党政法工作条例 中国共产党章程 党章
提升行政执法质量三年行动计划""".split()

_TITLE_RE = re.compile(r"《(?:中华人民共和国)?([\u4e00-\u9fa5]{2,24}?(?:法典|法|条例))》")
_PREFIX = "中华人民共和国"
_BUILD_VERSION = 2  # part of the cache key: bump it when build_law_lexicon changes


def shared_data_dir() -> Path | None:
    """``../shared/data`` for this checkout, or ``$GOVREPORT_DATA``; None when absent."""
    env = os.environ.get("GOVREPORT_DATA")
    candidates = [Path(env)] if env else []
    here = Path(__file__).resolve().parent.parent
    candidates += [here.parent / "shared" / "data", Path.cwd().parent / "shared" / "data", Path.cwd() / "shared" / "data"]
    for c in candidates:
        if (c / "corpus").is_dir() or (c / "gold").is_dir():
            return c
    return None


def cache_dir() -> Path:
    base = os.environ.get("GOVREPORT_CACHE") or os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    p = Path(base) / "govreport-nlp"
    p.mkdir(parents=True, exist_ok=True)
    return p


def build_law_lexicon(corpus_dir: Path, min_count: int = 2) -> list[str]:
    """Law names cited in 《》 in the corpus, full and without the 中华人民共和国 prefix."""
    counts: Counter[str] = Counter()
    for f in sorted(corpus_dir.glob("*.txt.gz")):
        with gzip.open(f, "rt", encoding="utf-8", errors="replace") as fh:
            for line in fh:
                if "《" in line:
                    counts.update(_TITLE_RE.findall(line))
    names = []
    for name, n in counts.items():
        if n < min_count or len(name) < 3 or len(name) > 20:
            continue
        if re.search(r"(关于|的|和|若干|暂行规定)$", name):
            continue
        # generic words, not names: the 实施办法 of 《…法》实施办法, a 管理办法
        if re.fullmatch(r"(实施|管理|工作|暂行|试行|组织|处理|考核)(办法|条例|细则)", name):
            continue
        names.append(name)
    return sorted(names)


@dataclass
class LawLexicon:
    names: list[str]
    pattern: re.Pattern | None


@lru_cache(maxsize=1)
def law_lexicon() -> LawLexicon:
    names = set(CORE_LAWS) | set(CENTRAL_DOCS)
    data = shared_data_dir()
    if data is not None and (data / "corpus").is_dir() and not os.environ.get("GOVREPORT_NO_CORPUS_LEXICON"):
        corpus = data / "corpus"
        key = hashlib.sha1((f"v{_BUILD_VERSION}|" + "|".join(f"{f.name}:{f.stat().st_size}" for f in sorted(corpus.glob("*.txt.gz")))).encode()).hexdigest()[:12]
        cached = cache_dir() / f"law_lexicon-{key}.txt"
        if cached.exists():
            built = cached.read_text(encoding="utf-8").split()
        else:
            built = build_law_lexicon(corpus)
            tmp = cached.with_suffix(".part")
            tmp.write_text("\n".join(built), encoding="utf-8")
            os.replace(tmp, cached)
        names.update(built)
        names.update(n[len(_PREFIX):] for n in built if n.startswith(_PREFIX))
    names = {n for n in names if len(n) >= 2}
    ordered = sorted(names, key=len, reverse=True)
    pattern = re.compile("|".join(re.escape(n) for n in ordered)) if ordered else None
    return LawLexicon(ordered, pattern)
