"""The checks of notebook 00's exercises accept right answers and reject wrong ones with a
message that says what to fix."""

from __future__ import annotations

import numpy as np
import pytest

from helpers.exercises import CheckFailed
from helpers.exercises import nb00 as ex

LABELS = np.arange(60_000) % 10  # balanced, like Fashion-MNIST's training labels


# --------------------------------------------------------------------------- exercise 1


def rarest_counts(seed, n=100, replace=False, stat=np.min):
    rng = np.random.default_rng(seed)
    return np.array([stat(np.bincount(LABELS[rng.choice(len(LABELS), n, replace=replace)],
                                      minlength=10)) for _ in range(200)])


@pytest.mark.parametrize("seed", [0, 1, 42])
def test_q1_accepts_random_draws(seed):
    ex.q1.check(rarest_counts(seed), LABELS)
    ex.q1.check(rarest_counts(seed, replace=True).tolist(), LABELS)  # a list, with replacement


@pytest.mark.parametrize("wrong, reason", [
    (np.full(200, 10), "stratified"),
    (rarest_counts(0, stat=np.max), "at most 10"),
    (rarest_counts(0, n=1_000), "at most 10"),
    (rarest_counts(0) / 100, "whole numbers"),
    (rarest_counts(0)[:100], r"shape \(100,\); expected \(200,\)"),
    (np.full(200, 2), "about 5"),
    (-rarest_counts(0), "negative"),
])
def test_q1_rejects_wrong(wrong, reason):
    with pytest.raises(CheckFailed, match=reason):
        ex.q1.check(wrong, LABELS)


# --------------------------------------------------------------------------- exercise 2


def random_subset(x, y, n, seed):
    idx = np.random.default_rng(seed).choice(len(x), n, replace=False)
    return x[idx], y[idx]


def test_q2_accepts_fixed_versions():
    ex.q2.check(random_subset)

    def with_permutation(x, y, n, seed):
        idx = np.random.default_rng(seed).permutation(len(x))[:n]
        return [x[idx], y[idx]]

    ex.q2.check(with_permutation)


def buggy(x, y, n, seed):  # the notebook's random_subset_buggy
    rng = np.random.default_rng(seed)
    return x[rng.permutation(len(x))[:n]], y[rng.permutation(len(y))[:n]]


def with_repeats(x, y, n, seed):
    idx = np.random.default_rng(seed).integers(0, 3, n)
    return x[idx], y[idx]


def first_n(x, y, n, seed):
    idx = np.random.default_rng(seed).permutation(n)
    return x[idx], y[idx]


def global_generator(x, y, n, seed):
    idx = np.random.choice(len(x), n, replace=False)
    return x[idx], y[idx]


def ignores_seed(x, y, n, seed):
    idx = np.random.default_rng(0).choice(len(x), n, replace=False)
    return x[idx], y[idx]


@pytest.mark.parametrize("wrong, reason", [
    (buggy, "no longer belong to their images"),
    (with_repeats, "appear twice"),
    (first_n, "first 40"),
    (global_generator, "same seed gave different"),
    (ignores_seed, "seeds 3 and 4 gave the same"),
    (lambda x, y, n, seed: random_subset(x, y, n, seed)[0], "two things"),
    (lambda x, y, n, seed: None, "returned None"),
    (lambda x, y, n, seed: (x[:n] / 2, y[:n]), "not images of x"),
    (lambda x, y, n, seed: (x[:n], y[: n - 1]), "labels it returns has shape"),
    ("random_subset", "should be a function"),
])
def test_q2_rejects_wrong(wrong, reason):
    with pytest.raises(CheckFailed, match=reason):
        ex.q2.check(wrong)


# --------------------------------------------------------------------------- exercise 3


def test_q3_accepts_reference():
    ex.q3.check(100_000_000 // (28 * 28 * 4), 100_000_000 // (28 * 28))
    ex.q3.check(31887.0, np.int64(127551))  # whole-number floats and NumPy ints are fine


@pytest.mark.parametrize("n_fit, n_fit_uint8, reason", [
    (100_000_000 // (28 * 28 * 8), 127551, "8 bytes per pixel, but float32 takes 4"),
    (127551, 127551, "1 bytes per pixel, but float32 takes 4"),
    (31887, 31887, "4 bytes per pixel, but uint8 takes 1"),
    (100 * 2**20 // (28 * 28 * 4), 127551, "MiB"),
    (31888, 127551, "over the budget"),
    (31887, 127552, "over the budget"),
    (100_000_000 / (28 * 28 * 4), 127551, "whole number"),
    (100_000_000 // (28 * 4), 127551, "28 x 28 x 1"),
    ("31887", 127551, "n_fit should be"),
])
def test_q3_rejects_wrong(n_fit, n_fit_uint8, reason):
    with pytest.raises(CheckFailed, match=reason):
        ex.q3.check(n_fit, n_fit_uint8)


def test_every_exercise_has_a_hint_and_the_notebook_gives_points_and_a_solution():
    for q in (ex.q1, ex.q2, ex.q3):
        entry = q._entry()
        assert q._hint and entry["solution"] and q.points == 1, q.id
