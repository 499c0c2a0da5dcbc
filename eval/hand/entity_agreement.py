"""Agreement of the second entity labelling pass with the hand entity labels it re-labelled.

    python eval/hand/entity_agreement.py [--second eval/hand/second_pass_entities.jsonl]
                                         [--hand eval/hand/train_entities.jsonl] [--data ../shared/data]

Both files are standoff (no text) and are joined with ``reports.jsonl`` by
``nlp.training.hand_entities.load_hand_entities``, so a record whose text no longer matches is
reported, never scored. Only paragraphs present in both files are compared. Scores are strict: an
entity agrees when start, end and type are all equal; the hand file is the reference (precision
is the share of second-pass entities found in it, recall the share of its entities the second
pass found), per type and overall (micro).
"""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path

from nlp.schema import ENTITY_TYPES
from nlp.training.hand_entities import HandParagraph, load_hand_entities

HERE = Path(__file__).resolve().parent


def prf(tp: int, n_second: int, n_hand: int) -> tuple[float, float, float] | None:
    """Precision, recall, F1; None when neither side has an entity of the kind."""
    if not n_second and not n_hand:
        return None
    p = tp / n_second if n_second else 0.0
    r = tp / n_hand if n_hand else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def _row(name: str, tp: int, ns: int, nh: int) -> str:
    s = prf(tp, ns, nh)
    cells = "    -     -     -" if s is None else f"{s[0]:5.3f} {s[1]:5.3f} {s[2]:5.3f}"
    return f"{name:8} {nh:5d} {ns:6d} {tp:5d}  {cells}"


def agreement(hand: list[HandParagraph], second: list[HandParagraph]) -> dict:
    """Strict span+type counts of ``second`` against ``hand`` over the paragraphs both hold:
    ``{"paragraphs": n, "unmatched": [(doc, para), …], "types": {type: (tp, n_second, n_hand)},
    "disagreements": [(doc, para, text, hand spans only, second spans only), …]}``."""
    by_key = {(p.doc, p.para): p for p in hand}
    tp: Counter = Counter()
    n_second: Counter = Counter()
    n_hand: Counter = Counter()
    unmatched, diffs = [], []
    n = 0
    for p in second:
        h = by_key.get((p.doc, p.para))
        if h is None:
            unmatched.append((p.doc, p.para))
            continue
        n += 1
        a, b = set(h.spans), set(p.spans)
        for s in a:
            n_hand[s[2]] += 1
        for s in b:
            n_second[s[2]] += 1
        for s in a & b:
            tp[s[2]] += 1
        if a != b:
            diffs.append((p.doc, p.para, p.text, sorted(a - b), sorted(b - a)))
    types = {t: (tp[t], n_second[t], n_hand[t]) for t in ENTITY_TYPES}
    return {"paragraphs": n, "unmatched": unmatched, "types": types, "disagreements": diffs}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hand", type=Path, default=HERE / "train_entities.jsonl")
    ap.add_argument("--second", type=Path, default=HERE / "second_pass_entities.jsonl")
    ap.add_argument("--data", type=Path, default=Path("../shared/data"))
    ap.add_argument("--show", action="store_true", help="print each disagreeing span with its paragraph's text")
    a = ap.parse_args()
    hand = load_hand_entities(a.hand, a.data)
    second = load_hand_entities(a.second, a.data)
    for name, h in (("hand", hand), ("second pass", second)):
        if h.mismatched:
            print(f"{name}: {len(h.mismatched)} records no longer match the text and are left out")
    res = agreement(hand.paragraphs, second.paragraphs)
    print(f"{res['paragraphs']} paragraphs compared ({len(res['unmatched'])} second-pass paragraphs not in the hand file)")
    if not res["paragraphs"]:
        return
    print(f"{'type':8} {'hand':>5} {'second':>6} {'agree':>5}  {'P':>5} {'R':>5} {'F1':>5}")
    total = [0, 0, 0]
    for t, (tp, ns, nh) in res["types"].items():
        total = [total[0] + tp, total[1] + ns, total[2] + nh]
        print(_row(t, tp, ns, nh))
    print(_row("overall", *total))
    print(f"{len(res['disagreements'])} paragraphs with a disagreement")
    if a.show:
        for doc, para, text, only_hand, only_second in res["disagreements"]:
            print(f"\n{doc}|{para}")
            for s, e, t in only_hand:
                print(f"  hand only:   {t} {text[s:e]}")
            for s, e, t in only_second:
                print(f"  second only: {t} {text[s:e]}")


if __name__ == "__main__":
    main()
