"""helpers.layers: the LRN layer computes AlexNet's formula, has no weights, survives a
get_config round-trip and a saved model, and refuses bad arguments with a clear message."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from helpers.layers import LocalResponseNormalization  # noqa: E402  (needs keras)


def lrn_paper(a: np.ndarray, k: float = 2.0, n: int = 5, alpha: float = 1e-4,
              beta: float = 0.75) -> np.ndarray:
    """The paper's formula written with loops: every example, pixel and channel."""
    batch, height, width, channels = a.shape
    b = np.empty_like(a, dtype="float64")
    for e in range(batch):
        for y in range(height):
            for x in range(width):
                for i in range(channels):
                    lo, hi = max(0, i - n // 2), min(channels - 1, i + n // 2)
                    total = sum(float(a[e, y, x, j]) ** 2 for j in range(lo, hi + 1))
                    b[e, y, x, i] = a[e, y, x, i] / (k + alpha * total) ** beta
    return b


@pytest.fixture
def activations() -> np.ndarray:
    # ReLU-like and large, where the normalization is far from a constant factor
    rng = np.random.default_rng(0)
    return np.maximum(rng.normal(0, 80, size=(2, 3, 4, 9)), 0).astype("float32")


@pytest.mark.parametrize("params", [
    {},                                                   # the paper: k=2, n=5, 1e-4, 0.75
    {"k": 1.0, "n": 3, "alpha": 1e-3, "beta": 0.5},
    {"k": 0.5, "n": 1, "alpha": 2e-4, "beta": 1.0},       # n=1: each channel alone
    {"n": 11},                                            # window wider than the 9 channels
])
def test_matches_the_papers_formula(activations, params):
    got = keras.ops.convert_to_numpy(LocalResponseNormalization(**params)(activations))
    np.testing.assert_allclose(got, lrn_paper(activations, **params), rtol=1e-5, atol=1e-7)


def test_the_normalization_is_not_a_constant_factor(activations):
    # guards against a layer that only rescales: the gain must vary with the neighbourhood
    gain = keras.ops.convert_to_numpy(LocalResponseNormalization()(activations))
    ratio = gain[activations > 0] / activations[activations > 0]
    assert ratio.max() > 1.2 * ratio.min()


def test_alpha_is_the_plain_sum_not_the_mean(activations):
    ours = keras.ops.convert_to_numpy(LocalResponseNormalization()(activations))
    mean_convention = lrn_paper(activations, alpha=1e-4 / 5)
    assert not np.allclose(ours, mean_convention, rtol=1e-3)


def test_no_weights_and_the_shape_is_kept(activations):
    layer = LocalResponseNormalization()
    inputs = keras.Input((3, 4, 9))
    model = keras.Model(inputs, layer(inputs))
    assert model.output_shape == (None, 3, 4, 9)
    assert layer.count_params() == 0 and model.count_params() == 0
    assert layer.weights == [] and layer.trainable_weights == []


def test_get_config_round_trip(activations):
    layer = LocalResponseNormalization(k=1.5, n=3, alpha=3e-4, beta=0.6, name="lrn_test")
    config = layer.get_config()
    assert {key: config[key] for key in ("k", "n", "alpha", "beta")} == {
        "k": 1.5, "n": 3, "alpha": 3e-4, "beta": 0.6}
    clone = LocalResponseNormalization.from_config(config)
    assert clone.name == "lrn_test" and clone.get_config() == config
    np.testing.assert_allclose(keras.ops.convert_to_numpy(clone(activations)),
                               keras.ops.convert_to_numpy(layer(activations)), rtol=1e-6)


def test_a_saved_model_loads_back(tmp_path, activations):
    inputs = keras.Input((3, 4, 9))
    model = keras.Model(inputs, LocalResponseNormalization(n=3, name="lrn")(inputs))
    path = tmp_path / "lrn.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert loaded.get_layer("lrn").n == 3
    np.testing.assert_allclose(loaded.predict(activations, verbose=0),
                               model.predict(activations, verbose=0), rtol=1e-6)


@pytest.mark.parametrize("params, words", [
    ({"n": 4}, "n must be a positive odd number"),
    ({"n": 0}, "n must be a positive odd number"),
    ({"n": -3}, "n must be a positive odd number"),
    ({"k": -1.0}, "k must be positive"),
    ({"k": 0}, "k must be positive"),
    ({"alpha": -1e-4}, "alpha must be zero or positive"),
    ({"beta": -0.75}, "beta must be zero or positive"),
])
def test_bad_arguments_raise_value_error(params, words):
    with pytest.raises(ValueError, match=words) as info:
        LocalResponseNormalization(**params)
    bad = next(iter(params.items()))
    assert f"{bad[0]}={float(bad[1]) if bad[0] != 'n' else bad[1]}" in str(info.value)


@pytest.mark.parametrize("params", [{"n": 5.0}, {"n": True}, {"n": "5"}, {"k": "2"},
                                    {"alpha": None}, {"beta": [0.75]}])
def test_arguments_that_are_not_numbers_raise_type_error(params):
    with pytest.raises(TypeError, match="must be"):
        LocalResponseNormalization(**params)


@pytest.mark.parametrize("shape", [(2, 9), (2, 4, 9), (1, 2, 3, 4, 9)])
def test_input_that_is_not_4d_is_refused(shape):
    with pytest.raises(ValueError, match="expects 4-D input"):
        LocalResponseNormalization()(np.ones(shape, dtype="float32"))


def test_import_helpers_still_does_not_import_keras():
    code = "import helpers, sys; assert 'keras' not in sys.modules, 'keras was imported'"
    subprocess.run([sys.executable, "-c", code], check=True)
