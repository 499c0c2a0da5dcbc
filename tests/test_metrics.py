"""Metric code on small hand-computed cases, and entity scoring checked against seqeval."""


import pytest

from nlp.evaluate import classification_metrics, entity_metrics, paragraph_label


def test_classification_hand_computed():
    gold = ["duty", "duty", "measures", "plans", "other"]
    pred = ["duty", "measures", "measures", "measures", "other"]
    m = classification_metrics(gold, pred)
    # duty P 1/1 R 1/2 F 2/3; measures P 1/3 R 1/1 F 1/2; plans never predicted F 0; other 1
    assert m["per_label"]["duty"]["f1"] == pytest.approx(2 / 3)
    assert m["per_label"]["measures"]["precision"] == pytest.approx(1 / 3)
    assert m["per_label"]["measures"]["f1"] == pytest.approx(0.5)
    assert m["per_label"]["plans"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1}
    # problems: empty class (no gold, never predicted) is left out of the macro average
    assert m["per_label"]["problems"]["support"] == 0
    assert m["macro_f1"] == pytest.approx((2 / 3 + 0.5 + 0 + 1) / 4)
    assert m["accuracy"] == pytest.approx(3 / 5)
    labs = m["confusion"]["labels"]
    assert m["confusion"]["matrix"][labs.index("plans")][labs.index("measures")] == 1


def test_label_predicted_but_absent_from_gold_counts_in_macro():
    m = classification_metrics(["duty", "duty"], ["duty", "problems"])
    # duty P 1 R .5 F 2/3 ; problems P 0 (false positive) F 0 -> both in the average
    assert m["macro_f1"] == pytest.approx((2 / 3 + 0) / 2)


def test_paragraph_label_majority_of_characters():
    sents = [{"start": 0, "end": 4, "label": "duty"}, {"start": 4, "end": 20, "label": "measures"}]
    assert paragraph_label("x" * 20, sents) == "measures"
    assert paragraph_label("x" * 20, sents, ["duty", "duty"]) == "duty"


def test_entities_strict_partial_duplicates():
    gold = [("p1", (0, 4, "LAW")), ("p1", (10, 14, "METRIC")), ("p1", (20, 25, "DATE")),
            ("p1", (20, 25, "DATE"))]  # duplicate gold span counts once
    pred = [("p1", (0, 4, "LAW")),       # exact
            ("p1", (10, 13, "METRIC")),  # overlap, shorter: partial only
            ("p1", (21, 27, "DATE")),    # overlap: partial only
            ("p1", (30, 33, "METRIC")),  # spurious
            ("p2", (0, 4, "LAW"))]       # same span, other paragraph: spurious
    m = entity_metrics(gold, pred)
    s = m["strict"]
    assert s["micro_precision"] == pytest.approx(1 / 5) and s["micro_recall"] == pytest.approx(1 / 3)
    assert s["per_type"]["LAW"]["precision"] == pytest.approx(0.5)
    assert s["per_type"]["DOCNO"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 0}
    p = m["partial"]
    assert p["micro_precision"] == pytest.approx(3 / 5) and p["micro_recall"] == pytest.approx(1.0)
    assert p["per_type"]["METRIC"]["recall"] == 1.0 and p["per_type"]["METRIC"]["precision"] == 0.5


def test_partial_matching_is_one_to_one():
    gold = [("p", (0, 10, "LAW"))]
    pred = [("p", (0, 4, "LAW")), ("p", (5, 10, "LAW"))]
    m = entity_metrics(gold, pred)
    assert m["partial"]["per_type"]["LAW"]["precision"] == pytest.approx(0.5)
    assert m["partial"]["per_type"]["LAW"]["recall"] == pytest.approx(1.0)


def _bio(n, spans):
    tags = ["O"] * n
    for a, b, t in spans:
        tags[a] = f"B-{t}"
        for i in range(a + 1, b):
            tags[i] = f"I-{t}"
    return tags


def test_strict_scores_agree_with_seqeval():
    from seqeval.metrics import classification_report
    from seqeval.scheme import IOB2

    import random

    rng = random.Random(3)
    types = ["LAW", "DOCNO", "METRIC", "DATE"]
    gold_items, pred_items, gold_tags, pred_tags = [], [], [], []
    for k in range(40):
        n = 60
        def spans():
            out, pos = [], rng.randrange(3)
            while pos < n - 4:
                ln = rng.randrange(1, 5)
                out.append((pos, pos + ln, rng.choice(types)))
                pos += ln + rng.randrange(1, 8)
            return out
        g = spans()
        p = [s if rng.random() < 0.6 else (s[0], s[1] + 1, s[2]) if rng.random() < 0.5 else (s[0], s[1], rng.choice(types))
             for s in g if rng.random() < 0.9]
        p = [s for i, s in enumerate(p) if i == 0 or s[0] >= p[i - 1][1]]
        gold_items += [(k, s) for s in g]
        pred_items += [(k, s) for s in p]
        gold_tags.append(_bio(n, g))
        pred_tags.append(_bio(n, p))
    ours = entity_metrics(gold_items, pred_items)["strict"]
    ref = classification_report(gold_tags, pred_tags, mode="strict", scheme=IOB2, output_dict=True, zero_division=0)
    for t in types:
        assert ours["per_type"][t]["f1"] == pytest.approx(ref[t]["f1-score"])
        assert ours["per_type"][t]["support"] == ref[t]["support"]
    assert ours["micro_f1"] == pytest.approx(ref["micro avg"]["f1-score"])
