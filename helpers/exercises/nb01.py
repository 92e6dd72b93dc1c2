"""Exercises of notebook 01 (from machine learning to deep learning)."""

from __future__ import annotations

import numpy as np

from helpers.exercises import (
    CheckFailed,
    Exercise,
    expect_function,
    expect_returned,
    expect_shape,
)

# --------------------------------------------------------------------------- Exercise 1


def quadrant_points(n: int = 400, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``n`` points uniform in [-1, 1]², labelled 1 when x and y have the same sign."""
    rng = np.random.default_rng(seed)
    points = rng.uniform(-1, 1, size=(n, 2))
    labels = (points[:, 0] * points[:, 1] > 0).astype(int)
    return points, labels


def _check_quadrant_features(quadrant_features) -> str:
    from sklearn.linear_model import LogisticRegression

    expect_function(quadrant_features, "quadrant_features", "that takes an (n, 2) array of points")
    train_points, train_labels = quadrant_points(400, seed=0)
    test_points, test_labels = quadrant_points(400, seed=1)
    train_features = np.asarray(quadrant_features(train_points), dtype="float64")
    test_features = np.asarray(quadrant_features(test_points), dtype="float64")
    expect_shape(train_features, (400, None), "quadrant_features(points) for 400 points")
    if not 1 <= train_features.shape[1] <= 5:
        raise CheckFailed(f"your features have {train_features.shape[1]} columns; use 1 to 5.")
    if not (np.isfinite(train_features).all() and np.isfinite(test_features).all()):
        raise CheckFailed("your features contain NaN or infinity.")
    model = LogisticRegression(max_iter=1000).fit(train_features, train_labels)
    accuracy = model.score(test_features, test_labels)
    if accuracy < 0.95:
        raise CheckFailed(f"logistic regression on your features reaches {accuracy:.1%} on "
                          "fresh points; it needs 95%. Which single number tells whether "
                          "x and y have the same sign?")
    return f"Logistic regression on your features: {accuracy:.1%} on fresh points."


q1 = Exercise(
    _check_quadrant_features,
    hint="The product x * y is positive exactly when x and y have the same sign. Return it "
         "as a column: an array of shape (n, 1).",
)

# --------------------------------------------------------------------------- Exercise 2


def _leak_cases(seed: int = 0) -> list[tuple[str, np.ndarray, np.ndarray, float]]:
    """(what, x_train, x_test, right answer): images as rows of pixels k / 255, like the
    notebook's, so that every pixel value of a test row also occurs somewhere in training."""
    rng = np.random.default_rng(seed)
    train = rng.integers(0, 256, size=(60, 49)).astype("float32") / 255
    train[:6] = np.resize(np.arange(256), (6, 49)) / 255  # every value 0..255 occurs in training
    new = rng.integers(0, 256, size=(30, 49)).astype("float32") / 255
    half = np.concatenate([train[10:25], new[:15]])
    twice_in_train = np.concatenate([train, train[:5]])
    repeated_test = np.concatenate([new[:10], new[:10]])
    return [
        ("half of the test rows copied from training", train, half, 0.5),
        ("no test row copied from training", train, new, 0.0),
        ("every test row copied from training", train, train[30:40], 1.0),
        ("rows that occur twice in training", twice_in_train, train[:10], 1.0),
        ("test rows repeated inside the test set only", train, repeated_test, 0.0),
    ]


def _check_leaked_fraction(leaked_fraction) -> str:
    expect_function(leaked_fraction, "leaked_fraction", "leaked_fraction(x_train, x_test)")
    for what, x_train, x_test, want in _leak_cases():
        got = leaked_fraction(x_train.copy(), x_test.copy())
        expect_returned(got, "leaked_fraction(...)")
        got = float(np.asarray(got))
        if abs(got - want) < 1e-9:
            continue
        if want < 1.0 and abs(got - 1.0) < 1e-9:
            raise CheckFailed(f"for {what} it says 100%, but the right answer is {want:.0%}. "
                              "Every pixel *value* of a test image occurs somewhere in the "
                              "training set: compare whole rows (images), not single pixels.")
        if got > 1.0:
            raise CheckFailed(f"for {what} it says {got:.2f}, more than 1: count each test row "
                              "once (does it have a copy in training, yes or no), not every "
                              "matching training row.")
        raise CheckFailed(f"for {what} the fraction is {want:.2f}, yours says {got:.2f}. Count "
                          "the rows of x_test that equal some whole row of x_train, and divide "
                          "by the number of rows of x_test.")
    return "Whole images compared: copies found, pixel values alone no longer fool it."


q2 = Exercise(
    _check_leaked_fraction,
    hint="np.isin tests each pixel value on its own, and every value 0..255 occurs somewhere "
         "among the training images, so every test image 'passes'. Compare whole rows "
         "instead: put row.tobytes() of every training row into a Python set, then look each "
         "test row up in it.",
)

# --------------------------------------------------------------------------- Exercise 3

BASKETS = [
    {"bread", "butter", "milk"}, {"bread", "butter"}, {"bread", "jam"}, {"milk", "coffee"},
    {"bread", "butter", "coffee"}, {"milk", "bread"}, {"jam", "butter", "bread"},
    {"coffee"}, {"milk", "coffee", "sugar"}, {"bread", "milk", "butter", "jam"},
]


def _reference_confidence(baskets, antecedent, consequent) -> float:
    with_antecedent = [b for b in baskets if set(antecedent) <= set(b)]
    if not with_antecedent:
        return 0.0
    return sum(set(consequent) <= set(b) for b in with_antecedent) / len(with_antecedent)


RULES = [
    ({"bread"}, {"butter"}), ({"butter"}, {"bread"}), ({"milk"}, {"coffee"}),
    ({"bread", "butter"}, {"jam"}), ({"coffee"}, {"milk", "sugar"}), ({"tea"}, {"milk"}),
    ({"jam"}, {"bread"}),
]


def _check_confidence(confidence) -> str:
    expect_function(confidence, "confidence", "confidence(baskets, antecedent, consequent)")
    for antecedent, consequent in RULES:
        want = _reference_confidence(BASKETS, antecedent, consequent)
        rule = f"{sorted(antecedent)} → {sorted(consequent)}"
        try:
            got = confidence(BASKETS, set(antecedent), set(consequent))
        except ZeroDivisionError:
            raise CheckFailed(f"division by zero for {rule}: no basket holds its antecedent, "
                              "so return 0.0 in that case.") from None
        expect_returned(got, "confidence(...)")
        if not np.isfinite(float(got)) or abs(float(got) - want) > 1e-9:
            if want == 0.0 and not any(set(antecedent) <= b for b in BASKETS):
                raise CheckFailed(f"for {rule} no basket holds the antecedent: return 0.0.")
            raise CheckFailed(f"confidence of {rule} should be {want:.3f}, got {float(got):.3f}. "
                              "Divide by the number of baskets that hold the antecedent, not "
                              "by all baskets.")
    return "Confidence = support(A ∪ B) / support(A)."


q3 = Exercise(
    _check_confidence,
    hint="Keep the baskets b with set(antecedent) <= b (a subset test); among them, count the "
         "ones with set(consequent) <= b, and divide.",
)

# --------------------------------------------------------------------------- Exercise 4


def _reference_score(clean, leaked):
    return leaked + (1 - leaked) * clean


def _check_predicted_score(predicted_test_score, measured=None) -> str:
    """``measured``: the notebook's array of draws x (test score, fresh score, leaked)."""
    expect_function(predicted_test_score, "predicted_test_score",
                    "predicted_test_score(clean, leaked)")
    for clean, leaked in [(0.7, 0.3), (0.5, 0.5), (0.9, 0.1), (0.6, 0.0), (0.75, 1.0)]:
        got = predicted_test_score(clean, leaked)
        expect_returned(got, "predicted_test_score(...)")
        got, want = float(np.asarray(got)), _reference_score(clean, leaked)
        if abs(got - want) < 1e-9:
            continue
        if abs(got - (1 - leaked) * clean) < 1e-9:
            raise CheckFailed(f"for clean = {clean} and leaked = {leaked} you predict {got:.3f}: "
                              "the copied images count as wrong. Which training image is "
                              "nearest to a copy, and what label does it have?")
        if abs(got - (leaked * clean + (1 - leaked))) < 1e-9:
            raise CheckFailed("you swapped the roles: the *leaked* images are the ones the "
                              "classifier gets right for free.")
        raise CheckFailed(f"for clean = {clean} and leaked = {leaked} you predict {got:.3f}; it "
                          f"should be {want:.3f}. Split the test set in two parts: the copies "
                          "(how often right?) and the rest (how often right?), and weigh them.")
    if measured is None:
        return "Copies right, the rest as on new images."
    measured = np.asarray(measured, dtype="float64")
    predicted = float(np.mean([predicted_test_score(c, f) for c, f in measured[:, 1:3]]))
    return (f"Your formula predicts {predicted:.1%} on the random split's test sets; section 4 "
            f"measured {measured[:, 0].mean():.1%} (the rest: sampling noise).")


q4 = Exercise(
    _check_predicted_score,
    hint="A copied test image has its twin in the training set at distance 0, so 1-NN gets it "
         "right. The other test images are new to the model, like the fresh images. The score "
         "is the average over both parts, weighted by their shares.",
)
