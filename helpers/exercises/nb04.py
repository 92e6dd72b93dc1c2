"""Exercises of notebook 04 (training neural networks)."""

from __future__ import annotations

import math

import numpy as np

from helpers.exercises import (
    CheckFailed,
    Exercise,
    expect_close,
    expect_function,
    expect_layers,
    expect_type,
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
    "Exercise 1",
    _check_cce,
    hint="For each example sum y_onehot * np.log(probs) over the classes (axis=1), put a "
         "minus in front, then average over the examples.",
    solution="def categorical_crossentropy(y_onehot, probs):\n"
             "    return float(np.mean(-np.sum(y_onehot * np.log(probs), axis=1)))",
    points=2,
)


def _line_hessian(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype="float64")
    return 2 / len(x) * np.array([[np.sum(x**2), np.sum(x)], [np.sum(x), len(x)]])


def _check_lr_limit(lr_limit, x) -> str:
    expect_type(lr_limit, (float, int, np.floating, np.integer), "lr_limit")
    eigenvalues = np.linalg.eigvalsh(_line_hessian(x))
    want = 2 / eigenvalues.max()
    if np.isclose(lr_limit, 1 / eigenvalues.max(), rtol=1e-4):
        raise CheckFailed("that is 1/λ_max: gradient descent converges while |1 - ηλ| < 1, "
                          "which allows η up to 2/λ_max.")
    if np.isclose(lr_limit, 2 / eigenvalues.min(), rtol=1e-4):
        raise CheckFailed("the steepest direction sets the limit: use the LARGEST eigenvalue "
                          "of the Hessian.")
    expect_close(lr_limit, want, "lr_limit", rtol=1e-3)
    return (f"Beyond η = {want:.4f} the steep direction of the valley diverges; larger inputs "
            "make the valley steeper, so the limit is lower than in section 2.")


q2 = Exercise(
    "Exercise 2",
    _check_lr_limit,
    hint="Build the Hessian H = 2/n [[Σx², Σx], [Σx, n]] for x_new, take its eigenvalues with "
         "np.linalg.eigvalsh, and use η_max = 2 / λ_max.",
    solution="H_new = 2 / len(x_new) * np.array([[np.sum(x_new**2), np.sum(x_new)],\n"
             "                                   [np.sum(x_new), len(x_new)]])\n"
             "lr_limit = float(2 / np.linalg.eigvalsh(H_new).max())",
    points=2,
)


def _check_adam_step(adam_step) -> str:
    import keras

    expect_function(adam_step, "adam_step", "adam_step(theta, g, m, s, t, ...)")
    settings = {"lr": 0.1, "beta1": 0.8, "beta2": 0.99, "eps": 1e-7}
    start = np.array([1.0, -2.0, 0.5])
    theta, m, s = start.copy(), np.zeros(3), np.zeros(3)
    variable = keras.Variable(start.astype("float32"))
    optimizer = keras.optimizers.Adam(learning_rate=settings["lr"], beta_1=settings["beta1"],
                                      beta_2=settings["beta2"], epsilon=settings["eps"])
    scales = np.array([2.0, 0.5, -3.0])  # gradient field g = scales * theta (a quadratic's)
    for t in range(1, 6):
        g = scales * theta
        out = adam_step(theta, g, m, s, t, **settings)
        if not isinstance(out, tuple | list) or len(out) != 3:
            raise CheckFailed("adam_step should return the tuple (theta, m, s).")
        theta, m, s = (np.asarray(v, dtype="float64") for v in out)
        optimizer.apply([(scales * variable.numpy()).astype("float32")],
                        [variable])
        if t == 1 and np.allclose(theta, start - settings["lr"] * g, rtol=1e-3):
            raise CheckFailed("that is a plain SGD step; Adam divides the (averaged) gradient "
                              "by the square root of the averaged squared gradient.")
        if not np.allclose(theta, variable.numpy(), rtol=1e-4, atol=1e-5):
            raise CheckFailed(f"after step {t} theta is {theta.round(5)}, Keras's Adam has "
                              f"{variable.numpy().round(5)}. Did you correct the bias of m and "
                              "s by dividing by (1 - beta**t)?")
    return "Five steps agree with keras.optimizers.Adam."


q3 = Exercise(
    "Exercise 3",
    _check_adam_step,
    hint="m = beta1*m + (1-beta1)*g;  s = beta2*s + (1-beta2)*g**2;  correct both: "
         "m_hat = m/(1-beta1**t), s_hat = s/(1-beta2**t);  theta - lr*m_hat/(sqrt(s_hat)+eps).",
    solution="def adam_step(theta, g, m, s, t, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-7):\n"
             "    m = beta1 * m + (1 - beta1) * g\n"
             "    s = beta2 * s + (1 - beta2) * g**2\n"
             "    m_hat, s_hat = m / (1 - beta1**t), s / (1 - beta2**t)\n"
             "    return theta - lr * m_hat / (np.sqrt(s_hat) + eps), m, s",
    points=3,
)

SGD_TARGET = 0.73


def _check_sgd_model(model, x_test, y_test, n_train: int) -> str:
    import keras

    expect_layers(model, [("Dense", {"units": 64, "activation": "relu"}),
                          ("Dense", {"units": 10, "activation": "softmax"})], "sgd_model")
    optimizer = getattr(model, "optimizer", None)
    if not isinstance(optimizer, keras.optimizers.SGD):
        raise CheckFailed(f"sgd_model should be compiled with keras.optimizers.SGD, not "
                          f"{type(optimizer).__name__}.")
    if float(optimizer.momentum) != 0.0 or optimizer.nesterov:
        raise CheckFailed("use plain SGD: momentum=0 (the default), no Nesterov.")
    budget = 3 * math.ceil(n_train / 32)
    steps = int(optimizer.iterations.numpy())
    if steps == 0:
        raise CheckFailed("sgd_model has not been trained yet: call fit().")
    if steps > budget:
        raise CheckFailed(f"sgd_model took {steps} update steps; the budget is {budget} "
                          "(3 epochs of batches of 32). Use fewer epochs or larger batches.")
    accuracy = float(np.mean(np.argmax(model.predict(x_test, verbose=0), axis=1)
                             == np.asarray(y_test)))
    if accuracy < SGD_TARGET:
        raise CheckFailed(f"test accuracy {accuracy:.1%} is below {SGD_TARGET:.0%}. Try a "
                          "larger learning rate (between 0.01 and 0.5).")
    return (f"{accuracy:.1%} test accuracy in {steps} steps: the default rate was simply too "
            "small for this budget.")


q4 = Exercise(
    "Exercise 4",
    _check_sgd_model,
    hint="Only the learning rate needs to change: try 0.03, 0.1 and 0.3 with 3 epochs and "
         "batch_size=32. Too large (0.5 and up) becomes unstable.",
    solution="sgd_model = make_mlp()\n"
             "sgd_model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.1),\n"
             "                  loss='sparse_categorical_crossentropy', metrics=['accuracy'])\n"
             "sgd_history = sgd_model.fit(x_train, y_train, epochs=3, batch_size=32, verbose=0)",
    points=2,
)
