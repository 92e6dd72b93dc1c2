"""The checks of notebook 03's exercises accept the reference answers and reject wrong ones."""

from __future__ import annotations

import numpy as np
import pytest

from helpers.exercises import CheckFailed
from helpers.exercises import nb03 as ex

keras = pytest.importorskip("keras")
ops = keras.ops


def _sigmoid(z):
    return 1 / (1 + ops.exp(-z))


# --------------------------------------------------------------------------- Exercise 1


def _softplus(z):
    return ops.maximum(z, 0.0) + ops.log1p(ops.exp(-ops.abs(z)))


def _naive_softplus(z):
    return ops.log(1 + ops.exp(z))


def test_q1_accepts_reference(capsys):
    ex.q1.check(_softplus, _sigmoid)
    out = capsys.readouterr().out
    assert "Stable" in out and "refinement" not in out
    assert "z = 0 gives 1" in out  # autodiff's convention at the cancelling kinks


def test_q1_accepts_keras_softplus_without_remarks(capsys):
    ex.q1.check(keras.activations.softplus, _sigmoid)
    out = capsys.readouterr().out
    assert "Stable" in out and "refinement" not in out and "Curious" not in out


def test_q1_rejects_naive_formula_with_overflow_hint():
    with pytest.raises(CheckFailed, match=r"softplus\(1000\) is inf.*overflows.*section 3"):
        ex.q1.check(_naive_softplus, _sigmoid)
    with pytest.raises(CheckFailed, match=r"softplus\(1000\) is inf"):
        ex.q1.check(lambda z: ops.log1p(ops.exp(z)), _sigmoid)


def test_q1_rejects_the_other_overflow():
    with pytest.raises(CheckFailed, match=r"softplus\(-1000\) is inf"):
        ex.q1.check(lambda z: z + ops.log1p(ops.exp(-z)), _sigmoid)


def test_q1_rejects_finite_but_wrong_extremes():
    def clipped(z):  # right on [-8, 8], but stops growing
        return _softplus(ops.minimum(z, 50.0))

    with pytest.raises(CheckFailed, match=r"softplus\(1000\) is 50"):
        ex.q1.check(clipped, _sigmoid)

    def shifted_below(z):  # right on [-8, 8], negative far left
        return _softplus(z) + ops.where(z < -100, -1.0, 0.0)

    with pytest.raises(CheckFailed, match=r"softplus\(-1000\).*non-negative"):
        ex.q1.check(shifted_below, _sigmoid)


def test_q1_rejects_where_with_an_overflowing_branch():
    def where_version(z):  # right values everywhere, NaN gradient at +-1000
        return ops.where(z > 0, z + ops.log1p(ops.exp(-z)), ops.log1p(ops.exp(z)))

    with pytest.raises(CheckFailed, match="gradient there is NaN"):
        ex.q1.check(where_version, _sigmoid)


def test_q1_remarks_on_log_instead_of_log1p(capsys):
    ex.q1.check(lambda z: ops.maximum(z, 0.0) + ops.log(1 + ops.exp(-ops.abs(z))), _sigmoid)
    assert "log1p" in capsys.readouterr().out


def test_q1_rejects_wrong_derivative():
    with pytest.raises(CheckFailed, match="softplus_derivative"):
        ex.q1.check(_softplus, lambda z: ops.exp(z) / (1 + ops.exp(z)) ** 2)


def test_q1_rejects_relu_and_numpy_versions():
    with pytest.raises(CheckFailed, match="softplus"):
        ex.q1.check(lambda z: ops.maximum(z, 0.0), _sigmoid)
    with pytest.raises(CheckFailed, match="GradientTape"):  # right values, not differentiable
        ex.q1.check(lambda z: np.logaddexp(0, np.asarray(z)), _sigmoid)


def test_q1_rejects_non_functions():
    with pytest.raises(CheckFailed, match="function"):
        ex.q1.check(1.0, _sigmoid)


# --------------------------------------------------------------------------- Exercise 2


def test_q2_reference_value_is_the_chain_rule():
    z, expected = 0.0, 1.0
    for _ in range(10):
        s = 1 / (1 + np.exp(-z))
        expected, z = expected * s * (1 - s), s
    assert ex.sigmoid_chain_gradient(10, 0.0) == pytest.approx(expected)
    assert ex.sigmoid_chain_gradient(1, 0.0) == pytest.approx(0.25)


def test_q2_accepts_reference_and_tensors():
    value = ex.sigmoid_chain_gradient()
    ex.q2.check(value)
    ex.q2.check(np.float32(value))
    ex.q2.check(np.array(value, dtype="float32"))


def test_q2_rejects_the_bound_and_other_numbers():
    with pytest.raises(CheckFailed, match="bound"):
        ex.q2.check(0.25**10)
    with pytest.raises(CheckFailed):
        ex.q2.check(ex.sigmoid_chain_gradient(9))
    with pytest.raises(CheckFailed, match="float"):
        ex.q2.check("small")


# --------------------------------------------------------------------------- Exercise 3


def _stable(z):
    e = ops.exp(z - ops.max(z, axis=-1, keepdims=True))
    return e / ops.sum(e, axis=-1, keepdims=True)


def test_q3_accepts_keras_and_numpy_versions():
    ex.q3.check(_stable)

    def numpy_version(z):
        e = np.exp(z - z.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)

    ex.q3.check(numpy_version)


def test_q3_rejects_naive_softmax():
    def naive(z):
        e = ops.exp(z)
        return e / ops.sum(e, axis=-1, keepdims=True)

    with pytest.raises(CheckFailed, match="NaN"):
        ex.q3.check(naive)


def test_q3_rejects_wrong_axis_and_global_max():
    def over_batch(z):
        e = ops.exp(z - ops.max(z))
        return e / ops.sum(e)

    with pytest.raises(CheckFailed):
        ex.q3.check(over_batch)

    def global_max(z):  # one max for the whole batch: rows of very different scale underflow
        e = ops.exp(z - ops.max(z))
        return e / ops.sum(e, axis=-1, keepdims=True)

    with pytest.raises(CheckFailed):
        ex.q3.check(global_max)


# --------------------------------------------------------------------------- Exercise 4


def _deep(activation, *, depth=15, width=8, output_activation="softmax"):
    keras.utils.set_random_seed(0)
    hidden = [keras.layers.Dense(width, activation=activation) for _ in range(depth)]
    return keras.Sequential([keras.Input((6,)), *hidden,
                             keras.layers.Dense(10, activation=output_activation)])


@pytest.fixture(scope="module")
def tiny_inputs():
    return np.random.default_rng(0).normal(size=(20, 6)).astype("float32")


def test_q4_accepts_a_model_that_fits_its_labels(tiny_inputs):
    model = _deep("tanh")
    labels = model.predict(tiny_inputs, verbose=0).argmax(axis=-1)  # accuracy 100% by design
    ex.q4.check(model, tiny_inputs, labels, width=8)


def test_q4_rejects_low_accuracy(tiny_inputs):
    model = _deep("elu")
    wrong = (model.predict(tiny_inputs, verbose=0).argmax(axis=-1) + 1) % 10
    with pytest.raises(CheckFailed, match="accuracy"):
        ex.q4.check(model, tiny_inputs, wrong, width=8)


def test_q4_rejects_sigmoid_linear_and_wrong_shapes(tiny_inputs):
    for activation, message in [("sigmoid", "sigmoid"), ("relu", "already trained ReLU"),
                                (None, "linear")]:
        model = _deep(activation)
        labels = model.predict(tiny_inputs, verbose=0).argmax(axis=-1)
        with pytest.raises(CheckFailed, match=message):
            ex.q4.check(model, tiny_inputs, labels, width=8)
    with pytest.raises(CheckFailed, match="Dense layers"):
        ex.q4.check(_deep("tanh", depth=3), tiny_inputs, np.zeros(20, int), width=8)
    with pytest.raises(CheckFailed, match="output"):
        ex.q4.check(_deep("tanh", output_activation=None), tiny_inputs, np.zeros(20, int),
                    width=8)
    with pytest.raises(CheckFailed, match="Keras model"):
        ex.q4.check("model", tiny_inputs, np.zeros(20, int))
