"""Annotated-document pages (``nlp show``): one self-contained HTML page per document, the text
with each sentence coloured by its label and entities highlighted by type, plus an index page.

Pages hold no external resources (inline CSS, no scripts) and every piece of document text is
escaped by jinja2. ``page_name(doc_id)`` is the file name a document's page gets, so other
reports (``nlp eval --html``, the corpus report) can link to ``DIR/page_name(doc_id)``.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

import jinja2

from .doc import ENTITY_TYPES, LABELS, Document, Entity, Sentence

INDEX_NAME = "index.html"

LABEL_COLOURS: dict[str, str] = {
    "duty": "#dbe9ff",
    "measures": "#dcf3dc",
    "problems": "#ffe0dc",
    "plans": "#fff1c2",
    "other": "#eeeeee",
}
ENTITY_COLOURS: dict[str, str] = {
    "LAW": "#7b3fb5",
    "DOCNO": "#00796b",
    "METRIC": "#c2410c",
    "DATE": "#1d4ed8",
}

_SAFE = re.compile(r"[^a-z0-9._-]+")
_MAX_STEM = 80


class ShowError(ValueError):
    """The documents cannot be shown as asked (an id that is not in the input, an id given to two
    documents); ``str(err)`` is one line."""


def page_name(doc_id: str) -> str:
    """The file name (``….html``) of the page of document ``doc_id``: lower-case ASCII letters,
    digits, ``.``, ``_`` and ``-`` only. An id that is not already such a name (upper case,
    other characters, too long, or one that could clash with ``index.html``) gets a short hash
    of the id appended, so distinct ids give distinct names, also on case-insensitive file systems."""
    doc_id = str(doc_id)
    stem = _SAFE.sub("_", doc_id.lower()).strip("._")[:_MAX_STEM]
    if stem != doc_id or not stem or stem == "index":
        digest = hashlib.sha1(doc_id.encode("utf-8")).hexdigest()[:10]
        stem = f"{stem}-{digest}" if stem else digest
    return stem + ".html"


def pages_href(pages_dir: str | os.PathLike, from_file: str | os.PathLike) -> str:
    """The relative URL (ending in ``/``) of the pages directory ``pages_dir`` as seen from the
    HTML file ``from_file``, for links ``pages_href(...) + page_name(doc_id)``."""
    rel = os.path.relpath(Path(pages_dir).resolve(), Path(from_file).resolve().parent)
    return "" if rel == "." else Path(rel).as_posix() + "/"


# --- the view model: what the template shows ---------------------------------------------------


@dataclass
class Piece:
    """A run of text inside a sentence: plain, or an entity (``entity`` set)."""

    text: str
    entity: Entity | None = None

    @property
    def tip(self) -> str:
        e = self.entity
        if e is None:
            return ""
        parts = [e.type + (" (target)" if e.type == "METRIC" and e.target else "")]
        ind = e.attrs.get("indicator")
        if isinstance(ind, dict) and ind.get("indicator"):
            value = ind.get("value")
            val = "" if value is None else f" = {value:g}"
            if ind.get("value_max") is not None:
                val += f"–{ind['value_max']:g}"
            qual = f" ({ind['qualifier']})" if ind.get("qualifier") else ""
            parts.append(f"indicator: {ind['indicator']}{val} {ind.get('unit') or ''}".rstrip() + qual)
        if e.rule:
            parts.append(f"rule: {e.rule}")
        elif e.source:
            parts.append(f"source: {e.source}")
        if isinstance(e.attrs.get("prob"), (int, float)):
            parts.append(f"p = {e.attrs['prob']:.2f}")
        return " · ".join(parts)


@dataclass
class SentenceView:
    index: int
    label: str
    pieces: list[Piece]
    tip: str
    heading: bool


@dataclass
class Block:
    """One paragraph: heading sentences (shown as a heading of ``level``) then body sentences;
    a string among them is text between sentences, kept as plain text."""

    level: int | None
    heading: list[SentenceView | str] = field(default_factory=list)
    body: list[SentenceView | str] = field(default_factory=list)


def _sentence_tip(s: Sentence) -> str:
    label = s.label or "unlabelled"
    parts = [label]
    if s.scores and s.label in s.scores:
        parts[0] += f" (p = {s.scores[s.label]:.2f})"
        others = sorted(((v, k) for k, v in s.scores.items() if k != s.label and v >= 0.01), reverse=True)
        if others:
            parts.append("others: " + ", ".join(f"{k} {v:.2f}" for v, k in others[:3]))
    if s.reason:
        parts.append(f"reason: {s.reason}")
    if s.label_source:
        parts.append(f"by: {s.label_source}")
    return " · ".join(parts)


def _layered(entities: Iterable[Entity]) -> list[Entity]:
    """Entities in text order with overlaps dropped (the earlier, then longer span wins)."""
    out: list[Entity] = []
    end = -1
    for e in sorted(entities, key=lambda e: (e.start, -(e.end - e.start))):
        if e.end > e.start and e.start >= end:
            out.append(e)
            end = e.end
    return out


def _pieces(text: str, start: int, end: int, entities: Sequence[Entity]) -> list[Piece]:
    """The text ``text[start:end]`` cut into plain runs and entity runs (entities clipped to it)."""
    pieces: list[Piece] = []
    pos = start
    for e in entities:
        a, b = max(e.start, start), min(e.end, end)
        if b <= a or a < pos:
            continue
        if a > pos:
            pieces.append(Piece(text[pos:a]))
        pieces.append(Piece(text[a:b], e))
        pos = b
    if pos < end:
        pieces.append(Piece(text[pos:end]))
    return pieces


def _blocks(doc: Document) -> list[Block]:
    ents = _layered(doc.entities)
    sents = doc.sentences
    views = []
    for i, s in enumerate(sents):
        near = [e for e in ents if e.start < s.end and e.end > s.start]
        views.append(SentenceView(i, s.label or "unlabelled", _pieces(doc.text, s.start, s.end, near),
                                  _sentence_tip(s), s.is_heading))
    groups: list[tuple[int, int, int | None, list[int]]] = []
    if doc.paragraphs:
        for p in doc.paragraphs:
            ids = [j for j in p.sentence_ids if 0 <= j < len(sents)]
            groups.append((p.start, p.end, p.heading.level if p.heading else None, ids))
    else:  # a record without paragraphs: all sentences in one block
        groups.append((0, len(doc.text), None, list(range(len(sents)))))
    blocks = []
    for start, end, level, ids in groups:
        b = Block(level)
        pos = start
        for j in sorted(ids, key=lambda j: sents[j].start):
            s = sents[j]
            target = b.heading if (s.is_heading and level is not None and not b.body) else b.body
            gap = doc.text[pos:s.start] if s.start > pos else ""
            if gap.strip():
                target.append(gap)
            target.append(views[j])
            pos = max(pos, s.end)
        tail = doc.text[pos:end] if end > pos else ""
        if tail.strip():
            b.body.append(tail)
        if b.heading or b.body:
            blocks.append(b)
    return blocks


def _counts(doc: Document) -> dict[str, int]:
    c = Counter(s.label or "unlabelled" for s in doc.sentences)
    return {lab: c.get(lab, 0) for lab in (*LABELS, *(k for k in c if k not in LABELS))}


# --- templates ----------------------------------------------------------------------------------

_CSS = """
body { font-family: system-ui, "Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei", sans-serif;
       margin: 1.5em auto; max-width: 980px; color: #222; line-height: 1.9; padding: 0 1em; }
h1 { font-size: 1.5em; line-height: 1.4; } .meta { color: #666; font-size: 13px; line-height: 1.5; }
.legend { position: sticky; top: 0; background: #fff; border-bottom: 1px solid #ddd; padding: 6px 0;
          font-size: 13px; line-height: 2.2; z-index: 1; }
.legend span { margin-right: 6px; padding: 2px 6px; border-radius: 3px; white-space: nowrap; }
.s { border-radius: 3px; padding: 1px 0; }
{% for lab, col in label_colours.items() %}.s-{{ lab }} { background: {{ col }}; }
{% endfor %}.s-unlabelled { background: #fff; outline: 1px dashed #bbb; }
mark.ent { background: transparent; color: inherit; border-bottom: 2px solid; padding: 0 1px; font-weight: 600; }
{% for ty, col in entity_colours.items() %}mark.ent-{{ ty }} { border-color: {{ col }}; color: {{ col }}; }
{% endfor %}mark.target { border-bottom-style: double; border-bottom-width: 4px; }
mark.target::after { content: "◎"; font-size: 0.7em; vertical-align: super; }
.h { margin: 1.1em 0 0.3em; line-height: 1.6; } h2.h { font-size: 1.25em; } h3.h { font-size: 1.1em; }
h4.h { font-size: 1em; } p { margin: 0.35em 0; }
table { border-collapse: collapse; margin: 0.8em 0; font-size: 14px; }
th, td { border: 1px solid #ccc; padding: 3px 8px; line-height: 1.5; } th { background: #eef2f7; }
td.num { text-align: right; } .counts span { margin-right: 4px; padding: 0 5px; border-radius: 3px; font-size: 13px; }
"""

_ENV = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)

_MACROS = """
{% macro legend() %}
<div class="legend" id="legend">labels:
{% for lab in labels %}<span class="s s-{{ lab }}">{{ lab }}</span>{% endfor %}
&nbsp; entities:
{% for ty in entity_types %}<span><mark class="ent ent-{{ ty }}">{{ ty }}</mark></span>{% endfor %}
<span><mark class="ent ent-METRIC target">METRIC target</mark></span>
<span class="meta">hover a sentence for its label, score and rule</span></div>
{% endmacro %}
{% macro run(items) %}{% for it in items %}{% if it is string %}{{ it }}{% else %}<span class="s s-{{ it.label }}" id="s{{ it.index }}" data-label="{{ it.label }}" title="{{ it.tip }}">{% for p in it.pieces %}{% if p.entity %}<mark class="ent ent-{{ p.entity.type }}{% if p.entity.type == 'METRIC' and p.entity.target %} target{% endif %}" data-type="{{ p.entity.type }}" title="{{ p.tip }}">{{ p.text }}</mark>{% else %}{{ p.text }}{% endif %}{% endfor %}</span>{% endif %}{% endfor %}{% endmacro %}
"""

_PAGE = _ENV.from_string(_MACROS + """<!DOCTYPE html>
<html lang="zh"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ doc.title or doc.id }}</title>
<style>{{ css }}</style></head><body>
<p class="meta"><a href="{{ index }}">all documents</a></p>
<h1>{{ doc.title or doc.id }}</h1>
<p class="meta">id: <code>{{ doc.id }}</code>{% if doc.issuer %} · issuer: {{ doc.issuer }}{% endif %}{% if doc.date %} · date: {{ doc.date }}{% endif %}{% if doc.docno %} · {{ doc.docno }}{% endif %}{% if doc.source_path %} · source: {{ doc.source_path }}{% endif %}{% if labeller %} · labels by {{ labeller }}{% endif %}</p>
<p class="meta counts">{{ doc.sentences | length }} sentences:
{% for lab, n in counts.items() %}<span class="s s-{{ lab }}">{{ lab }} {{ n }}</span>{% endfor %}
· {{ doc.entities | length }} entities:
{% for ty, n in entity_counts.items() %}<mark class="ent ent-{{ ty }}">{{ ty }}</mark> {{ n }} {% endfor %}</p>
{{ legend() }}
<div id="text">
{% for b in blocks %}
{% if b.heading %}{% set tag = 'h2' if b.level is not none and b.level <= 1 else ('h3' if b.level == 2 else 'h4') %}
<{{ tag }} class="h">{{ run(b.heading) }}</{{ tag }}>
{% endif %}
{% if b.body %}<p>{{ run(b.body) }}</p>
{% endif %}
{% endfor %}
</div>
</body></html>
""")

_INDEX = _ENV.from_string(_MACROS + """<!DOCTYPE html>
<html lang="zh"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Annotated documents</title>
<style>{{ css }}</style></head><body>
<h1>Annotated documents</h1>
<p class="meta">{{ rows | length }} document(s) from {{ sources | join(", ") }}; sentences per label.</p>
{{ legend() }}
<table id="documents"><tr><th>id</th><th>title</th><th>sentences</th>
{% for lab in labels %}<th><span class="s s-{{ lab }}">{{ lab }}</span></th>{% endfor %}<th>entities</th></tr>
{% for r in rows %}<tr><td><a href="{{ r.href }}">{{ r.id }}</a></td><td>{{ r.title or "" }}</td><td class="num">{{ r.n }}</td>
{% for lab in labels %}<td class="num">{{ r.counts.get(lab, 0) }}</td>{% endfor %}<td class="num">{{ r.n_entities }}</td></tr>
{% endfor %}
</table></body></html>
""")


def _common() -> dict:
    css = _ENV.from_string(_CSS).render(label_colours=LABEL_COLOURS, entity_colours=ENTITY_COLOURS)
    return {"css": css, "labels": LABELS, "entity_types": ENTITY_TYPES}


def render_page(doc: Document, index_href: str = INDEX_NAME) -> str:
    """The HTML page of one annotated document (self-contained; all text escaped)."""
    ec = Counter(e.type for e in doc.entities)
    return _PAGE.render(doc=doc, blocks=_blocks(doc), counts=_counts(doc), index=index_href,
                        entity_counts={t: ec[t] for t in (*ENTITY_TYPES, *(k for k in ec if k not in ENTITY_TYPES))},
                        labeller=doc.meta.get("labeller") if isinstance(doc.meta, dict) else None, **_common())


def render_index(docs: Sequence[Document], sources: Sequence[str] = ()) -> str:
    """The index page: one row per document (id linking to its page, title, sentences per label)."""
    rows = [{"id": d.id, "title": d.title, "href": page_name(d.id), "n": len(d.sentences),
             "counts": _counts(d), "n_entities": len(d.entities)} for d in docs]
    return _INDEX.render(rows=rows, sources=list(sources), **_common())


def select(docs: Sequence[Document], ids: Sequence[str] | None) -> list[Document]:
    """The documents whose id is in ``ids`` (all when ``ids`` is empty or None), in input order.
    Raises ``ShowError`` for an id that no document has, or an id two documents share."""
    seen: set[str] = set()
    for d in docs:
        if d.id in seen:
            raise ShowError(f"document id {d.id!r} appears more than once; pages are named by id")
        seen.add(d.id)
    if not ids:
        return list(docs)
    missing = [i for i in dict.fromkeys(ids) if i not in seen]
    if missing:
        raise ShowError(f"no document with id {', '.join(map(repr, missing[:5]))}"
                        f"{' …' if len(missing) > 5 else ''} ({len(seen)} document(s) read)")
    wanted = set(ids)
    return [d for d in docs if d.id in wanted]


def write_pages(docs: Sequence[Document], out_dir: str | os.PathLike, sources: Sequence[str] = ()) -> list[Path]:
    """Write one page per document (``page_name(doc.id)``) and ``index.html`` into ``out_dir``
    (created if needed); returns the written paths, the index last. Raises ``ShowError`` for
    an id two documents share."""
    from .io import AtomicWriter

    docs = select(docs, None)
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise ShowError(f"{out}: exists and is not a directory")
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for d in docs:
        path = out / page_name(d.id)
        with AtomicWriter(path) as f:
            f.write(render_page(d))
        written.append(path)
    index = out / INDEX_NAME
    with AtomicWriter(index) as f:
        f.write(render_index(docs, sources))
    written.append(index)
    return written


def show(paths: Sequence[str | os.PathLike], out_dir: str | os.PathLike,
         ids: Sequence[str] | None = None) -> list[Path]:
    """Read annotated JSONL or Parquet files (``nlp.read``), keep the documents with ``ids`` (all
    when none), and write their pages and an index into ``out_dir``; returns the written paths.
    Raises ``nlp.io.ReadError`` for an input that is not annotated documents, ``ShowError`` as
    ``select`` does."""
    from . import read

    docs: list[Document] = []
    for p in paths:
        docs.extend(read(p))
    return write_pages(select(docs, ids), out_dir, [str(p) for p in paths])
