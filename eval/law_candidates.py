"""Unbracketed rule and plan names (制定…工作方案, 修订…管理办法): does accepting the rules'
declined LAW candidates (``nlp.extract.declined_candidates``) by a rule help, measured on the
team's hand-labelled training paragraphs?

The rule accepts a candidate after a verb of making or following a rule (or a local name) that
does not start with another verb or a particle, ends in a rule suffix (办法, 规定, 方案, 意见,
通知, 清单, 条例, 规划, 细则, 规则, 纲要, 决定; not 制度/计划/要点/安排, which name practices and
yearly plans), carries no year (LABELING.md: a yearly plan named with its year is not LAW) and is
at least ``MIN`` characters long. It was written looking at the paragraphs not in ``--keys`` (the
first two entity batches); the paragraphs in ``--keys`` (the third batch, chosen for unbracketed
names) test it. The tagger's ``verify`` decision on the same candidates is
``eval/ner_combinations.py --hand eval/hand/train_entities.jsonl --keys KEYS --show-added LAW:verify``
(the third batch was not in the tagger's training data).

    python eval/law_candidates.py [--keys eval/hand/entities_unbracketed.keys] [--show]
    python eval/law_candidates.py --tagger models/ner-small

With ``--tagger``, the candidates are decided by the tagger's span score instead
(``nlp.ner.span_score``, as ``verify`` does) at several thresholds, on the test paragraphs only (the
tagger was not trained on them). Two candidate sets are compared: the rules' declined candidates and a
broad one (``broad_candidates``: every span that ends in a rule suffix and starts after a verb, a
particle or punctuation, at most 45 characters, without punctuation inside).

    python eval/law_candidates.py --learned

With ``--learned``, a logistic regression trained on the hand labels decides the broad candidates,
scored by document-grouped cross-validation over all hand-labelled paragraphs (``learned_scores``).
"""

from __future__ import annotations

import argparse
import re

_STARTS_WITH_VERB = re.compile(r"^(?:了|的|和|及|与|并|本|如下|制定|出台|印发|修订|修改|编制|实施|落实|执行|审议|完成|抓好|"
                               r"对照|对标|围绕|根据|按照|依据|公布|推动|加快|研究)")
_RULE_SUFFIX = re.compile(r"(?:办法|规定|方案|意见|通知|清单|条例|规划|细则|规则|纲要|决定)$")
_KINDS = ("candidate:law-after-verb", "candidate:law-local-name")


def accepted(c, min_len: int) -> bool:
    t = c.text
    return (c.type == "LAW" and c.rule in _KINDS and not _STARTS_WITH_VERB.search(t) and bool(_RULE_SUFFIX.search(t))
            and not re.search(r"\d|年|[个项两]方案", t) and len(t) >= min_len)


def score(paras, min_len: int | None, show: bool = False) -> tuple[float, float]:
    """Strict micro-F1 and LAW F1 of the rules plus the accepted candidates (None: rules only)."""
    from nlp.extract import declined_candidates, extract

    tp = n_pred = n_gold = tp_law = n_pred_law = n_gold_law = 0
    for p in paras:
        rules = extract(p.text, first_paragraph=p.para == 0)
        acc = []
        if min_len is not None:
            for c in sorted(declined_candidates(p.text, rules), key=lambda c: (c.start, c.start - c.end)):
                if accepted(c, min_len) and not any(c.start < a.end and a.start < c.end for a in acc):
                    acc.append(c)
        ents = [e for e in rules if not any(a.start <= e.start and e.end <= a.end for a in acc)] + acc
        gold = set(p.spans)
        pred = {(e.start, e.end, e.type) for e in ents}
        tp, n_pred, n_gold = tp + len(gold & pred), n_pred + len(pred), n_gold + len(gold)
        gl, pl = {x for x in gold if x[2] == "LAW"}, {x for x in pred if x[2] == "LAW"}
        tp_law, n_pred_law, n_gold_law = tp_law + len(gl & pl), n_pred_law + len(pl), n_gold_law + len(gl)
        if show:
            for c in acc:
                print(f"  {'right' if (c.start, c.end, 'LAW') in gold else 'wrong'} {c.text}")
    return 2 * tp / max(n_pred + n_gold, 1), 2 * tp_law / max(n_pred_law + n_gold_law, 1)


_BROAD_SUFFIX = re.compile(r"(?:办法|规定|方案|意见|通知|清单|条例|规划|细则|规则|纲要|决定|制度|要点|计划|法)")
_BROAD_BEFORE = re.compile(r"(?:制定|出台|修订|修改|印发|编制|编发|建立|形成|完成|落实|执行|实施|发布|贯彻|起草|通过|推进|推动|开展|"
                           r"对照|按照|依照|根据|依据|遵循|以|学习|宣传|审议|报送|下发|转发|了|的|和|及|与|[、，。；：(（“])$")
_BROAD_STOP = re.compile(r"[，。；：、！？,;:!?\s“”《》]")


def broad_candidates(text: str, taken: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Every (start, end) that ends after a rule suffix, starts after a verb, particle or punctuation
    (or at the paragraph's start), spans 4 to 45 characters without punctuation and overlaps no span in ``taken``."""
    out = set()
    for m in _BROAD_SUFFIX.finditer(text):
        b = m.end()
        for a in range(b - 4, max(0, b - 45) - 1, -1):
            if _BROAD_STOP.match(text[a]):
                break
            if (a == 0 or _BROAD_BEFORE.search(text[max(0, a - 4):a])) and not any(a < y and x < b for x, y in taken):
                out.add((a, b))
    return sorted(out)


def coverage(paras) -> str:
    """How many of the LAW names the rules miss each candidate set proposes with exact bounds."""
    from nlp.extract import declined_candidates, extract

    miss = n_declined = n_broad = 0
    for p in paras:
        rules = extract(p.text, first_paragraph=p.para == 0)
        missed = {x[:2] for x in p.spans if x[2] == "LAW"} - {(e.start, e.end) for e in rules if e.type == "LAW"}
        declined = {(c.start, c.end) for c in declined_candidates(p.text, rules) if c.type == "LAW"}
        broad = set(broad_candidates(p.text, [(e.start, e.end) for e in rules if e.type in ("LAW", "DOCNO")]))
        miss, n_declined, n_broad = miss + len(missed), n_declined + len(missed & declined), n_broad + len(missed & broad)
    return (f"LAW names the rules miss in all {len(paras)} paragraphs: {miss}; proposed with exact bounds by the "
            f"declined candidates: {n_declined}, by the broad candidates: {n_broad}")


def tagger_scores(paras, tagger: str) -> None:
    """Rules plus the candidates the tagger scores at or above each threshold (the best first, no overlaps)."""
    from nlp.extract import declined_candidates, extract
    from nlp.ner import load_entity_extractor, span_score
    from nlp.schema import Entity

    ner = load_entity_extractor(tagger)
    rows = []
    for p, (offsets, logp) in zip(paras, ner.token_scores([p.text for p in paras])):
        rules = extract(p.text, first_paragraph=p.para == 0)
        taken = [(e.start, e.end) for e in rules if e.type in ("LAW", "DOCNO")]
        cands = {"declined": [(c.start, c.end) for c in declined_candidates(p.text, rules) if c.type == "LAW"],
                 "broad": broad_candidates(p.text, taken)}
        scored = {k: [(s, a, b) for a, b in v if (s := span_score(Entity(a, b, "LAW", p.text[a:b]), offsets, logp)) is not None]
                  for k, v in cands.items()}
        rows.append((p, rules, scored))

    def f1(tp, pred, gold):
        return 2 * tp / max(pred + gold, 1)

    def score(kind: str, thr: float) -> tuple[float, float, int]:
        tp = n_pred = n_gold = tl = pl = gl = taken_n = 0
        for p, rules, scored in rows:
            acc: list[tuple[int, int]] = []
            for s, a, b in sorted(scored[kind], reverse=True):
                if s >= thr and not any(a < y and x < b for x, y in acc):
                    acc.append((a, b))
            taken_n += len(acc)
            ents = {(e.start, e.end, e.type) for e in rules if not any(x <= e.start and e.end <= y for x, y in acc)}
            ents |= {(a, b, "LAW") for a, b in acc}
            gold = set(p.spans)
            tp, n_pred, n_gold = tp + len(gold & ents), n_pred + len(ents), n_gold + len(gold)
            g, q = {x for x in gold if x[2] == "LAW"}, {x for x in ents if x[2] == "LAW"}
            tl, pl, gl = tl + len(g & q), pl + len(q), gl + len(g)
        return f1(tp, n_pred, n_gold), f1(tl, pl, gl), taken_n

    m, law, _ = score("broad", 2.0)
    n = {k: sum(len(r[2][k]) for r in rows) for k in ("declined", "broad")}
    print(f"{len(paras)} test paragraphs; rules alone: micro {m:.4f}, LAW {law:.4f}; "
          f"candidates on token bounds: {n['declined']} declined, {n['broad']} broad\n")
    print("| candidates | threshold | taken | micro | LAW |\n|---|---|---|---|---|")
    for kind in ("declined", "broad"):
        for thr in (0.2, 0.35, 0.5, 0.65, 0.8, 0.9):
            m, law, k = score(kind, thr)
            print(f"| {kind} | {thr} | {k} | {m:.4f} | {law:.4f} |")


def _candidate_features(text: str, a: int, b: int) -> dict:
    """What a learned decider sees of one broad candidate: its edges, the words around it, its
    length, whether it holds a year, a place, a verb or 的, and its character bigrams."""
    c = text[a:b]
    f: dict = {"suf2=" + c[-2:]: 1, "suf1=" + c[-1]: 1, "pre2=" + text[max(0, a - 2):a]: 1, "pre1=" + text[max(0, a - 1):a]: 1,
               "first2=" + c[:2]: 1, "first1=" + c[:1]: 1, "next1=" + text[b:b + 1]: 1, "next2=" + text[b:b + 2]: 1,
               "len": min(len(c), 40) / 40, "len<8": len(c) < 8, "len<12": len(c) < 12,
               "year": bool(re.search(r"\d|年", c)), "de": "的" in c, "guanyu": c.startswith("关于"),
               "place": bool(re.match(r"^[\u4e00-\u9fa5]{1,8}?(省|市|县|区|州|镇|乡|街道)", c)),
               "verb_inside": bool(re.search(r"制定|出台|修订|印发|落实|推进|加强|开展|完善|建立", c)),
               "quote": "“" in c, "para_start": a == 0}
    for k in range(len(c) - 1):
        f["bi=" + c[k:k + 2]] = f.get("bi=" + c[k:k + 2], 0) + 1
    return f


def learned_scores(paras, folds: int = 5) -> None:
    """A logistic regression over ``_candidate_features`` decides the broad candidates, trained on the
    hand labels (a candidate is right when a hand LAW span has exactly its bounds); every paragraph is
    scored by the model of the fold that left its document out (document-grouped CV over all paragraphs)."""
    import numpy as np
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GroupKFold

    from nlp.extract import extract

    rows, base = [], []
    for i, p in enumerate(paras):
        rules = extract(p.text, first_paragraph=p.para == 0)
        base.append(rules)
        gold = {(a, b) for a, b, t in p.spans if t == "LAW"}
        for a, b in broad_candidates(p.text, [(e.start, e.end) for e in rules if e.type in ("LAW", "DOCNO")]):
            rows.append((i, p.doc, a, b, _candidate_features(p.text, a, b), (a, b) in gold))
    y = np.array([r[5] for r in rows])
    X = DictVectorizer().fit_transform([r[4] for r in rows])
    print(f"{len(paras)} paragraphs, {len(rows)} broad candidates, {int(y.sum())} of them a hand LAW name; "
          f"document-grouped {folds}-fold CV\n")
    print("| C | threshold | taken | right | micro | LAW |\n|---|---|---|---|---|---|")
    for C in (0.3, 1.0, 3.0, 10.0):
        oof = np.zeros(len(y))
        for tr, te in GroupKFold(folds).split(X, y, [r[1] for r in rows]):
            oof[te] = LogisticRegression(C=C, max_iter=3000).fit(X[tr], y[tr]).predict_proba(X[te])[:, 1]
        for thr in (0.2, 0.3, 0.5, 0.7):
            acc: dict[int, list[tuple[int, int]]] = {}
            for k in np.argsort(-oof):
                i, _, a, b, _, _ = rows[k]
                if oof[k] >= thr and not any(a < y2 and x2 < b for x2, y2 in acc.get(i, [])):
                    acc.setdefault(i, []).append((a, b))
            tp = n_pred = n_gold = tl = pl = gl = right = taken = 0
            for i, p in enumerate(paras):
                mine = acc.get(i, [])
                ents = {(e.start, e.end, e.type) for e in base[i] if not any(x <= e.start and e.end <= z for x, z in mine)}
                ents |= {(a, b, "LAW") for a, b in mine}
                gold = set(p.spans)
                right += sum((a, b, "LAW") in gold for a, b in mine)
                taken += len(mine)
                tp, n_pred, n_gold = tp + len(gold & ents), n_pred + len(ents), n_gold + len(gold)
                g, q = {x for x in gold if x[2] == "LAW"}, {x for x in ents if x[2] == "LAW"}
                tl, pl, gl = tl + len(g & q), pl + len(q), gl + len(g)
            print(f"| {C} | {thr} | {taken} | {right} | {2 * tp / (n_pred + n_gold):.4f} | {2 * tl / (pl + gl):.4f} |")


def main() -> None:
    from nlp.training.hand_entities import load_hand_entities

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hand", default="eval/hand/train_entities.jsonl")
    ap.add_argument("--keys", default="eval/hand/entities_unbracketed.keys",
                    help="doc|para lines of the test paragraphs (the rest were looked at to write the rule)")
    ap.add_argument("--data", default="../shared/data")
    ap.add_argument("--show", action="store_true", help="list the accepted candidates of the test paragraphs")
    ap.add_argument("--tagger", help="decide by this entity tagger's span score instead (a model directory)")
    ap.add_argument("--learned", action="store_true",
                    help="decide the broad candidates by a logistic regression on the hand labels (document-grouped CV)")
    args = ap.parse_args()
    test_keys = set(open(args.keys, encoding="utf-8").read().split())
    paras = load_hand_entities(args.hand, args.data).paragraphs
    if args.learned:
        learned_scores(paras)
        return
    if args.tagger:
        tagger_scores([p for p in paras if f"{p.doc}|{p.para}" in test_keys], args.tagger)
        return
    parts = {"written on": [p for p in paras if f"{p.doc}|{p.para}" not in test_keys],
             "tested on": [p for p in paras if f"{p.doc}|{p.para}" in test_keys]}
    lens = (8, 10, 12, 14)
    print("| paragraphs | n | rules micro / LAW | " + " | ".join(f"+ candidates ≥ {n} chars" for n in lens) + " |")
    print("|---" * (3 + len(lens)) + "|")
    for name, ps in parts.items():
        cells = [score(ps, None)] + [score(ps, n) for n in lens]
        print(f"| {name} | {len(ps)} | " + " | ".join(f"{m:.4f} / {law:.4f}" for m, law in cells) + " |")
    print("\n" + coverage(paras))
    if args.show:
        score(parts["tested on"], 12, show=True)


if __name__ == "__main__":
    main()
