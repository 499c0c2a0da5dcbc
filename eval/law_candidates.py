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


def main() -> None:
    from nlp.training.hand_entities import load_hand_entities

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hand", default="eval/hand/train_entities.jsonl")
    ap.add_argument("--keys", default="eval/hand/entities_unbracketed.keys",
                    help="doc|para lines of the test paragraphs (the rest were looked at to write the rule)")
    ap.add_argument("--data", default="../shared/data")
    ap.add_argument("--show", action="store_true", help="list the accepted candidates of the test paragraphs")
    args = ap.parse_args()
    test_keys = set(open(args.keys, encoding="utf-8").read().split())
    paras = load_hand_entities(args.hand, args.data).paragraphs
    parts = {"written on": [p for p in paras if f"{p.doc}|{p.para}" not in test_keys],
             "tested on": [p for p in paras if f"{p.doc}|{p.para}" in test_keys]}
    lens = (8, 10, 12, 14)
    print("| paragraphs | n | rules micro / LAW | " + " | ".join(f"+ candidates ≥ {n} chars" for n in lens) + " |")
    print("|---" * (3 + len(lens)) + "|")
    for name, ps in parts.items():
        cells = [score(ps, None)] + [score(ps, n) for n in lens]
        print(f"| {name} | {len(ps)} | " + " | ".join(f"{m:.4f} / {law:.4f}" for m, law in cells) + " |")
    if args.show:
        score(parts["tested on"], 12, show=True)


if __name__ == "__main__":
    main()
