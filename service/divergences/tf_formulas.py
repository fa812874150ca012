"""The formulas of :mod:`service.divergences.formulas` in TensorFlow, for batches.

Same contract: float64 tensors whose last axis holds the distributions, values in nats,
``inf`` for an infinite divergence. Each is compiled once with ``tf.function`` for
float64 matrices, so batches of any shape reuse one graph. Importing this module imports
TensorFlow; only batch kernels and training do.
"""

from collections.abc import Callable

import numpy as np
import tensorflow as tf

_TINY = float(np.finfo(np.float64).tiny)
_MATRIX = tf.TensorSpec(shape=[None, None], dtype=tf.float64)
_INF = float("inf")


def _compiled(fn: Callable[..., tf.Tensor]) -> Callable[..., tf.Tensor]:
    return tf.function(fn, input_signature=[_MATRIX, _MATRIX], reduce_retracing=True)


def log_ratio(p: tf.Tensor, q: tf.Tensor) -> tf.Tensor:
    """``log(p / q)``; 0 where ``p = 0``; ``+inf`` where ``p > 0 = q``; as the numpy path."""
    positive = p > 0
    ratio = tf.where(positive, p / q, tf.ones_like(p))
    out = tf.math.log(ratio)
    inexact = (q > 0) & ((ratio < _TINY) | (ratio == _INF))
    return tf.cond(
        tf.reduce_any(inexact),
        lambda: tf.where(inexact, tf.math.log(p) - tf.math.log(q), out),
        lambda: out,
    )


def _kl(p: tf.Tensor, q: tf.Tensor) -> tf.Tensor:
    return tf.reduce_sum(p * log_ratio(p, q), axis=-1)


def _entropy(p: tf.Tensor) -> tf.Tensor:
    log_p = tf.math.log(tf.where(p > 0, p, tf.ones_like(p)))
    return -tf.reduce_sum(p * log_p, axis=-1)


def _js(p: tf.Tensor, q: tf.Tensor) -> tf.Tensor:
    total = p + q
    return 0.5 * (
        tf.reduce_sum(p * log_ratio(2 * p, total), axis=-1)
        + tf.reduce_sum(q * log_ratio(2 * q, total), axis=-1)
    )


def _chi_square(p: tf.Tensor, q: tf.Tensor) -> tf.Tensor:
    squared = (p - q) ** 2
    terms = tf.where((q > 0) | (p > 0), squared / q, tf.zeros_like(p))
    return tf.reduce_sum(terms, axis=-1)


kl = _compiled(_kl)
reverse_kl = _compiled(lambda p, q: _kl(q, p))
jeffreys = _compiled(lambda p, q: _kl(p, q) + _kl(q, p))
js = _compiled(_js)
js_distance = _compiled(lambda p, q: tf.sqrt(tf.maximum(_js(p, q), 0.0)))
cross_entropy = _compiled(lambda p, q: _kl(p, q) + _entropy(p))
entropy = _compiled(lambda p, q: _entropy(p))
hellinger = _compiled(
    lambda p, q: tf.sqrt(0.5 * tf.reduce_sum((tf.sqrt(p) - tf.sqrt(q)) ** 2, axis=-1))
)
total_variation = _compiled(lambda p, q: 0.5 * tf.reduce_sum(tf.abs(p - q), axis=-1))
bhattacharyya = _compiled(
    lambda p, q: -tf.math.log(tf.reduce_sum(tf.sqrt(p) * tf.sqrt(q), axis=-1))
)
chi_square = _compiled(_chi_square)


@tf.function(
    input_signature=[_MATRIX, _MATRIX, tf.TensorSpec(shape=[], dtype=tf.float64)],
    reduce_retracing=True,
)
def _renyi(p: tf.Tensor, q: tf.Tensor, alpha: tf.Tensor) -> tf.Tensor:
    power_sum = tf.reduce_sum(p * tf.exp((alpha - 1) * log_ratio(p, q)), axis=-1)
    return tf.math.log(power_sum) / (alpha - 1)


def renyi(p: tf.Tensor, q: tf.Tensor, alpha: float) -> tf.Tensor:
    """Renyi divergence of order ``alpha``; order 1 is KL."""
    if alpha == 1:
        return kl(p, q)
    return _renyi(p, q, tf.constant(alpha, tf.float64))
