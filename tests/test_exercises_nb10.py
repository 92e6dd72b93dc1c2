"""The checks of notebook 10's exercises accept the reference answers and reject wrong ones."""

from __future__ import annotations

import numpy as np
import pytest

from helpers.exercises import CheckFailed
from helpers.exercises import nb10 as ex

# --------------------------------------------------------------------------- reference code


def test_reference_moving_mean_is_the_loop_of_keras_update():
    moving = 0.0
    for _ in range(100):
        moving = 0.99 * moving + 0.01 * 3.0
    assert np.isclose(ex.moving_mean_after(100, 3.0), moving)
    assert ex.moving_mean_after(0, 5.0) == 0.0


def test_reference_batch_norm_standardizes_each_channel():
    x = np.random.default_rng(0).normal(4.0, 3.0, (10, 5, 5, 3))
    y = ex.batch_norm_train(x, 1.0, 0.0, eps=0.0)
    assert np.allclose(y.mean(axis=(0, 1, 2)), 0.0) and np.allclose(y.std(axis=(0, 1, 2)), 1.0)


# --------------------------------------------------------------------------- Exercise 1


def _moving_mean_loop(steps, batch_mean, momentum=0.99):
    moving = 0.0
    for _ in range(steps):
        moving = momentum * moving + (1 - momentum) * batch_mean
    return moving


def test_q1_accepts_reference_and_a_loop():
    ex.q1.check(lambda steps, m, momentum=0.99: m * (1 - momentum**steps))
    ex.q1.check(_moving_mean_loop)
    ex.q1.check(lambda steps, m, momentum=0.99: np.float32(m * (1 - momentum**steps)))


@pytest.mark.parametrize("answer, reason", [
    (lambda steps, m, momentum=0.99: m, "batch mean itself"),
    (lambda steps, m, momentum=0.99: m * (1 - (1 - momentum) ** steps), "swapped"),
    (lambda steps, m, momentum=0.99: m * (1 - momentum ** (steps + 1)), "off by one"),
    (lambda steps, m, momentum=0.99: m * (1 - momentum) * steps, "multiplies the old"),
    (lambda steps, m, momentum=0.99: m * momentum**steps, "expected"),
    (lambda steps, m, momentum=0.99: None, "return"),
    (lambda steps, m, momentum=0.99: [1.0, 2.0], "one number"),
    (1.9, "function"),
])
def test_q1_rejects(answer, reason):
    with pytest.raises(CheckFailed, match=reason):
        ex.q1.check(answer)


# --------------------------------------------------------------------------- Exercise 2


def _bn(x, gamma, beta, eps=1e-3):
    axes = tuple(range(x.ndim - 1))
    return gamma * (x - x.mean(axis=axes)) / np.sqrt(x.var(axis=axes) + eps) + beta


def _per_example(x, gamma, beta, eps=1e-3):
    mean, var = x.mean(axis=-1, keepdims=True), x.var(axis=-1, keepdims=True)
    return gamma * (x - mean) / np.sqrt(var + eps) + beta


def _axis0_only(x, gamma, beta, eps=1e-3):
    return gamma * (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0) + eps) + beta


def _eps_outside(x, gamma, beta, eps=1e-3):
    axes = tuple(range(x.ndim - 1))
    return gamma * (x - x.mean(axis=axes)) / (np.sqrt(x.var(axis=axes)) + eps) + beta


def _unbiased(x, gamma, beta, eps=1e-3):
    axes = tuple(range(x.ndim - 1))
    var = x.var(axis=axes, ddof=1)
    return gamma * (x - x.mean(axis=axes)) / np.sqrt(var + eps) + beta


def _no_gamma_beta(x, gamma, beta, eps=1e-3):
    return _bn(x, 1.0, 0.0, eps)


def _with_stats(x, gamma, beta, eps=1e-3):
    return _bn(x, gamma, beta, eps), x.mean(axis=0)


def test_q2_accepts_reference():
    ex.q2.check(_bn)


def test_q2_rejects_the_buggy_version_of_the_notebook():
    with pytest.raises(CheckFailed, match="axis=-1"):
        ex.q2.check(lambda x, g, b, eps=1e-3: g * (x - x.mean(-1, keepdims=True))
                    / (np.sqrt(x.var(-1, keepdims=True)) + eps) + b)


@pytest.mark.parametrize("answer, reason", [
    (_per_example, "axis=-1"),
    (_axis0_only, "axes 0, 1, 2"),
    (_eps_outside, "inside the square root"),
    (_unbiased, "biased variance"),
    (_no_gamma_beta, "gamma and beta"),
    (_with_stats, "only the output array"),
    (lambda x, g, b, eps=1e-3: None, "return"),
    ("batch_norm_fixed", "function"),
])
def test_q2_rejects(answer, reason):
    with pytest.raises(CheckFailed, match=reason):
        ex.q2.check(answer)


def test_q2_cases_catch_epsilon_placement():
    # the small-variance case is what makes eps's place visible
    x = ex._bn_cases()[1][1]
    assert not np.allclose(_eps_outside(x, 1.0, 0.0), _bn(x, 1.0, 0.0), atol=1e-4)


# --------------------------------------------------------------------------- Exercise 3

keras = pytest.importorskip("keras")
layers = keras.layers


@pytest.fixture(scope="module")
def fashion():
    from helpers import load_fashion_mnist

    try:
        data = load_fashion_mnist(n_train=3_072, n_test=1_000, allow_download=False,
                                  verbose=False)
    except FileNotFoundError:
        pytest.skip("Fashion-MNIST is not installed")
    mean, std = data.x_train.mean(), data.x_train.std()
    return (data.x_train - mean) / std, data.y_train, (data.x_test - mean) / std, data.y_test


def _cnn(momentum=0.9, bias=False, filters=(16, 24, 32), softmax=False, conv_relu=False,
         relu_first=False):
    def build():
        inputs = keras.Input((28, 28, 1))
        x = inputs
        for f in filters:
            x = layers.Conv2D(f, 3, padding="same", use_bias=bias,
                              activation="relu" if conv_relu else None)(x)
            if relu_first:
                x = layers.ReLU()(x)
            x = layers.BatchNormalization(momentum=momentum)(x)
            if not relu_first:
                x = layers.ReLU()(x)
            x = layers.MaxPooling2D(2)(x)
        x = layers.GlobalAveragePooling2D()(x)
        return keras.Model(inputs, layers.Dense(10, activation="softmax" if softmax else None)(x))
    return build


def _dense_only():
    inputs = keras.Input((28, 28, 1))
    return keras.Model(inputs, layers.Dense(10)(layers.Flatten()(inputs)))


def _too_big():
    inputs = keras.Input((28, 28, 1))
    x = layers.Conv2D(16, 3, use_bias=False)(inputs)
    x = layers.ReLU()(layers.BatchNormalization()(x))
    return keras.Model(inputs, layers.Dense(10)(layers.Flatten()(x)))


def _wrong_output():
    inputs = keras.Input((28, 28, 1))
    x = layers.ReLU()(layers.BatchNormalization()(layers.Conv2D(8, 3, use_bias=False)(inputs)))
    return keras.Model(inputs, layers.Dense(2)(layers.GlobalAveragePooling2D()(x)))


def test_q3_accepts_reference(fashion):
    ex.q3.check(_cnn(), *fashion, seed=42)


@pytest.mark.parametrize("build, reason", [
    (_cnn(bias=True), "use_bias=False"),
    (_cnn(conv_relu=True), "ReLU should come after"),
    (_cnn(relu_first=True), "not followed directly by BatchNormalization"),
    (_cnn(softmax=True), "logits"),
    (_cnn(filters=(32, 64)), "over the budget"),
    (_too_big, "over the budget"),
    (_dense_only, "no Conv2D"),
    (_wrong_output, "10 logits"),
    (lambda: None, "return"),
    (lambda: "model", "keras.Model"),
])
def test_q3_rejects_structure(build, reason):
    x = np.zeros((8, 28, 28, 1), dtype="float32")
    y = np.zeros(8, dtype="int64")
    with pytest.raises(CheckFailed, match=reason):
        ex.q3.check(build, x, y, x, y)


def test_q3_rejects_lagging_moving_statistics(fashion):
    with pytest.raises(CheckFailed, match="moving statistics have not caught up"):
        ex.q3.check(_cnn(momentum=0.99), *fashion, seed=42)


def test_q2_rejects_the_statistics_instead_of_the_output():
    with pytest.raises(CheckFailed, match="keeps the input's shape"):
        ex.q2.check(lambda x, g, b, eps=1e-3: x.mean(axis=0))
