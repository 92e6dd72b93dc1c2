"""Keras layers the course writes once and reuses in several notebooks.

Import it explicitly (``from helpers.layers import LocalResponseNormalization``): unlike the
rest of ``helpers`` it imports Keras and TensorFlow, which ``import helpers`` must not.
"""

from __future__ import annotations

import numbers
from typing import Any

import keras
import tensorflow as tf

__all__ = ["LocalResponseNormalization"]


def _number(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"LocalResponseNormalization: {name} must be a number, got "
                        f"{type(value).__name__} {value!r}")
    return float(value)


@keras.saving.register_keras_serializable(package="helpers")
class LocalResponseNormalization(keras.layers.Layer):
    """AlexNet's local response normalization across channels (Krizhevsky et al., 2012).

    For the activation :math:`a^i_{x,y}` of channel ``i`` (channels last) at pixel (x, y),
    with N channels::

        b^i = a^i / (k + alpha * sum_{j=max(0, i-n//2)}^{min(N-1, i+n//2)} (a^j)^2) ** beta

    The sum runs over a window of ``n`` channels centred on ``i`` (cut at the edges), and
    ``alpha`` multiplies the plain sum of squares, as in the paper and in TensorFlow's
    ``tf.nn.local_response_normalization`` (Caffe and PyTorch multiply the mean instead:
    their ``alpha`` is ``n`` times this one). The layer has no weights.

    Args:
        k: the additive constant (the paper's 2); must be positive.
        n: the window, an odd number of channels (the paper's 5).
        alpha: the scale of the sum of squares (the paper's 1e-4); zero or positive.
        beta: the exponent (the paper's 0.75); zero or positive.
        **kwargs: passed to ``keras.layers.Layer`` (``name``, ``dtype``, ...).

    Input: a 4-D float tensor (batch, height, width, channels). Output: the same shape.

    Raises:
        ValueError: for an even or non-positive ``n``, a non-positive ``k``, a negative
            ``alpha`` or ``beta``, or an input that is not 4-D.
        TypeError: for arguments that are not numbers (or, for ``n``, not an int).
    """

    def __init__(self, k: float = 2.0, n: int = 5, alpha: float = 1e-4, beta: float = 0.75,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if isinstance(n, bool) or not isinstance(n, numbers.Integral):
            raise TypeError(f"LocalResponseNormalization: n must be an int (a number of "
                            f"channels), got {type(n).__name__} {n!r}")
        if n < 1 or n % 2 == 0:
            raise ValueError(f"LocalResponseNormalization: n must be a positive odd number of "
                             f"channels (a window centred on each channel), got n={n}; the "
                             f"paper uses n=5")
        k, alpha, beta = _number("k", k), _number("alpha", alpha), _number("beta", beta)
        if not k > 0:
            raise ValueError(f"LocalResponseNormalization: k must be positive (it keeps the "
                             f"denominator away from zero), got k={k}; the paper uses k=2")
        if alpha < 0:
            raise ValueError(f"LocalResponseNormalization: alpha must be zero or positive, "
                             f"got alpha={alpha}; the paper uses alpha=1e-4")
        if beta < 0:
            raise ValueError(f"LocalResponseNormalization: beta must be zero or positive, "
                             f"got beta={beta}; the paper uses beta=0.75")
        self.k, self.n, self.alpha, self.beta = k, int(n), alpha, beta

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        if len(input_shape) != 4:
            raise ValueError(f"LocalResponseNormalization expects 4-D input (batch, height, "
                             f"width, channels), got shape {tuple(input_shape)}")
        super().build(input_shape)

    def call(self, x: Any) -> Any:
        return tf.nn.local_response_normalization(x, depth_radius=self.n // 2, bias=self.k,
                                                  alpha=self.alpha, beta=self.beta)

    def compute_output_shape(self, input_shape: tuple[int | None, ...]) -> tuple[int | None, ...]:
        return tuple(input_shape)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "k": self.k, "n": self.n, "alpha": self.alpha,
                "beta": self.beta}
