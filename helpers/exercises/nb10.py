"""Exercises of notebook 10 (normalization)."""

from __future__ import annotations

from typing import Any

import numpy as np

from helpers.exercises import CheckFailed, Exercise, expect_function, expect_returned

KERAS_EPSILON = 1e-3      # keras.layers.BatchNormalization's default epsilon
KERAS_MOMENTUM = 0.99     # and its default momentum

# --------------------------------------------------------------------------- reference code


def moving_mean_after(steps: int, batch_mean: float, momentum: float = KERAS_MOMENTUM) -> float:
    """Keras' moving mean after ``steps`` training steps with a constant batch mean, from 0:
    each step keeps ``momentum`` of the old value and adds ``1 - momentum`` of the new."""
    return batch_mean * (1 - momentum**steps)


def batch_norm_train(x: np.ndarray, gamma: Any, beta: Any,
                     eps: float = KERAS_EPSILON) -> np.ndarray:
    """Batch normalization in training mode, features (channels) last: statistics over every
    other axis, biased variance, epsilon inside the square root."""
    x = np.asarray(x, dtype="float64")
    axes = tuple(range(x.ndim - 1))
    return gamma * (x - x.mean(axis=axes)) / np.sqrt(x.var(axis=axes) + eps) + beta


# --------------------------------------------------------------------------- Exercise 1

MOVING_CASES = [(1, 2.0, 0.99), (100, 3.0, 0.99), (10, -2.0, 0.9), (0, 5.0, 0.99),
                (458, 1.0, 0.99), (7, 4.0, 0.5)]


def _scalar(value: Any, case: str) -> float:
    try:
        return float(np.asarray(value, dtype="float64").reshape(()))
    except (TypeError, ValueError):
        raise CheckFailed(f"{case} should return one number, got {type(value).__name__} "
                          f"{value!r:.60}.") from None


def _check_moving_mean(fn) -> str:
    expect_function(fn, "moving_mean_after", "(steps, batch_mean, momentum=0.99) -> number")
    for steps, mean, momentum in MOVING_CASES:
        case = f"moving_mean_after({steps}, {mean}, momentum={momentum})"
        got = fn(steps, mean, momentum)
        expect_returned(got, case)
        got = _scalar(got, case)
        want = moving_mean_after(steps, mean, momentum)
        if np.isclose(got, want, rtol=1e-6, atol=1e-9):
            continue
        if np.isclose(got, mean * (1 - momentum) * steps):
            reason = ("each step also multiplies the old moving mean by momentum; adding "
                      "(1 - momentum) * mean per step ignores that.")
        elif steps > 0 and np.isclose(got, mean):
            reason = ("that is the batch mean itself. The moving mean starts at 0 and each step "
                      "moves only (1 - momentum) of the way towards the batch mean.")
        elif np.isclose(got, mean * (1 - (1 - momentum) ** steps)):
            reason = ("momentum and 1 - momentum are swapped: Keras keeps momentum (0.99) of "
                      "the old value and adds 1 - momentum (0.01) of the batch's.")
        elif (np.isclose(got, mean * (1 - momentum ** (steps + 1)))
              or np.isclose(got, mean * (1 - momentum ** (steps - 1)))):
            reason = "off by one step: after 1 step the moving mean is (1 - momentum) * mean."
        else:
            reason = ("apply moving = momentum * moving + (1 - momentum) * batch_mean, "
                      "`steps` times, from moving = 0 (or find the closed form).")
        raise CheckFailed(f"{case} is {got:.6g}; expected {want:.6g}: {reason}")
    share = 1 - KERAS_MOMENTUM**100
    return (f"after 100 steps the moving mean is {moving_mean_after(100, 3.0):.2f}: only "
            f"{share:.0%} of the way to 3.0.")


q1 = Exercise(
    _check_moving_mean,
    hint="Write out two steps from moving = 0: 0.01 m, then 0.99 * 0.01 m + 0.01 m. The part "
         "still missing after n steps is m * momentum**n.",
)

# --------------------------------------------------------------------------- Exercise 2


def _bn_cases() -> list[tuple[str, np.ndarray, np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(10)
    return [
        ("a convolution output (16, 4, 4, 3)", rng.normal(1.0, 2.0, (16, 4, 4, 3)),
         rng.uniform(0.5, 2.0, 3), rng.normal(0, 1, 3)),
        ("a dense output (32, 6) with small variance", rng.normal(0.5, 0.05, (32, 6)),
         rng.uniform(0.5, 2.0, 6), rng.normal(0, 1, 6)),
    ]


def _diagnose_batch_norm(got: np.ndarray, x: np.ndarray, gamma: np.ndarray,
                         beta: np.ndarray) -> str:
    axes = tuple(range(x.ndim - 1))
    mean, var = x.mean(axis=axes), x.var(axis=axes)

    def close(candidate: np.ndarray) -> bool:
        return bool(np.allclose(got, candidate, atol=1e-4))

    centred = x - x.mean(axis=-1, keepdims=True)
    spread = x.var(axis=-1, keepdims=True)
    if (close(gamma * centred / np.sqrt(spread + KERAS_EPSILON) + beta)
            or close(gamma * centred / (np.sqrt(spread) + KERAS_EPSILON) + beta)):
        return ("you normalize each example over its features (axis=-1): batch norm "
                "normalizes each feature over the examples (and pixels) of the batch.")
    if x.ndim == 4:
        m0, v0 = x.mean(axis=0), x.var(axis=0)
        if close(gamma * (x - m0) / np.sqrt(v0 + KERAS_EPSILON) + beta):
            return ("for a convolution output, average over the examples *and* the pixels "
                    "(axes 0, 1, 2), not over axis 0 alone: one mean and variance per channel.")
    if close(gamma * (x - mean) / (np.sqrt(var) + KERAS_EPSILON) + beta):
        return "epsilon goes inside the square root: sqrt(var + eps), not sqrt(var) + eps."
    n = x.size // x.shape[-1]
    if close(gamma * (x - mean) / np.sqrt(var * n / (n - 1) + KERAS_EPSILON) + beta):
        return "batch norm uses the biased variance (divide by m, ddof=0), like np.var's default."
    if close((x - mean) / np.sqrt(var + KERAS_EPSILON)):
        return "the normalization is right, but gamma and beta are not applied."
    return "compute the mean and variance over every axis but the last, then the formula."


def _check_batch_norm(fn) -> str:
    expect_function(fn, "batch_norm_fixed", "(x, gamma, beta, eps=1e-3) -> array")
    for what, x, gamma, beta in _bn_cases():
        x32 = x.astype("float32")
        got = fn(x32, gamma.astype("float32"), beta.astype("float32"))
        expect_returned(got, "batch_norm_fixed(x, gamma, beta)")
        if isinstance(got, tuple | list):
            raise CheckFailed("batch_norm_fixed returns a tuple or list: return only the "
                              "output array (the normalized x), not the statistics.")
        try:
            got = np.asarray(got, dtype="float64")
        except (TypeError, ValueError):
            raise CheckFailed("batch_norm_fixed should return an array.") from None
        if got.shape != x.shape:
            raise CheckFailed(f"for {what} the output has shape {got.shape}; batch norm keeps "
                              f"the input's shape {x.shape}. Did you return the statistics "
                              "too?")
        if not np.allclose(got, batch_norm_train(x32, gamma, beta), atol=1e-4):
            raise CheckFailed(f"for {what}: {_diagnose_batch_norm(got, x32, gamma, beta)}")
    return "It matches Keras' BatchNormalization in training mode."


q2 = Exercise(
    _check_batch_norm,
    hint="Which axis should the statistics be taken over, for (N, features) and for "
         "(N, H, W, C)? And where does eps go? Compare with section 3's formula.",
)

# --------------------------------------------------------------------------- Exercise 3

PARAM_BUDGET = 12_000
ACCURACY_NEEDED = 0.6


def _check_structure(model) -> None:
    from keras import layers

    chain = [layer for layer in model.layers if not isinstance(layer, layers.InputLayer)]
    convs = [i for i, layer in enumerate(chain) if isinstance(layer, layers.Conv2D)]
    if not convs:
        raise CheckFailed("the model has no Conv2D layer: the exercise asks for a CNN.")
    for i in convs:
        conv = chain[i]
        if conv.use_bias:
            raise CheckFailed(f"{conv.name} has a bias, which the BatchNormalization after it "
                              "cancels: build it with use_bias=False.")
        if getattr(conv.activation, "__name__", "linear") != "linear":
            raise CheckFailed(f"{conv.name} has activation={conv.activation.__name__!r}: the "
                              "ReLU should come after the batch norm, as its own layer.")
        following = chain[i + 1:i + 3]
        if not following or not isinstance(following[0], layers.BatchNormalization):
            raise CheckFailed(f"{conv.name} is not followed directly by BatchNormalization.")
        relu = following[1] if len(following) > 1 else None
        is_relu = isinstance(relu, layers.ReLU) or (
            isinstance(relu, layers.Activation)
            and getattr(relu.activation, "__name__", "") == "relu")
        if not is_relu:
            raise CheckFailed(f"the batch norm after {conv.name} is not followed by a ReLU "
                              "(layers.ReLU() or layers.Activation('relu')).")


def _check_small_bn_cnn(build, x_train, y_train, x_test, y_test, seed: int = 0) -> str:
    import keras

    expect_function(build, "small_bn_cnn", "() -> keras.Model")
    keras.utils.set_random_seed(seed)
    model = build()
    expect_returned(model, "small_bn_cnn()")
    if not isinstance(model, keras.Model):
        raise CheckFailed(f"small_bn_cnn() should return a keras.Model, got "
                          f"{type(model).__name__}.")
    if tuple(model.input_shape[1:]) != (28, 28, 1) or tuple(model.output_shape[1:]) != (10,):
        raise CheckFailed(f"the model maps {model.input_shape[1:]} to {model.output_shape[1:]}; "
                          "it should map (28, 28, 1) images to 10 logits.")
    params = model.count_params()
    if params > PARAM_BUDGET:
        raise CheckFailed(f"the model has {params:,} parameters, over the budget of "
                          f"{PARAM_BUDGET:,}: fewer filters, or global average pooling "
                          "instead of Flatten before the Dense layer.")
    _check_structure(model)
    probe = np.asarray(model(np.asarray(x_test[:8]), training=False))
    if np.all(probe >= 0) and np.allclose(probe.sum(axis=1), 1.0, atol=1e-4):
        raise CheckFailed("the model outputs probabilities (softmax); return logits: the "
                          "check trains it with from_logits=True.")
    model.compile(optimizer=keras.optimizers.SGD(0.1, momentum=0.9),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    model.fit(x_train, y_train, batch_size=64, epochs=2, verbose=0)
    accuracy = float(model.evaluate(x_test, y_test, batch_size=250, verbose=0)[1])
    if accuracy >= ACCURACY_NEEDED:
        return (f"{params:,} parameters; test accuracy {accuracy:.3f} in inference mode after "
                "96 steps.")
    predictions = np.concatenate([np.asarray(model(x_test[i:i + 250], training=True))
                                  for i in range(0, len(x_test), 250)])
    batch_mode = float(np.mean(np.argmax(predictions, axis=1) == np.asarray(y_test)))
    if batch_mode >= ACCURACY_NEEDED:
        raise CheckFailed(f"trained, the model scores {batch_mode:.3f} in training mode (batch "
                          f"statistics) but only {accuracy:.3f} in inference mode: its moving "
                          "statistics have not caught up after 96 steps. See section 3: "
                          "BatchNormalization(momentum=...).")
    raise CheckFailed(f"after 2 epochs the test accuracy is {accuracy:.3f} (training mode "
                      f"{batch_mode:.3f}); it needs {ACCURACY_NEEDED}. Use the budget: a few "
                      "convolution blocks with pooling, 16-32 filters, global average "
                      "pooling and one Dense layer.")


q3 = Exercise(
    _check_small_bn_cnn,
    hint="Three blocks of Conv2D(use_bias=False) -> BatchNormalization -> ReLU -> "
         "MaxPooling2D with 16, 24, 32 filters, then GlobalAveragePooling2D and Dense(10) fit "
         "the budget. 96 steps is short for moving averages with momentum 0.99.",
)
