"""Exercises of notebook 04 (training neural networks)."""

from __future__ import annotations

import numpy as np

from helpers.exercises import (
    CheckFailed,
    Exercise,
    expect_close,
    expect_function,
    expect_returned,
    expect_shape,
)


def _softmax(logits: np.ndarray) -> np.ndarray:
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _check_cce(categorical_crossentropy) -> str:
    import keras

    expect_function(categorical_crossentropy, "categorical_crossentropy",
                    "categorical_crossentropy(y_onehot, probs)")
    rng = np.random.default_rng(4)
    for n, k in [(8, 5), (3, 10), (1, 2)]:
        y_onehot = np.eye(k)[rng.integers(0, k, n)]
        probs = _softmax(rng.normal(0, 2, (n, k)))
        got = categorical_crossentropy(y_onehot, probs)
        want = float(keras.losses.CategoricalCrossentropy()(y_onehot, probs))
        if np.ndim(got) != 0 and np.size(got) == n and n > 1:
            raise CheckFailed(f"your function returns {n} numbers, one per example; return "
                              "their mean (the empirical risk), a single number.")
        if np.size(got) != 1:
            raise CheckFailed(f"your function should return one number, got shape "
                              f"{np.shape(got)}.")
        got = float(np.asarray(got).reshape(()))
        if np.isclose(got, -want, rtol=1e-4):
            raise CheckFailed("the sign is wrong: the loss is MINUS the sum of y·log p "
                              "(logs of probabilities are negative).")
        if n > 1 and np.isclose(got, n * want, rtol=1e-4):
            raise CheckFailed("you summed over the examples; take the mean over examples "
                              "(and the sum over classes).")
        expect_close(got, want, f"categorical_crossentropy on a batch of {n} x {k}", rtol=1e-4)
    return "It matches keras.losses.CategoricalCrossentropy."


q1 = Exercise(
    _check_cce,
    hint="For each example sum y_onehot * np.log(probs) over the classes (axis=1), put a "
         "minus in front, then average over the examples.",
)

# --------------------------------------------------------------------------- Exercise 2


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def _backprop(X, y, W1, b1, W2, b2, *, mean=True, slope_of_z=False):
    """The 2-2-1 network's gradients of the mean BCE; the flags make the two classic bugs."""
    z1 = X @ W1 + b1
    a1 = _sigmoid(z1)
    p = _sigmoid(a1 @ W2 + b2)
    dz2 = (p - y) / (len(X) if mean else 1)
    slope = z1 * (1 - z1) if slope_of_z else a1 * (1 - a1)
    dz1 = dz2 @ W2.T * slope
    return [X.T @ dz1, dz1.sum(axis=0), a1.T @ dz2, dz2.sum(axis=0)]


_GRAD_NAMES = ["dJ/dW1", "dJ/db1", "dJ/dW2", "dJ/db2"]


def _backprop_cases():
    rng = np.random.default_rng(5)
    xor = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    cases = []
    for X, y in [(xor, np.array([[0.0], [1.0], [1.0], [0.0]])),
                 (rng.normal(0, 1, (7, 2)), rng.integers(0, 2, (7, 1)).astype(float))]:
        for _ in range(3):
            cases.append((X, y, rng.normal(0, 1, (2, 2)), rng.normal(0, 0.5, 2),
                          rng.normal(0, 1, (2, 1)), rng.normal(0, 0.5, 1)))
    return cases


def _same(got, want) -> bool:
    return all(np.allclose(g, w, rtol=1e-5, atol=1e-10) for g, w in zip(got, want, strict=True))


def _check_backprop(backprop) -> str:
    expect_function(backprop, "backprop", "backprop(X, y, W1, b1, W2, b2) -> [dW1, db1, dW2, db2]")
    for X, y, W1, b1, W2, b2 in _backprop_cases():
        got = backprop(X, y, W1, b1, W2, b2)
        expect_returned(got, "backprop(X, y, W1, b1, W2, b2)")
        if not isinstance(got, tuple | list) or len(got) != 4:
            raise CheckFailed("backprop should return the list [dJ/dW1, dJ/db1, dJ/dW2, dJ/db2].")
        got = [np.asarray(g, dtype="float64") for g in got]
        for g, w, name in zip(got, (W1, b1, W2, b2), _GRAD_NAMES, strict=True):
            expect_shape(g, w.shape, f"{name} (it must have the shape of the weight)")
        want = _backprop(X, y, W1, b1, W2, b2)
        if _same(got, want):
            continue
        n = len(X)
        layer2_ok = _same(got[2:], want[2:])
        if _same(got[2:], [n * w for w in want[2:]]):
            raise CheckFailed(f"dJ/dW2 and dJ/db2 are exactly n = {n} times too large (the "
                              "number of examples). J is the MEAN of the per-example losses, "
                              "so dJ/dz2 = (p - y) / n.")
        if not layer2_ok:
            raise CheckFailed("dJ/dW2 or dJ/db2 is wrong: dJ/dz2 = (p - y) / n, then "
                              "dJ/dW2 = a1.T @ dJ/dz2 and dJ/db2 = its column sums.")
        if _same(got[:2], _backprop(X, y, W1, b1, W2, b2, slope_of_z=True)[:2]):
            raise CheckFailed("the second layer is right now, the first is not: the sigmoid's "
                              "slope at z1 is sigma(z1) (1 - sigma(z1)) = a1 (1 - a1), "
                              "written with the activation a1, not with z1.")
        raise CheckFailed("dJ/dW2 and dJ/db2 are right, dJ/dW1 or dJ/db1 is not: check the "
                          "step back from a1 through the sigmoid to z1, then to W1 and b1.")
    return "Both bugs fixed: your gradients agree with automatic differentiation."


q2 = Exercise(
    _check_backprop,
    hint="Compare buggy / autodiff per gradient: a ratio that is the same number everywhere "
         "means a missing factor; a layer that is right tells you the bug is further back.",
)

# --------------------------------------------------------------------------- Exercise 3

RATES = (0.1, 3.0)


def _check_can_rest(can_rest, grad, minima) -> str:
    if not isinstance(can_rest, dict):
        raise CheckFailed(f"can_rest should be a dict {{0.1: {{...}}, 3.0: {{...}}}}, not "
                          f"{type(can_rest).__name__}.")
    if sorted(float(k) for k in can_rest) != sorted(RATES):
        raise CheckFailed(f"can_rest should have the keys {RATES}, one per learning rate; it "
                          f"has {sorted(can_rest)}.")
    names = set(minima)
    limits = {}
    for name, x in minima.items():
        slope = (grad(x + 1e-4) - grad(x - 1e-4)) / 2e-4
        limits[name] = 2 / slope
    for lr, places in can_rest.items():
        if isinstance(places, str) or not isinstance(places, set | list | tuple | frozenset):
            raise CheckFailed(f"can_rest[{lr}] should be a set of names such as "
                              f"{{'dip', 'bowl'}}, not {places!r}.")
        if not set(places) <= names:
            raise CheckFailed(f"can_rest[{lr}] holds {sorted(set(places) - names)}; use the "
                              f"names of deep_minima: {sorted(names)}.")
        want = {name for name, limit in limits.items() if lr < limit}
        for name in sorted(names):
            limit = limits[name]
            if name in places and name not in want:
                raise CheckFailed(f"η = {lr} cannot rest in the {name}: its curvature is "
                                  f"f'' = {2 / limit:.2f}, so only rates below 2/f'' = "
                                  f"{limit:.2f} can; a larger one overshoots its bottom at "
                                  "every step.")
            if name in want and name not in places:
                raise CheckFailed(f"η = {lr} is below the {name}'s limit 2/f'' = {limit:.2f}, "
                                  f"so it can rest there (if it gets there). can_rest lists "
                                  "where a rate CAN rest, not only where the run from x0 = 6 "
                                  "ends.")
    return ("Now the large rate misses the true minimum: whether a large rate 'escapes' "
            "depends on which minimum is the sharp one.")


q3 = Exercise(
    _check_can_rest,
    hint="curvature(deep_grad, x) gives f''(x) at each minimum; a rate lr can rest at a "
         "minimum when lr < 2 / f''. Collect, for each rate, the names that pass.",
)

# --------------------------------------------------------------------------- Exercise 4


def _check_adam_first_step(adam_first_step, g, lr, beta1=0.9, beta2=0.999, eps=1e-7) -> str:
    g = np.asarray(g, dtype="float64")
    expect_shape(adam_first_step, g.shape, "adam_first_step")
    step = np.asarray(adam_first_step, dtype="float64")
    if not np.all(np.isfinite(step)):
        raise CheckFailed("adam_first_step contains NaN or infinity.")
    want = -lr * g / (np.abs(g) + eps)

    def close(candidate) -> bool:
        return np.allclose(step, candidate, rtol=1e-4, atol=1e-9)

    if close(want):
        return (f"At t = 1, m̂ = g and ŝ = g², so the step is -η g/|g|: size η = {lr} in every "
                f"coordinate, whatever the size of the gradient (here {np.round(g, 2)}). In "
                "the 2-D race Adam(0.3) likewise first jumped 0.3 in both coordinates.")
    if close(-want):
        raise CheckFailed("right size, wrong direction: Adam steps against the gradient, "
                          "downhill, like SGD.")
    if close(-lr * g):
        raise CheckFailed("that is plain SGD's step, -η g. Adam divides m̂ by the square root "
                          "of ŝ: what are m̂ and ŝ after the first step?")
    raw_m, raw_s = (1 - beta1) * g, (1 - beta2) * g**2
    if close(-lr * raw_m / (np.sqrt(raw_s) + eps)):
        raise CheckFailed("that leaves out the bias correction: with m̂ = m / (1 - β1^t) and "
                          "ŝ = s / (1 - β2^t) at t = 1, the zero start no longer shrinks the "
                          "averages.")
    if close(-lr * g / (np.sqrt(raw_s) + eps)) or close(-lr * raw_m / (np.abs(g) + eps)):
        raise CheckFailed("only one of m and s is bias-corrected: correct both, m̂ = m / "
                          "(1 - β1) and ŝ = s / (1 - β2) at t = 1.")
    raise CheckFailed(f"adam_first_step is {np.round(step, 5)}, which is not right yet. Write "
                      "out m, s, m̂ and ŝ for t = 1, starting from m = s = 0.")


q4 = Exercise(
    _check_adam_first_step,
    hint="Start from m = s = 0. After one step m = (1 - β1) g and s = (1 - β2) g²; the bias "
         "correction divides them by (1 - β1) and (1 - β2). What is m̂ / sqrt(ŝ)?",
)
