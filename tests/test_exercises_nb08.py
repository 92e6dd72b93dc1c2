"""The checks of notebook 08's exercises accept the reference answers and reject wrong ones."""

from __future__ import annotations

import pytest

from helpers.arithmetic import conv_params
from helpers.exercises import CheckFailed
from helpers.exercises import nb08 as ex

# --------------------------------------------------------------------------- reference counts


def test_reference_counts_match_keras_applications_figures():
    # keras.applications.ResNet50 / ResNet101 / ResNet152 (weights=None)
    assert ex.resnet_params([(64, 256, 3, 1), (128, 512, 4, 2), (256, 1024, 6, 2),
                             (512, 2048, 3, 2)]) == 25_636_712
    assert ex.resnet_params([(64, 256, 3, 1), (128, 512, 4, 2), (256, 1024, 23, 2),
                             (512, 2048, 3, 2)]) == 44_707_176
    assert ex.densenet_channels((6, 12, 24, 16), 32) == [256, 512, 1024, 1024]
    assert ex.densenet_channels((6, 12, 32, 32), 32)[-1] == 1664
    assert ex.bottleneck_params(256, 64, 256, False) == 70_016 + 4 * (64 + 64 + 256)


# --------------------------------------------------------------------------- Exercise 1


def _bottleneck_params(c_in, mid, c_out, projection):
    total = (conv_params(1, c_in, mid) + 4 * mid + conv_params(3, mid, mid) + 4 * mid
             + conv_params(1, mid, c_out) + 4 * c_out)
    if projection:
        total += conv_params(1, c_in, c_out) + 4 * c_out
    return total


def test_q1_accepts_reference():
    ex.q1.check(_bottleneck_params)


def _no_bn(c_in, mid, c_out, projection):
    return _bottleneck_params(c_in, mid, c_out, projection) - 4 * (
        2 * mid + c_out + (c_out if projection else 0))


def _no_projection(c_in, mid, c_out, projection):
    return _bottleneck_params(c_in, mid, c_out, False)


def _always_projection(c_in, mid, c_out, projection):
    return _bottleneck_params(c_in, mid, c_out, True)


@pytest.mark.parametrize("answer, reason", [
    (_no_bn, "batch-normalization"),
    (_no_projection, "projection shortcut"),
    (_always_projection, "identity block"),
    (lambda c_in, mid, c_out, projection: None, "return"),
    (lambda c_in, mid, c_out, projection: 1.5, "int"),
    (70_016, "function"),
])
def test_q1_rejects(answer, reason):
    with pytest.raises(CheckFailed, match=reason):
        ex.q1.check(answer)


# --------------------------------------------------------------------------- Exercise 3

STAGES_101 = [(64, 256, 3, 1), (128, 512, 4, 2), (256, 1024, 23, 2), (512, 2048, 3, 2)]


class _FakeModel:
    def __init__(self, params):
        self._params = params

    def count_params(self):
        return self._params


def test_q3_accepts_reference():
    ex.q3.check(STAGES_101, _FakeModel(44_707_176))


@pytest.mark.parametrize("stages, params, reason", [
    ([(64, 256, 3, 1), (128, 512, 4, 2), (256, 1024, 6, 2), (512, 2048, 3, 2)], 25_636_712,
     "weight layers"),
    ([(64, 256, 3, 1), (128, 512, 23, 2), (256, 1024, 4, 2), (512, 2048, 3, 2)], 0,
     "conv4_x"),
    ([(64, 256, 3, 1), (128, 512, 4, 2), (256, 1024, 23, 1), (512, 2048, 3, 2)], 0, "strides"),
    ([(64, 128, 3, 1), (128, 512, 4, 2), (256, 1024, 23, 2), (512, 2048, 3, 2)], 0, "widths"),
    (STAGES_101, 25_636_712, "parameters"),
    (STAGES_101[:3], 0, "4 stages"),
])
def test_q3_rejects(stages, params, reason):
    with pytest.raises(CheckFailed, match=reason):
        ex.q3.check(stages, _FakeModel(params))


# --------------------------------------------------------------------------- Exercise 4


def _densenet_channels(blocks, growth_rate, stem=64, compression=0.5):
    channels, ends = stem, []
    for i, n in enumerate(blocks):
        channels += n * growth_rate
        ends.append(channels)
        if i < len(blocks) - 1:
            channels = int(channels * compression)
    return ends


def _no_compression(blocks, growth_rate, stem=64, compression=0.5):
    return _densenet_channels(blocks, growth_rate, stem, 1.0)


def test_q4_accepts_reference():
    ex.q4.check(_densenet_channels)


@pytest.mark.parametrize("answer, reason", [
    (_no_compression, "compression"),
    (lambda blocks, k, stem=64, compression=0.5: [stem + n * k for n in blocks], "transition"),
    (lambda blocks, k, stem=64, compression=0.5: [1], "one number per dense block"),
    (lambda blocks, k, stem=64, compression=0.5: None, "return"),
])
def test_q4_rejects(answer, reason):
    with pytest.raises(CheckFailed, match=reason):
        ex.q4.check(answer)


# --------------------------------------------------------------------------- Exercise 2

keras = pytest.importorskip("keras")
layers = keras.layers


def _conv_bn(x, filters, kernel, strides=1):
    x = layers.Conv2D(filters, kernel, strides=strides, padding="same")(x)
    return layers.BatchNormalization(epsilon=1.001e-5)(x)


def _basic_block(x, filters, strides=1):
    shortcut = x
    if strides != 1 or x.shape[-1] != filters:
        shortcut = _conv_bn(x, filters, 1, strides)
    y = layers.ReLU()(_conv_bn(x, filters, 3, strides))
    y = _conv_bn(y, filters, 3)
    return layers.ReLU()(layers.Add()([shortcut, y]))


def _plain_block(x, filters, strides=1):
    """No shortcut; the projection's parameters are added (unused) so the count matches."""
    if strides != 1 or x.shape[-1] != filters:
        _conv_bn(x, filters, 1, strides)
    y = layers.ReLU()(_conv_bn(x, filters, 3, strides))
    return layers.ReLU()(_conv_bn(y, filters, 3))


def _always_project(x, filters, strides=1):
    shortcut = _conv_bn(x, filters, 1, strides)
    y = layers.ReLU()(_conv_bn(x, filters, 3, strides))
    return layers.ReLU()(layers.Add()([shortcut, _conv_bn(y, filters, 3)]))


def _stride_on_second(x, filters, strides=1):
    shortcut = x
    if strides != 1 or x.shape[-1] != filters:
        shortcut = _conv_bn(x, filters, 1, strides)
    y = layers.ReLU()(_conv_bn(x, filters, 3))
    return layers.ReLU()(layers.Add()([shortcut, _conv_bn(y, filters, 3, strides)]))


def test_q2_accepts_reference():
    ex.q2.check(_basic_block)


@pytest.mark.parametrize("answer, reason", [
    (_plain_block, "return its input"),
    (_always_project, "no projection"),
    (lambda x, filters, strides=1: None, "return"),
    ("basic_block", "function"),
])
def test_q2_rejects(answer, reason):
    with pytest.raises(CheckFailed, match=reason):
        ex.q2.check(answer)


def test_q2_stride_on_second_conv_still_counts_right():
    # Same shapes and parameters: the check accepts it (the stride position is a design choice
    # that only changes the multiply-adds).
    ex.q2.check(_stride_on_second)
