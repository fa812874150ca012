"""Divergences between discrete distributions in numpy, float64, along the last axis.

Each function takes arrays ``p`` and ``q`` of one shape whose last axis holds the
distributions (1-D: one pair; 2-D: one pair per row), already checked to be finite and
non-negative, and returns the value in nats (array of the leading shape; 0-d for 1-D input).

Conventions, as in ``scipy.special.rel_entr``: a term with ``p_i = 0`` contributes 0, a
term with ``p_i > 0`` and ``q_i = 0`` is infinite, and an infinite divergence is returned
as ``inf`` (never ``nan``). No function warns: infinities are results, not accidents.
"""

import numpy as np
import numpy.typing as npt

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
        ratio = np.divide(p, q, out=np.ones_like(p), where=p > 0)
        out = np.log(ratio)
    inexact = (q > 0) & ((ratio < _TINY) | (ratio == np.inf))
    if inexact.any():
        out[inexact] = np.log(p[inexact]) - np.log(q[inexact])
    return out


def kl(p: Array, q: Array) -> Array:
    """Kullback-Leibler divergence ``sum p log(p/q)``; infinite if some ``p_i > 0 = q_i``."""
    return (p * log_ratio(p, q)).sum(axis=-1)


def reverse_kl(p: Array, q: Array) -> Array:
    """``KL(q || p)``; infinite if some ``q_i > 0 = p_i``."""
    return kl(q, p)


def jeffreys(p: Array, q: Array) -> Array:
    """Symmetric KL ``KL(p||q) + KL(q||p)``; infinite unless p and q have the same support."""
    return kl(p, q) + kl(q, p)


def js(p: Array, q: Array) -> Array:
    """Jensen-Shannon divergence ``KL(p||m)/2 + KL(q||m)/2``, ``m = (p+q)/2``; at most ln 2."""
    total = p + q
    return 0.5 * (
        np.sum(p * log_ratio(2 * p, total), axis=-1) + np.sum(q * log_ratio(2 * q, total), axis=-1)
    )


def js_distance(p: Array, q: Array) -> Array:
    """Jensen-Shannon distance, the square root of the JS divergence (a metric)."""
    return np.sqrt(np.maximum(js(p, q), 0.0))


def cross_entropy(p: Array, q: Array) -> Array:
    """Cross-entropy ``-sum p log q`` = H(p) + KL(p||q); infinite if some ``p_i > 0 = q_i``."""
    return kl(p, q) + entropy(p)


def entropy(p: Array, q: Array | None = None) -> Array:
    """Shannon entropy ``-sum p log p`` of p alone (q is ignored); between 0 and ln n."""
    with np.errstate(divide="ignore"):
        log_p = np.log(p, out=np.zeros_like(p), where=p > 0)
    return -np.sum(p * log_p, axis=-1)


def hellinger(p: Array, q: Array) -> Array:
    """Hellinger distance ``sqrt(sum (sqrt p - sqrt q)^2 / 2)``, between 0 and 1."""
    return np.sqrt(0.5 * np.sum((np.sqrt(p) - np.sqrt(q)) ** 2, axis=-1))


def total_variation(p: Array, q: Array) -> Array:
    """Total variation distance ``sum |p - q| / 2``, between 0 and 1."""
    return 0.5 * np.sum(np.abs(p - q), axis=-1)


def bhattacharyya(p: Array, q: Array) -> Array:
    """Bhattacharyya distance ``-log sum sqrt(p q)``; infinite if the supports are disjoint."""
    coefficient = np.sum(np.sqrt(p) * np.sqrt(q), axis=-1)
    with np.errstate(divide="ignore"):
        return -np.log(coefficient)


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
        return np.log(power_sum) / (alpha - 1)


def chi_square(p: Array, q: Array) -> Array:
    """Pearson's chi-square divergence ``sum (p - q)^2 / q``; infinite if some ``p_i > 0 = q_i``
    (also where ``p_i^2`` underflows to 0)."""
    terms = np.zeros(np.broadcast_shapes(p.shape, q.shape))
    np.divide((p - q) ** 2, q, out=terms, where=q > 0)
    terms[(q == 0) & (p > 0)] = np.inf
    return terms.sum(axis=-1)
