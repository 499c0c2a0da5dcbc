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
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from .rules.lexicon import CENTRAL_DOCS as CENTRAL_DOCS_LIST, CORE_LAWS as CORE_LAWS_LIST

# the word lists written for this project live in nlp.rules.lexicon (named, like every rule table)
CORE_LAWS = list(CORE_LAWS_LIST.words)
CENTRAL_DOCS = list(CENTRAL_DOCS_LIST.words)

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
    # the word list each name comes from (lexicon-core, lexicon-central, lexicon-corpus; the first
    # of these that holds it): the entity rule of a match (nlp.rules.entities)
    origin: dict[str, str] = field(default_factory=dict)


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
    origin = {n: CORE_LAWS_LIST.name if n in CORE_LAWS_LIST else CENTRAL_DOCS_LIST.name if n in CENTRAL_DOCS_LIST
              else "lexicon-corpus" for n in ordered}
    return LawLexicon(ordered, pattern, origin)
