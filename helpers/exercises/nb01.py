"""Exercises of notebook 01 (from machine learning to deep learning)."""

from __future__ import annotations

import numpy as np

from helpers.exercises import (
    CheckFailed,
    Exercise,
    expect_function,
    expect_layers,
    expect_returned,
    expect_shape,
    expect_type,
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
    "Exercise 1",
    _check_quadrant_features,
    hint="The product x * y is positive exactly when x and y have the same sign. Return it "
         "as a column: an array of shape (n, 1).",
    solution="def quadrant_features(points):\n"
             "    return (points[:, 0] * points[:, 1])[:, None]",
    points=2,
)

# --------------------------------------------------------------------------- Exercise 2


def _check_n_95(n_95, x_train) -> str:
    from sklearn.decomposition import PCA

    expect_type(n_95, (int, np.integer), "n_95")
    cumulative = np.cumsum(PCA().fit(np.asarray(x_train)).explained_variance_ratio_)
    expected = int(np.searchsorted(cumulative, 0.95) + 1)
    if int(n_95) == expected - 1:
        raise CheckFailed(f"{n_95} components keep only {cumulative[n_95 - 1]:.2%} of the "
                          "variance, just short of 95%. Remember that component k is at "
                          "index k - 1.")
    if int(n_95) != expected:
        raise CheckFailed(f"n_95 is {n_95}; that many components keep "
                          f"{cumulative[min(max(int(n_95), 1), len(cumulative)) - 1]:.2%} of "
                          "the variance. Find the smallest number that keeps at least 95%.")
    return f"{expected} of 64 components keep {cumulative[expected - 1]:.2%} of the variance."


q2 = Exercise(
    "Exercise 2",
    _check_n_95,
    hint="Fit PCA() with all components, take np.cumsum of explained_variance_ratio_, and find "
         "the first position where it reaches 0.95 (np.searchsorted, or np.argmax(cum >= 0.95)). "
         "Positions count from 0, components from 1.",
    solution="n_95 = int(np.searchsorted(np.cumsum(PCA().fit(x_train).explained_variance_ratio_),"
             " 0.95) + 1)",
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
    "Exercise 3",
    _check_confidence,
    hint="Keep the baskets b with set(antecedent) <= b (a subset test); among them, count the "
         "ones with set(consequent) <= b, and divide.",
    solution="def confidence(baskets, antecedent, consequent):\n"
             "    with_antecedent = [b for b in baskets if set(antecedent) <= b]\n"
             "    if not with_antecedent:\n"
             "        return 0.0\n"
             "    both = [b for b in with_antecedent if set(consequent) <= b]\n"
             "    return len(both) / len(with_antecedent)",
    points=2,
)

# --------------------------------------------------------------------------- Exercise 4


def _check_one_feature_net(model, x_test, y_test) -> str:
    expect_layers(model, [("Dense", {}), ("Dense", {"units": 1}),
                          ("Dense", {"units": 1, "activation": "sigmoid"})],
                  "one_feature_net")
    hidden = [layer for layer in model.layers if type(layer).__name__ == "Dense"][0]
    if hidden.units > 16:
        raise CheckFailed(f"the hidden layer has {hidden.units} units; use at most 16.")
    probabilities = np.asarray(model.predict(np.asarray(x_test, dtype="float32"), verbose=0))
    expect_shape(probabilities, (len(x_test), 1), "the model's output")
    accuracy = float(np.mean((probabilities[:, 0] > 0.5) == np.asarray(y_test)))
    if accuracy < 0.95:
        raise CheckFailed(f"test accuracy is {accuracy:.1%}; it needs 95%. Did you compile "
                          "and fit it? Try a larger learning rate (0.03) or more epochs.")
    return f"Test accuracy {accuracy:.1%} from a single learned feature."


q4 = Exercise(
    "Exercise 4",
    _check_one_feature_net,
    hint="Copy ring_net, but as a keras.Sequential with Dense(8, 'tanh'), Dense(1, 'tanh') and "
         "Dense(1, 'sigmoid'); compile with Adam(0.03) and binary_crossentropy, and fit on "
         "as_dataset(rings_train, rings_y_train) for about 30 epochs.",
    solution="keras.utils.set_random_seed(0)\n"
             "one_feature_net = keras.Sequential([\n"
             "    keras.Input(shape=(2,)),\n"
             "    layers.Dense(8, activation='tanh'),\n"
             "    layers.Dense(1, activation='tanh'),\n"
             "    layers.Dense(1, activation='sigmoid'),\n"
             "])\n"
             "one_feature_net.compile(optimizer=keras.optimizers.Adam(0.03),\n"
             "                        loss='binary_crossentropy', metrics=['accuracy'])\n"
             "one_feature_net.fit(as_dataset(rings_train, rings_y_train), epochs=30, verbose=0,\n"
             "                    shuffle=False)",
    points=2,
)
