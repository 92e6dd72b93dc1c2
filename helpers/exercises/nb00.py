"""Exercises of notebook 00 (getting started)."""

from __future__ import annotations

import numpy as np

from helpers.exercises import Exercise, expect_close, expect_equal, expect_shape, expect_type


def _check_counts(counts, labels) -> str:
    expect_shape(counts, (10,), "counts")
    expect_equal(np.asarray(counts).tolist(), np.bincount(labels, minlength=10).tolist(),
                 "counts")
    return "A stratified subset keeps the classes balanced: 10 of each."


q1 = Exercise(
    "Exercise 1",
    _check_counts,
    hint="Load the subset with helpers.load_fashion_mnist(n_train=100, ...), then count its "
         "labels with np.bincount(labels, minlength=10).",
    solution="subset = helpers.load_fashion_mnist(n_train=100, n_test=10)\n"
             "counts = np.bincount(subset.y_train, minlength=10)",
)


def _check_class_means(class_means, images, labels) -> None:
    images = np.asarray(images).reshape(len(images), 28, 28)
    expected = np.stack([images[labels == c].mean(axis=0) for c in range(10)])
    expect_close(class_means, expected, "class_means", atol=1e-4)


q2 = Exercise(
    "Exercise 2",
    _check_class_means,
    hint="For class c, select the images with labels == c and take .mean(axis=0); stack the "
         "ten results with np.stack. Drop the channel axis with [..., 0].",
    solution="class_means = np.stack([data.x_train[data.y_train == c].mean(axis=0)[..., 0]\n"
             "                        for c in range(10)])",
)


def _check_brightest(brightest, class_means) -> str:
    expect_type(brightest, (int, np.integer), "brightest")
    expect_equal(int(brightest), int(np.argmax(np.asarray(class_means).mean(axis=(1, 2)))),
                 "brightest")
    return "Big garments that fill the frame have the brightest mean image."


q3 = Exercise(
    "Exercise 3",
    _check_brightest,
    hint="Average each mean image over its pixels, then take np.argmax over the ten classes.",
    solution="brightest = int(np.argmax(class_means.mean(axis=(1, 2))))",
)
