"""The checks of notebook 11's exercises accept the reference answers and reject wrong ones."""

from __future__ import annotations

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from keras import layers  # noqa: E402

from helpers.exercises import CheckFailed  # noqa: E402
from helpers.exercises import nb11 as ex  # noqa: E402

# --------------------------------------------------------------------------- Exercise 1


def _freeze(model, first_trainable):
    model.trainable = True
    names = [layer.name for layer in model.layers]
    for layer in model.layers[:names.index(first_trainable)]:
        layer.trainable = False
    return int(sum(np.prod(w.shape) for w in model.trainable_weights))


@pytest.fixture(scope="module")
def target():
    """The model whose count the student predicts (the notebook passes its source CNN)."""
    return ex._small_source(3)


def _count_from(model, name):
    return _freeze(keras.models.clone_model(model), name)


def test_q1_accepts_reference(target):
    ex.q1.check(_freeze, _count_from(target, "bn2"), keras.models.clone_model(target), "bn2")


def test_q1_reference_counts_by_hand():
    model = ex._small_source()
    # bn2: gamma, beta of 6 channels; features: 3*3*6 -> 8 plus bias; head: 8 -> 3 plus bias
    assert ex.freeze_below(model, "bn2") == 2 * 6 + (3 * 3 * 6 * 8 + 8) + (8 * 3 + 3)


def _no_model_trainable(model, first):          # forgets model.trainable = True
    names = [layer.name for layer in model.layers]
    for i, layer in enumerate(model.layers):
        layer.trainable = i >= names.index(first)
    return int(sum(np.prod(w.shape) for w in model.trainable_weights))


def _off_by_one(model, first):                   # freezes first_trainable too
    model.trainable = True
    names = [layer.name for layer in model.layers]
    for layer in model.layers[:names.index(first) + 1]:
        layer.trainable = False
    return int(sum(np.prod(w.shape) for w in model.trainable_weights))


def _all_params(model, first):
    _freeze(model, first)
    return model.count_params()


def _tensors(model, first):
    _freeze(model, first)
    return len(model.trainable_weights)


@pytest.mark.parametrize("fn, reason", [
    (_no_model_trainable, "model.trainable = True"),
    (_off_by_one, "should be frozen"),
    (_all_params, "all the parameters"),
    (_tensors, "tensors"),
    (lambda model, first: None, "return"),
    (lambda model, first: float(_freeze(model, first)), "an int"),
    (lambda model, first: _freeze(model, first) + 1, "are trainable"),
    ("freeze", "function"),
])
def test_q1_rejects_wrong_functions(target, fn, reason):
    with pytest.raises(CheckFailed, match=reason):
        ex.q1.check(fn, _count_from(target, "bn2"), keras.models.clone_model(target), "bn2")


@pytest.mark.parametrize("predicted, reason", [(1, "your prediction"), (2.5, "whole number"),
                                               ("93061", "int")])
def test_q1_rejects_wrong_prediction(target, predicted, reason):
    with pytest.raises(CheckFailed, match=reason):
        ex.q1.check(_freeze, predicted, keras.models.clone_model(target), "bn2")


# --------------------------------------------------------------------------- Exercise 2


class FixedTransfer(keras.Model):
    def __init__(self, base, n_classes):
        super().__init__()
        self.base = base
        self.head = layers.Dense(n_classes, activation="softmax")

    def call(self, x, training=None):
        return self.head(self.base(x, training=False))


class BuggyTransfer(keras.Model):                       # the notebook's buggy version
    def __init__(self, base, n_classes):
        super().__init__()
        self.base = base
        self.head = layers.Dense(n_classes)

    def call(self, x, training=None):
        return self.head(self.base(x, training=training))


class SoftmaxOnly(BuggyTransfer):                      # fixes one bug of two
    def __init__(self, base, n_classes):
        super().__init__(base, n_classes)
        self.head = layers.Dense(n_classes, activation="softmax")


class WrongWidth(FixedTransfer):
    def __init__(self, base, n_classes):
        super().__init__(base, n_classes)
        self.head = layers.Dense(10, activation="softmax")


class NoArgs(keras.Model):
    def __init__(self):
        super().__init__()


def test_q2_accepts_reference():
    ex.q2.check(FixedTransfer)


@pytest.mark.parametrize("cls, reason", [
    (BuggyTransfer, "softmax"),
    (SoftmaxOnly, "training=False"),
    (WrongWidth, "one unit per target class"),
    (NoArgs, "takes the base"),
    (lambda base, n: None, "class derived from keras.Model"),
])
def test_q2_rejects(cls, reason):
    with pytest.raises(CheckFailed, match=reason):
        ex.q2.check(cls)


def test_solutions_and_points_come_from_the_notebook():
    from helpers.exercises import reference

    entries = reference()["nb11"]["exercises"]
    assert ex.q1.points == entries["q1"]["points"] == 2
    assert "model.trainable = True" in entries["q1"]["solution"]
    assert "training=False" in entries["q2"]["solution"]
