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

X_NEW = np.random.default_rng(7).uniform(0, 10, size=40)


def lr_limit_of(x):
    hessian = 2 / len(x) * np.array([[np.sum(x**2), np.sum(x)], [np.sum(x), len(x)]])
    return 2 / np.linalg.eigvalsh(hessian)


def test_q2_accepts_reference():
    ex.q2.check(float(lr_limit_of(X_NEW).min()), X_NEW)


def test_q2_rejects_wrong():
    with pytest.raises(CheckFailed, match="1/λ_max"):
        ex.q2.check(float(lr_limit_of(X_NEW).min()) / 2, X_NEW)
    with pytest.raises(CheckFailed, match="LARGEST"):
        ex.q2.check(float(lr_limit_of(X_NEW).max()), X_NEW)
    with pytest.raises(CheckFailed):
        ex.q2.check(0.1, X_NEW)
    with pytest.raises(CheckFailed, match="float"):
        ex.q2.check("0.01", X_NEW)


# --------------------------------------------------------------------------- exercise 3


def adam_step(theta, g, m, s, t, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-7):
    m = beta1 * m + (1 - beta1) * g
    s = beta2 * s + (1 - beta2) * g**2
    m_hat, s_hat = m / (1 - beta1**t), s / (1 - beta2**t)
    return theta - lr * m_hat / (np.sqrt(s_hat) + eps), m, s


def adam_without_bias_correction(theta, g, m, s, t, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-7):
    m = beta1 * m + (1 - beta1) * g
    s = beta2 * s + (1 - beta2) * g**2
    return theta - lr * m / (np.sqrt(s) + eps), m, s


def sgd_step(theta, g, m, s, t, lr=0.001, **_):
    return theta - lr * g, m, s


def test_q3_accepts_reference():
    ex.q3.check(adam_step)


def test_q3_rejects_wrong():
    with pytest.raises(CheckFailed, match="bias"):
        ex.q3.check(adam_without_bias_correction)
    with pytest.raises(CheckFailed, match="plain SGD"):
        ex.q3.check(sgd_step)
    with pytest.raises(CheckFailed, match="tuple"):
        ex.q3.check(lambda theta, g, m, s, t, **kw: theta)


# --------------------------------------------------------------------------- exercise 4


def perfect_mlp(optimizer, steps):
    """make_mlp()'s architecture with hand-set weights that classify the toy data below."""
    import keras
    from keras import layers

    model = keras.Sequential([keras.Input((784,)), layers.Dense(64, activation="relu"),
                              layers.Dense(10, activation="softmax")])
    w1 = np.zeros((784, 64), "float32")
    w1[np.arange(10), np.arange(10)] = 1.0
    w2 = np.zeros((64, 10), "float32")
    w2[np.arange(10), np.arange(10)] = 10.0
    model.set_weights([w1, np.zeros(64, "float32"), w2, np.zeros(10, "float32")])
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy")
    model.optimizer.build(model.trainable_variables)
    model.optimizer.iterations.assign(steps)
    return model


@pytest.fixture(scope="module")
def toy_test_set():
    y = np.arange(50) % 10
    x = np.zeros((50, 784), "float32")
    x[np.arange(50), y] = 1.0
    return x, y


def test_q4_accepts_a_good_sgd_model(toy_test_set):
    import keras

    ex.q4.check(perfect_mlp(keras.optimizers.SGD(0.1), 282), *toy_test_set, n_train=3000)


def test_q4_rejects_wrong(toy_test_set):
    import keras

    x, y = toy_test_set
    with pytest.raises(CheckFailed, match="SGD"):
        ex.q4.check(perfect_mlp(keras.optimizers.Adam(), 282), x, y, n_train=3000)
    with pytest.raises(CheckFailed, match="momentum"):
        ex.q4.check(perfect_mlp(keras.optimizers.SGD(0.1, momentum=0.9), 282), x, y,
                    n_train=3000)
    with pytest.raises(CheckFailed, match="budget"):
        ex.q4.check(perfect_mlp(keras.optimizers.SGD(0.1), 283), x, y, n_train=3000)
    with pytest.raises(CheckFailed, match="not been trained"):
        ex.q4.check(perfect_mlp(keras.optimizers.SGD(0.1), 0), x, y, n_train=3000)
    with pytest.raises(CheckFailed, match="below"):
        ex.q4.check(perfect_mlp(keras.optimizers.SGD(0.1), 282), x, (y + 1) % 10,
                    n_train=3000)
    with pytest.raises(CheckFailed, match="layers"):
        ex.q4.check(keras.Sequential([keras.Input((784,)), keras.layers.Dense(10)]), x, y,
                    n_train=3000)
