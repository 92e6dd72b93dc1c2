"""The checks of notebook 06's exercises accept the reference answers and reject wrong ones."""

from __future__ import annotations

import pytest

from helpers.exercises import CheckFailed
from helpers.exercises import nb06 as ex

keras = pytest.importorskip("keras")
layers = keras.layers


def _lenet(conv1_padding="valid", pad=2, standardize=True):
    return keras.Sequential([
        keras.Input(shape=(28, 28, 1)),
        *([layers.Rescaling(1 / 0.35, offset=-0.29, name="standardize")] if standardize else []),
        layers.ZeroPadding2D(pad, name="pad"),
        layers.Conv2D(6, 5, padding=conv1_padding, activation="relu", name="conv1"),
        layers.MaxPooling2D(2, name="pool1"),
        layers.Conv2D(16, 5, activation="relu", name="conv2"),
        layers.MaxPooling2D(2, name="pool2"),
        layers.Flatten(name="flatten"),
        layers.Dense(120, activation="relu", name="fc1"),
        layers.Dense(84, activation="relu", name="fc2"),
        layers.Dense(10, activation="softmax", name="fc3"),
    ])


def test_q1_suspect_is_what_the_check_says():
    suspect = _lenet("same")
    assert suspect.count_params() - 61_706 == ex.SUSPECT_EXTRA == 21_120
    assert tuple(suspect.get_layer("conv1").output.shape[1:]) == (32, 32, 6)
    right = _lenet()
    assert {n: tuple(right.get_layer(n).output.shape[1:]) for n in ex.LENET5_SHAPES} \
        == ex.LENET5_SHAPES
    assert {n: right.get_layer(n).count_params() for n in ex.LENET5_PARAMS} == ex.LENET5_PARAMS


def test_q1_find_the_bug_accepts_right_answers():
    ex.q1.check("fc1", "conv1", 21_120, _lenet())
    ex.q1.check("fc1", "conv1", 21_120.0, _lenet(standardize=False))  # a whole float is fine


@pytest.mark.parametrize("answer, reason", [
    (("conv1", "conv1", 21_120), "156 parameters in both"),
    (("fc2", "conv1", 21_120), "Compare the params column"),
    (("fc1", "fc1", 21_120), "walk up the output shapes"),
    (("fc1", "pool1", 21_120), "not the first"),
    (("fc1", "flatten", 21_120), "not the first"),
    (("fc1", "dense", 21_120), "not a layer of `suspect`"),
    (("fc1", "conv1", -21_120), "wrong sign"),
    (("fc1", "conv1", 82_826), "flatten give"),
    (("fc1", "conv1", 21_120.5), "whole number"),
    ((1, "conv1", 21_120), "should be a str"),
])
def test_q1_find_the_bug_rejects(answer, reason):
    with pytest.raises(CheckFailed, match=reason):
        ex.q1.check(*answer, _lenet())


@pytest.mark.parametrize("fixed, reason", [
    (lambda: _lenet("same"), "padding='same'"),
    (lambda: _lenet(pad=0), "outputs"),
    (lambda: "a model", "should be a Keras model"),
])
def test_q1_find_the_bug_rejects_wrong_fixes(fixed, reason):
    with pytest.raises(CheckFailed, match=reason):
        ex.q1.check("fc1", "conv1", 21_120, fixed())


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
