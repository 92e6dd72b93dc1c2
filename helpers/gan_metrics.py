"""Quality measures for generative models, in NumPy and SciPy only (no Keras import).

The Fréchet distance between two Gaussians N(mu1, S1) and N(mu2, S2) is

    ||mu1 - mu2||^2 + Tr(S1 + S2 - 2 (S1 S2)^(1/2)).

Computed on the features of real and generated images it is the "Fréchet inception
distance" (FID) of Heusel et al. (2017), who used InceptionV3's pooled features; any feature
extractor gives a Fréchet distance in its own feature space. Import it explicitly:
``from helpers.gan_metrics import frechet_distance``.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from scipy import linalg


class FeatureStats(NamedTuple):
    """Mean vector (d,) and covariance matrix (d, d) of a set of feature vectors."""

    mean: np.ndarray
    cov: np.ndarray


def feature_stats(features: np.ndarray) -> FeatureStats:
    """Mean and (unbiased) covariance of ``features``, an array of shape (n, d) with n >= 2.

    Raises ``ValueError`` for other shapes or non-finite values. With n not much larger than
    d the covariance is a poor estimate: use n of at least several times d.
    """
    f = np.asarray(features, dtype="float64")
    if f.ndim != 2:
        raise ValueError(f"features must have shape (n, d), got {f.shape}")
    if f.shape[0] < 2:
        raise ValueError(f"need at least 2 feature vectors for a covariance, got {f.shape[0]}")
    if not np.all(np.isfinite(f)):
        raise ValueError("features contain NaN or infinite values")
    return FeatureStats(f.mean(axis=0), np.atleast_2d(np.cov(f, rowvar=False)))


def _as_gaussian(mean: np.ndarray, cov: np.ndarray, which: str) -> tuple[np.ndarray, np.ndarray]:
    m = np.atleast_1d(np.asarray(mean, dtype="float64"))
    s = np.atleast_2d(np.asarray(cov, dtype="float64"))
    if m.ndim != 1:
        raise ValueError(f"mean{which} must be a vector, got shape {m.shape}")
    if s.shape != (m.size, m.size):
        raise ValueError(f"cov{which} must have shape ({m.size}, {m.size}) to match "
                         f"mean{which}, got {s.shape}")
    if not (np.all(np.isfinite(m)) and np.all(np.isfinite(s))):
        raise ValueError(f"mean{which} or cov{which} contains NaN or infinite values")
    if not np.allclose(s, s.T, rtol=1e-6, atol=1e-9):
        raise ValueError(f"cov{which} is not symmetric")
    return m, s


def _psd_sqrt(s: np.ndarray) -> np.ndarray:
    """Square root of a symmetric positive semi-definite matrix (negative rounding -> 0)."""
    values, vectors = linalg.eigh(s)
    return (vectors * np.sqrt(np.clip(values, 0.0, None))) @ vectors.T


def frechet_distance(mean1: np.ndarray, cov1: np.ndarray, mean2: np.ndarray,
                     cov2: np.ndarray) -> float:
    """Squared Fréchet (2-Wasserstein) distance between N(mean1, cov1) and N(mean2, cov2).

    ``||mean1 - mean2||^2 + Tr(cov1 + cov2 - 2 sqrtm(cov1 @ cov2))``. The trace of the
    square root is computed as Tr(sqrtm(R cov2 R)) with R = cov1^(1/2), which is the same
    number (the two matrices are similar) but symmetric, so it stays real and stable when a
    covariance is singular (a feature that never varies), where ``scipy.linalg.sqrtm`` of
    the product warns and returns complex rounding noise. Returns a float >= 0. Raises
    ``ValueError`` for mismatched shapes, non-finite or non-symmetric covariances.
    """
    m1, s1 = _as_gaussian(mean1, cov1, "1")
    m2, s2 = _as_gaussian(mean2, cov2, "2")
    if m1.shape != m2.shape:
        raise ValueError(f"the two Gaussians have different dimensions, {m1.size} and {m2.size}")
    root1 = _psd_sqrt(s1)
    eigenvalues = linalg.eigvalsh(root1 @ s2 @ root1)
    trace_root = float(np.sum(np.sqrt(np.clip(eigenvalues, 0.0, None))))
    distance = float(np.sum((m1 - m2) ** 2) + np.trace(s1) + np.trace(s2) - 2 * trace_root)
    return max(distance, 0.0)


def frechet_distance_from_features(features1: np.ndarray, features2: np.ndarray) -> float:
    """Fréchet distance between the Gaussians fitted to two feature sets of shape (n, d)."""
    a, b = feature_stats(features1), feature_stats(features2)
    if a.mean.shape != b.mean.shape:
        raise ValueError(f"the feature sets have different dimensions, {a.mean.size} and "
                         f"{b.mean.size}")
    return frechet_distance(a.mean, a.cov, b.mean, b.cov)
