"""The checks of notebook 13's exercises accept the reference answers and reject wrong ones."""

from __future__ import annotations

import numpy as np
import pytest

from helpers.exercises import CheckFailed
from helpers.exercises import nb13 as ex

# --------------------------------------------------------------------------- Exercise 1


def _kl(mu, log_var):
    return 0.5 * np.sum(np.exp(log_var) + mu ** 2 - 1 - log_var, axis=-1)


def test_q1_accepts_reference():
    ex.q1.check(_kl, "a")
    ex.q1.check(_kl, " (A) ")


def test_q1_reference_matches_a_monte_carlo_estimate():
    rng = np.random.default_rng(0)
    mu, log_var = np.array([0.5, -1.0]), np.array([np.log(0.5), np.log(3.0)])
    sigma = np.exp(0.5 * log_var)
    z = mu + sigma * rng.normal(size=(400_000, 2))
    log_q = np.sum(-0.5 * ((z - mu) / sigma) ** 2 - np.log(sigma), axis=1)
    log_p = np.sum(-0.5 * z ** 2, axis=1)
    assert ex.kl_diagonal(mu[None], log_var[None])[0] == pytest.approx(np.mean(log_q - log_p),
                                                                       abs=0.01)
    assert ex.kl_diagonal(np.zeros((1, 3)), np.zeros((1, 3)))[0] == 0


def test_q1_accepts_keras_ops():
    keras = pytest.importorskip("keras")
    ops = keras.ops

    def kl_ops(mu, log_var):
        return 0.5 * ops.sum(ops.exp(log_var) + ops.square(mu) - 1.0 - log_var, axis=-1)

    ex.q1.check(kl_ops, "a")


@pytest.mark.parametrize("fn, reason", [
    (lambda m, v: np.sum(np.exp(v) + m ** 2 - 1 - v, axis=-1), "factor 1/2"),
    (lambda m, v: 0.5 * np.mean(np.exp(v) + m ** 2 - 1 - v, axis=-1), "averages"),
    (lambda m, v: 0.5 * np.sum(np.exp(v) + m ** 2 - v, axis=-1), "-1 term"),
    (lambda m, v: 0.5 * np.sum(np.exp(0.5 * v) + m ** 2 - 1 - v, axis=-1), "variance sigma"),
    (lambda m, v: 0.5 * np.sum(np.exp(v) + m ** 2 - 1 + v, axis=-1), "minus sign"),
    (lambda m, v: -_kl(m, v), "never negative"),
    (lambda m, v: 0.5 * np.sum(v + m ** 2 - 1 - np.log(v), axis=-1), "NaN"),
    (lambda m, v: 0.5 * np.sum(np.exp(v) + m ** 2 - 1 - v), "shape"),
    (lambda m, v: _kl(m, v)[:, None], "shape"),
    (lambda m, v: 0.5 * np.sum(np.exp(v) + m - 1 - v, axis=-1), "not right yet"),
    (lambda m, v: None, "return"),
    ("kl", "function"),
])
@pytest.mark.filterwarnings("ignore:invalid value encountered in log:RuntimeWarning")
def test_q1_rejects_wrong_functions(fn, reason):
    with pytest.raises(CheckFailed, match=reason):
        ex.q1.check(fn, "a")


@pytest.mark.parametrize("answer, reason", [("b", "not this one"), ("c", "\"a\" or \"b\""),
                                            (1, "should be a str")])
def test_q1_rejects_wrong_predictions(answer, reason):
    with pytest.raises(CheckFailed, match=reason):
        ex.q1.check(_kl, answer)


# --------------------------------------------------------------------------- Exercise 2

sklearn_pca = pytest.importorskip("sklearn.decomposition").PCA


def _smallest(x_train, x_test, target_mse, max_k=64, *, shift=0, on=None, strict=False):
    pca = sklearn_pca(max_k).fit(x_train)
    measured = x_test if on is None else on
    codes = pca.transform(measured)
    for k in range(1, max_k + 1):
        rebuilt = codes[:, :k] @ pca.components_[:k] + pca.mean_
        error = np.mean((rebuilt - measured) ** 2)
        if error < target_mse if strict else error <= target_mse:
            return k + shift
    return None


@pytest.fixture(scope="module")
def images():
    """Small stand-ins for flat_train and flat_test: 400 and 150 'images' of 64 pixels."""
    rng = np.random.default_rng(5)
    basis = rng.normal(size=(20, 64))
    scales = 1.5 ** -np.arange(20)

    def draw(n):
        return np.clip((rng.normal(size=(n, 20)) * scales) @ basis * 0.1 + 0.5, 0, 1)

    x_train, x_test = draw(400), draw(150)
    curve = ex.linear_code_mse(x_train, x_test, 64)
    target = float(np.sqrt(curve[5] * curve[6]))        # k = 7 is the first to reach it
    return x_train, x_test, target


def test_q2_accepts_reference(images):
    x_train, x_test, target = images
    k_match = _smallest(x_train, x_test, target)
    assert k_match == 7 == ex.smallest_linear_code(x_train, x_test, target)
    ex.q2.check(_smallest, k_match, x_train, x_test, target)
    ex.q2.check(lambda a, b, t, m=64: _smallest(a, b, t, m, strict=True), 7, x_train, x_test,
                target)


def test_q2_reference_curve_matches_sklearn(images):
    x_train, x_test, _ = images
    curve = ex.linear_code_mse(x_train, x_test, 10)
    for k in (1, 4, 10):
        pca = sklearn_pca(k).fit(x_train)
        rebuilt = pca.inverse_transform(pca.transform(x_test))
        assert curve[k - 1] == pytest.approx(np.mean((rebuilt - x_test) ** 2), rel=1e-9)


@pytest.mark.parametrize("fn, reason", [
    (lambda a, b, t, m=64: _smallest(a, b, t, m, shift=-1), "off by one"),
    (lambda a, b, t, m=64: _smallest(a, b, t, m, on=a), "measured on x_train"),
    (lambda a, b, t, m=64: _smallest(a, b, t, m, shift=1), "first k"),
    (lambda a, b, t, m=64: _smallest(a, b, t, m) or m, "return None"),
    (lambda a, b, t, m=64: None, "returned None"),
    (lambda a, b, t, m=64: 2.5, "whole number"),
    ("smallest_linear_code", "function"),
])
def test_q2_rejects_wrong_functions(images, fn, reason):
    x_train, x_test, target = images
    with pytest.raises(CheckFailed, match=reason):
        ex.q2.check(fn, 7, x_train, x_test, target)


@pytest.mark.parametrize("answer, reason", [(6, "test MSE"), (8, "test MSE"), (None, "is None"),
                                            (7.5, "whole number"), (99, "k_match is 99")])
def test_q2_rejects_wrong_k_match(images, answer, reason):
    x_train, x_test, target = images
    with pytest.raises(CheckFailed, match=reason):
        ex.q2.check(_smallest, answer, x_train, x_test, target)


# --------------------------------------------------------------------------- Exercise 3


def _pairs(images, sigma, rng):
    return np.clip(images + sigma * rng.normal(size=images.shape), 0, 1), images


def _in_place(images, sigma, rng):
    images += sigma * rng.normal(size=images.shape)
    return np.clip(images, 0, 1), images


def test_q3_accepts_reference():
    ex.q3.check(_pairs)
    ex.q3.check(lambda x, s, r: list(_pairs(x, s, r)))


@pytest.mark.parametrize("fn, reason", [
    (lambda x, s, r: (_pairs(x, s, r)[0],) * 2, "classmate's bug"),
    (lambda x, s, r: _pairs(x, s, r)[::-1], "swapped"),
    (lambda x, s, r: (_pairs(x, s, r)[0], x * 0.5), "clean images, unchanged"),
    (lambda x, s, r: (x.copy(), x), "inputs are the clean images"),
    (lambda x, s, r: (np.clip(x + s * r.random(x.shape), 0, 1), x), "mean"),
    (lambda x, s, r: (np.clip(x + s ** 2 * r.normal(size=x.shape), 0, 1), x), "sigma\\*\\*2"),
    (lambda x, s, r: (np.clip(x + s * r.uniform(-1, 1, x.shape), 0, 1), x),
     "standard deviation 0.0"),
    (lambda x, s, r: (np.clip(x + s * r.normal(size=(len(x), 1, 1, 1)), 0, 1), x),
     "same noise"),
    (lambda x, s, r: (np.clip(x + s * r.normal(size=x.shape[1:]), 0, 1), x), "same noise "
                                                                             "pattern"),
    (lambda x, s, r: (np.clip(x + s * np.random.normal(size=x.shape), 0, 1), x),
     "rng that is passed in"),
    (lambda x, s, r: (x + s * r.normal(size=x.shape), x), "clip"),
    (_in_place, "in place"),
    (lambda x, s, r: _pairs(x, s, r)[0], "pair"),
    (lambda x, s, r: (_pairs(x, s, r)[0][:5], x), "shape"),
    (lambda x, s, r: None, "return inputs, targets"),
    ("pairs", "function"),
])
def test_q3_rejects_typical_bugs(fn, reason):
    with pytest.raises(CheckFailed, match=reason):
        ex.q3.check(fn)
