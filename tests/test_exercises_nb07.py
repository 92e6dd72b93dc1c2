"""The checks of notebook 07's exercises accept the reference answers and reject wrong ones."""

from __future__ import annotations

import numpy as np
import pytest

from helpers.exercises import CheckFailed
from helpers.exercises import nb07 as ex


def _shuffle_answers(undo_right=True, three_first=False):
    """Run the experiment of exercise 1 as a student would, optionally with a bug."""
    keras = pytest.importorskip("keras")
    x = np.random.default_rng(0).normal(size=(2, 5, 5, 8)).astype("float32")
    order = np.random.default_rng(1).permutation(25)
    undo = np.argsort(order) if undo_right else order

    def shuffled(layer):
        out = keras.ops.convert_to_numpy(layer(
            x.reshape(2, 25, 8)[:, order].reshape(x.shape)))
        return out.reshape(2, 25, -1)[:, undo].reshape(out.shape)

    conv1x1 = keras.layers.Conv2D(4, 1)
    conv3x3 = keras.layers.Conv2D(4, 3, padding="same")
    diff = [float(np.abs(shuffled(layer) - keras.ops.convert_to_numpy(layer(x))).max())
            for layer in (conv1x1, conv3x3)]
    return diff


def test_q1_shuffle_accepts_the_experiment():
    d1, d3 = _shuffle_answers()
    assert d1 < 1e-5 < 1e-2 < d3
    ex.q1.check(True, False, d1, d3)
    ex.q1.check(np.True_, np.False_, np.float32(d1), d3)


@pytest.mark.parametrize("answer, reason", [
    ((False, False, 0.0, 1.0), "same_1x1 should be True"),
    ((True, True, 0.0, 1.0), "same_3x3 should be False"),
    ((True, False, 0.0, 0.0), "the 3x3 outputs agree"),
    ((True, False, 0.7, 1.0), "Check the unshuffling"),
    (("yes", False, 0.0, 1.0), "should be a bool"),
    ((True, False, -1.0, 1.0), ">= 0"),
    ((True, False, float("nan"), 1.0), ">= 0"),
    ((True, False, "0", 1.0), "should be an int or float"),
])
def test_q1_shuffle_rejects(answer, reason):
    with pytest.raises(CheckFailed, match=reason):
        ex.q1.check(*answer)


def test_q1_wrong_unshuffle_is_caught():
    d1, d3 = _shuffle_answers(undo_right=False)
    assert d1 > 1e-2
    with pytest.raises(CheckFailed, match="np.argsort"):
        ex.q1.check(True, False, d1, d3)


def test_q2_module_4a():
    ex.q2.check(376_176, 73_608_192)
    with pytest.raises(CheckFailed, match="biases"):
        ex.q2.check(376_176 - (192 + 96 + 208 + 16 + 48 + 64), 73_608_192)
    with pytest.raises(CheckFailed, match="params_4a"):
        ex.q2.check(1_000_000, 73_608_192)
    with pytest.raises(CheckFailed, match="mults_4a"):
        ex.q2.check(376_176, 73_608_192 * 2)


def _v3_style(layers, conv_name_prefix=""):
    def conv(filters, k, name):
        return layers.Conv2D(filters, k, padding="same", activation="relu", name=name)

    def module(x, f1, f3r, f3, f5r, f5, pp, name, second=True):
        b1 = conv(f1, 1, f"{name}_1x1")(x)
        b3 = conv(f3, 3, f"{name}_3x3")(conv(f3r, 1, f"{name}_3x3r")(x))
        b5 = conv(f5, 3, f"{name}_5a")(conv(f5r, 1, f"{name}_5r")(x))
        if second:
            b5 = conv(f5, 3, f"{name}_5b")(b5)
        bp = conv(pp, 1, f"{name}_pp")(layers.MaxPooling2D(3, 1, padding="same")(x))
        return layers.Concatenate()([b1, b3, b5, bp])
    return module


def test_q3_v3_style():
    keras = pytest.importorskip("keras")
    module = _v3_style(keras.layers)
    ex.q3.check(module)
    with pytest.raises(CheckFailed, match="three 3x3"):
        ex.q3.check(lambda *a, **k: module(*a, **k, second=False))

    def with_5x5(x, f1, f3r, f3, f5r, f5, pp, name):
        conv = keras.layers.Conv2D
        b1 = conv(f1, 1, padding="same")(x)
        b3 = conv(f3, 3, padding="same")(conv(f3r, 1, padding="same")(x))
        b5 = conv(f5, 5, padding="same")(conv(f5r, 1, padding="same")(x))
        bp = conv(pp, 1, padding="same")(keras.layers.MaxPooling2D(3, 1, padding="same")(x))
        return keras.layers.Concatenate()([b1, b3, b5, bp])
    with pytest.raises(CheckFailed, match="5x5"):
        ex.q3.check(with_5x5)

    def valid_padding(x, *args, **kwargs):
        return keras.layers.Conv2D(256, 3)(x)
    with pytest.raises(CheckFailed, match="output has shape"):
        ex.q3.check(valid_padding)


def test_q4_design_accepts_answers_within_budget():
    ex.q4.check((32, 16, 416, 16, 32, 32))
    ex.q4.check([64, 24, 384, 16, 32, 32])       # a list is fine too
    params, mults = ex.module_counts(ex.design_spec(32, 16, 416, 16, 32, 32))
    assert (params, mults) == (119_328, 23_281_664) and mults <= ex.DESIGN_BUDGET
    assert ex.module_counts(ex.design_spec(192, 96, 208, 16, 48, 64)) == (376_176, 73_608_192)


@pytest.mark.parametrize("answer, reason", [
    ((192, 96, 208, 16, 48, 64), "over the budget.*3x3 branch"),       # 4a itself
    ((32, 32, 416, 16, 32, 32), "over the budget"),                     # just over
    ((384, 16, 64, 16, 32, 32), "over the budget.*1x1 branch"),         # 1x1-heavy
    ((32, 16, 400, 16, 32, 32), "496 channels"),
    ((32, 16, 448, 16, 32, 48), "560 channels"),
    ((16, 16, 432, 16, 32, 32), "f1 is below 32"),
    ((32, 8, 416, 16, 32, 32), "at least 16 filters"),
    ((32, 16, 416, 16, 32), "six filter counts"),
    ((32, 16, 416.0, 16, 32, 32), "should be an int"),
    ((0, 16, 448, 16, 32, 32), "at least one filter"),
    ("32, 16, 416, 16, 32, 32", "six filter counts"),
])
def test_q4_design_rejects(answer, reason):
    with pytest.raises(CheckFailed, match=reason):
        ex.q4.check(answer)
