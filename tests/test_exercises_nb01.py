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


@pytest.fixture(scope="module")
def images():
    rng = np.random.default_rng(0)
    # 200 images in 64 dimensions with a decaying spectrum, like the digits
    return rng.normal(size=(200, 64)) * np.linspace(3, 0.1, 64)


def _n_95(x):
    from sklearn.decomposition import PCA

    return int(np.searchsorted(np.cumsum(PCA().fit(x).explained_variance_ratio_), 0.95) + 1)


def test_q2_accepts_the_reference(images):
    ex.q2.check(_n_95(images), images)
    ex.q2.check(np.int64(_n_95(images)), images)


@pytest.mark.parametrize("delta", [-1, 1, -10])
def test_q2_rejects_an_off_count(images, delta):
    with pytest.raises(CheckFailed):
        ex.q2.check(_n_95(images) + delta, images)


def test_q2_off_by_one_gets_an_index_hint(images):
    with pytest.raises(CheckFailed, match="index"):
        ex.q2.check(_n_95(images) - 1, images)


def test_q2_rejects_a_float(images):
    with pytest.raises(CheckFailed, match="int"):
        ex.q2.check(float(_n_95(images)), images)


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


@pytest.fixture(scope="module")
def rings():
    rng = np.random.default_rng(0)
    radius = np.repeat([1.0, 2.0], 100) + rng.normal(0, 0.15, 200)
    angle = rng.uniform(-np.pi, np.pi, 200)
    points = np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=1)
    return points.astype("float32"), np.repeat([0, 1], 100)


def _l1_norm_net(keras, hidden_activation="relu", feature_units=1, output="sigmoid"):
    """A hand-set network (no training) whose single feature is |x| + |y|, cut at 1.75."""
    model = keras.Sequential([
        keras.Input(shape=(2,)),
        keras.layers.Dense(4, activation=hidden_activation),
        keras.layers.Dense(feature_units),
        keras.layers.Dense(1, activation=output),
    ])
    model.layers[0].set_weights([np.array([[1, -1, 0, 0], [0, 0, 1, -1]], "float32"),
                                 np.zeros(4, "float32")])
    model.layers[1].set_weights([np.ones((4, feature_units), "float32"),
                                 np.zeros(feature_units, "float32")])
    model.layers[2].set_weights([np.full((feature_units, 1), 10 / feature_units, "float32"),
                                 np.array([-17.5], "float32")])
    return model


def test_q4_accepts_a_good_one_feature_network(rings):
    keras = pytest.importorskip("keras")
    ex.q4.check(_l1_norm_net(keras), *rings)


def test_q4_rejects_a_network_that_misses_the_target(rings):
    keras = pytest.importorskip("keras")
    with pytest.raises(CheckFailed, match="95%"):
        ex.q4.check(_l1_norm_net(keras, hidden_activation="linear"), *rings)


def test_q4_rejects_a_two_feature_layer(rings):
    keras = pytest.importorskip("keras")
    with pytest.raises(CheckFailed, match="units"):
        ex.q4.check(_l1_norm_net(keras, feature_units=2), *rings)


def test_q4_rejects_a_non_sigmoid_output_or_a_non_model(rings):
    keras = pytest.importorskip("keras")
    with pytest.raises(CheckFailed, match="sigmoid"):
        ex.q4.check(_l1_norm_net(keras, output="linear"), *rings)
    with pytest.raises(CheckFailed, match="Keras model"):
        ex.q4.check("a model", *rings)


def test_q4_rejects_a_too_wide_hidden_layer(rings):
    keras = pytest.importorskip("keras")
    model = keras.Sequential([keras.Input(shape=(2,)), keras.layers.Dense(32),
                              keras.layers.Dense(1), keras.layers.Dense(1, activation="sigmoid")])
    with pytest.raises(CheckFailed, match="at most 16"):
        ex.q4.check(model, *rings)


def test_every_exercise_has_a_hint_and_a_solution():
    for q in (ex.q1, ex.q2, ex.q3, ex.q4):
        assert q._hint and q._solution and q.points >= 1
