"""Exercises of notebook 00 (getting started)."""

from __future__ import annotations

import numpy as np

from helpers.exercises import (
    CheckFailed,
    Exercise,
    expect_function,
    expect_returned,
    expect_shape,
    expect_whole_number,
)

DRAWS, DRAW_SIZE = 200, 100


def _expected_smallest(labels, draws: int = 20_000) -> float:
    """The mean count of the rarest class in a random draw of DRAW_SIZE labels, simulated
    (drawing from 60,000 images without replacement is as good as with, for 100 of them)."""
    shares = np.bincount(np.asarray(labels), minlength=10) / len(labels)
    counts = np.random.default_rng(0).multinomial(DRAW_SIZE, shares, size=draws)
    return float(counts.min(axis=1).mean())


def _check_smallest(smallest, labels) -> str:
    expect_shape(smallest, (DRAWS,), "smallest")
    values = np.asarray(smallest, dtype="float64")
    if not np.all(values == np.round(values)):
        raise CheckFailed("smallest should hold counts of images, whole numbers; did you "
                          "divide (a share instead of a count)?")
    if np.any(values < 0):
        raise CheckFailed("smallest holds negative numbers, but it counts images.")
    if np.all(values == DRAW_SIZE // 10):
        raise CheckFailed("every draw has exactly 10 of each class: that is what a stratified "
                          "subset gives. Draw the indices yourself with "
                          "rng.choice(len(labels), 100, replace=False).")
    if np.any(values > DRAW_SIZE // 10):
        raise CheckFailed("some entries exceed 10, but in 100 images of 10 classes the rarest "
                          "class has at most 10. Take the smallest of the ten counts (.min()), "
                          "and draw 100 images per draw.")
    want = _expected_smallest(labels)
    if abs(values.mean() - want) > 0.6:
        raise CheckFailed(f"the rarest class gets {values.mean():.2f} images on average in your "
                          f"draws, but random draws of 100 give about {want:.1f}. Count all "
                          "ten classes of each draw with np.bincount(..., minlength=10).")
    return (f"By chance alone the rarest class gets about {want:.1f} of 100 images instead of "
            "10: in a small random subset some classes are badly under-represented, which is "
            "why the course stratifies.")


q1 = Exercise(
    _check_smallest,
    hint="For each of the 200 draws: pick 100 indices with rng.choice(..., replace=False), "
         "count the labels of those images with np.bincount(..., minlength=10), keep the "
         "smallest count.",
)


def _subset_of(random_subset, x, y, n, seed) -> np.ndarray:
    """Call the student's function on index-carrying data; return the indices it picked."""
    out = random_subset(x, y, n, seed)
    expect_returned(out, f"random_subset(x, y, {n}, seed={seed})")
    if not isinstance(out, tuple | list) or len(out) != 2:
        raise CheckFailed("random_subset should return two things, (x_subset, y_subset).")
    xs, ys = (np.asarray(v) for v in out)
    expect_shape(xs, (n, *x.shape[1:]), "the images it returns")
    expect_shape(ys, (n,), "the labels it returns")
    ids = xs[:, 0, 0]
    if not np.all(xs == ids[:, None, None]) or not np.all(np.isin(ids, x[:, 0, 0])):
        raise CheckFailed("the images it returns are not images of x: pick examples, do not "
                          "change them.")
    ids = ids.astype(int)
    if not np.array_equal(ys, y[ids]):
        wrong = int(np.sum(ys != y[ids]))
        raise CheckFailed(f"{wrong} of {n} labels no longer belong to their images. The buggy "
                          "version shuffles x and y with two different random orders (each "
                          "call of rng.permutation draws a new one). Draw one set of indices "
                          "and index both x and y with it.")
    if len(np.unique(ids)) < n:
        raise CheckFailed("some examples appear twice: draw the indices without replacement "
                          "(rng.choice(..., replace=False), or a permutation).")
    return ids


def _check_random_subset(random_subset) -> str:
    expect_function(random_subset, "random_subset", "(x, y, n, seed) -> (x_subset, y_subset)")
    ids = np.arange(500)
    x = np.broadcast_to(ids[:, None, None], (500, 2, 2)).astype("float32")  # image i is all i
    y = ids % 7
    first = _subset_of(random_subset, x, y, 40, seed=3)
    if not np.array_equal(first, _subset_of(random_subset, x, y, 40, seed=3)):
        raise CheckFailed("two calls with the same seed gave different subsets: make the "
                          "random generator from `seed`, inside the function.")
    if np.array_equal(first, _subset_of(random_subset, x, y, 40, seed=4)):
        raise CheckFailed("seeds 3 and 4 gave the same subset: are the examples chosen at "
                          "random, from `seed`?")
    if np.array_equal(np.sort(first), np.arange(40)):
        raise CheckFailed("that is always the first 40 examples (in some order), not a "
                          "random subset of all of them.")
    return "One set of indices for both arrays keeps every image with its label."


q2 = Exercise(
    _check_random_subset,
    hint="Each call of rng.permutation draws a new random order, so x and y are shuffled "
         "differently. Draw the indices once and use the same indices for both arrays.",
)

BUDGET = 100_000_000  # bytes
PIXELS = 28 * 28 * 1


def _check_memory_budget(n_fit, n_fit_uint8) -> str:
    n_fit = expect_whole_number(n_fit, "n_fit")
    n_fit_uint8 = expect_whole_number(n_fit_uint8, "n_fit_uint8")
    for value, name, size, dtype in ((n_fit, "n_fit", 4, "float32"),
                                     (n_fit_uint8, "n_fit_uint8", 1, "uint8")):
        want = BUDGET // (PIXELS * size)
        if value == want:
            continue
        per_pixel = {BUDGET // (PIXELS * b): b for b in (1, 2, 4, 8) if b != size}
        if value in per_pixel:
            raise CheckFailed(f"{name} = {value:,} counts {per_pixel[value]} bytes per pixel, "
                              f"but {dtype} takes {size} (float64, NumPy's default float, "
                              "takes 8; float32 4; uint8 1).")
        if value == 100 * 2**20 // (PIXELS * size):
            raise CheckFailed(f"{name} = {value:,} uses 100 MiB (2**20 bytes each); the budget "
                              "here is 100,000,000 bytes.")
        if value == want + 1:
            raise CheckFailed(f"{value:,} images of {PIXELS * size:,} bytes take "
                              f"{value * PIXELS * size:,} bytes, over the budget: round down "
                              "(//), a part of an image does not help.")
        raise CheckFailed(f"{name} = {value:,} is not right yet: one image has 28 x 28 x 1 "
                          f"pixels of {size} byte{'s' if size > 1 else ''} ({dtype}).")
    full = 60_000 * PIXELS * 4 / 1e6
    return (f"The full training set takes {full:.0f} MB as float32, four times its size as "
            "uint8; the course converts to float32 because layers compute in it.")


q3 = Exercise(
    _check_memory_budget,
    hint="How many bytes does one image take: how many pixels, and how many bytes per pixel "
         "(float32 is 32 bits)? Only whole images count: divide with //.",
)
