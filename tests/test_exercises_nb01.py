"""The checks of notebook 01's exercises accept the reference answers and reject wrong ones."""

from __future__ import annotations

import numpy as np
import pytest

from helpers.exercises import CheckFailed
from helpers.exercises import nb01 as ex

# --------------------------------------------------------------------------- Exercise 1


def test_q1_accepts_the_product_feature():
    ex.q1.check(lambda points: (points[:, 0] * points[:, 1])[:, None])


def test_q1_accepts_other_good_features():
    ex.q1.check(lambda p: np.c_[np.sign(p[:, 0]) * np.sign(p[:, 1]), p])


@pytest.mark.parametrize("features", [
    lambda p: p,                                  # the raw coordinates: not separable
    lambda p: p[:, 0],                            # 1-D, not (n, k)
    lambda p: np.tile(p, 3),                      # 6 columns
    lambda p: np.c_[p[:, 0] * p[:, 1] / 0.0],     # infinities
])
def test_q1_rejects_bad_features(features):
    with np.errstate(all="ignore"), pytest.raises(CheckFailed):
        ex.q1.check(features)


def test_q1_rejects_a_non_function():
    with pytest.raises(CheckFailed, match="function"):
        ex.q1.check(np.zeros((400, 1)))


def test_quadrant_points_are_labelled_by_sign():
    points, labels = ex.quadrant_points(50, seed=3)
    assert points.shape == (50, 2) and set(np.unique(labels)) <= {0, 1}
    assert np.array_equal(labels, (np.sign(points[:, 0]) == np.sign(points[:, 1])).astype(int))


# --------------------------------------------------------------------------- Exercise 2


def _leaked_fraction(x_train, x_test):
    seen = {row.tobytes() for row in np.asarray(x_train)}
    return float(np.mean([row.tobytes() in seen for row in np.asarray(x_test)]))


def test_q2_accepts_whole_row_comparisons():
    ex.q2.check(_leaked_fraction)
    ex.q2.check(lambda tr, te: (np.asarray(te)[:, None, :] == np.asarray(tr)[None]).all(-1)
                .any(-1).mean())


def test_q2_rejects_the_pixel_by_pixel_bug():
    with pytest.raises(CheckFailed, match="whole rows"):
        ex.q2.check(lambda tr, te: np.isin(te, tr).all(axis=1).mean())


def test_q2_rejects_counting_every_matching_training_row():
    def matches(x_train, x_test):
        return sum((x_train == row).all(axis=1).sum() for row in x_test) / len(x_test)

    with pytest.raises(CheckFailed, match="more than 1"):
        ex.q2.check(matches)


def test_q2_rejects_duplicates_within_the_test_set_and_a_missing_return():
    def repeats_in_test(x_train, x_test):  # counts test rows that occur twice in x_test
        _, counts = np.unique(x_test, axis=0, return_counts=True)
        return counts[counts > 1].sum() / len(x_test)

    with pytest.raises(CheckFailed, match="equal some whole row"):
        ex.q2.check(repeats_in_test)
    with pytest.raises(CheckFailed, match="None"):
        ex.q2.check(lambda x_train, x_test: None)
    with pytest.raises(CheckFailed, match="function"):
        ex.q2.check(0.0)


def test_the_leak_cases_fool_np_isin():
    for what, x_train, x_test, want in ex._leak_cases():
        assert np.isin(x_test, x_train).all(axis=1).mean() == 1.0, what
        assert _leaked_fraction(x_train, x_test) == want, what


# --------------------------------------------------------------------------- Exercise 3


def _confidence(baskets, antecedent, consequent):
    with_antecedent = [b for b in baskets if set(antecedent) <= b]
    if not with_antecedent:
        return 0.0
    return sum(set(consequent) <= b for b in with_antecedent) / len(with_antecedent)


def test_q3_accepts_the_reference():
    ex.q3.check(_confidence)


def test_q3_rejects_support_instead_of_confidence():
    def support_of_both(baskets, antecedent, consequent):
        return sum((set(antecedent) | set(consequent)) <= b for b in baskets) / len(baskets)

    with pytest.raises(CheckFailed, match="antecedent"):
        ex.q3.check(support_of_both)


def test_q3_rejects_a_division_by_zero_or_missing_return():
    def crashes(baskets, antecedent, consequent):
        with_antecedent = [b for b in baskets if set(antecedent) <= b]
        return sum(set(consequent) <= b for b in with_antecedent) / len(with_antecedent)

    with pytest.raises(CheckFailed, match="0.0"):
        ex.q3.check(crashes)
    with pytest.raises(CheckFailed, match="None"):
        ex.q3.check(lambda baskets, antecedent, consequent: None)


def test_q3_rejects_a_nan_for_an_unseen_antecedent():
    def nan_when_unseen(baskets, antecedent, consequent):
        value = _confidence(baskets, antecedent, consequent)
        return float("nan") if not any(set(antecedent) <= b for b in baskets) else value

    with pytest.raises(CheckFailed, match="0.0"):
        ex.q3.check(nan_when_unseen)


# --------------------------------------------------------------------------- Exercise 4


def _predicted(clean, leaked):
    return leaked + (1 - leaked) * clean


MEASURED = np.array([[0.82, 0.75, 0.3], [0.80, 0.74, 0.28]])  # test, fresh, leaked per draw


def test_q4_accepts_the_formula_and_reports_the_measurement(capsys):
    ex.q4.check(_predicted, MEASURED)
    ex.q4.check(lambda clean, leaked: clean + leaked * (1 - clean))  # the same, rearranged
    assert "measured" in capsys.readouterr().out


@pytest.mark.parametrize("formula, reason", [
    (lambda clean, leaked: (1 - leaked) * clean, "count as wrong"),
    (lambda clean, leaked: leaked * clean + (1 - leaked), "swapped"),
    (lambda clean, leaked: clean, "should be"),
    (lambda clean, leaked: min(1.0, clean + leaked), "should be"),
    (lambda clean, leaked: None, "None"),
    (0.8, "function"),
])
def test_q4_rejects_wrong_formulas(formula, reason):
    with pytest.raises(CheckFailed, match=reason):
        ex.q4.check(formula, MEASURED)


def test_every_exercise_has_a_hint():
    for q in (ex.q1, ex.q2, ex.q3, ex.q4):
        assert q._hint
