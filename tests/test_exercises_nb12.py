"""The checks of notebook 12's exercises accept the reference answers and reject wrong ones."""

from __future__ import annotations

import numpy as np
import pytest

from helpers.exercises import CheckFailed
from helpers.exercises import nb12 as ex

# --------------------------------------------------------------------------- Exercise 1

keras = pytest.importorskip("keras")
tf = pytest.importorskip("tensorflow")
bce = keras.losses.BinaryCrossentropy(from_logits=True)


def _update(generator, discriminator, optimizer, z, *, target=1.0, both=False,
            give_loss=True):
    with tf.GradientTape() as tape:
        logits = discriminator(generator(z, training=True), training=False)
        loss = bce(tf.fill(tf.shape(logits), target), logits)
    weights = generator.trainable_weights
    if both:
        weights = weights + discriminator.trainable_weights
    optimizer.apply_gradients(zip(tape.gradient(loss, weights), weights, strict=True))
    return loss if give_loss else None


def test_q1_accepts_reference():
    ex.q1.check(_update)


def test_q1_accepts_the_modules_own_reference():
    ex.q1.check(ex.reference_generator_update)


@pytest.mark.parametrize("fn, reason", [
    (lambda g, d, o, z: _update(g, d, o, z, target=0.0, both=True), "discriminator's weights"),
    (lambda g, d, o, z: _update(g, d, o, z, both=True), "discriminator is idle"),
    (lambda g, d, o, z: _update(g, d, o, z, target=0.0), "target is tf.ones_like.*With zeros"),
    (lambda g, d, o, z: _update(g, d, o, z, give_loss=False), "return"),
    (lambda g, d, o, z: bce(tf.ones((16, 1)), d(g(z))), "did not change"),
    (lambda g, d, o, z: 2 * _update(g, d, o, z), "returned loss"),
    ("generator_update", "function"),
])
def test_q1_rejects_typical_bugs(fn, reason):
    with pytest.raises(CheckFailed, match=reason):
        ex.q1.check(fn)


# --------------------------------------------------------------------------- Exercise 2


def _covered(predicted, n_classes=10, min_share=0.01):
    shares = np.bincount(predicted, minlength=n_classes) / len(predicted)
    return int(np.sum(shares >= min_share))


PREDICTED = np.repeat(np.arange(10), [400, 300, 300, 250, 250, 200, 150, 80, 50, 20])


def test_q2_accepts_reference():
    ex.q2.check(_covered, _covered(PREDICTED, min_share=0.05), PREDICTED)


def test_q2_reference_counts():
    assert ex.classes_covered(PREDICTED, 10, 0.05) == 7      # 400..150 are >= 100 of 2,000
    assert ex.classes_covered(PREDICTED, 10, 0.01) == 10


@pytest.mark.parametrize("fn, reason", [
    (lambda p, n=10, s=0.01: int(np.sum(np.bincount(p, minlength=n) / len(p) > s)), "use >="),
    (lambda p, n=10, s=0.01: len(np.unique(p)), "appears at all"),
    (lambda p, n=10, s=0.01: int(np.sum(np.bincount(p, minlength=n) >= s)), "not|expected"),
    (lambda p, n=10, s=0.01: None, "return"),
])
def test_q2_rejects_wrong_functions(fn, reason):
    with pytest.raises(CheckFailed, match=reason):
        ex.q2.check(fn, 7, PREDICTED)


@pytest.mark.parametrize("answer, reason", [(10, "default min_share"), (6, "not right"),
                                            (7.0, "should be")])
def test_q2_rejects_wrong_counts(answer, reason):
    with pytest.raises(CheckFailed, match=reason):
        ex.q2.check(_covered, answer, PREDICTED)


# --------------------------------------------------------------------------- Exercise 3


def _fd(a, b):
    return float((np.mean(a) - np.mean(b)) ** 2 + (np.std(a) - np.std(b)) ** 2)


def test_q3_accepts_reference():
    ex.q3.check(_fd, 4.0)


def test_q3_reference_matches_the_helper():
    from helpers.gan_metrics import frechet_distance_from_features

    rng = np.random.default_rng(0)
    a, b = rng.normal(0, 1, 400), rng.normal(1, 3, 600)
    # the helper uses the unbiased covariance (ddof=1), so compare on its terms
    want = (a.mean() - b.mean()) ** 2 + (a.std(ddof=1) - b.std(ddof=1)) ** 2
    assert frechet_distance_from_features(a[:, None], b[:, None]) == pytest.approx(want)
    assert ex.frechet_1d(a, b) == pytest.approx(
        (a.mean() - b.mean()) ** 2 + (a.std() - b.std()) ** 2)


@pytest.mark.parametrize("fn, reason", [
    (lambda a, b: float((np.mean(a) - np.mean(b)) ** 2 + (np.var(a) - np.var(b)) ** 2),
     "not variances"),
    (lambda a, b: float((np.mean(a) - np.mean(b)) ** 2), "is missing"),
    (lambda a, b: float(np.sqrt(_fd(a, b))), "no square root"),
    (lambda a, b: float((np.mean(a) - np.mean(b)) ** 2
                        + (np.std(a, ddof=1) - np.std(b, ddof=1)) ** 2), "ddof=0"),
    (lambda a, b: None, "return"),
])
def test_q3_rejects_wrong_functions(fn, reason):
    with pytest.raises(CheckFailed, match=reason):
        ex.q3.check(fn, 4.0)


@pytest.mark.parametrize("answer, reason", [(2.0, "square"), (0, "standard deviation 0"),
                                            (3.0, "not right"), ("4", "should be")])
def test_q3_rejects_wrong_predictions(answer, reason):
    with pytest.raises(CheckFailed, match=reason):
        ex.q3.check(_fd, answer)
