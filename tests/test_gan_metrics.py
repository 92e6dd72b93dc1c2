"""The Fréchet distance of helpers.gan_metrics against closed forms and scipy's sqrtm."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from scipy import linalg

from helpers.gan_metrics import (
    feature_stats,
    frechet_distance,
    frechet_distance_from_features,
)


def _random_cov(rng, d):
    a = rng.normal(size=(d, d))
    return a @ a.T / d + 0.1 * np.eye(d)


def test_identical_gaussians_are_at_distance_zero():
    rng = np.random.default_rng(0)
    m, s = rng.normal(size=5), _random_cov(rng, 5)
    assert frechet_distance(m, s, m, s) == pytest.approx(0.0, abs=1e-9)


@pytest.mark.parametrize("m1, s1, m2, s2", [(0.0, 1.0, 3.0, 2.0), (-1.5, 0.5, 2.0, 0.1),
                                            (4.0, 3.0, 4.0, 3.0)])
def test_one_dimension_is_mean_and_sd_differences_squared(m1, s1, m2, s2):
    # 1-D: (m1 - m2)^2 + s1^2 + s2^2 - 2 s1 s2 = (m1 - m2)^2 + (s1 - s2)^2
    got = frechet_distance([m1], [[s1**2]], [m2], [[s2**2]])
    assert got == pytest.approx((m1 - m2) ** 2 + (s1 - s2) ** 2, rel=1e-9, abs=1e-12)


def test_diagonal_covariances_add_up_per_dimension():
    m1, m2 = np.array([0.0, 1.0, -2.0]), np.array([1.0, 1.0, 0.0])
    sd1, sd2 = np.array([1.0, 2.0, 0.5]), np.array([3.0, 2.0, 1.5])
    want = np.sum((m1 - m2) ** 2) + np.sum((sd1 - sd2) ** 2)
    got = frechet_distance(m1, np.diag(sd1**2), m2, np.diag(sd2**2))
    assert got == pytest.approx(want, rel=1e-9)


def test_commuting_covariances_closed_form():
    # S1 = c1 * S and S2 = c2 * S commute: Tr(sqrt(S1 S2)) = sqrt(c1 c2) Tr(S)
    rng = np.random.default_rng(1)
    s = _random_cov(rng, 4)
    m1, m2 = rng.normal(size=4), rng.normal(size=4)
    want = np.sum((m1 - m2) ** 2) + (1 + 4 - 2 * np.sqrt(4)) * np.trace(s)
    assert frechet_distance(m1, s, m2, 4 * s) == pytest.approx(want, rel=1e-9)


def test_agrees_with_scipy_sqrtm_on_general_covariances():
    rng = np.random.default_rng(2)
    for d in (2, 8, 32):
        m1, m2 = rng.normal(size=d), rng.normal(size=d)
        s1, s2 = _random_cov(rng, d), _random_cov(rng, d)
        reference = (np.sum((m1 - m2) ** 2) + np.trace(s1) + np.trace(s2)
                     - 2 * np.trace(np.real(linalg.sqrtm(s1 @ s2))))
        assert frechet_distance(m1, s1, m2, s2) == pytest.approx(reference, rel=1e-7)


def test_symmetric_and_positive():
    rng = np.random.default_rng(3)
    m1, m2, s1, s2 = rng.normal(size=6), rng.normal(size=6), _random_cov(rng, 6), \
        _random_cov(rng, 6)
    d12, d21 = frechet_distance(m1, s1, m2, s2), frechet_distance(m2, s2, m1, s1)
    assert d12 == pytest.approx(d21, rel=1e-9) and d12 > 0


def test_singular_covariance_gives_a_finite_real_distance():
    # a feature that never varies (a dead ReLU unit) makes the covariance singular
    s1 = np.diag([1.0, 0.0])
    s2 = np.diag([4.0, 0.0])
    assert frechet_distance([0, 0], s1, [0, 0], s2) == pytest.approx(1.0, rel=1e-9)


def test_from_features_matches_sample_statistics():
    rng = np.random.default_rng(4)
    a = rng.normal(size=(4_000, 3))
    b = 2.0 * rng.normal(size=(4_000, 3)) + 1.0
    # N(0, I) vs N(1, 4 I): 3 * 1^2 + 3 * (2 - 1)^2 = 6
    assert frechet_distance_from_features(a, b) == pytest.approx(6.0, rel=0.05)
    stats = feature_stats(a)
    assert np.allclose(stats.mean, a.mean(axis=0)) and stats.cov.shape == (3, 3)


def test_sample_floor_is_small_with_enough_samples():
    rng = np.random.default_rng(5)
    a, b = rng.normal(size=(2_000, 8)), rng.normal(size=(2_000, 8))
    assert frechet_distance_from_features(a, b) < 0.05


@pytest.mark.parametrize("args, message", [
    (([0, 0], np.eye(3), [0, 0], np.eye(2)), "shape"),
    (([0, 0], np.eye(2), [0, 0, 0], np.eye(3)), "different dimensions"),
    (([0, 0], [[1, 2], [0, 1]], [0, 0], np.eye(2)), "not symmetric"),
    (([0, np.nan], np.eye(2), [0, 0], np.eye(2)), "NaN"),
    ((np.zeros((2, 2)), np.eye(2), [0, 0], np.eye(2)), "vector"),
])
def test_bad_gaussians_raise(args, message):
    with pytest.raises(ValueError, match=message):
        frechet_distance(*args)


@pytest.mark.parametrize("features, message", [
    (np.zeros(5), r"shape \(n, d\)"),
    (np.zeros((1, 3)), "at least 2"),
    (np.array([[0.0, np.inf], [1.0, 2.0]]), "NaN or infinite"),
])
def test_bad_features_raise(features, message):
    with pytest.raises(ValueError, match=message):
        feature_stats(features)


def test_feature_dimensions_must_match():
    with pytest.raises(ValueError, match="different dimensions"):
        frechet_distance_from_features(np.zeros((5, 2)), np.zeros((5, 3)))


def test_importing_it_does_not_import_keras():
    code = "import sys, helpers.gan_metrics; assert 'keras' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)
