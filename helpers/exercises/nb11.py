"""Exercises of notebook 11 (transfer learning)."""

from __future__ import annotations

from typing import Any

import numpy as np

from helpers.exercises import (
    CheckFailed,
    Exercise,
    expect_function,
    expect_returned,
    expect_whole_number,
)

# --------------------------------------------------------------------------- shared


def _small_source(seed: int = 0) -> Any:
    """A small stand-in for the notebook's source CNN: conv - BN - ReLU - pool twice, then a
    dense feature layer and a head."""
    import keras
    from keras import layers

    keras.utils.set_random_seed(seed)
    inputs = keras.Input((12, 12, 1))
    x = inputs
    for i, filters in enumerate((4, 6), start=1):
        x = layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"conv{i}")(x)
        x = layers.BatchNormalization(name=f"bn{i}")(x)
        x = layers.ReLU(name=f"relu{i}")(x)
        x = layers.MaxPooling2D(name=f"pool{i}")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(8, activation="relu", name="features")(x)
    return keras.Model(inputs, layers.Dense(3, activation="softmax", name="head")(x))


def _params(weights: Any) -> int:
    return int(sum(int(np.prod(w.shape)) for w in weights))


# --------------------------------------------------------------------------- Exercise 1


def freeze_below(model: Any, first_trainable: str) -> int:
    """Freeze every layer before ``first_trainable``, unfreeze it and every later layer;
    return the number of trainable parameters."""
    model.trainable = True
    names = [layer.name for layer in model.layers]
    start = names.index(first_trainable)
    for layer in model.layers[:start]:
        layer.trainable = False
    return _params(model.trainable_weights)


def _check_freeze_below(fn: Any, predicted: Any, model: Any, first_trainable: str) -> str:
    expect_function(fn, "freeze_below", "(model, first_trainable) -> int")
    expect_whole_number(predicted, "predicted")
    for first in ("bn2", "features", "conv1"):
        probe = _small_source()
        probe.trainable = False              # as after feature extraction
        case = f"freeze_below(model, {first!r})"
        got = fn(probe, first)
        expect_returned(got, case)
        reference = _small_source()
        want = freeze_below(reference, first)
        if not probe.trainable:
            raise CheckFailed(f"after {case} the model itself is still frozen "
                              "(model.trainable is False), so nothing trains: set "
                              "model.trainable = True first, then freeze the lower layers.")
        wrong = [layer.name for layer, ref in zip(probe.layers, reference.layers, strict=True)
                 if layer.weights and layer.trainable != ref.trainable]
        if wrong:
            first_wrong = wrong[0]
            state = "trainable" if probe.get_layer(first_wrong).trainable else "frozen"
            raise CheckFailed(f"after {case} layer {first_wrong!r} is {state}; every layer "
                              f"before {first!r} should be frozen, {first!r} and every later "
                              "layer trainable.")
        if isinstance(got, bool) or not isinstance(got, int | np.integer):
            raise CheckFailed(f"{case} returned {type(got).__name__} {got!r:.40}; return the "
                              "number of trainable parameters, an int.")
        if got == probe.count_params():
            raise CheckFailed(f"{case} returned {got}, all the parameters; count only the "
                              "trainable ones (model.trainable_weights).")
        if got == len(probe.trainable_weights):
            raise CheckFailed(f"{case} returned {got}, the number of trainable weight "
                              "*tensors*; add up their sizes (np.prod(w.shape)).")
        if got != want:
            raise CheckFailed(f"{case} returned {got}, but {want} parameters are trainable.")
    actual = freeze_below(model, first_trainable)
    if int(predicted) != actual:
        per_layer = ", ".join(f"{layer.name} {_params(layer.trainable_weights):,}"
                              for layer in model.layers if layer.trainable_weights)
        raise CheckFailed(f"your function is right, but your prediction {int(predicted):,} is "
                          f"not: {actual:,} parameters train ({per_layer}). Which did you miss? "
                          "(A convolution without bias has k*k*c_in*c_out weights; batch norm "
                          "trains only gamma and beta.)")
    return ("Right. Batch norm's moving mean and variance are never trainable: they are "
            "updated by the forward pass in training mode, not by gradients.")


q1 = Exercise(
    _check_freeze_below,
    hint="Set model.trainable = True first (it sets every layer), then set trainable = False "
         "on model.layers[:i], where i is the index of the layer named first_trainable. Count "
         "with sum(np.prod(w.shape) for w in model.trainable_weights).",
)


# --------------------------------------------------------------------------- Exercise 2


def _check_transfer_class(cls: Any) -> str:
    import keras

    if not isinstance(cls, type) or not issubclass(cls, keras.Model):
        raise CheckFailed(f"TransferFixed should be a class derived from keras.Model (write "
                          f"`class TransferFixed(keras.Model):`), got {cls!r:.60}.")
    source = _small_source(1)
    base = keras.Model(source.input, source.get_layer("features").output)
    try:
        model = cls(base, 4)
    except TypeError as err:
        raise CheckFailed(f"TransferFixed(base, n_classes) failed: {err}. Its __init__ takes "
                          "the base and the number of classes.") from None
    rng = np.random.default_rng(0)
    x = (3.0 + 2.0 * rng.normal(size=(16, 12, 12, 1))).astype("float32")   # shifted statistics
    y = rng.integers(0, 4, size=16)
    out = np.asarray(model(x, training=False))
    if out.shape != (16, 4):
        raise CheckFailed(f"for 16 images and n_classes=4 the model returns shape {out.shape}; "
                          "the new head needs one unit per target class.")
    if not (np.all(out >= 0) and np.allclose(out.sum(axis=1), 1.0, atol=1e-4)):
        raise CheckFailed("the outputs are not probabilities: the notebook compiles with "
                          "sparse_categorical_crossentropy, which expects them, so the head "
                          "needs activation='softmax'.")
    base.trainable = True                     # fine-tuning: the batch norms are unfrozen
    bn = base.get_layer("bn1")
    moving = np.asarray(bn.moving_mean).copy()
    same = np.allclose(np.asarray(model(x, training=True)), out, atol=1e-5)
    model.compile(optimizer=keras.optimizers.SGD(0.0), loss="sparse_categorical_crossentropy")
    model.train_on_batch(x, y)
    if not same or not np.allclose(np.asarray(bn.moving_mean), moving):
        raise CheckFailed("once the base is unfrozen, training=True reaches its batch-norm "
                          "layers: they normalize with the batch's statistics and overwrite "
                          "their moving averages. Call the base as self.base(x, "
                          "training=False), whatever `training` the model gets.")
    return "Right: a softmax head, and batch norm stays in inference mode even when unfrozen."


q2 = Exercise(
    _check_transfer_class,
    hint="Two bugs. The head's Dense layer needs activation='softmax', and call() must pass "
         "training=False to the base instead of passing its own `training` on.",
)
