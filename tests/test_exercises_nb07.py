"""The checks of notebook 07's exercises accept the reference answers and reject wrong ones."""

from __future__ import annotations

import numpy as np
import pytest

from helpers.exercises import CheckFailed
from helpers.exercises import nb07 as ex


def test_q1_pointwise():
    ex.q1.check(lambda x, kernel, bias: x @ kernel[0, 0] + bias)


@pytest.mark.parametrize("wrong", [
    lambda x, kernel, bias: x @ kernel[0, 0],  # no bias
    lambda x, kernel, bias: np.maximum(x @ kernel[0, 0] + bias, 0),  # an activation
    lambda x, kernel, bias: x[..., :kernel.shape[-1]] + bias,  # no channel mixing
    42,
])
def test_q1_rejects(wrong):
    with pytest.raises(CheckFailed):
        ex.q1.check(wrong)


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


def test_q4_heads():
    ex.q4.check(131_073_000, 2_049_000)
    with pytest.raises(CheckFailed, match="flatten_params"):
        ex.q4.check(131_072_000, 2_049_000)
    with pytest.raises(CheckFailed, match="gap_params"):
        ex.q4.check(131_073_000, 2_048_000)
