"""Corpus comparisons over annotated reports: ``nlp report ANNOTATED.jsonl -o report.html``.

One self-contained HTML file (figures embedded as base64 PNG): a scorecard per report
(``summarize.scorecard``), tables and plots by issuer level and by year (part coverage,
indicator density, label shares), the most frequent problem and plan themes across reports
(KMeans over sentence embeddings, keywords per theme by class-based TF-IDF over jieba words)
with anchors from each theme to example sentences, and the regulations cited most.

Issuer level and year come from each record's ``meta`` (``year``, ``issuer_level``); records
written by ``nlp annotate`` from a table carry only the text and id columns, so a metadata
table (e.g. ``reports.jsonl``) can be joined by id with ``--meta`` (``apply_meta``). Without
them the year is read from the title and the issuer level is ``unknown``.
"""

from __future__ import annotations

import csv
import json
import math
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import jinja2
import numpy as np

from .indicators import load_annotated, regulation_counts, regulation_rows
from .io import ReadError
from .schema import LABELS, SECTION_LABELS
from .summarize import MIN_CHARS, Scorecard, _is_content_char, normalise_rows, scorecard

UNKNOWN = "unknown"
LEVEL_ORDER = ("national", "province", "city", "prefecture", "county", "district", "township", "department")
THEME_CATEGORIES: tuple[str, ...] = ("problems", "plans")
LABEL_COLORS = {"duty": "#4c72b0", "measures": "#55a868", "problems": "#c44e52", "plans": "#8172b2", "other": "#bbbbbb"}

# --------------------------------------------------------------------------- inputs


def load_records(path: str | Path) -> list[dict[str, Any]]:
    """Records of an ``nlp annotate`` output: JSONL (checked by ``indicators.load_annotated``)
    or Parquet (``outputs.read_records``). ``ReadError`` naming the file otherwise."""
    p = Path(path)
    if p.suffix.lower() == ".parquet":
        from .outputs import read_records

        try:
            recs = list(read_records(p))
        except FileNotFoundError:
            raise ReadError(str(p), "no such file")
        except Exception as e:  # pyarrow raises several kinds
            raise ReadError(str(p), f"not an annotated Parquet file ({type(e).__name__}: {e})")
        if not recs:
            raise ReadError(str(p), "no annotated documents")
        return recs
    return load_annotated(str(p))


def load_meta(path: str | Path, id_column: str = "id") -> dict[str, dict[str, Any]]:
    """id → metadata fields from a JSONL, CSV or Parquet table (``reports.jsonl``: year,
    issuer_level, kind, …). Text columns (``text``) are left out."""
    p = Path(path)
    if not p.exists():
        raise ReadError(str(p), "no such file")
    suffix = p.suffix.lower()
    rows: Iterable[Mapping[str, Any]]
    try:
        if suffix == ".parquet":
            import pyarrow.parquet as pq

            table = pq.read_table(p)
            rows = table.select([c for c in table.column_names if c != "text"]).to_pylist()
        elif suffix == ".csv":
            with open(p, encoding="utf-8-sig", newline="") as f:
                rows = list(csv.DictReader(f))
        else:
            rows = []
            with open(p, encoding="utf-8") as f:
                for n, line in enumerate(f, 1):
                    if line.strip():
                        r = json.loads(line)
                        if not isinstance(r, dict):
                            raise ReadError(str(p), f"line {n} is not a JSON object")
                        rows.append(r)
    except (UnicodeDecodeError, ValueError) as e:
        raise ReadError(str(p), f"not a metadata table ({type(e).__name__}: {e})")
    out: dict[str, dict[str, Any]] = {}
    for r in rows:
        if r.get(id_column) in (None, ""):
            continue
        out[str(r[id_column])] = {k: v for k, v in r.items() if k not in (id_column, "text") and v not in (None, "")}
    if not out:
        raise ReadError(str(p), f"no rows with an {id_column!r} column")
    return out


def apply_meta(records: Sequence[dict[str, Any]], meta: Mapping[str, Mapping[str, Any]]) -> int:
    """Join metadata into each record's ``meta`` by record id (the table's values win);
    returns how many records were matched. ``year`` becomes an int when it reads as one."""
    n = 0
    for rec in records:
        m = meta.get(str(rec.get("id")))
        if m is None:
            continue
        n += 1
        rm = rec.setdefault("meta", {})
        if rm is None:
            rm = rec["meta"] = {}
        for k, v in m.items():
            if k == "year":
                try:
                    v = int(v)
                except (TypeError, ValueError):
                    pass
            rm[k] = v
        if not rec.get("title") and m.get("title"):
            rec["title"] = m["title"]
    return n


# --------------------------------------------------------------------------- groups


def _level_key(level: str) -> tuple[int, str]:
    if level == UNKNOWN:
        return (len(LEVEL_ORDER) + 1, level)
    return (LEVEL_ORDER.index(level) if level in LEVEL_ORDER else len(LEVEL_ORDER), level)


def _year_key(year: str) -> tuple[int, str]:
    return (1, year) if year == UNKNOWN else (0, year)


def group_of(sc: Scorecard, by: str) -> str:
    if by == "issuer_level":
        return sc.issuer_level or UNKNOWN
    if by == "year":
        return str(sc.year) if sc.year is not None else UNKNOWN
    raise ValueError(f"unknown grouping {by!r}")


def _mean(xs: Sequence[float | None]) -> float | None:
    vals = [x for x in xs if x is not None]
    return sum(vals) / len(vals) if vals else None


@dataclass
class GroupStats:
    group: str
    reports: int
    mean_chars: float
    parts_present: dict[str, float]  # share of reports with the part
    all_parts: float  # share of reports with all four parts
    metrics_per_1000_chars: float  # mean over reports
    regulations: float  # mean distinct regulations per report
    problems_specificity: float | None  # mean over reports with problems sentences
    plans_target_share: float | None  # mean over reports with plans sentences
    label_shares: dict[str, float]  # mean character share per label


def group_stats(cards: Sequence[Scorecard], by: str) -> list[GroupStats]:
    groups: dict[str, list[Scorecard]] = defaultdict(list)
    for sc in cards:
        groups[group_of(sc, by)].append(sc)
    key = _level_key if by == "issuer_level" else _year_key
    out = []
    for g in sorted(groups, key=key):
        cs = groups[g]
        n = len(cs)
        out.append(GroupStats(
            group=g, reports=n, mean_chars=sum(c.n_chars for c in cs) / n,
            parts_present={lab: sum(c.parts_present[lab] for c in cs) / n for lab in SECTION_LABELS},
            all_parts=sum(c.all_parts_present for c in cs) / n,
            metrics_per_1000_chars=sum(c.metrics_per_1000_chars for c in cs) / n,
            regulations=sum(c.n_regulations for c in cs) / n,
            problems_specificity=_mean([c.problems_specificity for c in cs]),
            plans_target_share=_mean([c.plans_target_share for c in cs]),
            label_shares={lab: sum(c.label_shares[lab] for c in cs) / n for lab in LABELS}))
    return out


# --------------------------------------------------------------------------- themes

# Words too common in these reports to name a theme (function words and the formulas every
# section repeats); class-based TF-IDF discounts the rest of the common vocabulary.
STOPWORDS = frozenset("""
推进 加强 进一步 工作 法治 政府 建设 法治政府 持续 深入 全面 不断 提升 提高 存在 问题 有待 部分 个别 少数 方面
相关 有关 开展 落实 推动 完善 深化 坚持 进行 实现 不够 不足 一些 全市 全区 全县 全省 各级 下一步 继续 积极 切实
着力 大力 扎实 更加 确保 力争 还有 仍然 需要 一是 二是 三是 四是 五是 以及 我们 没有 有的 其中 同时 通过 按照 根据
进一步提高 进一步加强 不断提高 相对 较为 比较 依然 仍需 还需 有所 之间 今年 明年 年度 主要 重点 取得 成效
""".split())


@dataclass
class Theme:
    id: str  # problems-1, plans-2, … (1 = in most reports)
    category: str
    keywords: list[str]
    n_sentences: int
    n_documents: int
    examples: list[dict[str, Any]] = field(default_factory=list)  # doc_id, title, sentence, text

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def theme_sentences(records: Sequence[Mapping[str, Any]], category: str) -> list[dict[str, Any]]:
    """Non-heading sentences of a part (at least MIN_CHARS characters) across records."""
    out = []
    for rec in records:
        for i, s in enumerate(rec["sentences"]):
            if s.get("label") != category or s.get("is_heading"):
                continue
            text = s.get("text") or rec["text"][s["start"]:s["end"]]
            if sum(map(_is_content_char, text)) >= MIN_CHARS:
                out.append({"doc_id": str(rec.get("id")), "title": rec.get("title"), "sentence": i, "text": text})
    return out


def _words(text: str) -> list[str]:
    import logging

    import jieba

    jieba.setLogLevel(logging.WARNING)
    return [w for w in jieba.lcut(text)
            if len(w) >= 2 and all("\u4e00" <= c <= "\u9fff" for c in w) and w not in STOPWORDS]


def class_tfidf_keywords(cluster_texts: Sequence[Sequence[str]], n: int = 6) -> list[list[str]]:
    """Keywords per cluster by class-based TF-IDF (each cluster's sentences as one document:
    term frequency in the cluster × log(1 + mean words per cluster / the term's frequency
    over all clusters)), over jieba words without STOPWORDS."""
    counts = [Counter(w for t in texts for w in _words(t)) for texts in cluster_texts]
    total = Counter()
    for c in counts:
        total.update(c)
    avg = sum(total.values()) / max(1, len(counts))
    out = []
    for c in counts:
        size = sum(c.values()) or 1
        scored = sorted(((v / size) * math.log(1 + avg / total[w]), w) for w, v in c.items())
        out.append([w for _, w in reversed(scored)][:n])
    return out


def auto_clusters(n: int) -> int:
    """Themes per part when not given: about √(n/2) for n sentences, between 2 and 10."""
    return max(1, min(n, max(2, min(10, round(math.sqrt(n / 2))))))


def find_themes(records: Sequence[Mapping[str, Any]], encoder: Any, categories: Sequence[str] = THEME_CATEGORIES,
                n_clusters: int | None = None, n_examples: int = 3, n_keywords: int = 6,
                seed: int = 0) -> dict[str, list[Theme]]:
    """Themes of each part across reports: KMeans over centred, L2-normalised sentence
    embeddings; themes ordered by the number of reports they occur in (then sentences);
    examples are the sentences nearest the cluster centre, one per report first."""
    from sklearn.cluster import KMeans

    out: dict[str, list[Theme]] = {}
    for cat in categories:
        sents = theme_sentences(records, cat)
        if not sents:
            out[cat] = []
            continue
        emb = normalise_rows(np.asarray(encoder.encode([s["text"] for s in sents]), dtype=np.float64))
        k = min(n_clusters, len(sents)) if n_clusters else auto_clusters(len(sents))
        if k <= 1:
            assign = np.zeros(len(sents), dtype=int)
            centres = emb.mean(axis=0, keepdims=True)
        else:
            km = KMeans(n_clusters=k, n_init=10, random_state=seed).fit(emb)
            assign, centres = km.labels_, km.cluster_centers_
        members = [[i for i in range(len(sents)) if assign[i] == c] for c in range(len(centres))]
        members = [m for m in members if m]
        kws = class_tfidf_keywords([[sents[i]["text"] for i in m] for m in members], n_keywords)
        themes = []
        for m, kw in zip(members, kws):
            centre = emb[m].mean(axis=0)
            near = sorted(m, key=lambda i: -float(emb[i] @ centre))
            picked, seen_docs = [], set()
            for i in near:  # one per report first, then the rest
                if sents[i]["doc_id"] not in seen_docs:
                    picked.append(i)
                    seen_docs.add(sents[i]["doc_id"])
                if len(picked) >= n_examples:
                    break
            for i in near:
                if len(picked) >= n_examples:
                    break
                if i not in picked:
                    picked.append(i)
            themes.append(Theme("", cat, kw, len(m), len({sents[i]["doc_id"] for i in m}),
                                [dict(sents[i]) for i in picked]))
        themes.sort(key=lambda t: (-t.n_documents, -t.n_sentences, t.keywords))
        for r, t in enumerate(themes, 1):
            t.id = f"{cat}-{r}"
        out[cat] = themes
    return out


# --------------------------------------------------------------------------- figures


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _png(fig) -> str:
    from .report import _png as png

    return png(fig)


def _xlabels(groups: Sequence[GroupStats]) -> list[str]:
    return [f"{g.group}\n(n={g.reports})" for g in groups]


def coverage_figure(groups: Sequence[GroupStats], by_label: str) -> str:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(max(5.5, 1.1 * len(groups) + 2), 3.6))
    w = 0.8 / len(SECTION_LABELS)
    for k, lab in enumerate(SECTION_LABELS):
        xs = [i + (k - (len(SECTION_LABELS) - 1) / 2) * w for i in range(len(groups))]
        ax.bar(xs, [g.parts_present[lab] for g in groups], w, label=lab, color=LABEL_COLORS[lab])
    ax.set_xticks(range(len(groups)), _xlabels(groups), fontsize=8)
    ax.set_ylim(0, 1.08)
    ax.set_xlabel(by_label)
    ax.set_ylabel("share of reports with the part")
    ax.set_title(f"Mandated parts present, by {by_label}")
    ax.legend(fontsize=8, ncol=4, loc="upper center", bbox_to_anchor=(0.5, -0.28))
    return _png(fig)


def density_figure(groups: Sequence[GroupStats], by_label: str) -> str:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(max(5.5, 0.9 * len(groups) + 2), 3.4))
    vals = [g.metrics_per_1000_chars for g in groups]
    ax.bar(range(len(groups)), vals, 0.6, color="#4c72b0")
    for i, v in enumerate(vals):
        ax.text(i, v, f"{v:.1f}", ha="center", va="bottom", fontsize=8)
    ax.set_xticks(range(len(groups)), _xlabels(groups), fontsize=8)
    ax.set_ylim(0, max(vals + [1.0]) * 1.18)
    ax.set_xlabel(by_label)
    ax.set_ylabel("METRIC per 1,000 characters\n(mean over reports)")
    ax.set_title(f"Indicator density, by {by_label}")
    return _png(fig)


def label_share_figure(groups: Sequence[GroupStats], by_label: str) -> str:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(max(5.5, 0.9 * len(groups) + 2), 3.6))
    bottom = np.zeros(len(groups))
    for lab in LABELS:
        vals = np.array([g.label_shares[lab] for g in groups])
        ax.bar(range(len(groups)), vals, 0.6, bottom=bottom, label=lab, color=LABEL_COLORS[lab])
        bottom += vals
    ax.set_xticks(range(len(groups)), _xlabels(groups), fontsize=8)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel(by_label)
    ax.set_ylabel("share of characters (mean over reports)")
    ax.set_title(f"Label shares, by {by_label}")
    ax.legend(fontsize=8, ncol=5, loc="upper center", bbox_to_anchor=(0.5, -0.28))
    return _png(fig)


def themes_figure(themes: Mapping[str, Sequence[Theme]], n_reports: int) -> str:
    plt = _plt()
    rows = [t for cat in themes for t in themes[cat]]
    fig, ax = plt.subplots(figsize=(6, max(2.4, 0.3 * len(rows) + 1.2)))
    ys = list(range(len(rows)))[::-1]
    ax.barh(ys, [t.n_documents for t in rows], color=[LABEL_COLORS[t.category] for t in rows])
    ax.set_yticks(ys, [t.id for t in rows], fontsize=8)
    ax.set_xlim(0, max([n_reports, 1]) * 1.05)
    ax.set_xlabel("reports with at least one sentence of the theme")
    ax.set_ylabel("theme")
    ax.set_title("Problem and plan themes across reports")
    return _png(fig)


# --------------------------------------------------------------------------- report


def _fmt(x: Any, pct: bool = False) -> str:
    if x is None:
        return "–"
    if pct:
        return f"{100 * x:.0f}%"
    if isinstance(x, float):
        return f"{x:.2f}"
    return str(x)


def group_table(groups: Sequence[GroupStats], by_label: str) -> list[list[str]]:
    head = [by_label, "reports", "mean characters", "all 4 parts"] + [f"{lab} present" for lab in SECTION_LABELS] + [
        "METRIC / 1,000 chars", "regulations / report", "problems specificity", "plans with targets"] + [
        f"{lab} share" for lab in LABELS]
    rows = [head]
    for g in groups:
        rows.append([g.group, str(g.reports), f"{g.mean_chars:.0f}", _fmt(g.all_parts, True)]
                    + [_fmt(g.parts_present[lab], True) for lab in SECTION_LABELS]
                    + [_fmt(g.metrics_per_1000_chars), _fmt(g.regulations), _fmt(g.problems_specificity, True),
                       _fmt(g.plans_target_share, True)]
                    + [_fmt(g.label_shares[lab], True) for lab in LABELS])
    return rows


def scorecard_table(cards: Sequence[Scorecard], pages: str | None = None) -> list[list[Any]]:
    """The scorecards as table rows; with ``pages`` (a relative URL ending in ``/``) the report id
    is a link to the document's ``nlp show`` page there."""
    from markupsafe import Markup

    from .show import page_name

    rows: list[list[Any]] = [["report", "title", "kind", "issuer level", "year", "parts (duty measures problems plans)",
                              "characters", "METRIC / 1,000 chars", "regulations", "specific problems",
                              "plans with targets"]]
    for c in cards:
        parts = " ".join(("✓" if c.parts_present[lab] else "·") for lab in SECTION_LABELS)
        ident = (Markup('<a class="page" href="{}{}">{}</a>').format(pages, page_name(c.doc_id), c.doc_id)
                 if pages is not None else c.doc_id)
        rows.append([ident, c.title or "", c.document_kind or UNKNOWN, c.issuer_level or UNKNOWN, str(c.year or UNKNOWN),
                     parts, str(c.n_chars),
                     f"{c.metrics_per_1000_chars:.1f}", str(c.n_regulations),
                     f"{c.problems_specific}/{c.problems_sentences}", f"{c.plans_with_targets}/{c.plans_sentences}"])
    return rows


_HTML = jinja2.Template("""<!DOCTYPE html>
<html lang="zh"><head><meta charset="utf-8"><title>{{ title }}</title>
<style>
body { font-family: system-ui, "Noto Sans CJK SC", sans-serif; margin: 2em auto; max-width: 1150px; color: #222; }
table { border-collapse: collapse; margin: 0.6em 0 1.4em; } th, td { border: 1px solid #ccc; padding: 3px 7px; font-size: 13px; vertical-align: top; }
th { background: #eef2f7; } .figs img { max-width: 48%; margin: 0 1% 1em 0; vertical-align: top; }
.meta { color: #555; font-size: 13px; } .kw { color: #7a2e0e; } li { margin: 0.2em 0; font-size: 14px; }
.wide { overflow-x: auto; }
</style></head><body>
<h1>{{ title }}</h1>
<p class="meta">{{ n_reports }} documents, {{ n_sentences }} sentences from {{ sources|join(", ") }}.
{% if n_plan_docs %}{{ n_plan_docs }} of them are plan or problem documents (document kind): they are listed in the
scorecards and their sentences count for the themes, but the statistics by issuer level and by year are over the
{{ n_reports - n_plan_docs }} reports.{% endif %}
{% if meta_path %}Metadata joined by id from {{ meta_path }} ({{ meta_matched }} of {{ n_reports }} reports matched).{% endif %}
Themes: KMeans over sentence embeddings ({{ encoder }}); keywords by class-based TF-IDF over jieba words.
Specific problems: problems sentences naming a figure, a regulation or a concrete object (执法, 复议, 案件, 规范性文件 …)
rather than a generic formula (有待提升, 还需加强 …).</p>
{% macro table(rows, id) -%}
<div class="wide"><table id="{{ id }}"><tr>{% for c in rows[0] %}<th>{{ c }}</th>{% endfor %}</tr>
{% for r in rows[1:] %}<tr>{% for c in r %}<td>{{ c }}</td>{% endfor %}</tr>{% endfor %}</table></div>
{%- endmacro %}
<h2 id="by-level">By issuer level</h2>
<div class="figs">{% for f in figs.level %}<img class="plot" alt="{{ f.alt }}" src="{{ f.src }}">{% endfor %}</div>
{{ table(t.level, "table-by-level") }}
<h2 id="by-year">By year</h2>
<div class="figs">{% for f in figs.year %}<img class="plot" alt="{{ f.alt }}" src="{{ f.src }}">{% endfor %}</div>
{{ table(t.year, "table-by-year") }}
<h2 id="themes">Most frequent problem and plan themes</h2>
<div class="figs">{% for f in figs.themes %}<img class="plot" alt="{{ f.alt }}" src="{{ f.src }}">{% endfor %}</div>
<table id="themes-table"><tr><th>theme</th><th>part</th><th>keywords</th><th>reports</th><th>sentences</th><th>examples</th></tr>
{% for cat, ts in themes.items() %}{% for th in ts %}<tr><td><a href="#{{ th.id }}">{{ th.id }}</a></td><td>{{ th.category }}</td>
<td class="kw">{{ th.keywords|join("、") }}</td><td>{{ th.n_documents }}</td><td>{{ th.n_sentences }}</td>
<td><a href="#{{ th.id }}">{{ th.examples|length }} example(s)</a></td></tr>{% endfor %}{% endfor %}
</table>
{% for cat, ts in themes.items() %}{% for th in ts %}
<h3 id="{{ th.id }}">{{ th.id }} <span class="kw">{{ th.keywords|join("、") }}</span></h3>
<ol>{% for ex in th.examples %}<li id="{{ th.id }}-ex{{ loop.index }}">{{ ex.text }} <span class="meta">— {{ ex.title or ex.doc_id }} ({% if pages is not none %}<a class="page" href="{{ pages }}{{ page_name(ex.doc_id) }}#s{{ ex.sentence }}">{{ ex.doc_id }}, sentence {{ ex.sentence }}</a>{% else %}{{ ex.doc_id }}, sentence {{ ex.sentence }}{% endif %})</span></li>{% endfor %}</ol>
{% endfor %}{% endfor %}
<h2 id="regulations">Regulations cited most</h2>
{{ table(t.regulations, "regulations-table") }}
<h2 id="scorecards">Report scorecards</h2>
{{ table(t.cards, "scorecards-table") }}
</body></html>""", autoescape=True)


@dataclass
class CorpusReport:
    cards: list[Scorecard]
    by_level: list[GroupStats]
    by_year: list[GroupStats]
    themes: dict[str, list[Theme]]
    regulations: list[dict[str, Any]]
    n_sentences: int

    def to_dict(self) -> dict[str, Any]:
        return {"scorecards": [c.to_dict() for c in self.cards], "by_issuer_level": [asdict(g) for g in self.by_level],
                "by_year": [asdict(g) for g in self.by_year],
                "themes": {c: [t.to_dict() for t in ts] for c, ts in self.themes.items()},
                "regulations": self.regulations, "n_sentences": self.n_sentences}


def build_report(records: Sequence[Mapping[str, Any]], encoder: Any, n_clusters: int | None = None,
                 n_examples: int = 3, seed: int = 0, n_regulations: int = 25) -> CorpusReport:
    cards = [scorecard(r) for r in records]
    # the mandated-structure statistics are about reports: plan documents (the decoder's document
    # kind, or the kind column of --meta) are listed in the scorecards but not grouped
    reports = [c for c in cards if c.document_kind != "plans"]
    regs = regulation_rows(regulation_counts(records)[:n_regulations])
    return CorpusReport(cards=cards, by_level=group_stats(reports, "issuer_level"), by_year=group_stats(reports, "year"),
                        themes=find_themes(records, encoder, n_clusters=n_clusters, n_examples=n_examples, seed=seed),
                        regulations=regs, n_sentences=sum(len(r["sentences"]) for r in records))


def render_corpus_html(rep: CorpusReport, sources: Sequence[str], encoder_name: str, meta_path: str | None = None,
                       meta_matched: int = 0, title: str = "Corpus report: rule-of-law government annual reports",
                       pages: str | None = None) -> str:
    """The corpus report as one HTML file. With ``pages`` (where the ``nlp show`` pages are, as a
    URL relative to the report, e.g. ``pages/``; ``nlp.show.pages_href`` makes one), each
    scorecard's report id links to its page and each theme example to its sentence there
    (``PAGE#sN``, N the sentence index)."""
    from .show import page_name

    if pages and not pages.endswith("/"):
        pages += "/"
    figs = {
        "level": [{"alt": "parts present by issuer level", "src": coverage_figure(rep.by_level, "issuer level")},
                  {"alt": "indicator density by issuer level", "src": density_figure(rep.by_level, "issuer level")},
                  {"alt": "label shares by issuer level", "src": label_share_figure(rep.by_level, "issuer level")}],
        "year": [{"alt": "parts present by year", "src": coverage_figure(rep.by_year, "report year")},
                 {"alt": "indicator density by year", "src": density_figure(rep.by_year, "report year")},
                 {"alt": "label shares by year", "src": label_share_figure(rep.by_year, "report year")}],
        "themes": ([{"alt": "themes across reports", "src": themes_figure(rep.themes, len(rep.cards))}]
                   if any(rep.themes.values()) else []),
    }
    t = {"level": group_table(rep.by_level, "issuer level"), "year": group_table(rep.by_year, "year"),
         "cards": scorecard_table(rep.cards, pages),
         "regulations": [["regulation", "kind", "mentions", "reports"]] + [
             [r["name"], r["kind"], str(r["mentions"]), str(r["n_documents"])] for r in rep.regulations]}
    return _HTML.render(title=title, n_reports=len(rep.cards), n_sentences=rep.n_sentences, sources=list(sources),
                        n_plan_docs=sum(c.document_kind == "plans" for c in rep.cards),
                        meta_path=meta_path, meta_matched=meta_matched, encoder=encoder_name, figs=figs, t=t,
                        themes=rep.themes, pages=pages, page_name=page_name)
