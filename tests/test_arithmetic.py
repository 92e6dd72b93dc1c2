"""CNN arithmetic agrees with what Keras builds, and refuses impossible arithmetic."""

from __future__ import annotations

import itertools

import pytest

from helpers.arithmetic import (
    conv_multiplications,
    conv_output_size,
    conv_params,
    dense_params,
    layer_table,
    pool_output_size,
)

keras = pytest.importorskip("keras")
layers = keras.layers


def keras_out(size, kernel, padding, stride, dilation=1, pool=False):
    """Spatial output size Keras computes for one configuration."""
    x = keras.Input(shape=(size, size, 2))
    if isinstance(padding, int):
        x2 = layers.ZeroPadding2D(padding)(x) if padding else x
        mode = "valid"
    else:
        x2, mode = x, padding
    if pool:
        y = layers.MaxPooling2D(kernel, strides=stride, padding=mode)(x2)
    else:
        y = layers.Conv2D(3, kernel, strides=stride, padding=mode, dilation_rate=dilation)(x2)
    return y.shape[1]


GRID = [(s, k, p, st) for s, k, p, st in itertools.product(
    [5, 7, 28, 32, 227], [1, 2, 3, 5, 11], [0, 1, 2, "valid", "same"], [1, 2, 3, 4])
    if (s + 2 * (p if isinstance(p, int) else 0)) >= k]


@pytest.mark.parametrize("size,kernel,padding,stride", GRID[::3])
def test_conv_output_size_matches_keras(size, kernel, padding, stride):
    assert conv_output_size(size, kernel, padding, stride) == keras_out(size, kernel, padding,
                                                                        stride)


@pytest.mark.parametrize("size,kernel,padding,stride", [
    (28, 2, "valid", 2), (27, 3, "valid", 2), (55, 3, "valid", 2), (28, 3, "same", 2),
    (13, 3, "same", 1), (7, 2, "same", 2)])
def test_pool_output_size_matches_keras(size, kernel, padding, stride):
    assert pool_output_size(size, kernel, stride, padding) == keras_out(size, kernel, padding,
                                                                        stride, pool=True)


def test_dilation_matches_keras():
    for size, kernel, dilation in [(28, 3, 2), (32, 5, 3), (10, 3, 4)]:
        assert conv_output_size(size, kernel, "valid", 1, dilation) == keras_out(
            size, kernel, "valid", 1, dilation)


def test_textbook_examples():
    assert conv_output_size(5, 3) == 3                    # the notes' 5x5 image, 3x3 kernel
    assert conv_output_size(227, 11, 0, 4, exact=True) == 55  # AlexNet conv1
    assert conv_output_size(32, 5, 2, 1, exact=True) == 32    # "same" by hand
    assert pool_output_size(28, 2) == 14
    assert pool_output_size(55, 3, 2) == 27               # overlapping pooling


@pytest.mark.parametrize("kwargs,message", [
    (dict(size=28, kernel=3, stride=0), "stride must be at least 1"),
    (dict(size=28, kernel=3, stride=-2), "stride must be at least 1"),
    (dict(size=3, kernel=5), "kernel spans 5 but the padded input is only 3"),
    (dict(size=-1, kernel=3), "size must be at least 1"),
    (dict(size=28, kernel=0), "kernel must be at least 1"),
    (dict(size=28, kernel=3, padding=-1), "padding must be at least 0"),
    (dict(size=28.5, kernel=3), "size must be a whole number"),
    (dict(size=28, kernel=3, padding="full"), "'valid' or 'same'"),
    (dict(size=224, kernel=3, stride=2, exact=True), "is not a whole number"),
    (dict(size=28, kernel=True), "kernel must be a whole number"),
])
def test_impossible_arithmetic_raises(kwargs, message):
    with pytest.raises(ValueError, match=message):
        conv_output_size(**kwargs)


def test_exact_same_padding():
    assert conv_output_size(28, 3, "same", 2, exact=True) == 14
    with pytest.raises(ValueError, match="not a whole number"):
        conv_output_size(27, 3, "same", 2, exact=True)


@pytest.mark.parametrize("kernel,cin,filters,bias", [
    (5, 1, 6, True), (5, 6, 16, True), (3, 64, 128, False), ((1, 7), 3, 4, True)])
def test_conv_params_match_keras(kernel, cin, filters, bias):
    layer = layers.Conv2D(filters, kernel, use_bias=bias)
    layer.build((None, 32, 32, cin))
    assert conv_params(kernel, cin, filters, use_bias=bias) == layer.count_params()


@pytest.mark.parametrize("n_in,n_out,bias", [(400, 120, True), (84, 10, True), (5, 3, False)])
def test_dense_params_match_keras(n_in, n_out, bias):
    layer = layers.Dense(n_out, use_bias=bias)
    layer.build((None, n_in))
    assert dense_params(n_in, n_out, use_bias=bias) == layer.count_params()


def test_params_bad_input():
    with pytest.raises(ValueError, match="filters must be at least 1"):
        conv_params(3, 3, 0)
    with pytest.raises(ValueError, match="pair"):
        conv_params((3, 3, 3), 3, 8)
    with pytest.raises(ValueError, match="units must be a whole number"):
        dense_params(10, 2.5)


def test_conv_multiplications_bottleneck_example():
    # the 1x1 bottleneck example of the lecture notes
    assert conv_multiplications((28, 28, 192), 5, 32) == 120_422_400
    assert conv_multiplications((28, 28, 192), 1, 16) == 2_408_448
    assert conv_multiplications((28, 28, 16), 5, 32) == 10_035_200
    with pytest.raises(ValueError, match="height, width, channels"):
        conv_multiplications((28, 28), 5, 32)


def lenet_like():
    return keras.Sequential([
        keras.Input(shape=(28, 28, 1)),
        layers.Conv2D(8, 5, activation="relu", name="conv1"),
        layers.MaxPooling2D(2, name="pool1"),
        layers.Conv2D(16, 5, activation="relu", name="conv2"),
        layers.MaxPooling2D(2, name="pool2"),
        layers.Flatten(name="flatten"),
        layers.Dense(120, activation="relu", name="fc1"),
        layers.Dense(10, name="out"),
    ])


def test_layer_table_agrees_with_keras():
    model = lenet_like()
    table = layer_table(model)
    assert table.total_params == model.count_params()
    assert table.column("name") == [layer.name for layer in model.layers]
    for row, layer in zip(table.rows, model.layers, strict=True):
        assert row.output_shape == tuple(layer.output.shape[1:])
        assert row.params == layer.count_params()
    assert table["conv1"].multiplications == 24 * 24 * 8 * 5 * 5 * 1
    assert table["conv2"].multiplications == 8 * 8 * 16 * 5 * 5 * 8
    assert table["fc1"].multiplications == 256 * 120
    assert table["pool1"].multiplications == 0 and table["pool1"].activation_size == 12 * 12 * 8
    text = str(table)
    assert "conv1" in text and f"{model.count_params():,}" in text
    assert "<table>" in table._repr_html_()


def test_layer_table_other_layer_kinds():
    inp = keras.Input(shape=(16, 16, 4))
    a = layers.DepthwiseConv2D(3, padding="same", name="dw")(inp)
    b = layers.SeparableConv2D(8, 3, name="sep")(a)
    c = layers.Conv2DTranspose(2, 2, strides=2, name="up")(b)
    d = layers.Conv1D(5, 3, name="c1d")(layers.Reshape((28 * 28, 2))(c))
    model = keras.Model(inp, d)
    table = layer_table(model)
    assert table.total_params == model.count_params()
    assert table["dw"].multiplications == 16 * 16 * 4 * 9
    assert table["sep"].multiplications == 14 * 14 * 4 * 9 + 14 * 14 * 4 * 8
    assert table["up"].multiplications == 14 * 14 * 8 * 4 * 2
    assert table["c1d"].multiplications == 782 * 5 * 3 * 2


def test_layer_table_expands_nested_models():
    inner = lenet_like()
    outer = keras.Sequential([keras.Input(shape=(28, 28, 1)), inner, layers.Softmax(name="sm")])
    table = layer_table(outer)
    assert table.total_params == outer.count_params()
    assert table.rows[0].name.endswith("/conv1")


def test_layer_table_bad_input():
    with pytest.raises(TypeError, match="Keras model"):
        layer_table("not a model")
    unbuilt = keras.Sequential([layers.Dense(3)])
    with pytest.raises(ValueError, match="not built"):
        layer_table(unbuilt)
    with pytest.raises(KeyError, match="no layer named"):
        layer_table(lenet_like())["nope"]
    with pytest.raises(KeyError, match="no column"):
        layer_table(lenet_like()).column("nope")
