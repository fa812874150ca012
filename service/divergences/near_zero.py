"""Divergences of nearly equal distributions, accurate relative to their own small value.

Near ``p = q`` the plain formulas cancel: the terms of ``sum p_i log(p_i / q_i)`` are of
order ``|p_i - q_i|`` while their sum is of order ``(p_i - q_i)^2``, so the sum keeps an
absolute error of about 1e-16 and can fall below the divergence's lower bound. Here each
divergence is a sum of terms of one sign, each computed without cancellation, plus the
exact effect of the sums of p and q differing from each other or from 1 (the sum tolerance
allows that). With ``s = (p - q) / (p + q)``, so that ``p / q = (1 + s) / (1 - s)`` and
``log(p / q) = 2 atanh(s)``:

- KL: ``sum_i [p_i log(p_i/q_i) - p_i + q_i] + (sum p - sum q)``, where each bracket is
  ``(p + q) [s atanh(s) + (atanh(s) - s)] >= 0``;
- Jeffreys: ``sum_i (p_i - q_i) log(p_i/q_i)``, terms that are never negative;
- JS: ``sum_i (p_i + q_i) f(s_i) / 4`` with ``f(s) = 2 s atanh(s) + log(1 - s^2) >= 0``
  (no sum enters);
- Hellinger: ``sqrt p - sqrt q`` as ``(p - q) / (sqrt p + sqrt q)``;
- Bhattacharyya: ``-log1p((sum p - 1)/2 + (sum q - 1)/2 - sum_i (sqrt p_i - sqrt q_i)^2 / 2)``;
- Renyi of order a: ``log1p(sum_i u_i + a (sum p - 1) + (1 - a)(sum q - 1)) / (a - 1)``,
  ``u_i = p_i^a q_i^(1-a) - a p_i - (1 - a) q_i``, all of the sign of ``a - 1``.

The sums of p and q enter through :func:`exact_sums`. Small differences ``p_i - q_i`` are
exact in float64 (Sterbenz), and series replace ``atanh(s) - s`` and ``e^x - 1 - x`` where
their arguments are small. Every function takes rows (last axis) that are finite,
non-negative and free of the zeros that make the divergence infinite (the callers use these
only below :data:`NEAR_ZERO`, where a value is finite), and never answers below 0.
"""

import math
from collections.abc import Callable

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[np.float64]
Formula = Callable[..., Array]

# Below this value a plain formula's absolute error (about 1e-16 times a small multiple of
# the sum of |p_i log(p_i/q_i)|, which Pinsker's inequality bounds by the value itself plus
# sqrt(2 x value)) may exceed 1e-13 of the value: the forms here take over.
NEAR_ZERO = 2.0**-6

_SERIES_BELOW = 0.01


def exact_sums(x: Array, start: float = 0.0) -> Array:
    """``start + sum(x)`` along the last axis, to within a few units in the last place of
    the result: ``math.fsum`` per row, or Neumaier's compensated sum across the columns
    where rows outnumber columns (its error, ``n eps^2 sum |x|``, is below 1e-29 here)."""
    if x.ndim == 1:
        return np.asarray(math.fsum([start, *x.tolist()]))
    rows = x.reshape(-1, x.shape[-1])
    if rows.shape[0] <= rows.shape[1]:
        out = np.array([math.fsum([start, *row]) for row in rows.tolist()])
    else:
        total = np.full(rows.shape[0], start)
        carry = np.zeros(rows.shape[0])
        for column in rows.T:
            added = total + column
            carry += np.where(
                np.abs(total) >= np.abs(column), (total - added) + column, (column - added) + total
            )
            total = added
        out = total + carry
    return out.reshape(x.shape[:-1])


def _atanh_minus_s(s: Array) -> Array:
    """``atanh(s) - s`` without cancellation: its series where ``|s|`` is small."""
    z = s * s
    series = s * z * (1 / 3 + z * (1 / 5 + z * (1 / 7 + z * (1 / 9 + z / 11))))
    with np.errstate(divide="ignore"):
        return np.where(np.abs(s) < _SERIES_BELOW, series, np.arctanh(s) - s)


def halves(p: Array, q: Array) -> tuple[Array, Array]:
    """``p + q`` and ``s = (p - q) / (p + q)`` (0 where both are 0)."""
    total = p + q
    with np.errstate(invalid="ignore", divide="ignore"):
        s = np.where(total > 0, (p - q) / total, 0.0)
    return total, s


def log_ratio(p: Array, q: Array, s: Array) -> Array:
    """``log(p / q)``: ``2 atanh(s)`` near 1; ``log p - log q`` from a factor of 3 on, where
    ``s`` would round to +-1 and ``p / q`` may overflow or be subnormal."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(np.abs(s) <= 0.5, 2 * np.arctanh(s), np.log(p) - np.log(q))


def kl(p: Array, q: Array) -> Array:
    """``KL(p || q)`` accurate relative to itself (see the module), never below 0."""
    total, s = halves(p, q)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        near = total * (s * np.arctanh(s) + _atanh_minus_s(s))
        far = p * log_ratio(p, q, s) - (p - q)  # no cancellation there
        terms = np.where(np.abs(s) <= 0.5, near, far)
    terms = np.where(p > 0, terms, q)  # p_i = 0: the bracket is q_i
    difference = exact_sums(np.subtract(p, q))
    return np.maximum(terms.sum(axis=-1) + difference, 0.0)


def jeffreys_terms(p: Array, q: Array) -> Array:
    """``(p_i - q_i) log(p_i/q_i)`` elementwise, never negative: 0 where ``p_i = q_i``,
    ``inf`` where exactly one of them is 0."""
    _, s = halves(p, q)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(s != 0, np.subtract(p, q) * log_ratio(p, q, s), 0.0)


def jeffreys(p: Array, q: Array) -> Array:
    """``KL(p||q) + KL(q||p) = sum_i (p_i - q_i) log(p_i/q_i)``: terms of one sign each,
    so no sum of p or q enters (each KL alone, held at 0, would lose the other's share)."""
    return np.maximum(jeffreys_terms(p, q).sum(axis=-1), 0.0)


def js_terms(p: Array, q: Array) -> Array:
    """``(p_i + q_i) f(s_i) / 4`` elementwise (see the module), never negative."""
    total, s = halves(p, q)
    with np.errstate(divide="ignore", invalid="ignore"):
        near = 2 * s * np.arctanh(s) + np.log1p(-s * s)
        # (1+s) log(1+s) + (1-s) log(1-s), with 0 log 0 = 0 at s = -1 and s = 1.
        far = np.where(s > -1, (1 + s) * np.log1p(s), 0.0) + np.where(
            s < 1, (1 - s) * np.log1p(-s), 0.0
        )
    return 0.25 * total * np.where(np.abs(s) <= 0.5, near, far)


def js(p: Array, q: Array) -> Array:
    """Jensen-Shannon divergence accurate relative to itself, in ``[0, ln 2]``."""
    return np.clip(np.sum(js_terms(p, q), axis=-1), 0.0, math.log(2))


def _root_gaps(p: Array, q: Array) -> Array:
    """``sqrt p - sqrt q`` as ``(p - q) / (sqrt p + sqrt q)``: no cancellation."""
    roots = np.sqrt(p) + np.sqrt(q)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(roots > 0, np.subtract(p, q) / roots, 0.0)


def hellinger(p: Array, q: Array) -> Array:
    """Hellinger distance with its differences of square roots free of cancellation."""
    gaps = _root_gaps(p, q)
    return np.sqrt(0.5 * np.sum(gaps * gaps, axis=-1))


def bhattacharyya(p: Array, q: Array) -> Array:
    """Bhattacharyya distance accurate relative to itself, never below 0."""
    gaps = _root_gaps(p, q)
    offsets = exact_sums(np.concatenate(np.broadcast_arrays(p, q), axis=-1), -2.0)
    with np.errstate(divide="ignore"):
        return np.maximum(-np.log1p(0.5 * offsets - 0.5 * np.sum(gaps * gaps, axis=-1)), 0.0)


def _expm1_minus_x_series(alpha: float, terms: int = 12) -> Array:
    """Coefficients ``c_k`` of ``r^a - 1 - a (r - 1) = sum_k c_k L^k`` (``L = log r``,
    ``k >= 2``): ``c_k = a (a^(k-1) - 1) / k!``, each without cancellation."""
    log_alpha = math.log(alpha) if alpha > 0 else -math.inf
    return np.array(
        [alpha * math.expm1((k - 1) * log_alpha) / math.factorial(k) for k in range(2, terms)]
    )


def renyi(p: Array, q: Array, alpha: float) -> Array:
    """Renyi divergence of order ``alpha`` (not 1) accurate relative to itself, never below
    0. Near ``alpha = 1`` the terms lose about ``log10(1 / |alpha - 1|)`` digits where
    ``|log(p_i/q_i)|`` is not small."""
    _, s = halves(p, q)
    logs = log_ratio(p, q, s)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        direct = np.expm1(alpha * logs) - alpha * np.expm1(logs)
        coefficients = _expm1_minus_x_series(alpha)
        series = np.zeros_like(logs)
        for c in coefficients[::-1]:
            series = (series + c) * logs
        series *= logs
        small = np.abs(logs) * max(alpha, 1.0) < 0.05
        u = q * np.where(small, series, direct)
        # A zero in p or q: p^a q^(1-a) is 0 there (alpha below 1, or p_i = 0).
        u = np.where((p > 0) & (q > 0), u, -alpha * p - (1 - alpha) * q)
    offsets = alpha * exact_sums(p, -1.0) + (1 - alpha) * exact_sums(q, -1.0)
    value = np.log1p(np.sum(u, axis=-1) + offsets) / (alpha - 1)
    return np.maximum(value, 0.0)
