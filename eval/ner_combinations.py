"""How an entity tagger combines with the rules on a gold file: strict F1 per type for every
combination policy applied to one type at a time, the policy `nlp train ner` would choose, and
the model spans a policy would add to the rules (right or wrong).

    python eval/ner_combinations.py --ner DIR [--gold ../shared/data/gold/dev.jsonl] [--show-added LAW:cover] [--candidates]
    python eval/ner_combinations.py --ner DIR --hand eval/hand/train_entities.jsonl --keys KEYS [--show-added DATE:verify]

With --candidates, every candidate the rules decline (nlp.extract.declined_candidates) is listed
with the tagger's geometric-mean tag probability (the ``verify`` score) and whether it is gold.

With --hand FILE (standoff hand labels of training paragraphs, eval/hand/train_entities.jsonl;
text joined from --data at run time) and --keys FILE (doc|para lines), those paragraphs are the
gold instead: use it for paragraphs whose hand labels the tagger was not trained on.
"""

from __future__ import annotations

import argparse
import json


def main() -> None:
    from nlp.extract import extract
    from nlp.ner import POLICIES, BertEntityExtractor, combine
    from nlp.schema import ENTITY_TYPES
    from nlp.training.ner import _gold_paragraphs, _strict_f1, choose_policy, dev_model_entities

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ner", required=True)
    ap.add_argument("--gold", default="../shared/data/gold/dev.jsonl")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--show-added", default="LAW:cover", help="TYPE:POLICY whose added model spans are listed")
    ap.add_argument("--candidates", action="store_true", help="list the declined candidates with their verify score")
    ap.add_argument("--hand", help="hand-labelled training paragraphs as the gold (with --keys)")
    ap.add_argument("--keys", help="with --hand: only these paragraphs (a file of doc|para lines)")
    ap.add_argument("--data", default="../shared/data")
    args = ap.parse_args()
    paras = hand_paragraphs(args.hand, args.keys, args.data) if args.hand else _gold_paragraphs(args.gold)[1]
    model = dev_model_entities(BertEntityExtractor(args.ner, mode="model", device=args.device), paras, verified=True)
    rules = [extract(p.text, first_paragraph=pi == 0) for _, pi, p in paras]
    base = _strict_f1(paras, rules)
    alone = _strict_f1(paras, [[e for e in m if e.source == "model"] for m in model])
    print("| system | micro | " + " | ".join(ENTITY_TYPES) + " |\n|---" * 1 + "|---" * (len(ENTITY_TYPES) + 1) + "|")
    for name, s in (("rules", base), ("model alone", alone)):
        print(f"| {name} | {s['micro_f1']:.3f} | " + " | ".join(f"{s[t]:.3f}" for t in ENTITY_TYPES) + " |")
    for t in ENTITY_TYPES:
        for pol in POLICIES[1:]:
            s = _strict_f1(paras, [combine(r, m, {t: pol}) for r, m in zip(rules, model)])
            print(f"| {t}: {pol} | {s['micro_f1']:.3f} | " + " | ".join(f"{s[u]:.3f}" for u in ENTITY_TYPES) + " |")
    policy, _ = choose_policy(paras, rules, model)
    print("\nchosen on this gold file:", json.dumps(policy))
    t, pol = args.show_added.split(":")
    added = right = 0
    for (_, _, p), r, m in zip(paras, rules, model):
        gold = {(e["start"], e["end"], e["type"]) for e in p.entities}
        for e in combine(r, m, {t: pol}):
            if e.source in ("model", "verified"):
                ok = (e.start, e.end, e.type) in gold
                added, right = added + 1, right + ok
                print(f"  {'right' if ok else 'wrong'} {e.type} {e.text}")
    print(f"{t}:{pol} adds {added} model spans, {right} right")
    if args.candidates:
        show_candidates(args.ner, args.device, paras)


def hand_paragraphs(hand: str, keys: str | None, data: str):
    """Hand-labelled training paragraphs in the shape of gold paragraphs: (doc index, paragraph
    index, object with .text and .entities)."""
    from types import SimpleNamespace

    from nlp.training.hand_entities import load_hand_entities

    only = set(open(keys, encoding="utf-8").read().split()) if keys else None
    h = load_hand_entities(hand, data)
    return [(0, p.para, SimpleNamespace(text=p.text, entities=[{"start": a, "end": b, "type": t} for a, b, t in p.spans]))
            for p in h.paragraphs if only is None or f"{p.doc}|{p.para}" in only]


def show_candidates(ner: str, device: str, paras) -> None:
    from nlp.extract import declined_candidates, extract
    from nlp.ner import BertEntityExtractor, span_score

    ext = BertEntityExtractor(ner, mode="model", device=device)
    print("\ndeclined candidates (verify score: geometric mean of P(B-X), P(I-X)…; DOCNO needs 号 as well)")
    for (_, pi, p), (offsets, logp) in zip(paras, ext.token_scores([p.text for _, _, p in paras])):
        gold = {(e["start"], e["end"], e["type"]) for e in p.entities}
        for c in declined_candidates(p.text, extract(p.text, first_paragraph=pi == 0)):
            score = span_score(c, offsets, logp)
            if score is not None:
                print(f"  {score:.3f} {'gold' if (c.start, c.end, c.type) in gold else '----'} {c.type} {c.text}")


if __name__ == "__main__":
    main()
