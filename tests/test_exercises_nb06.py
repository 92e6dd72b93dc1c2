"""The checks of notebook 06's exercises accept the reference answers and reject wrong ones."""

from __future__ import annotations

import pytest

from helpers.exercises import CheckFailed
from helpers.exercises import nb06 as ex

RGB = [5 * 5 * 3 * 6 + 6, 5 * 5 * 6 * 16 + 16, 400 * 120 + 120, 120 * 84 + 84, 84 * 10 + 10]


def test_q1_rgb_params():
    ex.q1.check(RGB, sum(RGB))
    ex.q1.check([float(v) for v in RGB], sum(RGB))  # whole floats from / are fine
    assert RGB[0] == 456 and sum(RGB) == 62_006
    assert sum(ex.lenet_params(1)) == 61_706


@pytest.mark.parametrize("params, total, reason", [
    ([156, 2_416, 48_120, 10_164, 850], 61_706, "greyscale"),          # forgot the colour
    ([456, 2_016, 48_120, 10_164, 850], 61_606, "conv2"),              # the notes' slip
    ([456 - 6, 2_400, 48_000, 10_080, 840], 61_776, "conv1"),          # biases forgotten
    (RGB[:4], sum(RGB), "5 weight layers"),
    (RGB, sum(RGB) - 1, "rgb_total"),
    ("456", 0, "list"),
    ([456, "2416", 48_120, 10_164, 850], 62_006, r"rgb_params\[1\] should be an int"),
    ([456.5, 2_416, 48_120, 10_164, 850], 62_006, r"rgb_params\[0\] is 456.5"),
])
def test_q1_rejects(params, total, reason):
    with pytest.raises(CheckFailed, match=reason):
        ex.q1.check(params, total)


keras = pytest.importorskip("keras")
layers = keras.layers


def _vgg_block(x, filters, n_convs):
    for _ in range(n_convs):
        x = layers.Conv2D(filters, 3, padding="same", activation="relu")(x)
    return layers.MaxPooling2D(2, strides=2)(x)


def _vgg_base(block, blocks=ex.VGG19_BLOCKS, side=224):
    inputs = keras.Input(shape=(side, side, 3))
    x = inputs
    for filters, n_convs in blocks:
        x = block(x, filters, n_convs)
    return keras.Model(inputs, x)


@pytest.fixture(scope="module")
def vgg19_base():
    model = _vgg_base(_vgg_block)
    yield model
    keras.backend.clear_session()


def test_q2_vgg_block(vgg19_base):
    ex.q2.check(_vgg_block, vgg19_base)
    assert vgg19_base.count_params() == ex.vgg_base_params() == 20_024_384
    vgg16_base = _vgg_base(_vgg_block, blocks=((64, 2), (128, 2), (256, 3), (512, 3), (512, 3)))
    assert vgg16_base.count_params() == ex.vgg_base_params(
        ((64, 2), (128, 2), (256, 3), (512, 3), (512, 3))) == 14_714_688


def _no_pool(x, filters, n_convs):
    for _ in range(n_convs):
        x = layers.Conv2D(filters, 3, padding="same", activation="relu")(x)
    return x


def _valid_padding(x, filters, n_convs):
    for _ in range(n_convs):
        x = layers.Conv2D(filters, 3, activation="relu")(x)
    return layers.MaxPooling2D(2)(x)


def _no_return(x, filters, n_convs):
    _vgg_block(x, filters, n_convs)


@pytest.mark.parametrize("block, reason", [
    (_no_pool, "layers"),
    (_valid_padding, "padding"),
    (_no_return, "return"),
    ("not a function", "function"),
])
def test_q2_rejects_wrong_blocks(block, reason, vgg19_base):
    with pytest.raises(CheckFailed, match=reason):
        ex.q2.check(block, vgg19_base)


def test_q2_rejects_vgg16_base_for_vgg19():
    vgg16_base = _vgg_base(_vgg_block, blocks=((64, 2), (128, 2), (256, 3), (512, 3), (512, 3)))
    with pytest.raises(CheckFailed, match="16"):
        ex.q2.check(_vgg_block, vgg16_base)
    keras.backend.clear_session()


def _lenet33(filters=(6, 6, 16, 16), pad=2):
    f1, f2, f3, f4 = filters
    return keras.Sequential([
        keras.Input(shape=(28, 28, 1)),
        layers.ZeroPadding2D(pad),
        layers.Conv2D(f1, 3, activation="relu"),
        layers.Conv2D(f2, 3, activation="relu"),
        layers.MaxPooling2D(2),
        layers.Conv2D(f3, 3, activation="relu"),
        layers.Conv2D(f4, 3, activation="relu"),
        layers.MaxPooling2D(2),
        layers.Flatten(),
        layers.Dense(120, activation="relu"),
        layers.Dense(84, activation="relu"),
        layers.Dense(10, activation="softmax"),
    ])


def test_q3_lenet33():
    model = _lenet33()
    ex.q3.check(model, model.count_params() - 61_706)
    assert ex.lenet33_params() - 61_706 == 1_018


@pytest.mark.parametrize("filters, pad, extra, reason", [
    ((6, 6, 16, 16), 2, -1_018, "sign"),
    ((6, 6, 16, 16), 2, 1_000, "extra_params"),
    ((6, 6, 6, 16), 2, 1_018, "filters"),
    ((6, 6, 16, 16), 0, 1_018, "pooling layers"),
])
def test_q3_rejects(filters, pad, extra, reason):
    with pytest.raises(CheckFailed, match=reason):
        ex.q3.check(_lenet33(filters, pad), extra)


def test_q3_rejects_plain_lenet():
    lenet = keras.Sequential([
        keras.Input(shape=(28, 28, 1)), layers.ZeroPadding2D(2),
        layers.Conv2D(6, 5, activation="relu"), layers.MaxPooling2D(2),
        layers.Conv2D(16, 5, activation="relu"), layers.MaxPooling2D(2), layers.Flatten(),
        layers.Dense(120, activation="relu"), layers.Dense(84, activation="relu"),
        layers.Dense(10, activation="softmax")])
    with pytest.raises(CheckFailed, match="3x3"):
        ex.q3.check(lenet, 0)
