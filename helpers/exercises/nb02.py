"""Exercises of notebook 02 (the perceptron)."""

from __future__ import annotations

import numpy as np

from helpers.exercises import (
    CheckFailed,
    Exercise,
    expect_close,
    expect_function,
    expect_shape,
    expect_type,
)

GATE_INPUTS = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
XOR = np.array([0, 1, 1, 0])


def step(z) -> np.ndarray:
    """The perceptron's activation, as in the notebook: 1 where z >= 0, else 0."""
    return (np.asarray(z) >= 0).astype(int)


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def train_perceptron(X, y, lr=0.1, epochs=20, seed=1):
    """The notebook's perceptron rule (the same initial weights for the same seed), to
    recompute answers."""
    rng = np.random.default_rng(seed)
    theta0, theta = rng.normal(0, 0.1), rng.normal(0, 0.1, size=X.shape[1])
    errors = []
    for _ in range(epochs):
        mistakes = 0
        for x_i, expected in zip(X, y, strict=True):
            predicted = step(theta0 + x_i @ theta)
            theta = theta + lr * (expected - predicted) * x_i
            theta0 = theta0 + lr * (expected - predicted)
            mistakes += int(predicted != expected)
        errors.append(mistakes)
    return theta0, theta, errors


def _as_weights(theta0, theta, n: int, names: tuple[str, str]) -> tuple[float, np.ndarray]:
    try:
        bias = float(np.asarray(theta0, dtype="float64").reshape(()))
    except (TypeError, ValueError):
        raise CheckFailed(f"{names[0]} should be one number, got {theta0!r:.60}.") from None
    expect_shape(theta, (n,), names[1])
    weights = np.asarray(theta, dtype="float64")
    if not (np.isfinite(bias) and np.isfinite(weights).all()):
        raise CheckFailed(f"{names[0]} and {names[1]} must be finite numbers.")
    return bias, weights


# --------------------------------------------------------------------------- Exercise 1


def _check_nand(nand_theta0, nand_theta) -> str:
    bias, weights = _as_weights(nand_theta0, nand_theta, 2, ("nand_theta0", "nand_theta"))
    got = step(bias + GATE_INPUTS @ weights)
    want = np.array([1, 1, 1, 0])
    if not np.array_equal(got, want):
        if np.array_equal(got, 1 - want):
            raise CheckFailed("your perceptron computes AND, NAND's opposite. Multiply the "
                              "bias and the weights by -1 to swap the two sides of the line.")
        raise CheckFailed(f"on the inputs (0,0), (0,1), (1,0), (1,1) your perceptron outputs "
                          f"{got.tolist()}; NAND is {want.tolist()}. Which of the four net "
                          "sums have the wrong sign?")
    z = bias + GATE_INPUTS @ weights
    margin = float(np.abs(z).min() / np.linalg.norm(weights)) if np.any(weights) else 0.0
    if margin == 0.0:
        return ("It works, but your line passes exactly through a point (a net sum of 0 "
                "counts as 1); a line with some room on both sides is safer.")
    return f"Your line keeps a distance of {margin:.2f} from the nearest input."


q1 = Exercise(
    _check_nand,
    hint="NAND must be 1 at (0, 0), so the bias must be >= 0; it must be 0 at (1, 1), so "
         "bias + θ₁ + θ₂ < 0. Negative weights of -1 each and a bias between 1 and 2 work.",
)

# --------------------------------------------------------------------------- Exercise 2


def _reference_mlp(X, W1, b1, W2, b2):
    return _sigmoid(np.maximum(0, X @ W1 + b1) @ W2 + b2)


def _check_mlp_forward(mlp_forward) -> str:
    expect_function(mlp_forward, "mlp_forward", "mlp_forward(X, W1, b1, W2, b2)")
    rng = np.random.default_rng(0)
    n, m, k = 6, 3, 5
    X = rng.normal(size=(n, m))
    W1, b1 = rng.normal(size=(m, k)), rng.normal(size=k)
    W2, b2 = rng.normal(size=(k, 1)), rng.normal(size=1)
    got = mlp_forward(X, W1, b1, W2, b2)
    expect_shape(got, (n, 1), f"mlp_forward on a batch of {n} examples")
    want = _reference_mlp(X, W1, b1, W2, b2)
    got = np.asarray(got, dtype="float64")
    if np.allclose(got, _sigmoid(X @ W1 + b1) @ W2 + b2) or \
            np.allclose(got, _sigmoid(_sigmoid(X @ W1 + b1) @ W2 + b2)):
        raise CheckFailed("the hidden layer should use ReLU, max(0, z), not the sigmoid.")
    if np.allclose(got, _sigmoid((X @ W1 + b1) @ W2 + b2)):
        raise CheckFailed("the hidden layer has no activation: apply ReLU, max(0, z), to "
                          "X @ W1 + b1.")
    if np.allclose(got, np.maximum(0, X @ W1 + b1) @ W2 + b2):
        raise CheckFailed("the output should be a probability: apply the sigmoid to the "
                          "output layer's net sum.")
    expect_close(got, want, "mlp_forward's output", rtol=1e-5, atol=1e-7)
    return "This is what Dense(k, 'relu') followed by Dense(1, 'sigmoid') computes."


q2 = Exercise(
    _check_mlp_forward,
    hint="Two perceptron layers in a row: hidden = max(0, X @ W1 + b1) (np.maximum), then "
         "sigmoid(hidden @ W2 + b2). Broadcasting adds the bias to every row.",
)

# --------------------------------------------------------------------------- Exercise 3


def _check_hours_needed(hours_needed, model) -> str:
    if hours_needed is None:
        raise CheckFailed("hours_needed is None: did you forget to assign it?")
    try:
        value = float(hours_needed)
    except (TypeError, ValueError):
        raise CheckFailed(f"hours_needed should be a number, got {hours_needed!r:.60}.") \
            from None
    candidates = np.arange(0, 20.5, 0.5)
    queries = np.column_stack([np.full_like(candidates, 6), candidates]).astype("float32")
    probs = np.asarray(model.predict(queries, verbose=0)).reshape(-1)
    reached = np.flatnonzero(probs >= 0.5)
    if reached.size == 0:
        raise CheckFailed("the model never reaches P(pass) >= 0.5 at 6 lectures within 20 "
                          "hours; did you train pass_model?")
    expected = float(candidates[reached[0]])
    if value not in candidates:
        raise CheckFailed(f"hours_needed is {value}; it should be one of the tried hours "
                          "0, 0.5, 1, ..., 20.")
    if value > expected:
        raise CheckFailed(f"the network already predicts P(pass) >= 0.5 with fewer hours "
                          f"than {value}: find the smallest.")
    expect_close(value, expected, "hours_needed")
    return (f"At 6 lectures the network wants {expected:g} hours; the true rule "
            f"{42.25 / 6:.2f}.")


q3 = Exercise(
    _check_hours_needed,
    hint="Build the 41 students [6, h] for h in np.arange(0, 20.5, 0.5) as one (41, 2) "
         "float32 array, predict them all at once, and take the first hours where the "
         "probability is >= 0.5 (np.argmax of the boolean array gives its position).",
)

# --------------------------------------------------------------------------- Exercise 4


def _check_xor_features(xor_features, theta0_x, theta_x, epochs_needed, *, seed: int = 1) -> str:
    expect_function(xor_features, "xor_features", "that takes the (4, 2) array of gate inputs")
    features = np.asarray(xor_features(GATE_INPUTS.copy()), dtype="float64")
    expect_shape(features, (4, None), "xor_features(X_gate)")
    k = features.shape[1]
    if not 3 <= k <= 5:
        raise CheckFailed(f"your features have {k} columns; keep x₁ and x₂ and add one to "
                          "three new ones (3 to 5 columns).")
    if not np.array_equal(features[:, :2], GATE_INPUTS):
        raise CheckFailed("the first two columns should be the inputs x₁, x₂ themselves.")
    bias, weights = _as_weights(theta0_x, theta_x, k, ("theta0_x", "theta_x"))
    _, _, errors = train_perceptron(features, XOR, lr=0.1, epochs=50, seed=seed)
    if 0 not in errors:
        raise CheckFailed("with these features the perceptron still does not converge in 50 "
                          "epochs. Which product of the inputs is 1 only at (1, 1)?")
    if not np.array_equal(step(bias + features @ weights), XOR):
        raise CheckFailed("your trained bias and weights do not compute XOR on your "
                          "features: store the results of this training run.")
    expected = errors.index(0) + 1
    expect_type(epochs_needed, (int, np.integer), "epochs_needed")
    if int(epochs_needed) == expected - 1:
        raise CheckFailed(f"epochs_needed is {epochs_needed}, one short: epochs count from 1, "
                          "list positions from 0.")
    if int(epochs_needed) != expected:
        raise CheckFailed(f"epochs_needed is {epochs_needed}; count the epochs up to and "
                          "including the first with no mistakes, of a run with the notebook's "
                          "train_perceptron and seed (seed=SEED).")
    return (f"With {k} features XOR is linearly separable, and the perceptron rule converges "
            f"in {expected} epochs.")


q4 = Exercise(
    _check_xor_features,
    hint="x₁·x₂ is 1 only at (1, 1). np.column_stack([X, X[:, 0] * X[:, 1]]) adds it as a "
         "third column; then train_perceptron(features, gates['XOR'], lr=0.1, epochs=50) and "
         "errors.index(0) + 1.",
)
