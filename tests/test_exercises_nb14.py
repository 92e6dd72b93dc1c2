"""The checks of notebook 14's exercises accept the reference answers and reject wrong ones."""

from __future__ import annotations

import numpy as np
import pytest

from helpers.exercises import CheckFailed
from helpers.exercises import nb14 as ex

keras = pytest.importorskip("keras")
layers = keras.layers

# --------------------------------------------------------------------------- Exercise 1

RIGHT = {"lstm": 4 * (16 * (6 + 16) + 16), "gru": 3 * (8 * (16 + 8) + 2 * 8),
         "gru_reset_after_false": 3 * (8 * (16 + 8) + 8), "dense": 8 * 3 + 3}


def test_q1_accepts_reference():
    ex.q1.check(dict(RIGHT))


def test_q1_accepts_whole_floats():
    ex.q1.check({key: float(value) for key, value in RIGHT.items()})


def test_q1_counts_are_keras_counts():
    model = keras.Sequential([keras.Input((None, 6)), layers.LSTM(16, return_sequences=True),
                              layers.GRU(8), layers.Dense(3)])
    assert [layer.count_params() for layer in model.layers] == [1472, 624, 27]


@pytest.mark.parametrize("key, value, reason", [
    ("lstm", 4 * 16 * (6 + 16), "u biases"),
    ("lstm", 16 * (6 + 16) + 16, "four"),
    ("lstm", 4 * (16 * 6 + 16), "recurrent matrix"),
    ("lstm", 1000, "four blocks"),
    ("gru", 3 * (8 * (6 + 8) + 2 * 8), "LSTM's output"),
    ("gru", 3 * (8 * (16 + 8) + 8), "reset_after=False count"),
    ("gru", 3 * 8 * (16 + 8), "biases are missing"),
    ("gru", 4 * (8 * (16 + 8) + 8), "three blocks"),
    ("gru_reset_after_false", 3 * (8 * (16 + 8) + 2 * 8), "one bias"),
    ("gru_reset_after_false", 3 * (8 * (6 + 8) + 8), "LSTM's output"),
    ("dense", 8 * 3, "bias per output"),
    ("dense", 16 * 3 + 3, "GRU's final state"),
    ("dense", 30, "inputs x outputs"),
])
def test_q1_rejects_typical_miscounts(key, value, reason):
    with pytest.raises(CheckFailed, match=reason):
        ex.q1.check({**RIGHT, key: value})


def test_q1_does_not_reveal_the_answer_when_wrong():
    with pytest.raises(CheckFailed) as failed:
        ex.q1.check({**RIGHT, "gru": 3 * (8 * (6 + 8) + 2 * 8)})
    assert "624" not in str(failed.value)


@pytest.mark.parametrize("answer, reason", [
    ([1472, 624, 600, 27], "dict"),
    ({"lstm": 1472, "gru": 624}, "missing: 'gru_reset_after_false', 'dense'"),
    ({**RIGHT, "dense": 27.5}, "whole number"),
])
def test_q1_rejects_malformed(answer, reason):
    with pytest.raises(CheckFailed, match=reason):
        ex.q1.check(answer)


# --------------------------------------------------------------------------- Exercise 2


def _gru(x, kernel, recurrent_kernel, bias, *, reset=True, swap=False, before=False,
         every_step=False):
    """A student's GRU step, right by default; each flag plants one of the bugs to find."""
    return ex.gru_variant(x, kernel, recurrent_kernel, bias,
                          reset="before_no_bias" if before else ("after" if reset else "none"),
                          keep="1-z" if swap else "z", all_states=every_step)


def test_q2_accepts_reference():
    ex.q2.check(_gru)


def test_q2_reference_is_keras_gru():
    x, weights = ex.probe_gru()
    layer = layers.GRU(ex.PROBE_UNITS)
    layer.build((None, None, x.shape[2]))
    layer.set_weights([w.astype("float32") for w in weights])
    keras_h = keras.ops.convert_to_numpy(layer(x.astype("float32")))
    assert np.allclose(ex.gru_variant(x, *weights), keras_h, atol=1e-5)
    assert not np.allclose(ex.gru_variant(x, *weights, reset="before"), keras_h, atol=1e-3)


def test_q2_reset_before_variant_is_keras_reset_after_false():
    x, (kernel, recurrent_kernel, bias) = ex.probe_gru()
    layer = layers.GRU(ex.PROBE_UNITS, reset_after=False)
    layer.build((None, None, x.shape[2]))
    layer.set_weights([kernel.astype("float32"), recurrent_kernel.astype("float32"),
                       bias[0].astype("float32")])
    one_bias = np.stack([bias[0], np.zeros_like(bias[0])])
    assert np.allclose(ex.gru_variant(x, kernel, recurrent_kernel, one_bias, reset="before"),
                       keras.ops.convert_to_numpy(layer(x.astype("float32"))), atol=1e-5)


@pytest.mark.parametrize("fn, reason", [
    (lambda *w: _gru(*w, reset=False, swap=True), "both bugs"),
    (lambda *w: _gru(*w, reset=False), "never used"),
    (lambda *w: _gru(*w, swap=True), "swapped: in Keras's convention"),
    (lambda *w: _gru(*w, before=True), "reset_after=False formula"),
    (lambda *w: _gru(*w, before=True, swap=True), "swapped, and r is applied before"),
    (lambda *w: _gru(*w, every_step=True), "only the final"),
    (lambda *w: _gru(*w)[:, :2], "expected \\(6, 5\\)"),
    (lambda *w: None, "return"),
    (lambda *w: 2 * _gru(*w), "differs from keras.layers.GRU"),
    ("gru_forward", "function"),
])
def test_q2_rejects_typical_bugs(fn, reason):
    with pytest.raises(CheckFailed, match=reason):
        ex.q2.check(fn)


# --------------------------------------------------------------------------- Exercise 3

STEPS, N_SYMBOLS = 20, 4


def _marked(n, seed):  # the notebook's marked-symbol task
    rng = np.random.default_rng(seed)
    symbols = rng.integers(0, N_SYMBOLS, (n, STEPS))
    marks = rng.random((n, STEPS)) < 0.1
    marks[:, 0] = True
    last = STEPS - 1 - np.argmax(marks[:, ::-1], axis=1)
    x = np.concatenate([np.eye(N_SYMBOLS)[symbols], marks[..., None]], axis=-1)
    return x.astype("float32"), symbols[np.arange(n), last]


def _model(core, seed=0):
    keras.utils.set_random_seed(seed)
    return keras.Sequential([keras.Input((STEPS, N_SYMBOLS + 1)), *core,
                             layers.Dense(N_SYMBOLS, activation="softmax")])


@pytest.fixture(scope="module")
def task():
    return _marked(3_000, 0), _marked(500, 1)


@pytest.fixture(scope="module")
def trained_gru(task):
    (x, y), _ = task
    model = _model([layers.GRU(12)])
    model.compile(keras.optimizers.Adam(1e-2), "sparse_categorical_crossentropy")
    model.fit(x, y, batch_size=64, epochs=8, verbose=0)
    return model


def test_q3_accepts_a_trained_gru_within_budget(task, trained_gru):
    _, (x_test, y_test) = task
    assert trained_gru.count_params() <= 1_000
    ex.q3.check(trained_gru, x_test, y_test)


@pytest.mark.parametrize("core, reason", [
    ([layers.LSTM(32)], "over the budget"),
    ([layers.GRU(12)], "Has it been trained"),
    ([layers.SimpleRNN(24)], "which cells learned"),
    ([layers.Flatten(), layers.Dense(8, activation="relu")], "no recurrent layer"),
])
def test_q3_rejects(task, core, reason):
    _, (x_test, y_test) = task
    with pytest.raises(CheckFailed, match=reason):
        ex.q3.check(_model(core), x_test, y_test)


def test_q3_rejects_wrong_output_and_non_models(task):
    _, (x_test, y_test) = task
    keras.utils.set_random_seed(0)
    wrong = keras.Sequential([keras.Input((STEPS, N_SYMBOLS + 1)), layers.GRU(8),
                              layers.Dense(3, activation="softmax")])
    with pytest.raises(CheckFailed, match="one probability per symbol"):
        ex.q3.check(wrong, x_test, y_test)
    with pytest.raises(CheckFailed, match="Keras model"):
        ex.q3.check("GRU(12)", x_test, y_test)
