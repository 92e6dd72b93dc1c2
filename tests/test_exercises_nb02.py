"""The checks of notebook 02's exercises accept the reference answers and reject wrong ones."""

from __future__ import annotations

import numpy as np
import pytest

from helpers.exercises import CheckFailed
from helpers.exercises import nb02 as ex


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def test_step_counts_zero_as_one():
    assert ex.step([-0.1, 0.0, 0.1]).tolist() == [0, 1, 1]


def test_train_perceptron_converges_on_and():
    theta0, theta, errors = ex.train_perceptron(ex.GATE_INPUTS, np.array([0, 0, 0, 1]))
    assert 0 in errors
    assert ex.step(theta0 + ex.GATE_INPUTS @ theta).tolist() == [0, 0, 0, 1]


def test_q1_nand():
    ex.q1.check(1.5, np.array([-1.0, -1.0]))
    ex.q1.check(np.float64(1.0), [-0.7, -0.6])
    with pytest.raises(CheckFailed, match="AND"):
        ex.q1.check(-1.5, np.array([1.0, 1.0]))
    with pytest.raises(CheckFailed):
        ex.q1.check(0.5, np.array([-1.0, 1.0]))
    with pytest.raises(CheckFailed, match="shape"):
        ex.q1.check(1.5, np.array([-1.0, -1.0, 0.0]))


def test_q2_mlp_forward():
    def reference(X, W1, b1, W2, b2):
        return sigmoid(np.maximum(0, X @ W1 + b1) @ W2 + b2)

    def no_relu(X, W1, b1, W2, b2):
        return sigmoid((X @ W1 + b1) @ W2 + b2)

    def no_sigmoid(X, W1, b1, W2, b2):
        return np.maximum(0, X @ W1 + b1) @ W2 + b2

    def flat(X, W1, b1, W2, b2):
        return reference(X, W1, b1, W2, b2)[:, 0]

    ex.q2.check(reference)
    with pytest.raises(CheckFailed, match="ReLU"):
        ex.q2.check(no_relu)
    with pytest.raises(CheckFailed, match="sigmoid"):
        ex.q2.check(no_sigmoid)
    with pytest.raises(CheckFailed, match="shape"):
        ex.q2.check(flat)
    with pytest.raises(CheckFailed, match="function"):
        ex.q2.check(0.5)


class TruthModel:
    """Stands in for pass_model: predicts the notebook's true rule."""

    def predict(self, x, verbose=0):
        x = np.asarray(x, dtype="float64")
        return sigmoid(1.5 * (np.sqrt(x[:, 0] * x[:, 1]) - 6.5))[:, None]


def test_q3_hours_needed():
    model = TruthModel()
    ex.q3.check(7.5, model)  # 6 * 7.0 = 42 < 42.25, 6 * 7.5 = 45
    with pytest.raises(CheckFailed, match="smallest"):
        ex.q3.check(8.0, model)
    with pytest.raises(CheckFailed):
        ex.q3.check(7.0, model)
    with pytest.raises(CheckFailed, match="tried hours"):
        ex.q3.check(7.04, model)
    with pytest.raises(CheckFailed, match="None"):
        ex.q3.check(None, model)


def test_q4_xor_features():
    def xor_features(X):
        return np.column_stack([X, X[:, 0] * X[:, 1]])

    features = xor_features(ex.GATE_INPUTS)
    theta0, theta, errors = ex.train_perceptron(features, ex.XOR, lr=0.1, epochs=50)
    epochs = errors.index(0) + 1
    ex.q4.check(xor_features, theta0, theta, epochs)
    with pytest.raises(CheckFailed, match="one short"):
        ex.q4.check(xor_features, theta0, theta, epochs - 1)
    with pytest.raises(CheckFailed, match="XOR"):
        ex.q4.check(xor_features, -theta0, -theta, epochs)
    with pytest.raises(CheckFailed, match="columns"):
        ex.q4.check(lambda X: X, theta0, theta[:2], epochs)
    with pytest.raises(CheckFailed, match="converge"):
        ex.q4.check(lambda X: np.column_stack([X, X[:, 0] + X[:, 1]]), theta0, theta, epochs)


def test_q4_recomputes_with_the_notebooks_seed():
    def xor_features(X):
        return np.column_stack([X, X[:, 0] * X[:, 1]])

    features = xor_features(ex.GATE_INPUTS)
    runs = {seed: ex.train_perceptron(features, ex.XOR, lr=0.1, epochs=50, seed=seed)
            for seed in (0, 42)}
    epochs = {seed: errors.index(0) + 1 for seed, (_, _, errors) in runs.items()}
    assert epochs[0] != epochs[42]  # otherwise this test would not tell the seeds apart
    theta0, theta, _ = runs[42]
    ex.q4.check(xor_features, theta0, theta, epochs[42], seed=42)
    with pytest.raises(CheckFailed, match="seed"):
        ex.q4.check(xor_features, theta0, theta, epochs[0], seed=42)
