"""Divergences between discrete distributions in numpy, float64, along the last axis.

Each function takes arrays ``p`` and ``q`` of one shape whose last axis holds the
distributions (1-D: one pair; 2-D: one pair per row), already checked to be finite and
non-negative, and returns the value in nats (array of the leading shape; 0-d for 1-D input).

Conventions, as in ``scipy.special.rel_entr``: a term with ``p_i = 0`` contributes 0, a
term with ``p_i > 0`` and ``q_i = 0`` is infinite, and an infinite divergence is returned
as ``inf`` (never ``nan``). A negative zero is a zero. No function warns: infinities are
results, not accidents.

Each value is accurate relative to itself, near the divergence's minimum too, and never
outside its range: the plain formulas here are right to about 1e-16 absolutely, and below
:data:`~service.divergences.near_zero.NEAR_ZERO` (where that is not enough) the forms of
:mod:`service.divergences.near_zero` recompute the value.
"""

import math

import numpy as np
import numpy.typing as npt

from service.divergences import near_zero
from service.divergences.near_zero import NEAR_ZERO

Array = npt.NDArray[np.float64]

_TINY = np.finfo(np.float64).tiny


def log_ratio(p: Array, q: Array) -> Array:
    """``log(p / q)`` elementwise; 0 where ``p = 0``; ``+inf`` where ``p > 0`` and ``q = 0``.

    Where ``p / q`` overflows or underflows float64 (subnormal inputs) it falls back to
    ``log p - log q``, so finite terms stay finite and accurate.
    """
    with np.errstate(divide="ignore", over="ignore", under="ignore", invalid="ignore"):
        ratio = p / q
        # The common case, found in two reductions: every ratio a normal float64 (NaN,
        # from 0/0, fails the comparison).
        if ratio.size and ratio.min() >= _TINY and ratio.max() < np.inf:
            return np.log(ratio)
        p, q = np.broadcast_arrays(p, q)  # a single q row against every p row, or the reverse
        # abs: p / -0.0 is -inf, and a negative zero is a zero.
        ratio = np.abs(np.divide(p, q, out=np.ones_like(p), where=p > 0))
        out = np.log(ratio)
    inexact = (q > 0) & ((ratio < _TINY) | (ratio == np.inf))
    if inexact.any():
        out[inexact] = np.log(p[inexact]) - np.log(q[inexact])
    return out


def _refined(values: Array, p: Array, q: Array, accurate: near_zero.Formula, *args: float) -> Array:
    """``values`` of a plain formula, recomputed by ``accurate`` where below ``NEAR_ZERO``."""
    small = values < NEAR_ZERO
    if not np.any(small):
        return values
    if np.ndim(values) == 0:
        return accurate(p, q, *args)
    p_rows, q_rows = np.broadcast_arrays(p, q)
    values = np.array(values)
    values[small] = accurate(p_rows[small], q_rows[small], *args)
    return values


def _plain_kl(p: Array, q: Array) -> Array:
    return (p * log_ratio(p, q)).sum(axis=-1)


def keras_kl(p: Array, q: Array) -> Array:
    """KL as ``keras.losses.kl_divergence`` computes it on the clipped values of keras mode
    (all positive): ``sum p log(p/q)`` plainly, not refined near 0 and not held to 0 (the
    clipped vectors no longer sum to 1, and Keras may answer a tiny negative number)."""
    with np.errstate(all="ignore"):
        return np.sum(p * np.log(p / q), axis=-1)


def kl(p: Array, q: Array) -> Array:
    """Kullback-Leibler divergence ``sum p log(p/q)``; infinite if some ``p_i > 0 = q_i``."""
    return _refined(_plain_kl(p, q), p, q, near_zero.kl)


def reverse_kl(p: Array, q: Array) -> Array:
    """``KL(q || p)``; infinite if some ``q_i > 0 = p_i``."""
    return kl(q, p)


def jeffreys(p: Array, q: Array) -> Array:
    """Symmetric KL ``KL(p||q) + KL(q||p)``; infinite unless p and q have the same support."""
    return _refined(_plain_kl(p, q) + _plain_kl(q, p), p, q, near_zero.jeffreys)


def js(p: Array, q: Array) -> Array:
    """Jensen-Shannon divergence ``KL(p||m)/2 + KL(q||m)/2``, ``m = (p+q)/2``; at most ln 2."""
    total = p + q
    values = 0.5 * (
        np.sum(p * log_ratio(2 * p, total), axis=-1) + np.sum(q * log_ratio(2 * q, total), axis=-1)
    )
    return np.minimum(_refined(values, p, q, near_zero.js), math.log(2))


def js_distance(p: Array, q: Array) -> Array:
    """Jensen-Shannon distance, the square root of the JS divergence (a metric)."""
    return np.sqrt(js(p, q))


def cross_entropy(p: Array, q: Array) -> Array:
    """Cross-entropy ``-sum p log q`` = H(p) + KL(p||q); infinite if some ``p_i > 0 = q_i``.

    Its terms are never negative (q_i <= 1), so the plain sum is accurate; it is held to
    at least H(p), which sums off 1 within the tolerance could undercut by 1e-16 or so."""
    with np.errstate(divide="ignore", invalid="ignore"):
        minus_log_q = -np.log(np.abs(q))  # a negative zero is a zero
        terms = np.where(p > 0, p * minus_log_q, 0.0)
    return np.maximum(terms.sum(axis=-1), entropy(p))


def entropy(p: Array, q: Array | None = None) -> Array:
    """Shannon entropy ``-sum p log p`` of p alone (q is ignored); between 0 and ln n."""
    with np.errstate(divide="ignore"):
        log_p = np.log(p, out=np.zeros_like(p), where=p > 0)
    return np.maximum(-np.sum(p * log_p, axis=-1), 0.0)  # below 0 only if some p_i > 1


def hellinger(p: Array, q: Array) -> Array:
    """Hellinger distance ``sqrt(sum (sqrt p - sqrt q)^2 / 2)``, between 0 and 1."""
    values = np.sqrt(0.5 * np.sum((np.sqrt(p) - np.sqrt(q)) ** 2, axis=-1))
    return np.minimum(_refined(values, p, q, near_zero.hellinger), 1.0)


def total_variation(p: Array, q: Array) -> Array:
    """Total variation distance ``sum |p - q| / 2``, between 0 and 1."""
    return np.minimum(0.5 * np.sum(np.abs(p - q), axis=-1), 1.0)


def bhattacharyya(p: Array, q: Array) -> Array:
    """Bhattacharyya distance ``-log sum sqrt(p q)``; infinite if the supports are disjoint."""
    coefficient = np.sum(np.sqrt(p) * np.sqrt(q), axis=-1)
    with np.errstate(divide="ignore"):
        values = -np.log(coefficient)
    return _refined(values, p, q, near_zero.bhattacharyya)


def renyi(p: Array, q: Array, alpha: float) -> Array:
    """Renyi divergence of order ``alpha >= 0``: ``log(sum p^a q^(1-a)) / (a - 1)``.

    Order 1 is KL. For ``alpha > 1`` it is infinite if some ``p_i > 0 = q_i``; for
    ``alpha < 1`` only if the supports are disjoint.
    """
    if alpha == 1:
        return kl(p, q)
    # p^a q^(1-a) = p exp((a-1) log(p/q)), which keeps log_ratio's care with 0 and subnormals.
    with np.errstate(over="ignore", divide="ignore"):
        power_sum = np.sum(p * np.exp((alpha - 1) * log_ratio(p, q)), axis=-1)
        values = np.log(power_sum) / (alpha - 1)
    return _refined(values, p, q, near_zero.renyi, alpha)


def chi_square_terms(p: Array, q: Array) -> Array:
    """``(p - q)^2 / q`` elementwise: 0 where both are 0, ``inf`` where ``p_i > 0 = q_i``."""
    terms = np.zeros(np.broadcast_shapes(p.shape, q.shape))
    np.divide((p - q) ** 2, q, out=terms, where=q > 0)
    terms[(q == 0) & (p > 0)] = np.inf
    return terms


def chi_square(p: Array, q: Array) -> Array:
    """Pearson's chi-square divergence ``sum (p - q)^2 / q``; infinite if some ``p_i > 0 = q_i``
    (also where ``p_i^2`` underflows to 0)."""
    return chi_square_terms(p, q).sum(axis=-1)


def alpha(p: Array, q: Array, alpha: float) -> Array:
    """Amari's alpha-divergence of order ``alpha`` (any real): ``sum [p^a q^(1-a) - a p -
    (1 - a) q] / (a (a - 1))``, ``(sum p^a q^(1-a) - 1) / (a (a - 1))`` for distributions.

    Order 1 is ``sum p log(p/q) - p + q`` (KL for distributions) and order 0 the same with p
    and q swapped, reached without a division by 0 or a loss of digits near them: orders
    below 1/2 are computed as ``D_(1-a)(q || p)`` (the same value), and each term as
    ``q [e^L (e^((a-1) L) - 1) / (a - 1) - (e^L - 1)] / a`` with ``L = log(p/q)``, by its
    series in ``L`` where ``|L|`` is small. Terms are never negative. Infinite where some
    ``p_i > 0 = q_i`` for orders from 1 on, where some ``q_i > 0 = p_i`` from 0 down.
    """
    if alpha < 0.5:
        return _amari(q, p, 1.0 - alpha)
    return _amari(p, q, alpha)


def _amari(p: Array, q: Array, a: float) -> Array:
    """Amari's divergence for an order ``a >= 1/2`` (see :func:`alpha`)."""
    return np.maximum(amari_terms(p, q, a).sum(axis=-1), 0.0)


def amari_series(log_ratio_: Array, a: float) -> Array:
    """``[e^L (e^((a-1) L) - 1) / (a - 1) - (e^L - 1)] / a`` at ``L = log_ratio_`` by its
    series in ``L`` (for ``|L| max(a, 1) < 0.05``): Amari's term of order ``a`` over ``q``."""
    # The series' coefficients divided by a (a - 1): (1 + a + ... + a^(k-2)) / k!, k >= 2.
    coefficients = [math.fsum(a**j for j in range(k - 1)) / math.factorial(k) for k in range(2, 14)]
    series = np.zeros_like(log_ratio_)
    for c in coefficients[::-1]:
        series = series * log_ratio_ + c
    return series * log_ratio_ * log_ratio_


def amari_terms(p: Array, q: Array, a: float) -> Array:
    """The terms of Amari's divergence of order ``a >= 1/2`` (see :func:`alpha`), each never
    negative: ``inf`` where ``p_i > 0 = q_i`` from order 1 on."""
    _, s = near_zero.halves(p, q)
    log_ratio_ = near_zero.log_ratio(p, q, s)
    with np.errstate(all="ignore"):
        shift = a - 1
        growth = np.expm1(shift * log_ratio_) / shift if shift else log_ratio_
        direct = (np.exp(log_ratio_) * growth - np.expm1(log_ratio_)) / a
        small = np.abs(log_ratio_) * max(a, 1.0) < 0.05
        terms = q * np.where(small, amari_series(log_ratio_, a), direct)
        # Zeros: p^a q^(1-a) is 0 there (or infinite, from order 1 on, where q_i = 0 < p_i).
        where_q_zero = np.inf if a >= 1 else p / (1 - a)
        return np.where(q > 0, np.where(p > 0, terms, q / a), np.where(p > 0, where_q_zero, 0.0))


def triangular_terms(p: Array, q: Array) -> Array:
    """``(p - q)^2 / (p + q)`` elementwise, 0 where ``p_i = q_i = 0``."""
    total = p + q
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, np.subtract(p, q) ** 2 / total, 0.0)


def triangular(p: Array, q: Array) -> Array:
    """Triangular discrimination ``sum (p - q)^2 / (p + q)``, 0 where ``p_i = q_i = 0``;
    between 0 and 2. Terms are never negative, and ``p - q`` of nearly equal numbers is
    exact: accurate near 0 too."""
    return np.minimum(triangular_terms(p, q).sum(axis=-1), 2.0)
