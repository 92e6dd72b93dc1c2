"""Exercises of notebook 12 (generative adversarial networks)."""

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

PROBE_SEED = 12
PROBE_LR = 0.05


def _probe_models():
    """A tiny generator (1 -> 2) and discriminator (2 -> 1), the same weights every call."""
    import keras
    from keras import layers

    keras.utils.set_random_seed(PROBE_SEED)
    generator = keras.Sequential([keras.Input((1,)), layers.Dense(8), layers.LeakyReLU(0.2),
                                  layers.Dense(2)], name="probe_generator")
    discriminator = keras.Sequential([keras.Input((2,)), layers.Dense(8),
                                      layers.LeakyReLU(0.2), layers.Dense(1)],
                                     name="probe_discriminator")
    return generator, discriminator


def reference_generator_update(generator: Any, discriminator: Any, optimizer: Any,
                               z: Any) -> Any:
    """Part 2: the loss with target "real" (1), gradients and update for the generator only."""
    import keras
    import tensorflow as tf

    bce = keras.losses.BinaryCrossentropy(from_logits=True)
    with tf.GradientTape() as tape:
        logits = discriminator(generator(z, training=True), training=False)
        loss = bce(tf.ones_like(logits), logits)
    weights = generator.trainable_weights
    optimizer.apply_gradients(zip(tape.gradient(loss, weights), weights, strict=True))
    return loss


def _run_update(fn: Any, z: np.ndarray) -> tuple[list, list, list, list, Any]:
    import keras

    generator, discriminator = _probe_models()
    g_before = [w.copy() for w in generator.get_weights()]
    d_before = [w.copy() for w in discriminator.get_weights()]
    loss = fn(generator, discriminator, keras.optimizers.SGD(PROBE_LR), z)
    return g_before, generator.get_weights(), d_before, discriminator.get_weights(), loss


def _check_generator_update(fn: Any) -> str:
    expect_function(fn, "generator_update", "(generator, discriminator, optimizer, z) -> loss")
    z = np.linspace(-1, 1, 16, dtype="float32").reshape(16, 1)
    g0, g1, d0, d1, loss = _run_update(fn, z)
    expect_returned(loss, "generator_update(generator, discriminator, optimizer, z)")
    if any(not np.array_equal(a, b) for a, b in zip(d0, d1, strict=True)):
        raise CheckFailed("the discriminator's weights changed: in part 2 the discriminator "
                          "is idle. Ask the tape only for generator.trainable_weights and "
                          "apply only those gradients.")
    if all(np.array_equal(a, b) for a, b in zip(g0, g1, strict=True)):
        raise CheckFailed("the generator's weights did not change: apply the gradients of "
                          "the loss with respect to generator.trainable_weights.")
    _, want, _, _, want_loss = _run_update(reference_generator_update, z)
    if not all(np.allclose(a, b, rtol=1e-4, atol=1e-6) for a, b in zip(g1, want, strict=True)):
        reason = ("the generator moved, but not as one step on the loss with target \"real\". "
                  "Its target is tf.ones_like(logits): it is rewarded when D says real. ")
        raise CheckFailed(reason + "With zeros it learns to look fake.")
    try:
        loss_value = float(np.asarray(loss))
    except (TypeError, ValueError):
        raise CheckFailed("generator_update should return the loss, a single number.") from None
    expect_close(loss_value, float(np.asarray(want_loss)), "the returned loss (computed "
                 "before the update)", rtol=1e-4, atol=1e-6)
    return ("Right: the generator is pushed towards \"real\" and only its weights change; the "
            "gradient still flows back through the discriminator's layers.")


q1 = Exercise(
    _check_generator_update,
    hint="Which label does the generator want the discriminator to give its images? And "
         "which weights may change in part 2: list only those for tape.gradient and "
         "apply_gradients.",
)

# --------------------------------------------------------------------------- Exercise 2


def classes_covered(predicted: np.ndarray, n_classes: int = 10,
                    min_share: float = 0.01) -> int:
    """How many classes receive at least the share `min_share` of the predictions."""
    predicted = np.asarray(predicted)
    shares = np.bincount(predicted, minlength=n_classes) / len(predicted)
    return int(np.sum(shares >= min_share))


COVERAGE_CASES = [  # (counts per class, min_share)
    ([50, 50, 0, 0, 0, 0, 0, 0, 0, 0], 0.01),
    ([91, 1, 1, 1, 1, 1, 1, 1, 1, 1], 0.01),
    ([91, 1, 1, 1, 1, 1, 1, 1, 1, 1], 0.02),
    ([10, 10, 10, 10, 10, 10, 10, 10, 10, 10], 0.1),
    ([30, 0, 20, 0, 0, 25, 0, 0, 0, 25], 0.25),
]


def _check_classes_covered(fn: Any, n_covered_5pct: Any, last_predicted: Any) -> str:
    expect_function(fn, "classes_covered", "(predicted, n_classes=10, min_share=0.01) -> int")
    rng = np.random.default_rng(3)
    for counts, share in COVERAGE_CASES:
        predicted = rng.permutation(np.repeat(np.arange(10), counts))
        case = f"classes_covered(predictions with counts {counts}, min_share={share})"
        got = fn(predicted.copy(), 10, share)
        expect_returned(got, case)
        got = expect_whole_number(got, case)
        want = classes_covered(predicted, 10, share)
        if got == want:
            continue
        if got == int(np.sum(np.asarray(counts) > share * sum(counts))):
            reason = "a class with exactly the share min_share counts as covered: use >=."
        elif got == len(np.unique(predicted)):
            reason = "that counts every class that appears at all; compare each class's share " \
                     "with min_share."
        else:
            reason = "divide each class's count (np.bincount) by the number of predictions " \
                     "and count the shares >= min_share."
        raise CheckFailed(f"{case} returned {got}, expected {want}: {reason}")
    sparse = np.array([0, 0, 3])
    if expect_whole_number(fn(sparse, 10, 0.2), "classes_covered([0, 0, 3], 10, 0.2)") != 2:
        raise CheckFailed("classes_covered([0, 0, 3], 10, 0.2) should be 2 (classes 0 and 3).")
    expect_type(n_covered_5pct, (int, np.integer), "n_covered_5pct")
    want = classes_covered(last_predicted, 10, 0.05)
    if n_covered_5pct == classes_covered(last_predicted, 10, 0.01) and want != n_covered_5pct:
        raise CheckFailed("n_covered_5pct uses the default min_share of 1 %; the question "
                          "asks for 5 %.")
    expect_close(n_covered_5pct, want, "n_covered_5pct", rtol=0, atol=0)
    return (f"{want} of 10 classes hold at least 5 % of the generated images "
            f"({classes_covered(last_predicted, 10, 0.01)} hold at least 1 %).")


q2 = Exercise(
    _check_classes_covered,
    hint="np.bincount(predicted, minlength=n_classes) counts each class; divide by "
         "len(predicted) to get shares and count those >= min_share.",
)

# --------------------------------------------------------------------------- Exercise 3


def frechet_1d(a: np.ndarray, b: np.ndarray) -> float:
    """(mean(a) - mean(b))**2 + (std(a) - std(b))**2, the 1-D Fréchet distance."""
    return float((np.mean(a) - np.mean(b)) ** 2 + (np.std(a) - np.std(b)) ** 2)


def _check_frechet_1d(fn: Any, collapse_distance: Any) -> str:
    expect_function(fn, "frechet_1d", "(a, b) -> float")
    rng = np.random.default_rng(8)
    cases = [(rng.normal(0, 1, 500), rng.normal(3, 2, 700)),
             (rng.normal(-1, 0.5, 300), rng.normal(-1, 0.5, 300)),
             (np.array([1.0, 2.0, 3.0]), np.full(4, 2.0))]
    for a, b in cases:
        got = fn(a.copy(), b.copy())
        expect_returned(got, "frechet_1d(a, b)")
        expect_type(got, (int, float, np.integer, np.floating), "frechet_1d(a, b)")
        want = frechet_1d(a, b)
        if np.isclose(got, want, rtol=1e-9, atol=1e-12):
            continue
        mean_sq = (np.mean(a) - np.mean(b)) ** 2
        if np.isclose(got, mean_sq + (np.var(a) - np.var(b)) ** 2):
            reason = "the second term uses standard deviations, not variances."
        elif np.isclose(got, mean_sq):
            reason = "the standard-deviation term (std(a) - std(b))**2 is missing."
        elif np.isclose(got, np.sqrt(want)):
            reason = "the Fréchet distance here is the squared one: no square root."
        elif np.isclose(got, mean_sq + (np.std(a, ddof=1) - np.std(b, ddof=1)) ** 2):
            reason = "use np.std with its default ddof=0."
        else:
            reason = "it should be (mean(a) - mean(b))**2 + (std(a) - std(b))**2."
        raise CheckFailed(f"frechet_1d is {got:.4f} on a case where it should be {want:.4f}: "
                          f"{reason}")
    expect_type(collapse_distance, (int, float, np.integer, np.floating), "collapse_distance")
    if np.isclose(collapse_distance, 2.0):
        raise CheckFailed("collapse_distance: the term is (s1 - s2)**2 with s2 = 0, so square "
                          "the standard deviation.")
    if np.isclose(collapse_distance, 0.0):
        raise CheckFailed("collapse_distance: the means agree, but a constant output has "
                          "standard deviation 0, and (s1 - s2)**2 catches it.")
    expect_close(collapse_distance, 2.0 ** 2, "collapse_distance", rtol=0, atol=1e-9)
    return ("Right: the mean term is 0, and the spread term (2 - 0)**2 = 4 catches the "
            "collapse. In many dimensions the covariance term plays this part.")


q3 = Exercise(
    _check_frechet_1d,
    hint="mean term: (np.mean(a) - np.mean(b))**2; spread term: (np.std(a) - np.std(b))**2. "
         "A constant has standard deviation 0.",
)
