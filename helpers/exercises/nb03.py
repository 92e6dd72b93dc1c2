"""Exercises of notebook 03 (activation functions)."""

from __future__ import annotations

from typing import Any

import numpy as np

from helpers.exercises import CheckFailed, Exercise, expect_close, expect_function, expect_type


def _as_numpy(value: Any, what: str) -> np.ndarray:
    """A tensor or array as a float64 NumPy array, or a friendly failure."""
    try:
        return np.asarray(value, dtype="float64")
    except (TypeError, ValueError):
        raise CheckFailed(f"{what} should return numbers (a tensor or an array), got "
                          f"{type(value).__name__}.") from None


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-z))


# --------------------------------------------------------------------------- Exercise 1


def _autodiff(function, z: np.ndarray) -> np.ndarray | None:
    """d/dz of sum(function(z)) by tf.GradientTape, or None when the tape cannot follow it."""
    import tensorflow as tf

    z_tensor = tf.constant(z)
    with tf.GradientTape() as tape:
        tape.watch(z_tensor)
        total = tf.reduce_sum(function(z_tensor))
    gradient = tape.gradient(total, z_tensor)
    return None if gradient is None else np.asarray(gradient.numpy(), dtype="float64")


def _check_softplus(softplus, softplus_derivative) -> str:
    expect_function(softplus, "softplus")
    expect_function(softplus_derivative, "softplus_derivative")
    # 160 points: the grid misses z = 0, where autodiff of a kinked formula picks a convention
    z = np.linspace(-8, 8, 160).astype("float32")
    expect_close(_as_numpy(softplus(z), "softplus(z)"), np.logaddexp(0, z.astype("float64")),
                 "softplus(z) on [-8, 8]", atol=1e-5)
    extremes = np.array([1000.0, -1000.0], dtype="float32")
    at_extremes = _as_numpy(softplus(extremes), "softplus(z)")
    if not np.isfinite(at_extremes[0]):
        raise CheckFailed(f"softplus(1000) is {at_extremes[0]}, not 1000: e^1000 overflows "
                          "float32 (anything above z ≈ 88.7 does), the trap of section 3. "
                          "Exponentiate only numbers <= 0: for z > 0, ln(1 + e^z) = "
                          "z + ln(1 + e^(-z)); max(z, 0) and -|z| combine both cases.")
    if not np.isfinite(at_extremes[1]):
        raise CheckFailed(f"softplus(-1000) is {at_extremes[1]}, not about 0: your formula "
                          "exponentiates -z, which overflows for very negative z. Use "
                          "e^(-|z|), whose exponent is never positive.")
    if not np.isclose(at_extremes[0], 1000.0, rtol=1e-6):
        raise CheckFailed(f"softplus(1000) is {at_extremes[0]}; it should be 1000 "
                          "(ln(1 + e^z) ≈ z for large z).")
    if not 0 <= at_extremes[1] < 1e-6:
        raise CheckFailed(f"softplus(-1000) is {at_extremes[1]}; it should be a tiny "
                          "non-negative number (e^-1000 rounds to 0).")
    expected_derivative = _sigmoid(z.astype("float64"))
    expect_close(_as_numpy(softplus_derivative(z), "softplus_derivative(z)"),
                 expected_derivative, "softplus_derivative(z) on [-8, 8]", atol=1e-5)
    autodiff = _autodiff(softplus, z)
    if autodiff is None:
        raise CheckFailed("tf.GradientTape cannot differentiate your softplus: build it from "
                          "keras.ops (or tf) operations, not NumPy.")
    expect_close(autodiff, expected_derivative, "the autodiff derivative of softplus",
                 atol=1e-5)
    if not np.all(np.isfinite(_autodiff(softplus, extremes))):
        raise CheckFailed("softplus(±1000) is right, but its autodiff gradient there is NaN "
                          "or inf, and training needs that gradient. A branch that ops.where "
                          "throws away is still differentiated: its e^1000 = inf makes 0·inf "
                          "= NaN. Use a formula with no overflowing branch: "
                          "max(z, 0) + log1p(e^(-|z|)).")
    remarks = ["Stable: softplus(1000) = 1000, softplus(-1000) = 0, and the derivative is the "
               "sigmoid, smooth everywhere, unlike ReLU's step."]
    tiny = float(_as_numpy(softplus(np.array([-20.0], dtype="float32")), "softplus(z)")[0])
    if not np.isclose(tiny, np.log1p(np.exp(-20.0)), rtol=1e-3, atol=0):
        remarks.append(f"One refinement: softplus(-20) is {np.log1p(np.exp(-20.0)):.2e}, yours "
                       f"gives {tiny:.2e}, because 1 + 2e-9 rounds to 1 in float32; "
                       "ops.log1p(u) computes ln(1 + u) without that rounding.")
    at_zero = _autodiff(softplus, np.zeros(1, dtype="float32"))[0]
    if not np.isclose(at_zero, 0.5, atol=1e-6):
        remarks.append(f"Curious: autodiff of your softplus at exactly z = 0 gives {at_zero:g}, "
                       "not σ(0) = 0.5. The kinks in your formula (such as those of max(z, 0) and "
                       "|z|) cancel in the value but not in autodiff, which picks a convention "
                       "at a kink (section 5).")
    return " ".join(remarks)


q1 = Exercise(
    _check_softplus,
    hint="ln(1 + e^z) = max(z, 0) + ln(1 + e^(-|z|)) for every z (check z > 0 and z < 0 "
         "separately), and e^(-|z|) never overflows: ops.maximum, ops.abs, ops.exp and "
         "ops.log1p. For the derivative, differentiate ln(1 + e^z): the chain rule gives "
         "e^z / (1 + e^z); divide top and bottom by e^z.",
)

# --------------------------------------------------------------------------- Exercise 2


def sigmoid_chain_gradient(n_layers: int = 10, z0: float = 0.0) -> float:
    """dz_n/dz_0 for z_{k+1} = sigmoid(z_k), by the chain rule: the product of sigmoid'(z_k)."""
    z, gradient = float(z0), 1.0
    for _ in range(n_layers):
        s = _sigmoid(z)
        gradient *= s * (1 - s)
        z = s
    return gradient


def _check_chain_gradient(chain_gradient) -> str:
    if hasattr(chain_gradient, "numpy"):
        chain_gradient = chain_gradient.numpy()
    if isinstance(chain_gradient, np.ndarray) and chain_gradient.size == 1:
        chain_gradient = chain_gradient.item()
    expect_type(chain_gradient, (float, int, np.floating), "chain_gradient")
    expected = sigmoid_chain_gradient(10, 0.0)
    if np.isclose(chain_gradient, 0.25**10, rtol=1e-3):
        raise CheckFailed("that is 0.25**10, the bound. Only the first sigmoid sees z = 0; the "
                          "later ones see z > 0.5, where the slope is below 0.25.")
    expect_close(chain_gradient, expected, "chain_gradient", rtol=1e-4, atol=0)
    return (f"{expected:.3g}: {0.25**10 / expected:.0f}x below even the 0.25**10 bound, "
            "after only ten sigmoids.")


q2 = Exercise(
    _check_chain_gradient,
    hint="Start from z0 = tf.constant(0.0); inside `with tf.GradientTape() as tape:` call "
         "tape.watch(z0), then apply sigmoid ten times in a loop; finally "
         "float(tape.gradient(z10, z0)).",
)

# --------------------------------------------------------------------------- Exercise 3


def _reference_softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _check_stable_softmax(stable_softmax) -> str:
    expect_function(stable_softmax, "stable_softmax")
    rng = np.random.default_rng(0)
    cases = {
        "random logits of shape (4, 5)": (3 * rng.standard_normal((4, 5))).astype("float32"),
        "logits [[1000, 1001, 1002]]": np.array([[1000, 1001, 1002]], dtype="float32"),
        "logits [[-1000, -1001, -1002]]": np.array([[-1000, -1001, -1002]], dtype="float32"),
        "a batch of 3 rows with different scales": np.array(
            [[0, 0, 0], [500, -500, 0], [-800, -790, -810]], dtype="float32"),
    }
    for what, logits in cases.items():
        got = _as_numpy(stable_softmax(logits), "stable_softmax")
        if got.shape != logits.shape:
            raise CheckFailed(f"for {what} your output has shape {got.shape}; expected "
                              f"{logits.shape} (one probability per logit).")
        if not np.all(np.isfinite(got)):
            raise CheckFailed(f"for {what} your output contains NaN or infinity: subtract "
                              "each row's maximum before exponentiating.")
        if not np.allclose(got.sum(axis=-1), 1, atol=1e-5):
            raise CheckFailed(f"for {what} the rows do not sum to 1: normalise over the last "
                              "axis (axis=-1, keepdims=True).")
        expect_close(got, _reference_softmax(logits.astype("float64")),
                     f"stable_softmax for {what}", atol=1e-5)
    return "Same probabilities as the textbook formula, and no overflow."


q3 = Exercise(
    _check_stable_softmax,
    hint="Subtract ops.max(z, axis=-1, keepdims=True) from z, exponentiate, then divide by "
         "the sum over axis=-1 (keepdims=True so that the shapes broadcast row by row).",
)

# --------------------------------------------------------------------------- Exercise 4


def _activation_name(layer: Any) -> str:
    activation = getattr(layer, "activation", None)
    return getattr(activation, "__name__", type(activation).__name__)


def _check_deep_model(deep_model, x, y, *, depth: int = 15, width: int = 64,
                      target: float = 0.5) -> str:
    if not hasattr(deep_model, "layers") or not hasattr(deep_model, "predict"):
        raise CheckFailed(f"deep_model should be a Keras model, got {type(deep_model).__name__}.")
    dense = [layer for layer in deep_model.layers if type(layer).__name__ == "Dense"]
    if len(dense) != depth + 1:
        raise CheckFailed(f"deep_model has {len(dense)} Dense layers; keep the shape of "
                          f"section 7: {depth} hidden Dense({width}) layers and a Dense(10) "
                          "output.")
    hidden, output = dense[:-1], dense[-1]
    for i, layer in enumerate(hidden):
        if layer.units != width:
            raise CheckFailed(f"hidden layer {i + 1} has {layer.units} units; keep {width}.")
    if output.units != 10 or _activation_name(output) != "softmax":
        raise CheckFailed("the output layer should be Dense(10, activation='softmax').")
    names = {_activation_name(layer) for layer in hidden}
    if "sigmoid" in names:
        raise CheckFailed("some hidden layers still use the sigmoid: change the activation.")
    if "relu" in names:
        raise CheckFailed("section 7 has already trained ReLU; pick another activation. "
                          "Which other one kept its gradient in section 7's bar chart?")
    if "linear" in names:
        raise CheckFailed("hidden layers without an activation make the stack one linear map; "
                          "choose a non-linear activation.")
    probabilities = np.asarray(deep_model.predict(np.asarray(x), verbose=0))
    if not np.all(np.isfinite(probabilities)):
        raise CheckFailed("the model outputs NaN: training diverged. Try another activation "
                          "or initializer (the learning rate stays 0.02).")
    accuracy = float(np.mean(probabilities.argmax(axis=-1) == np.asarray(y)))
    if accuracy < target:
        raise CheckFailed(f"accuracy {accuracy:.1%} on these images; it needs {target:.0%}. "
                          "Did you train it (5 epochs, SGD(0.02), batch size 32)?")
    return f"accuracy {accuracy:.1%}, with {', '.join(sorted(names))} in the hidden layers."


q4 = Exercise(
    _check_deep_model,
    hint="The bar chart of section 7 shows two activations whose gradient does not vanish "
         "over 15 layers; one of them is ReLU. deep_net(...) from section 7 builds the shape "
         "for you.",
)
