"""Exercises of notebook 13 (autoencoders)."""

from __future__ import annotations

from typing import Any

import numpy as np

from helpers.exercises import (
    CheckFailed,
    Exercise,
    expect_shape,
    expect_type,
    expect_whole_number,
)

# --------------------------------------------------------------------------- Exercise 1


def kl_diagonal(mu: np.ndarray, log_var: np.ndarray) -> np.ndarray:
    """KL(N(mu, diag(exp(log_var))) || N(0, I)) of each row: 0.5 * sum(s2 + mu2 - 1 - log s2)."""
    mu, log_var = np.asarray(mu, dtype="float64"), np.asarray(log_var, dtype="float64")
    return 0.5 * np.sum(np.exp(log_var) + mu ** 2 - 1 - log_var, axis=-1)


def _kl_cases() -> list[tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(13)
    return [(rng.normal(size=(6, 3)), 0.8 * rng.normal(size=(6, 3))),
            (np.zeros((2, 4)), np.zeros((2, 4))),
            (np.array([[2.0, 0.0], [0.0, 0.0]]), np.array([[0.0, 0.0], [np.log(4), np.log(4)]])),
            (rng.normal(size=(5, 1)), rng.normal(size=(5, 1)))]


def _kl_mistake(got: np.ndarray, mu: np.ndarray, log_var: np.ndarray) -> str:
    """What a wrong KL probably did, judged from its values."""
    want = kl_diagonal(mu, log_var)
    k = mu.shape[-1]
    if not np.all(np.isfinite(got)):
        return ("it gives NaN or infinity: log_var is the logarithm of the variance, so the "
                "variance is np.exp(log_var) and log(sigma^2) is log_var itself.")
    guesses = [
        (2 * want, "the factor 1/2 in front of the sum is missing."),
        (want / k, "it averages over the code dimensions; the KL of independent dimensions "
                   "is their sum (np.sum(..., axis=-1))."),
        (want + k / 2, "the -1 term is missing (check: mu = 0, log_var = 0 must give 0)."),
        (0.5 * np.sum(np.exp(0.5 * log_var) + mu ** 2 - 1 - log_var, axis=-1),
         "exp(0.5 * log_var) is sigma, but the formula needs the variance sigma^2 = "
         "exp(log_var)."),
        (0.5 * np.sum(np.exp(log_var) + mu ** 2 - 1 + log_var, axis=-1),
         "the log-variance enters with a minus sign: ... - 1 - log_var."),
        (-want, "the sign is flipped: a KL divergence is never negative."),
    ]
    for value, reason in guesses:
        if got.shape == value.shape and np.allclose(got, value, rtol=1e-6, atol=1e-9):
            return reason
    return "it should be 0.5 * sum(exp(log_var) + mu**2 - 1 - log_var) over the last axis."


def _check_kl_diagonal(fn: Any, more_penalized: Any) -> str:
    if not callable(fn):
        raise CheckFailed("kl_diagonal should be a function (mu, log_var) -> array of "
                          f"shape (n,), but it is a {type(fn).__name__}.")
    for mu, log_var in _kl_cases():
        case = f"kl_diagonal(mu, log_var) for arrays of shape {mu.shape}"
        got = fn(mu.copy(), log_var.copy())
        if got is None:
            raise CheckFailed(f"{case} returned None: did you forget `return`?")
        try:
            got = np.asarray(got, dtype="float64")
        except (TypeError, ValueError):
            raise CheckFailed(f"{case} should return an array of numbers.") from None
        if got.shape != (len(mu),):
            raise CheckFailed(f"{case} has shape {got.shape}; expected ({len(mu)},), one value "
                              "per row: sum over the last axis only (axis=-1).")
        want = kl_diagonal(mu, log_var)
        if not np.allclose(got, want, rtol=1e-6, atol=1e-9):
            raise CheckFailed(f"{case} is not right yet: {_kl_mistake(got, mu, log_var)}")
    expect_type(more_penalized, str, "more_penalized")
    answer = more_penalized.strip().strip("()").lower()
    if answer not in ("a", "b"):
        raise CheckFailed(f"more_penalized should be \"a\" or \"b\", got {more_penalized!r}.")
    kl_a, kl_b = kl_diagonal(*_kl_cases()[2])
    if answer != "a":
        raise CheckFailed("more_penalized: not this one. Compute both with your function: per "
                          "dimension the KL charges mu^2 / 2 for being off-centre and "
                          "(sigma^2 - 1 - log sigma^2) / 2 for the wrong spread.")
    return (f"(a) costs {kl_a:.2f} nats, (b) {kl_b:.2f}: moving the mean by 2 standard "
            "deviations costs more than doubling the spread, because log sigma^2 gives back "
            "part of the sigma^2 term.")


q1 = Exercise(
    _check_kl_diagonal,
    hint="sigma^2 is np.exp(log_var) and log sigma^2 is log_var itself; sum the terms over "
         "axis=-1 and multiply by 0.5. Then evaluate the two cases.",
)

# --------------------------------------------------------------------------- Exercise 2


def linear_code_mse(x_train: np.ndarray, x_test: np.ndarray, max_k: int) -> np.ndarray:
    """Test MSE of PCA (fitted on x_train) with k = 1 .. max_k components: entry k - 1."""
    x_train = np.asarray(x_train, dtype="float64").reshape(len(x_train), -1)
    x_test = np.asarray(x_test, dtype="float64").reshape(len(x_test), -1)
    mean = x_train.mean(axis=0)
    _, vectors = np.linalg.eigh(np.cov(x_train - mean, rowvar=False))
    top = vectors[:, ::-1][:, :max_k]                  # eigenvectors, largest variance first
    centred = x_test - mean
    explained = np.cumsum(np.sum((centred @ top) ** 2, axis=0))
    return (np.sum(centred ** 2) - explained) / centred.size


def smallest_linear_code(x_train: np.ndarray, x_test: np.ndarray, target_mse: float,
                         max_k: int = 64) -> int | None:
    """The smallest k whose PCA reconstruction of x_test has MSE <= target_mse, else None."""
    curve = linear_code_mse(x_train, x_test, max_k)
    reached = np.flatnonzero(curve <= target_mse)
    return int(reached[0]) + 1 if reached.size else None


def _synthetic_images(seed: int = 21) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Low-rank data plus noise, 300 training and 200 test rows of 24 'pixels', and 200 rows
    of a shifted test set whose variance lies in the training data's minor directions."""
    rng = np.random.default_rng(seed)
    basis = rng.normal(size=(8, 24))
    scales = 2.0 ** -np.arange(8)

    def draw(n, s):
        return (rng.normal(size=(n, 8)) * s) @ basis + 0.05 * rng.normal(size=(n, 24))

    return draw(300, scales), draw(200, scales), draw(200, scales[::-1])


def _first_k_cases() -> list[tuple[np.ndarray, np.ndarray, float, int]]:
    """(x_train, x_test, target_mse, the answer) with max_k = 10."""
    syn_train, syn_test, shifted = _synthetic_images()
    cases = []
    for x_test, k_want in ((shifted, 7), (syn_test, 1), (syn_test, 3), (syn_test, 6)):
        curve = linear_code_mse(syn_train, x_test, 10)
        target = (float(np.sqrt(curve[k_want - 1] * curve[k_want - 2])) if k_want > 1
                  else float(curve[0] * 1.01))
        cases.append((syn_train, x_test, target, k_want))
    return cases


def _is_first_reaching(k: int | None, curve: np.ndarray, target: float) -> bool:
    """k reaches the target and k - 1 does not (with a small tolerance for rounding)."""
    if k is None or not 1 <= k <= len(curve):
        return False
    reaches = curve[k - 1] <= target * (1 + 1e-3)
    previous_misses = k == 1 or curve[k - 2] > target * (1 - 1e-3)
    return bool(reaches and previous_misses)


def _check_smallest_linear_code(fn: Any, k_match: Any, x_train: np.ndarray,
                                x_test: np.ndarray, target: float) -> str:
    if not callable(fn):
        raise CheckFailed("smallest_linear_code should be a function (x_train, x_test, "
                          f"target_mse, max_k=64) -> int, but it is a {type(fn).__name__}.")
    for syn_train, syn_test, target_mse, k_want in _first_k_cases():
        case = f"smallest_linear_code(x_train, x_test, target_mse={target_mse:.4g}, max_k=10)"
        got = fn(syn_train.copy(), syn_test.copy(), target_mse, 10)
        if got is None:
            raise CheckFailed(f"{case} returned None, but {k_want} components reach the target.")
        got = expect_whole_number(got, case)
        if got == k_want:
            continue
        train_k = smallest_linear_code(syn_train, syn_train, target_mse, 10)
        if got == train_k and abs(train_k - k_want) >= 2:
            reason = "that is measured on x_train; the question asks for the error on x_test."
        elif got == k_want - 1:
            reason = ("off by one: k counts components from 1, so the first k components are "
                      "components_[:k]; range(1, max_k + 1).")
        else:
            reason = "return the first k (from 1 up) whose test MSE is <= target_mse."
        raise CheckFailed(f"{case} returned {got}, expected {k_want}: {reason}")
    syn_train, syn_test, _ = _synthetic_images()
    unreachable = float(linear_code_mse(syn_train, syn_test, 10)[-1] * 0.5)
    got = fn(syn_train.copy(), syn_test.copy(), unreachable, 10)
    if got is not None:
        raise CheckFailed("when even max_k components do not reach target_mse, return None "
                          f"(a target of {unreachable:.3g} with max_k=10 gave {got!r}).")
    notebook_curve = linear_code_mse(x_train, x_test, 64)
    want = smallest_linear_code(x_train, x_test, target, 64)
    if k_match is None:
        raise CheckFailed("k_match is None: call smallest_linear_code(flat_train, flat_test, "
                          "target).")
    k_match = expect_whole_number(k_match, "k_match")
    if not _is_first_reaching(k_match, notebook_curve, target):
        shown = (f" (PCA with {k_match} components has test MSE "
                 f"{notebook_curve[k_match - 1]:.4f})" if 1 <= k_match <= 64 else "")
        raise CheckFailed(f"k_match is {k_match}{shown}; the target is {target:.4f}. Use the "
                          "notebook's flat_train, flat_test and target.")
    return (f"A linear code needs {want} numbers for the error that the dense autoencoder "
            f"reaches with 8: its non-linearity is worth a {want / 8:.1f} times shorter code.")


q2 = Exercise(
    _check_smallest_linear_code,
    hint="pca = PCA(max_k).fit(x_train); codes = pca.transform(x_test). The reconstruction "
         "from k components is codes[:, :k] @ pca.components_[:k] + pca.mean_. Loop k from 1 "
         "and return the first k whose MSE is <= target_mse.",
)

# --------------------------------------------------------------------------- Exercise 3


def _pairs(fn: Any, images: np.ndarray, sigma: float, seed: int,
           case: str) -> tuple[np.ndarray, np.ndarray]:
    original = images.copy()
    result = fn(images, sigma, np.random.default_rng(seed))
    if result is None:
        raise CheckFailed(f"{case} returned None: did you forget `return inputs, targets`?")
    if not isinstance(result, tuple | list) or len(result) != 2:
        raise CheckFailed(f"{case} should return a pair (inputs, targets), got "
                          f"{type(result).__name__}.")
    if not np.array_equal(images, original):
        raise CheckFailed(f"{case} changed `images` itself: add the noise to a new array "
                          "(images + noise), not in place (images += noise).")
    inputs, targets = (np.asarray(part, dtype="float64") for part in result)
    expect_shape(inputs, images.shape, "inputs")
    expect_shape(targets, images.shape, "targets")
    return inputs, targets


def _check_denoising_pairs(fn: Any) -> str:
    if not callable(fn):
        raise CheckFailed("denoising_pairs should be a function (images, sigma, rng) -> "
                          f"(inputs, targets), but it is a {type(fn).__name__}.")
    rng = np.random.default_rng(4)
    images = rng.uniform(0.3, 0.7, size=(200, 28, 28, 1))
    sigma = 0.05
    case = "denoising_pairs(images, 0.05, rng)"
    inputs, targets = _pairs(fn, images, sigma, 1, case)
    if np.array_equal(inputs, images) and np.array_equal(targets, images):
        raise CheckFailed("the inputs are the clean images: add sigma * rng.normal(...).")
    if np.array_equal(targets, inputs):
        raise CheckFailed("the targets are the noisy inputs, the classmate's bug: the model "
                          "then learns to copy the noise. The target is the clean image.")
    if np.array_equal(inputs, images) and not np.array_equal(targets, images):
        raise CheckFailed("inputs and targets are swapped: the noisy images go in, the clean "
                          "images are the targets.")
    if not np.array_equal(targets, images):
        raise CheckFailed("the targets should be the clean images, unchanged.")
    noise = inputs - images
    if float(noise.reshape(len(images), -1).std(axis=1).max()) < 1e-9:
        raise CheckFailed("every pixel of an image gets the same noise: draw one number per "
                          "pixel, rng.normal(size=images.shape).")
    if np.allclose(noise[0], noise[1]):
        raise CheckFailed("every image gets the same noise pattern: draw noise of the full "
                          "shape images.shape.")
    spread = float(noise.std())
    if abs(float(noise.mean())) > 1e-3:
        raise CheckFailed(f"the noise has mean {noise.mean():.4f}; Gaussian noise has mean 0 "
                          "(rng.normal, not rng.random).")
    if abs(spread - sigma ** 2) < 0.1 * sigma ** 2:
        raise CheckFailed("the noise has standard deviation sigma**2: sigma is the standard "
                          "deviation, so multiply rng.normal(...) by sigma.")
    if abs(spread - sigma) > 0.03 * sigma:
        raise CheckFailed(f"the noise has standard deviation {spread:.4f}; expected sigma = "
                          f"{sigma}: inputs = images + sigma * rng.normal(size=images.shape).")
    again, _ = _pairs(fn, images, sigma, 1, case)
    other, _ = _pairs(fn, images, sigma, 2, case)
    if not np.array_equal(again, inputs) or np.array_equal(other, inputs):
        raise CheckFailed("draw the noise with the rng that is passed in (rng.normal), so that "
                          "a seed reproduces it.")
    extremes = np.concatenate([np.zeros((20, 28, 28, 1)), np.ones((20, 28, 28, 1))])
    clipped, _ = _pairs(fn, extremes, 0.5, 3, "denoising_pairs(black and white images, 0.5, rng)")
    if clipped.min() < 0 or clipped.max() > 1:
        raise CheckFailed(f"noisy pixels range from {clipped.min():.2f} to {clipped.max():.2f}: "
                          "clip them to [0, 1] (np.clip), like the images the model will see.")
    return ("Right: noisy inputs, clean targets. With noisy targets the best the model can do "
            "is copy its input, noise included.")


q3 = Exercise(
    _check_denoising_pairs,
    hint="inputs = np.clip(images + sigma * rng.normal(size=images.shape), 0, 1); what should "
         "the model be asked to output for such an input?",
)
