"""Two distributions given by log-weights, normalised and set out for the members of
:mod:`service.divergences.log_space` to be written in, accurately near p = q too.

On the common support S (both finite) of ``a`` and ``b``, ``d = a - b`` is taken exactly
(with its rounding error kept: Knuth's two-sum) and centred on its mean under p, ``e``;
:meth:`Pair.cumulant` is ``K(s) = log E[exp(s e)]`` as ``log1p(E[exp(s e) - 1 - s e] + ...)``,
a sum of terms of one sign, and :meth:`Pair.log_ratio` the exact ``log(p_i / q_i)``.
Where the centred form would add large numbers (elements far apart: a logit masked as -1e4
in p only), the same quantities are taken from the normalised logarithms instead.
"""

import functools
import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[np.float64]
Mask = npt.NDArray[np.bool_]

_SERIES_BELOW = 0.5
_LOG1P_SERIES_BELOW = 0.1
_LARGE = 1e300  # E[exp(s e) - 1 - s e] beyond which K(s) is a log-sum-exp
# 1/k! for k >= 2: exp(x) - 1 - x = sum_k x^k / k!, to within 1e-22 for |x| < 1/2.
_SERIES = [1 / math.factorial(k) for k in range(2, 20)]


def log_probabilities(a: Array) -> Array:
    """``a - logsumexp(a)`` along the last axis, accurate relative to each element: the
    normaliser is ``m + log1p(rest)``, ``rest`` the sum over all elements but one largest,
    so an element near probability 1 keeps its small logarithm."""
    top = a.max(axis=-1, keepdims=True)
    shifted = a - top  # at most 0; -inf for zeros
    with np.errstate(under="ignore"):
        weights = np.exp(shifted)
    first = np.argmax(a, axis=-1)[..., np.newaxis]
    np.put_along_axis(weights, first, 0.0, axis=-1)
    return shifted - np.log1p(weights.sum(axis=-1, keepdims=True))


def _exp_minus_one_minus(x: Array) -> Array:
    """``exp(x) - 1 - x`` (never negative) without cancellation: its series near 0."""
    with np.errstate(over="ignore", invalid="ignore"):  # the series far out: not used
        direct = np.expm1(x) - x
        series = np.zeros_like(x)
        for c in _SERIES[::-1]:
            series = (series + c) * x
        return np.where(np.abs(x) < _SERIES_BELOW, series * x, direct)


def _log1p_minus(u: Array) -> Array:
    """``log1p(u) - u`` without cancellation: its series where ``|u|`` is small."""
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        series = np.zeros_like(u)
        for k in range(16, 1, -1):
            series = (series + (-1) ** (k + 1) / k) * u
        return np.where(np.abs(u) < _LOG1P_SERIES_BELOW, series * u, np.log1p(u) - u)


def _log_mass(lp: Array, outside: Array, where: Mask) -> Array:
    """log of the mass of p (log-probabilities ``lp``) on ``where``, given the mass
    ``outside`` it: ``log1p(-outside)`` while that is below 1/2, a log-sum-exp above."""
    with np.errstate(divide="ignore", under="ignore"):
        inside = np.where(where, lp, -np.inf)
        top = np.max(inside, axis=-1)
        finite = np.isfinite(top)
        safe_top = np.where(finite, top, 0.0)
        summed = safe_top + np.log(np.exp(inside - safe_top[..., np.newaxis]).sum(axis=-1))
        return np.where(outside < 0.5, np.log1p(-np.minimum(outside, 0.5)), summed)


@dataclass(frozen=True)
class Pair:
    """p and q normalised in log space, and what the members are written in (see module)."""

    lp: Array
    lq: Array
    both: Mask  # the common support S
    p_only: Mask  # p_i > 0 = q_i
    q_only: Mask  # q_i > 0 = p_i
    log_weights: Array  # log of p on S over its mass there, -inf elsewhere
    weights: Array  # their exp
    centred: Array  # e: d on S minus its mean under ``weights``, 0 elsewhere
    residual: Array  # E[e], what rounding left of 0
    offset: Array  # c, with log(p_i/q_i) = e_i + c up to the masses (a column)
    log_w_p: Array  # log of p's mass on S (-inf where S is empty)
    log_w_q: Array

    @classmethod
    def of(cls, a: Array, b: Array, temperature: float = 1.0) -> "Pair":
        """The pair of ``a / temperature`` and ``b / temperature``."""
        a, b = np.broadcast_arrays(a, b)
        lp, lq = log_probabilities(a / temperature), log_probabilities(b / temperature)
        p_positive, q_positive = a > -np.inf, b > -np.inf
        both = p_positive & q_positive
        with np.errstate(under="ignore"):
            p, q = np.exp(lp), np.exp(lq)
        log_w_p = _log_mass(lp, np.where(p_positive & ~q_positive, p, 0.0).sum(axis=-1), both)
        log_w_q = _log_mass(lq, np.where(q_positive & ~p_positive, q, 0.0).sum(axis=-1), both)
        with np.errstate(invalid="ignore", over="ignore", under="ignore"):
            log_weights = np.where(both, lp - log_w_p[..., np.newaxis], -np.inf)
            weights = np.exp(log_weights)
            # d = a - b exactly as difference + error (Knuth's two-sum of a and -b).
            d = np.where(both, a - b, 0.0)
            back = d - a
            error = np.where(both, (a - (d - back)) + (-b - back), 0.0)
            # Centred first on the element where p is heaviest, d_j + error_j: exact where d
            # is close to it (Sterbenz), exactly 0 where d is constant; divided by the
            # temperature only then (an ulp of d itself would be lost before).
            heaviest = np.argmax(log_weights, axis=-1)[..., np.newaxis]
            at = functools.partial(np.take_along_axis, indices=heaviest, axis=-1)
            centred = np.where(both, ((d - at(d)) + (error - at(error))) / temperature, 0.0)
            # Then twice on the mean under p: what is left, E[e], is an ulp of an ulp.
            for _ in range(2):
                mean = (weights * centred).sum(axis=-1, keepdims=True)
                centred = np.where(both, centred - mean, 0.0)
            # log(p/q) - e, a constant of the row, read where p is heaviest.
            offset = np.take_along_axis(lp - lq - centred, heaviest, axis=-1)
        return cls(
            lp, lq, both, p_positive & ~q_positive, q_positive & ~p_positive, log_weights,
            weights, centred, (weights * centred).sum(axis=-1), offset, log_w_p, log_w_q,
        )  # fmt: skip

    def _exponents(self, s: float) -> Array:
        """``log(w_i exp(s e_i))`` on S: ``log w_i + s e_i``, or ``(1 + s) log p_i - s log q_i``
        less the row's constants, whichever adds the smaller numbers (the first adds large
        ones where p_i is tiny but q_i is not, e.g. a logit masked as -1e4 in p only)."""
        scaled = s * self.centred
        with np.errstate(invalid="ignore", over="ignore"):  # S empty: nothing of it is used
            constants = self.log_w_p[..., np.newaxis] + s * self.offset
            direct = (1 + s) * self.lp - s * self.lq - constants
            centred = self.log_weights + scaled
            as_centred = np.abs(self.log_weights) + np.abs(scaled) <= (
                np.abs((1 + s) * self.lp) + np.abs(s * self.lq) + np.abs(constants)
            )
            return np.where(self.both, np.where(as_centred, centred, direct), -np.inf)

    def cumulant(self, s: float) -> Array:
        """``K(s) = log E[exp(s (e - E[e]))]`` under p on S (0 where S is empty): the
        cumulant of the exactly centred log-ratio, ``A + (log1p(u) - u)`` with ``A =
        E[exp(s e) - 1 - s e]`` (terms never negative) and ``u = A + s E[e]``: ``E[e]``, what
        rounding left of 0, may be far larger than ``A``, and cancels exactly. Where ``A``
        overflows, a log-sum-exp."""
        scaled = s * self.centred
        exponents = self._exponents(s)
        with np.errstate(invalid="ignore", over="ignore", under="ignore"):
            far = np.exp(exponents) - self.weights * (1 + scaled)
            terms = np.where(
                np.abs(scaled) < _SERIES_BELOW,
                self.weights * _exp_minus_one_minus(scaled),
                far,
            )
            spread = np.where(self.both, terms, 0.0).sum(axis=-1)
            u = spread + s * self.residual
            plain = np.where(
                np.abs(u) < _LOG1P_SERIES_BELOW,
                spread + _log1p_minus(u),
                np.log1p(u) - s * self.residual,
            )
        large = ~(spread < _LARGE)
        if not large.any():
            return plain
        return np.where(large, log_sum_exp(exponents) - s * self.residual, plain)

    def log_ratio(self) -> Array:
        """``log(p_i / q_i)`` on S (0 elsewhere), accurate where it is small too: from the
        centred form or as ``log p - log q``, whichever adds the smaller numbers (the
        centred one adds large ones where a few elements are far apart, e.g. masked)."""
        centred = self.centred - self.residual[..., np.newaxis]
        with np.errstate(invalid="ignore"):  # S empty: -inf - -inf, unused
            shift = (self.cumulant(-1.0) + self.log_w_p - self.log_w_q)[..., np.newaxis]
            centred_error = np.abs(centred) + np.abs(shift)
            direct_error = np.abs(self.lp) + np.abs(self.lq)
            ratio = np.where(centred_error < direct_error, centred + shift, self.lp - self.lq)
        return np.where(self.both, ratio, 0.0)


def log_sum_exp(x: Array) -> Array:
    """``log sum exp(x)`` along the last axis; -inf for a row of -inf, inf for one with inf."""
    top = x.max(axis=-1)
    safe = np.where(np.isfinite(top), top, 0.0)
    with np.errstate(under="ignore", divide="ignore", invalid="ignore"):
        summed = safe + np.log(np.exp(x - safe[..., np.newaxis]).sum(axis=-1))
    return np.where(np.isfinite(top), summed, top)
