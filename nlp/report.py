"""Evaluation reports: one self-contained HTML file (figures embedded) and Markdown."""

from __future__ import annotations

import base64
import io
from typing import Any

import jinja2

from .schema import ENTITY_TYPES, LABELS


def _png(fig) -> str:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def confusion_figure(m: dict[str, Any], title: str = "Sentence labels: confusion matrix (in context)") -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cm = m["classification"]["sentence"]["confusion"]
    mat, labels = cm["matrix"], cm["labels"]
    fig, ax = plt.subplots(figsize=(5.2, 4.4))
    rows = [max(1, sum(r)) for r in mat]
    norm = [[v / rows[i] for v in r] for i, r in enumerate(mat)]
    im = ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
    for i, r in enumerate(mat):
        for j, v in enumerate(r):
            ax.text(j, i, str(v), ha="center", va="center", color="white" if norm[i][j] > 0.5 else "black", fontsize=9)
    ax.set_xticks(range(len(labels)), labels, rotation=30)
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel("predicted label")
    ax.set_ylabel("gold label")
    ax.set_title(title)
    fig.colorbar(im, ax=ax, label="share of gold row")
    return _png(fig)


def _grouped_bars(categories: list[str], series: dict[str, list[float]], xlabel: str, ylabel: str, title: str,
                  figsize: tuple[float, float]) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=figsize)
    w = 0.8 / len(series)
    for k, (name, values) in enumerate(series.items()):
        ax.bar([i + (k - (len(series) - 1) / 2) * w for i in range(len(categories))], values, w, label=name)
    ax.set_xticks(range(len(categories)), categories)
    ax.set_ylim(0, 1.05)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(loc="lower right", fontsize=8)
    return _png(fig)


def per_label_figure(m: dict[str, Any]) -> str:
    per = m["classification"]["sentence"]["per_label"]
    series = {key: [per[lab][key] for lab in LABELS] for key in ("precision", "recall", "f1")}
    return _grouped_bars(list(LABELS), series, "sentence label", "score",
                         "Per-label precision, recall and F1 (in context)", (6, 3.4))


def entity_figure(m: dict[str, Any]) -> str:
    e = m["entities"]
    series = {mode: [e[mode]["per_type"][t]["f1"] for t in ENTITY_TYPES] for mode in ("strict", "partial")}
    return _grouped_bars(list(ENTITY_TYPES), series, "entity type", "F1", "Entity F1 by type", (5, 3.2))


def _fmt(x: Any) -> str:
    return f"{x:.3f}" if isinstance(x, float) else str(x)


def tables(m: dict[str, Any]) -> dict[str, list[list[str]]]:
    cls, ents = m["classification"], m["entities"]
    t: dict[str, list[list[str]]] = {}
    t["summary"] = [["metric", "value", "95% interval"]]
    bs = m.get("bootstrap", {})

    def ci(key: str) -> str:
        return f"{bs[key]['low']:.3f}–{bs[key]['high']:.3f}" if key in bs else ""

    t["summary"].append(["sentence macro-F1 (document in view)", _fmt(cls["sentence"]["macro_f1"]), ci("sentence_macro_f1")])
    if "sentence_alone" in cls:
        t["summary"].append(["sentence macro-F1 (sentence alone)", _fmt(cls["sentence_alone"]["macro_f1"]), ci("sentence_alone_macro_f1")])
    t["summary"].append(["sentence accuracy", _fmt(cls["sentence"]["accuracy"]), ""])
    t["summary"].append(["paragraph macro-F1", _fmt(cls["paragraph"]["macro_f1"]), ""])
    t["summary"].append(["entity strict micro-F1", _fmt(ents["strict"]["micro_f1"]), ci("entity_strict_micro_f1")])
    t["summary"].append(["entity partial micro-F1", _fmt(ents["partial"]["micro_f1"]), ""])
    if ents.get("metric_target_accuracy") is not None:
        t["summary"].append(["METRIC target-flag accuracy", _fmt(ents["metric_target_accuracy"]), ""])
    t["labels"] = [["label", "precision", "recall", "F1", "support"]] + [
        [lab, _fmt(v["precision"]), _fmt(v["recall"]), _fmt(v["f1"]), str(v["support"])]
        for lab, v in cls["sentence"]["per_label"].items()]
    labs = cls["sentence"]["confusion"]["labels"]
    t["confusion"] = [["gold \\ predicted"] + labs] + [
        [labs[i]] + [str(v) for v in row] for i, row in enumerate(cls["sentence"]["confusion"]["matrix"])]
    t["sources"] = [["source", "sentences", "macro-F1", "accuracy"]] + [
        [src, str(v["n"]), _fmt(v["macro_f1"]), _fmt(v["accuracy"])] for src, v in cls.get("by_source", {}).items()]
    t["entities"] = [["type", "precision", "recall", "F1 (strict)", "F1 (partial)", "support"]] + [
        [ty, _fmt(v["precision"]), _fmt(v["recall"]), _fmt(v["f1"]), _fmt(ents["partial"]["per_type"][ty]["f1"]), str(v["support"])]
        for ty, v in ents["strict"]["per_type"].items()]
    return t


_HTML = jinja2.Template("""<!DOCTYPE html>
<html lang="zh"><head><meta charset="utf-8"><title>Evaluation: {{ m.model }}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1000px; color: #222; }
table { border-collapse: collapse; margin: 0.6em 0 1.4em; } th, td { border: 1px solid #ccc; padding: 3px 8px; font-size: 14px; }
th { background: #eef2f7; } td.num { text-align: right; } .figs img { max-width: 48%; margin: 0 1% 1em 0; vertical-align: top; }
.gold { color: #0a6b2e; } .pred { color: #b3261e; } .meta { color: #666; font-size: 13px; }
</style></head><body>
<h1>Evaluation report: {{ m.model }}</h1>
<p class="meta">gold: {{ m.gold }} — {{ m.n_documents }} documents, {{ m.n_paragraphs }} paragraphs, {{ m.n_sentences }} sentences.
Sentence labels are scored on the gold sentence spans{% if m.bootstrap %}; intervals: {{ m.bootstrap.n_resamples }} bootstrap resamples of documents{% endif %}.</p>
{% macro table(rows, id) -%}
<table id="{{ id }}"><tr>{% for c in rows[0] %}<th>{{ c }}</th>{% endfor %}</tr>
{% for r in rows[1:] %}<tr>{% for c in r %}<td{% if not loop.first %} class="num"{% endif %}>{{ c }}</td>{% endfor %}</tr>{% endfor %}</table>
{%- endmacro %}
<h2>Summary</h2>{{ table(t.summary, "summary") }}
<h2>Sentence labels</h2>
<div class="figs"><img id="confusion-matrix" alt="confusion matrix" src="{{ figs.confusion }}"><img alt="per-label scores" src="{{ figs.labels }}"></div>
<h3>Confusion matrix</h3>{{ table(t.confusion, "confusion-table") }}
<h3>Per label</h3>{{ table(t.labels, "labels") }}
<h3>By source</h3>{{ table(t.sources, "sources") }}
<h2>Entities</h2><div class="figs"><img alt="entity F1" src="{{ figs.entities }}"></div>{{ table(t.entities, "entities") }}
<h2>Worst errors</h2>
<table id="errors"><tr><th>document</th><th>sentence</th><th>gold</th><th>predicted</th></tr>
{% for e in errors %}<tr><td>{% if pages is not none %}<a href="{{ pages }}{{ page_name(e.doc_id) }}">{{ e.doc_id }}</a>{% else %}{{ e.doc_id }}{% endif %}</td><td>{{ e.text }}</td><td class="gold">{{ e.gold }}</td><td class="pred">{{ e.pred }}</td></tr>{% endfor %}
</table></body></html>""", autoescape=True)


def render_html(m: dict[str, Any], errors: list[dict[str, Any]], pages: str | None = None) -> str:
    """The evaluation report. With ``pages`` (the location of ``nlp show`` pages as a relative URL,
    e.g. ``pages/``), each worst error's document links to its page there."""
    from .show import page_name

    figs = {"confusion": confusion_figure(m), "labels": per_label_figure(m), "entities": entity_figure(m)}
    if pages is not None and pages and not pages.endswith("/"):
        pages += "/"
    return _HTML.render(m=m, t=tables(m), figs=figs, errors=errors, pages=pages, page_name=page_name)


def _md_table(rows: list[list[str]]) -> str:
    esc = [[str(c).replace("|", "\\|") for c in r] for r in rows]
    lines = ["| " + " | ".join(esc[0]) + " |", "|" + "---|" * len(esc[0])]
    lines += ["| " + " | ".join(r) + " |" for r in esc[1:]]
    return "\n".join(lines)


def render_markdown(m: dict[str, Any], errors: list[dict[str, Any]]) -> str:
    t = tables(m)
    parts = [f"# Evaluation report: {m['model']}", "",
             f"gold: `{m.get('gold')}` — {m['n_documents']} documents, {m['n_paragraphs']} paragraphs, {m['n_sentences']} sentences.", "",
             "## Summary", _md_table(t["summary"]), "", "## Confusion matrix (sentences, in context)", _md_table(t["confusion"]), "",
             "## Per label", _md_table(t["labels"]), "", "## By source", _md_table(t["sources"]), "",
             "## Entities", _md_table(t["entities"]), "", "## Worst errors",
             _md_table([["document", "sentence", "gold", "predicted"]] + [[e["doc_id"], e["text"], e["gold"], e["pred"]] for e in errors])]
    return "\n".join(parts) + "\n"


def md_table(rows: list[list[str]]) -> str:
    """A Markdown table (the first row is the header)."""
    return _md_table(rows)


def metrics_renderables(m: dict[str, Any]) -> list[Any]:
    """The terminal view of a metrics JSON (``nlp eval``): per-label table, summary line,
    entity table, METRIC target accuracy; rich renderables."""
    from rich.table import Table

    cls = m["classification"]
    t = Table(title=f"{m['model']} — {m['n_sentences']} sentences, {m['n_paragraphs']} paragraphs")
    t.add_column("label")
    for col in ("P", "R", "F1", "support"):
        t.add_column(col, justify="right")
    for lab, v in cls["sentence"]["per_label"].items():
        t.add_row(lab, f"{v['precision']:.3f}", f"{v['recall']:.3f}", f"{v['f1']:.3f}", str(v["support"]))
    line = f"sentence macro-F1 {cls['sentence']['macro_f1']:.3f} (in context)"
    if "sentence_alone" in cls:
        line += f", {cls['sentence_alone']['macro_f1']:.3f} (alone)"
    line += f"; accuracy {cls['sentence']['accuracy']:.3f}; paragraph macro-F1 {cls['paragraph']['macro_f1']:.3f}"
    e = m["entities"]
    te = Table(title="entities (strict)")
    te.add_column("type")
    for col in ("P", "R", "F1", "support", "partial F1"):
        te.add_column(col, justify="right")
    for ty, v in e["strict"]["per_type"].items():
        te.add_row(ty, f"{v['precision']:.3f}", f"{v['recall']:.3f}", f"{v['f1']:.3f}", str(v["support"]),
                   f"{e['partial']['per_type'][ty]['f1']:.3f}")
    te.add_row("micro", "", "", f"{e['strict']['micro_f1']:.3f}", str(e["n_gold"]), f"{e['partial']['micro_f1']:.3f}")
    out: list[Any] = [t, line, te]
    if e.get("metric_target_accuracy") is not None:
        out.append(f"METRIC target-flag accuracy {e['metric_target_accuracy']:.3f} ({e['metric_target_n']} matched metrics)")
    return out


def comparison_rows(res: dict[str, Any]) -> list[list[str]]:
    """Rows (header first) of a paired comparison (``nlp.evaluate.compare``): each metric's
    score per system and Δ [95% CI] p against the first."""
    k = len(res["systems"])
    rows = [["metric"] + res["systems"] + [f"Δ{i + 1}−1 [95% CI] p" for i in range(1, k)]]
    for row in res["rows"]:
        cells = [f"{x:.3f}" for x in row["scores"]]
        cells += [f"{d:+.3f} [{lo:+.3f}, {hi:+.3f}] p={p:.3f}" for d, (lo, hi), p in zip(row["diff"], row["ci"], row["p"])]
        rows.append([row["metric"]] + cells)
    return rows


def rich_table(rows: list[list[str]], title: str = ""):
    """A rich table from rows (header first; columns after the first right-aligned)."""
    from rich.table import Table

    t = Table(title=title or None)
    for i, h in enumerate(rows[0]):
        t.add_column(h, justify="left" if i == 0 else "right")
    for r in rows[1:]:
        t.add_row(*r)
    return t
