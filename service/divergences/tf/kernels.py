"""The formulas of :mod:`service.divergences.formulas` in TensorFlow, for batches.

Each divergence is a :class:`~service.divergences.tf.engine.BatchKernel` named as its
member of the registry (``service.divergences.catalog``) around a body written here.
Importing this module imports TensorFlow; only batch kernels and training do.

How a body is written:

- Once, fused: every element's term in one pass, with no ``tf.cond``, the logarithm a
  parameter (``tf.math.log`` on the plain graph, ``fast_log`` in the XLA chunks), row
  sums by :func:`row_sums`.
- Where TensorFlow cannot compute a term the way the numpy path does, the term is NaN,
  which no divergence of valid inputs is, so it marks its row: a ratio ``p/q`` that
  underflows or overflows float64 (numpy falls back to ``log p - log q`` there), and any
  subnormal element (TensorFlow's CPU kernels flush subnormals to zero, which made
  ``p = [.5, .5], q = [1 - 1e-310, 1e-310]`` infinite, not 356.2). The engine then
  computes marked rows, rare, with the numpy formula itself: both paths give the same
  answer for them, infinite ones included.
- A value below :data:`~service.divergences.near_zero.NEAR_ZERO` marks its row too: there
  the plain formulas may have lost digits to cancellation (nearly equal distributions), and
  the numpy path recomputes the row accurately (:mod:`service.divergences.near_zero`).
"""

from typing import Any

import numpy as np
import tensorflow as tf

from service.divergences import formulas
from service.divergences.near_zero import NEAR_ZERO
from service.divergences.tf.engine import BatchKernel, Log
from service.divergences.tf.fast_log import TINY

_SMALLEST_NORMAL_BITS = int(np.float64(TINY).view(np.int64))
_INF = float("inf")
_NAN = float("nan")
_LN2 = float(np.log(2))


def _subnormal(x: tf.Tensor) -> tf.Tensor:
    """Where ``x`` (non-negative) is subnormal, read from its bits: a comparison would see 0."""
    bits = tf.bitcast(x, tf.int64)
    return (bits > 0) & (bits < _SMALLEST_NORMAL_BITS)


def _mark(terms: tf.Tensor, *inputs: tf.Tensor) -> tf.Tensor:
    """``terms`` with NaN where an element of one of ``inputs`` is subnormal."""
    unsure = _subnormal(inputs[0])
    for x in inputs[1:]:
        unsure |= _subnormal(x)
    return tf.where(unsure, tf.constant(_NAN, tf.float64), terms)


def log_ratio(p: tf.Tensor, q: tf.Tensor, log: Log = tf.math.log) -> tf.Tensor:
    """``log(p / q)``; 0 where ``p = 0``; ``+inf`` where ``p > 0 = q``; NaN where ``p / q``
    underflows or overflows float64 (the numpy path's ``log p - log q`` fallback). ``log``
    only ever sees ratios in ``[tiny, inf]``."""
    ratio = tf.where(p > 0, tf.abs(p / q), tf.ones_like(p))  # p / -0.0 is -inf
    inexact = (q > 0) & ((ratio < TINY) | (ratio == _INF))
    return tf.where(inexact, tf.constant(_NAN, tf.float64), log(ratio))


def row_sums(terms: tf.Tensor) -> tf.Tensor:
    """Each row's sum. Where the row length is static (the XLA chunks), a product with a
    vector of ones: XLA compiles ``reduce_sum`` over rows into a second pass over the
    materialized terms (and a third over partial sums), slower by about 0.4 ns an element."""
    columns = terms.shape[-1]
    if columns is None:
        return tf.reduce_sum(terms, axis=-1)
    return tf.linalg.matvec(terms, tf.ones([columns], terms.dtype))


def _near_zero_marked(values: tf.Tensor) -> tf.Tensor:
    """``values`` with NaN where below ``NEAR_ZERO``: the numpy path recomputes those rows."""
    return tf.where(values < NEAR_ZERO, tf.constant(_NAN, tf.float64), values)


def _at_most(values: tf.Tensor, bound: float) -> tf.Tensor:
    """``values`` clipped to ``bound`` from above, NaN (a marked row) kept."""
    return tf.where(values > bound, tf.constant(bound, tf.float64), values)


def _not_below_tiny(x: tf.Tensor) -> tf.Tensor:
    """NaN where ``x`` is below the smallest normal float64 (0 included): TensorFlow may have
    flushed a subnormal there; numpy decides those rows."""
    return tf.where(x < TINY, tf.constant(_NAN, tf.float64), x)


def _kl(p: tf.Tensor, q: tf.Tensor, log: Log) -> tf.Tensor:
    return _near_zero_marked(row_sums(_mark(p * log_ratio(p, q, log), p, q)))


def _entropy(p: tf.Tensor, log: Log) -> tf.Tensor:
    # A subnormal p_i reaches the log (any value there), but _mark drops its term.
    log_p = log(tf.where(p > 0, p, tf.ones_like(p)))
    entropy = -row_sums(_mark(p * log_p, p))
    return tf.where(entropy < 0, tf.zeros_like(entropy), entropy)  # only if some p_i > 1


def _cross_entropy(p: tf.Tensor, q: tf.Tensor, log: Log) -> tf.Tensor:
    # -p log q: terms never negative, so no cancellation; held to at least H(p) as numpy does.
    positive = q > 0
    infinite_or_zero = tf.where(p > 0, tf.constant(_INF, tf.float64), tf.zeros_like(p))
    terms = tf.where(positive, -p * log(tf.where(positive, q, tf.ones_like(q))), infinite_or_zero)
    values = row_sums(_mark(terms, p, q))
    entropy = _entropy(p, log)
    return tf.where(values < entropy, entropy, values)


def _js(p: tf.Tensor, q: tf.Tensor, log: Log) -> tf.Tensor:
    total = p + q
    values = 0.5 * (
        row_sums(_mark(p * log_ratio(2 * p, total, log), p, q))
        + row_sums(q * log_ratio(2 * q, total, log))
    )
    return _at_most(_near_zero_marked(values), _LN2)


def _hellinger(p: tf.Tensor, q: tf.Tensor, log: Log) -> tf.Tensor:
    value = tf.sqrt(0.5 * row_sums(_mark((tf.sqrt(p) - tf.sqrt(q)) ** 2, p, q)))
    return _at_most(_near_zero_marked(value), 1.0)


def _triangular(p: tf.Tensor, q: tf.Tensor, log: Log) -> tf.Tensor:
    # Terms never negative and p - q exact where they are close: accurate as it stands.
    total = p + q
    terms = tf.where(
        total > 0, (p - q) ** 2 / tf.where(total > 0, total, tf.ones_like(total)), tf.zeros_like(p)
    )
    return _at_most(row_sums(_mark(terms, p, q)), 2.0)


def _alpha(p: tf.Tensor, q: tf.Tensor, alpha: tf.Tensor, log: Log) -> tf.Tensor:
    # As formulas.alpha: orders below 1/2 as D_(1-a)(q || p), each term
    # q [e^L (e^((a-1) L) - 1) / (a - 1) - (e^L - 1)] / a, the zeros by their limits. Rows
    # below NEAR_ZERO (where small |L| lose digits here) go to the numpy path's series.
    swap = alpha < 0.5
    order = tf.where(swap, 1 - alpha, alpha)
    x, y = tf.where(swap, q, p), tf.where(swap, p, q)
    logs = log_ratio(x, y, log)
    shift = order - 1
    one = tf.ones_like(shift)
    growth = tf.where(
        shift == 0, logs, tf.math.expm1(shift * logs) / tf.where(shift == 0, one, shift)
    )
    terms = y * (tf.exp(logs) * growth - tf.math.expm1(logs)) / order
    where_y_zero = tf.where(order >= 1, tf.constant(_INF, tf.float64), x / (1 - order))
    terms = tf.where(
        y > 0,
        tf.where(x > 0, terms, y / order),
        tf.where(x > 0, where_y_zero, tf.zeros_like(terms)),
    )
    return _near_zero_marked(row_sums(_mark(terms, p, q)))


def _total_variation(p: tf.Tensor, q: tf.Tensor, log: Log) -> tf.Tensor:
    return _at_most(0.5 * row_sums(_mark(tf.abs(p - q), p, q)), 1.0)


def _bhattacharyya(p: tf.Tensor, q: tf.Tensor, log: Log) -> tf.Tensor:
    coefficient = _not_below_tiny(row_sums(_mark(tf.sqrt(p) * tf.sqrt(q), p, q)))
    return _near_zero_marked(-tf.math.log(coefficient))


def _chi_square(p: tf.Tensor, q: tf.Tensor, log: Log) -> tf.Tensor:
    # Infinite where p_i > 0 = q_i even when p_i^2 underflows (p_i below 1.5e-162).
    infinite_or_zero = tf.where(p > 0, tf.constant(_INF, tf.float64), tf.zeros_like(p))
    terms = tf.where(q > 0, (p - q) ** 2 / q, infinite_or_zero)
    return row_sums(_mark(terms, p, q))


def _renyi(p: tf.Tensor, q: tf.Tensor, alpha: tf.Tensor, log: Log) -> tf.Tensor:
    # p^a q^(1-a) = p exp((a-1) log(p/q)), as the numpy path computes it.
    power_sum = row_sums(_mark(p * tf.exp((alpha - 1) * log_ratio(p, q, log)), p, q))
    return _near_zero_marked(tf.math.log(_not_below_tiny(power_sum)) / (alpha - 1))


class _Renyi(BatchKernel):
    """Renyi divergence of order ``alpha`` (the one scalar); order 1 is KL."""

    def values(self, p: Any, q: Any, *args: float, xla: bool = True) -> np.ndarray:
        if args == (1,):
            return kl.values(p, q, xla=xla)
        return super().values(p, q, *args, xla=xla)


kl = BatchKernel("kl", _kl, formulas.kl)
reverse_kl = BatchKernel("reverse_kl", lambda p, q, log: _kl(q, p, log), formulas.reverse_kl)
jeffreys = BatchKernel(
    "jeffreys", lambda p, q, log: _kl(p, q, log) + _kl(q, p, log), formulas.jeffreys
)
js = BatchKernel("js", _js, formulas.js)
js_distance = BatchKernel(
    "js_distance", lambda p, q, log: tf.sqrt(_js(p, q, log)), formulas.js_distance
)
cross_entropy = BatchKernel("cross_entropy", _cross_entropy, formulas.cross_entropy)
entropy = BatchKernel("entropy", lambda p, q, log: _entropy(p, log), formulas.entropy)
hellinger = BatchKernel("hellinger", _hellinger, formulas.hellinger)
total_variation = BatchKernel("total_variation", _total_variation, formulas.total_variation)
bhattacharyya = BatchKernel("bhattacharyya", _bhattacharyya, formulas.bhattacharyya)
chi_square = BatchKernel("chi_square", _chi_square, formulas.chi_square)
renyi = _Renyi("renyi", _renyi, formulas.renyi, scalars=1)
alpha = BatchKernel("alpha", _alpha, formulas.alpha, scalars=1)
triangular = BatchKernel("triangular", _triangular, formulas.triangular)
