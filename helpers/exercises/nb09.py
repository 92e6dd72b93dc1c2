"""Exercises of notebook 09 (regularization)."""

from __future__ import annotations

from typing import Any

import numpy as np

from helpers.exercises import (
    CheckFailed,
    Exercise,
    expect_close,
    expect_function,
    expect_returned,
    expect_type,
    expect_whole_number,
)

# --------------------------------------------------------------------------- Exercise 1

SGD_CASES = [(0.1, 0.01), (0.05, 0.001), (0.5, 0.2)]  # (lr, l2)


def sgd_l2_step(w: np.ndarray, grad: np.ndarray, lr: float, l2: float) -> np.ndarray:
    """One SGD step on loss + l2 * sum(w**2): shrink by 1 - 2*lr*l2, then the plain step."""
    return (1 - 2 * lr * l2) * np.asarray(w) - lr * np.asarray(grad)


def _check_sgd_l2_step(fn: Any, shrink: Any) -> str:
    expect_function(fn, "sgd_l2_step", "(w, grad, lr, l2) -> array")
    rng = np.random.default_rng(9)
    w, grad = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
    for lr, l2 in SGD_CASES:
        case = f"sgd_l2_step(w, grad, lr={lr}, l2={l2})"
        got = fn(w.copy(), grad.copy(), lr, l2)
        expect_returned(got, case)
        try:
            got = np.asarray(got, dtype="float64")
        except (TypeError, ValueError):
            raise CheckFailed(f"{case} should return an array of weights.") from None
        if got.shape != w.shape:
            raise CheckFailed(f"{case} has shape {got.shape}; it should keep the weights' "
                              f"shape {w.shape}.")
        want = sgd_l2_step(w, grad, lr, l2)
        if np.allclose(got, want, rtol=1e-9, atol=1e-12):
            continue
        if np.allclose(got, (1 - lr * l2) * w - lr * grad):
            reason = "the gradient of l2 * w**2 is 2 * l2 * w: the factor 2 is missing."
        elif np.allclose(got, w - lr * grad):
            reason = "that is the step without the penalty: add the gradient of l2 * sum(w**2)."
        elif np.allclose(got, (1 - 2 * lr * l2) * w + lr * grad):
            reason = "gradient descent steps against the gradient: subtract lr * grad."
        elif np.allclose(got, w - 2 * lr * l2 * w):
            reason = "the penalty's part is right, but the loss's step - lr * grad is missing."
        else:
            reason = "the gradient of loss + l2 * sum(w**2) is grad + 2 * l2 * w."
        raise CheckFailed(f"{case} is not right yet: {reason}")
    factor = 1 - 2 * 0.05 * 0.001
    expect_type(shrink, (int, float, np.integer, np.floating), "shrink")
    if np.isclose(shrink, 1 - 0.05 * 0.001, rtol=0, atol=1e-12):
        raise CheckFailed("shrink is missing the factor 2 of the penalty's gradient.")
    if np.isclose(shrink, 2 * 0.05 * 0.001, rtol=0, atol=1e-12):
        raise CheckFailed("shrink is the fraction taken away; the factor that multiplies "
                          "the weights is 1 minus it.")
    expect_close(shrink, factor, "shrink", rtol=0, atol=1e-12)
    return (f"One step multiplies every weight by {factor} before the gradient step: after "
            f"1,000 steps that alone is {factor ** 1000:.3f}.")


q1 = Exercise(
    _check_sgd_l2_step,
    hint="The penalized gradient is grad + 2 * l2 * w; one step is w - lr * (that). Collect "
         "the terms in w to read off the shrink factor.",
)

# --------------------------------------------------------------------------- Exercise 2

DROPOUT_RATES = (0.2, 0.5, 0.8)
DROPOUT_SAMPLES = 200_000


def _check_my_dropout(fn: Any) -> str:
    expect_function(fn, "my_dropout", "(x, rate, training, rng) -> array")
    x = np.full(DROPOUT_SAMPLES, 2.0)
    off = fn(x.copy(), 0.3, False, np.random.default_rng(0))
    expect_returned(off, "my_dropout(x, 0.3, training=False, rng)")
    if np.shape(off) != x.shape or not np.array_equal(np.asarray(off), x):
        raise CheckFailed("with training=False dropout must return x unchanged (inverted "
                          "dropout does nothing at inference).")
    for rate in DROPOUT_RATES:
        case = f"my_dropout(x, {rate}, training=True, rng)"
        out = fn(x.copy(), rate, True, np.random.default_rng(1))
        expect_returned(out, case)
        out = np.asarray(out, dtype="float64")
        if out.shape != x.shape:
            raise CheckFailed(f"{case} has shape {out.shape}; it should keep x's shape "
                              f"{x.shape}.")
        dropped = float(np.mean(out == 0))
        sigma = np.sqrt(rate * (1 - rate) / x.size)
        if abs(dropped - rate) > 6 * sigma:
            extra = (" It drops with probability 1 - rate: keep a value when the random number "
                     "is >= rate." if abs(dropped - (1 - rate)) < 6 * sigma else "")
            raise CheckFailed(f"{case} drops {dropped:.1%} of the values; it should drop "
                              f"{rate:.0%}.{extra}")
        kept = out[out != 0]
        if kept.size and not np.allclose(kept, 2.0 / (1 - rate)):
            raise CheckFailed(f"{case} keeps values of {kept[0]:.3f} for an input of 2; kept "
                              f"values must be scaled by 1 / (1 - rate) = {1 / (1 - rate):.3f} "
                              "so that the mean stays 2.")
    zero = np.asarray(fn(x[:10].copy(), 0.0, True, np.random.default_rng(2)), dtype="float64")
    if not np.allclose(zero, x[:10]):
        raise CheckFailed("with rate=0 nothing is dropped, so dropout must return x.")
    grid = np.arange(12.0).reshape(3, 4) + 1
    out = np.asarray(fn(grid.copy(), 0.5, True, np.random.default_rng(3)))
    if out.shape != grid.shape:
        raise CheckFailed(f"for a (3, 4) array the result has shape {out.shape}: draw one "
                          "random number per value, rng.random(x.shape).")
    return "Right: each value is dropped with probability rate and kept ones are scaled by " \
           "1/(1 - rate), so the expected output is x."


q2 = Exercise(
    _check_my_dropout,
    hint="rate is the probability of dropping, so a value is kept when rng.random(...) >= "
         "rate, that is with probability 1 - rate; and the kept values must be divided by "
         "the probability of keeping, 1 - rate.",
)

# --------------------------------------------------------------------------- Exercise 3


def predictive_entropy(mc_probabilities: np.ndarray) -> np.ndarray:
    """Entropy (nats) of the mean of T predictions, one value per image: (T, N, C) -> (N,)."""
    mean = np.mean(np.asarray(mc_probabilities, dtype="float64"), axis=0)
    return -np.sum(mean * np.log(np.clip(mean, 1e-12, None)), axis=-1)


def _check_predictive_entropy(fn: Any, most_uncertain: Any, mc_probabilities: Any) -> str:
    expect_function(fn, "predictive_entropy", "(mc_probabilities) -> array")
    # Two passes that disagree completely on image 0, agree on a 50/50 guess on image 1 and
    # are both sure of class 0 on image 2.
    probe = np.array([[[1.0, 0.0], [0.5, 0.5], [1.0, 0.0]],
                      [[0.0, 1.0], [0.5, 0.5], [1.0, 0.0]]])
    got = fn(probe.copy())
    expect_returned(got, "predictive_entropy(mc_probabilities)")
    try:
        got = np.asarray(got, dtype="float64")
    except (TypeError, ValueError):
        raise CheckFailed("predictive_entropy should return an array of numbers.") from None
    if got.shape != (3,):
        raise CheckFailed(f"for T=2 passes, N=3 images and C=2 classes the result has shape "
                          f"{got.shape}; it should be (3,), one entropy per image: average "
                          "over axis 0 (the passes) and sum over the last axis (the classes).")
    if np.allclose(got, [0.0, np.log(2), 0.0], atol=1e-6):
        raise CheckFailed("that is the mean of the passes' entropies: image 0, on which the two "
                          "passes disagree completely, gets 0. Average the probabilities "
                          "first, then take the entropy of the average.")
    if np.allclose(got, [1.0, 1.0, 0.0], atol=1e-6):
        raise CheckFailed("use the natural logarithm, np.log (you get bits with np.log2).")
    if not np.all(np.isfinite(got)):
        raise CheckFailed("the entropy is NaN or infinite where a probability is 0: clip the "
                          "probabilities, e.g. np.clip(p, 1e-12, None), before the log.")
    expect_close(got, [np.log(2), np.log(2), 0.0], "predictive_entropy on the three-image example",
                 atol=1e-6)
    reference = predictive_entropy(mc_probabilities)
    expect_close(fn(np.asarray(mc_probabilities).copy()), reference,
                 "predictive_entropy(mc_probabilities)", rtol=1e-4, atol=1e-6)
    index = expect_whole_number(most_uncertain, "most_uncertain")
    if not 0 <= index < len(reference):
        raise CheckFailed(f"most_uncertain is {index}, but there are only {len(reference)} "
                          "validation images.")
    if reference[index] < reference.max() - 1e-9:
        raise CheckFailed(f"image {index} has entropy {reference[index]:.3f}, but the largest "
                          f"is {reference.max():.3f}: use np.argmax.")
    return (f"Image {index} has the highest entropy, {reference[index]:.3f} nats "
            f"(the maximum for 10 classes is log 10 = {np.log(10):.3f}).")


q3 = Exercise(
    _check_predictive_entropy,
    hint="mean = mc_probabilities.mean(axis=0) has shape (N, C); the entropy is "
         "-(mean * log(mean)).sum(axis=-1). Clip before the log to avoid log(0).",
)
