"""The checks of notebook 09's exercises accept the reference answers and reject wrong ones."""

from __future__ import annotations

import numpy as np
import pytest

from helpers.exercises import CheckFailed
from helpers.exercises import nb09 as ex

# --------------------------------------------------------------------------- Exercise 1


def _step(w, grad, lr, l2):
    return (1 - 2 * lr * l2) * w - lr * grad


def test_q1_accepts_reference():
    ex.q1.check(_step, 1 - 2 * 0.05 * 0.001)


def test_q1_reference_is_one_sgd_step_on_the_penalized_loss():
    w, grad = np.array([1.0, -2.0]), np.array([0.5, 0.5])
    # w - lr * (grad + 2 * l2 * w), written out
    assert np.allclose(ex.sgd_l2_step(w, grad, 0.1, 0.01), w - 0.1 * (grad + 2 * 0.01 * w))


@pytest.mark.parametrize("fn, reason", [
    (lambda w, g, lr, l2: (1 - lr * l2) * w - lr * g, "factor 2"),
    (lambda w, g, lr, l2: w - lr * g, "without the penalty"),
    (lambda w, g, lr, l2: (1 - 2 * lr * l2) * w + lr * g, "against the gradient"),
    (lambda w, g, lr, l2: w - 2 * lr * l2 * w, "lr \\* grad is missing"),
    (lambda w, g, lr, l2: None, "return"),
    (lambda w, g, lr, l2: w[:1], "shape"),
    (lambda w, g, lr, l2: w * 0, "not right yet"),
    (0.9999, "function"),
])
def test_q1_rejects_wrong_steps(fn, reason):
    with pytest.raises(CheckFailed, match=reason):
        ex.q1.check(fn, 1 - 2 * 0.05 * 0.001)


@pytest.mark.parametrize("shrink, reason", [
    (1 - 0.05 * 0.001, "factor 2"),
    (2 * 0.05 * 0.001, "fraction taken away"),
    (0.999, "not right yet"),
    ("0.9999", "should be"),
])
def test_q1_rejects_wrong_shrink(shrink, reason):
    with pytest.raises(CheckFailed, match=reason):
        ex.q1.check(_step, shrink)


# --------------------------------------------------------------------------- Exercise 2


def _dropout(x, rate, training, rng):
    if not training:
        return x
    keep = rng.random(np.shape(x)) >= rate
    return x * keep / (1 - rate)


def _buggy(x, rate, training, rng):  # the notebook's buggy version
    if not training:
        return x
    keep = rng.random(x.shape) < rate
    return x * keep / rate


def test_q2_accepts_reference():
    ex.q2.check(_dropout)


@pytest.mark.parametrize("fn, reason", [
    (_buggy, "1 - rate"),
    (lambda x, rate, training, rng: x * (rng.random(x.shape) >= rate) if training else x,
     "scaled by 1 / \\(1 - rate\\)"),
    (lambda x, rate, training, rng: _dropout(x, rate, True, rng), "training=False"),
    (lambda x, rate, training, rng: _dropout(x, rate, training, rng)[:5] if training else x,
     "shape"),
    (lambda x, rate, training, rng: None, "return"),
    (lambda x, rate, training, rng: x * (rng.random(x.shape) >= 0.5) / 0.5 if training else x,
     "drops 50"),
    ("dropout", "function"),
])
def test_q2_rejects(fn, reason):
    with pytest.raises(CheckFailed, match=reason):
        ex.q2.check(fn)


def test_q2_rejects_one_random_number_for_all_values():
    def flat(x, rate, training, rng):
        if not training:
            return x
        keep = rng.random(np.size(x)) >= rate  # ignores the shape
        return (np.ravel(x) * keep / (1 - rate))
    with pytest.raises(CheckFailed, match="rng.random\\(x.shape\\)"):
        ex.q2.check(flat)


# --------------------------------------------------------------------------- Exercise 3

MC = np.random.default_rng(0).dirichlet(np.ones(10), size=(6, 40))  # (T, N, C)


def _entropy(p):
    mean = np.mean(p, axis=0)
    return -np.sum(mean * np.log(np.clip(mean, 1e-12, None)), axis=-1)


def test_q3_accepts_reference():
    ex.q3.check(_entropy, int(np.argmax(_entropy(MC))), MC)


def test_q3_reference_matches_hand_example():
    p = np.array([[[1.0, 0.0]], [[0.0, 1.0]]])  # two passes that disagree completely
    assert np.allclose(ex.predictive_entropy(p), [np.log(2)])


@pytest.mark.parametrize("fn, reason", [
    (lambda p: np.mean(-np.sum(p * np.log(np.clip(p, 1e-12, None)), axis=-1), axis=0),
     "mean of the passes' entropies"),
    (lambda p: -np.sum(p.mean(0) * np.log2(np.clip(p.mean(0), 1e-12, None)), axis=-1),
     "natural logarithm"),
    (lambda p: -np.sum(p.mean(0) * np.log(p.mean(0)), axis=0), "shape"),
    (lambda p: None, "return"),
    (lambda p: np.zeros(p.shape[1]), "three-image example"),
    (np.log, "shape"),
])
@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_q3_rejects_wrong_entropy(fn, reason):
    with pytest.raises(CheckFailed, match=reason):
        ex.q3.check(fn, 0, MC)


def test_q3_rejects_log_of_zero():
    def raw(p):  # 0 * log(0) is NaN: the probe has a class with probability 0
        mean = p.mean(0)
        with np.errstate(divide="ignore", invalid="ignore"):
            return -np.sum(mean * np.log(mean), axis=-1)
    with pytest.raises(CheckFailed, match="clip"):
        ex.q3.check(raw, 0, MC)


@pytest.mark.parametrize("index, reason", [
    (int(np.argmin(_entropy(MC))), "np.argmax"),
    (400, "only 40"),
    (1.5, "whole number"),
    ("3", "int"),
])
def test_q3_rejects_wrong_index(index, reason):
    with pytest.raises(CheckFailed, match=reason):
        ex.q3.check(_entropy, index, MC)
