"""The stack (nlp.stack): its features, its revision rules, and its directory."""

import numpy as np
import pytest

from nlp.schema import LABELS
from nlp.stack import FEATURE_BLOCKS, StackModel, load_stack, n_features, sentence_features


def _features(n: int) -> np.ndarray:
    rng = np.random.default_rng(0)
    lp = np.log(rng.dirichlet(np.ones(len(LABELS)), size=n))
    return sentence_features(lp, [0] * n, [None, 1] + [None] * (n - 2), lp, 0.25), lp


def test_features_put_each_block_in_its_place():
    x, lp = _features(4)
    k = len(LABELS)
    assert x.shape == (4, n_features(k)) and len(FEATURE_BLOCKS) * k + 2 == x.shape[1]
    assert np.allclose(x[:, :k], lp)  # the sentence's own probabilities
    assert np.allclose(x[1:, 3 * k:4 * k], lp[:-1]) and not x[0, 3 * k:4 * k].any()  # the previous sentence's
    assert np.allclose(x[:-1, 4 * k:5 * k], lp[1:]) and not x[-1, 4 * k:5 * k].any()  # the next sentence's
    assert x[1, 2 * k + 1] == 1 and x[0, 2 * k:3 * k].sum() == 0  # the mandated heading above sentence 1
    assert (x[:, -2] == 0.25).all() and x[0, -1] == 0 and x[-1, -1] == 1
    assert sentence_features(np.zeros((0, k)), [], [], np.zeros((0, k)), 0.0).shape == (0, n_features(k))


def test_the_stack_never_moves_a_sentence_to_or_from_a_frozen_label_nor_one_a_rule_fixed():
    k = len(LABELS)
    x, _ = _features(4)
    intercept = np.zeros(k)
    intercept[LABELS.index("problems")] = 100.0  # the stack's favourite is problems ...
    intercept[LABELS.index("plans")] = 80.0  # ... then plans ...
    intercept[LABELS.index("other")] = 50.0  # ... then other
    m = StackModel(list(LABELS), np.zeros((k, x.shape[1])), intercept, {})
    assert m.frozen == ("problems", "plans")  # the default
    duty, problems, plans, other = (LABELS.index(lab) for lab in ("duty", "problems", "plans", "other"))
    assert m.revise(x, [duty, problems, plans, duty], [False, False, False, True]) == [other, problems, plans, duty]
    assert m.revise(x[:0], [], []) == []
    only_problems = StackModel(list(LABELS), m.coef, intercept, {}, ("problems",))
    assert only_problems.revise(x, [duty, problems, plans, duty], [False] * 4) == [plans, problems, plans, plans]


def test_a_stack_directory_round_trips_and_a_mismatch_is_refused(tmp_path):
    k = len(LABELS)
    m = StackModel(list(LABELS), np.arange(k * n_features(k), dtype=float).reshape(k, -1), np.ones(k), {"C": 0.1})
    m.save(tmp_path / "stack")
    back = load_stack(tmp_path, LABELS)
    assert np.allclose(back.coef, m.coef) and back.config["C"] == 0.1 and back.config["frozen"] == ["problems", "plans"]
    assert back.frozen == ("problems", "plans")
    StackModel(list(LABELS), m.coef, m.intercept, {}, ("problems",)).save(tmp_path / "stack")
    assert load_stack(tmp_path, LABELS).frozen == ("problems",)
    StackModel(list(LABELS), m.coef, m.intercept, {}, ("nope",)).save(tmp_path / "stack")
    with pytest.raises(OSError, match="frozen labels"):
        load_stack(tmp_path, LABELS)
    m.save(tmp_path / "stack")
    assert load_stack(tmp_path / "nowhere") is None
    with pytest.raises(OSError, match="not the classifier's"):
        load_stack(tmp_path, list(reversed(LABELS)))
    StackModel(list(LABELS), np.zeros((k, 3)), np.zeros(k), {}).save(tmp_path / "stack")
    with pytest.raises(OSError, match="retrain it with `nlp train stack`"):
        load_stack(tmp_path, LABELS)
