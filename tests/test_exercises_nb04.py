"""The checks of notebook 04's exercises accept the reference answers and reject wrong ones."""

from __future__ import annotations

import numpy as np
import pytest

from helpers.exercises import CheckFailed
from helpers.exercises import nb04 as ex

# --------------------------------------------------------------------------- exercise 1


def cce(y_onehot, probs):
    return float(np.mean(-np.sum(y_onehot * np.log(probs), axis=1)))


def test_q1_accepts_reference():
    ex.q1.check(cce)


@pytest.mark.parametrize("wrong, reason", [
    (lambda y, p: -cce(y, p), "sign"),
    (lambda y, p: float(np.sum(-np.sum(y * np.log(p), axis=1))), "summed"),
    (lambda y, p: -np.sum(y * np.log(p), axis=1), "mean"),
    (lambda y, p: float(np.mean(-np.sum(y * np.log2(p), axis=1))), "not right"),
])
def test_q1_rejects_wrong(wrong, reason):
    with pytest.raises(CheckFailed, match=reason):
        ex.q1.check(wrong)


# --------------------------------------------------------------------------- exercise 2


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def backprop(X, y, W1, b1, W2, b2):
    z1 = X @ W1 + b1
    a1 = sigmoid(z1)
    p = sigmoid(a1 @ W2 + b2)
    dz2 = (p - y) / len(X)
    dW2, db2 = a1.T @ dz2, dz2.sum(axis=0)
    dz1 = dz2 @ W2.T * a1 * (1 - a1)
    return [X.T @ dz1, dz1.sum(axis=0), dW2, db2]


def backprop_variant(no_mean=False, slope_of_z=False, flip=False, drop_bias=False):
    def variant(X, y, W1, b1, W2, b2):
        z1 = X @ W1 + b1
        a1 = sigmoid(z1)
        p = sigmoid(a1 @ W2 + b2)
        dz2 = (p - y) / (1 if no_mean else len(X)) * (-1 if flip else 1)
        dW2, db2 = a1.T @ dz2, dz2.sum(axis=0)
        dz1 = dz2 @ W2.T * (z1 * (1 - z1) if slope_of_z else a1 * (1 - a1))
        db1 = dz1.sum(axis=0) * (0 if drop_bias else 1)
        return [X.T @ dz1, db1, dW2, db2]

    return variant


def test_q2_accepts_reference_and_autodiff_itself():
    import keras
    import tensorflow as tf

    ex.q2.check(backprop)
    net = keras.Sequential([keras.Input((2,)), keras.layers.Dense(2, activation="sigmoid"),
                            keras.layers.Dense(1, activation="sigmoid")])

    def autodiff(X, y, W1, b1, W2, b2):
        net.set_weights([w.astype("float32") for w in (W1, b1, W2, b2)])
        with tf.GradientTape() as tape:
            loss = keras.losses.BinaryCrossentropy()(y, net(X.astype("float32")))
        return [g.numpy() for g in tape.gradient(loss, net.trainable_variables)]

    ex.q2.check(autodiff)  # the check's own reference agrees with TensorFlow's autodiff


@pytest.mark.parametrize("wrong, reason", [
    (backprop_variant(no_mean=True, slope_of_z=True), "n = 4 times too large"),  # the notebook's
    (backprop_variant(no_mean=True), "n = 4 times too large"),
    (backprop_variant(slope_of_z=True), "a1 \\(1 - a1\\)"),
    (backprop_variant(flip=True), "dJ/dW2 or dJ/db2 is wrong"),
    (backprop_variant(drop_bias=True), "dJ/dW1 or dJ/db1 is not"),
    (lambda X, y, W1, b1, W2, b2: backprop(X, y, W1, b1, W2, b2)[:3], "the list"),
    (lambda X, y, W1, b1, W2, b2: None, "returned None"),
    (lambda X, y, W1, b1, W2, b2: [g.T for g in backprop(X, y, W1, b1, W2, b2)], "shape"),
    ("backprop", "should be a function"),
])
def test_q2_rejects_wrong(wrong, reason):
    with pytest.raises(CheckFailed, match=reason):
        ex.q2.check(wrong)


# --------------------------------------------------------------------------- exercise 3


def deep_grad(x):  # the notebook's bumpy_grad with depth=0.6
    return 0.1 * x + 0.6 * (x - 3) / 0.09 * np.exp(-((x - 3) ** 2) / 0.18)


def deep_dip():
    x = 3.0
    for _ in range(2000):
        x -= 0.01 * deep_grad(x)
    return x


MINIMA = {"dip": deep_dip(), "bowl": 0.0}


def test_q3_accepts_reference():
    ex.q3.check({0.1: {"dip", "bowl"}, 3.0: {"bowl"}}, deep_grad, MINIMA)
    ex.q3.check({0.1: ["bowl", "dip"], 3: ("bowl",)}, deep_grad, MINIMA)  # lists, int keys


@pytest.mark.parametrize("answer, reason", [
    ({0.1: {"dip", "bowl"}, 3.0: {"dip", "bowl"}}, "cannot rest in the dip"),
    ({0.1: {"dip"}, 3.0: {"bowl"}}, "CAN rest"),       # where the run ends, not where it can
    ({0.1: {"bowl"}, 3.0: {"dip"}}, "CAN rest|cannot rest"),
    ({0.1: {"dip", "bowl"}}, "keys"),
    ({0.1: "dip", 3.0: "bowl"}, "set of names"),
    ({0.1: {"dip", "valley"}, 3.0: {"bowl"}}, "valley"),
    ([0.1, 3.0], "dict"),
])
def test_q3_rejects_wrong(answer, reason):
    with pytest.raises(CheckFailed, match=reason):
        ex.q3.check(answer, deep_grad, MINIMA)


def test_q3_the_answer_depends_on_the_curvature():
    """With the shallow dip of section 2 (depth 0.3) the limits differ: η = 3 still cannot
    rest in the dip, and the check computes that from the gradient it is given."""
    def shallow_grad(x):
        return 0.1 * x + 0.3 * (x - 3) / 0.09 * np.exp(-((x - 3) ** 2) / 0.18)

    x = 3.0
    for _ in range(2000):
        x -= 0.01 * shallow_grad(x)
    ex.q3.check({0.1: {"dip", "bowl"}, 3.0: {"bowl"}}, shallow_grad, {"dip": x, "bowl": 0.0})
    with pytest.raises(CheckFailed, match="limit 2/f'' = 20"):
        ex.q3.check({0.1: {"dip"}, 3.0: {"bowl"}}, shallow_grad, {"dip": x, "bowl": 0.0})


# --------------------------------------------------------------------------- exercise 4

G0 = np.array([-21.75, -6.68])  # a gradient like line_grad(theta0)


def test_q4_accepts_reference():
    ex.q4.check(-0.1 * G0 / (np.abs(G0) + 1e-7), G0, lr=0.1)
    ex.q4.check(-0.1 * np.sign(G0), G0, lr=0.1)          # eps makes no visible difference
    ex.q4.check([0.3, -0.3], np.array([-2.0, 5.0]), lr=0.3)


@pytest.mark.parametrize("answer, reason", [
    (0.1 * np.sign(G0), "wrong direction"),
    (-0.1 * G0, "plain SGD"),
    (-0.1 * 0.1 * G0 / np.sqrt(0.001 * G0**2), "bias correction"),
    (-0.1 * G0 / np.sqrt(0.001 * G0**2), "only one of m and s"),
    (-0.1 * 0.1 * G0 / np.abs(G0), "only one of m and s"),
    (np.array([0.1]), r"shape \(1,\); expected \(2,\)"),
    (np.array([np.nan, 0.1]), "NaN"),
    (np.array([0.2, 0.05]), "not right yet"),
])
def test_q4_rejects_wrong(answer, reason):
    with pytest.raises(CheckFailed, match=reason):
        ex.q4.check(answer, G0, lr=0.1)


def test_every_exercise_has_a_hint_and_the_notebook_gives_points_and_a_solution():
    for q, points in ((ex.q1, 2), (ex.q2, 2), (ex.q3, 2), (ex.q4, 2)):
        entry = q._entry()
        assert q._hint and entry["solution"] and q.points == points, q.id
