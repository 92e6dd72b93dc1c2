"""The checks of notebook 05's exercises accept the reference answers and reject wrong ones."""

from __future__ import annotations

import math

import numpy as np
import pytest

from helpers.exercises import CheckFailed
from helpers.exercises import nb05 as ex


def test_q1_output_sizes():
    ex.q1.check((227 - 11) // 4 + 1, math.ceil(28 / 2), (55 - 3) // 2 + 1)
    with pytest.raises(CheckFailed, match="alexnet_conv1"):
        ex.q1.check(54, 14, 27)  # forgot the + 1
    with pytest.raises(CheckFailed, match="strided_same"):
        ex.q1.check(55, 13, 27)  # used the valid formula
    with pytest.raises(CheckFailed, match="should be an int"):
        ex.q1.check(55.0, 14, 27)


def _reference_loops(image, kernels):
    f, _, _, k = kernels.shape
    out = np.zeros((image.shape[0] - f + 1, image.shape[1] - f + 1, k), dtype="float32")
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = np.tensordot(image[i:i + f, j:j + f], kernels, axes=3)
    return out


def test_q2_conv2d_multi():
    ex.q2.check(_reference_loops)
    # the reference agrees with Keras' convolution (TensorFlow backend)
    keras = pytest.importorskip("keras")
    rng = np.random.default_rng(3)
    image = rng.normal(size=(6, 5, 3)).astype("float32")
    kernels = rng.normal(size=(3, 3, 3, 2)).astype("float32")
    by_keras = keras.ops.convert_to_numpy(keras.ops.conv(image[None], kernels))[0]
    np.testing.assert_allclose(ex.reference_conv2d_multi(image, kernels), by_keras, atol=1e-4)


@pytest.mark.parametrize("wrong", [
    lambda image, kernels: _reference_loops(image, kernels)[..., :1],  # one filter only
    lambda image, kernels: _reference_loops(image, np.flip(kernels, (0, 1))),  # convolution
    lambda image, kernels: _reference_loops(image[..., :1], kernels[:, :, :1]),  # channel 0
    "not a function",
])
def test_q2_rejects(wrong):
    with pytest.raises(CheckFailed):
        ex.q2.check(wrong)


def test_q3_table():
    ex.q3.check(7_200, 467_370)
    with pytest.raises(CheckFailed, match="flat_size"):
        ex.q3.check(14 * 14 * 32, 467_370)  # 'same' conv treated as valid
    with pytest.raises(CheckFailed, match="total_params"):
        ex.q3.check(7_200, 467_370 - 16 - 32 - 64 - 10)  # biases forgotten


def test_q4_bottleneck():
    ex.q4.check(150_528_000, 46)
    with pytest.raises(CheckFailed, match="larger b"):
        ex.q4.check(150_528_000, 40)
    with pytest.raises(CheckFailed, match="more than one eighth"):
        ex.q4.check(150_528_000, 47)
    with pytest.raises(CheckFailed, match="direct_mults"):
        ex.q4.check(14 * 14 * 480 * 25 * 64 // 2, 46)
    ex.q4.check(150_528_000.0, 46)  # a float from / is fine when it is whole
    with pytest.raises(CheckFailed, match="direct_mults is 150528000.7, but a count is a whole"):
        ex.q4.check(150_528_000.7, 46)
