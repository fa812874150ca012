"""Per-element terms (see :mod:`.terms`) of distributions given by log-weights, in log
space as their values are (:mod:`.log_space`): ``a`` and ``b`` are log-weights of p and q
(``-inf`` for a zero), the member's parameter next where it has one, the shared
temperature last. A probability that underflows float64 keeps its exact logarithm: a KL
term is ``p_i (log p_i - log q_i)`` with the exact log-ratio of the pair, and terms that
are never negative are written, as the values are, without cancellation near p = q.
"""

import math

import numpy as np

from service.divergences.formulas import amari_series
from service.divergences.log_pair import Array, Pair
from service.divergences.log_space import js_term


def _probabilities(pair: Pair) -> tuple[Array, Array, Array]:
    """p, q (possibly underflowing to 0) and the exact log-ratio on the common support."""
    with np.errstate(under="ignore"):
        return np.exp(pair.lp), np.exp(pair.lq), pair.log_ratio()


def _placed(pair: Pair, common: Array, p_only: Array | float, q_only: Array | float) -> Array:
    """``common`` on the common support, ``p_only`` where only p is positive, ``q_only``
    where only q is, 0 where neither is."""
    alone = np.where(pair.q_only, q_only, 0.0)
    return np.where(pair.both, common, np.where(pair.p_only, p_only, alone))


def kl(a: Array, b: Array, temperature: float = 1.0) -> Array:
    """``p_i log(p_i / q_i)``."""
    pair = Pair.of(a, b, temperature)
    p, _, ratio = _probabilities(pair)
    return _placed(pair, p * ratio, np.inf, 0.0)


def reverse_kl(a: Array, b: Array, temperature: float = 1.0) -> Array:
    """``q_i log(q_i / p_i)``."""
    return kl(b, a, temperature)


def jeffreys(a: Array, b: Array, temperature: float = 1.0) -> Array:
    """``(p_i - q_i) log(p_i / q_i)``, ``p_i - q_i = -p_i expm1(-log(p_i/q_i))`` where close."""
    pair = Pair.of(a, b, temperature)
    p, q, ratio = _probabilities(pair)
    with np.errstate(over="ignore", invalid="ignore"):
        gap = np.where(np.abs(ratio) <= 1, -p * np.expm1(-ratio), p - q)
    return _placed(pair, gap * ratio, np.inf, np.inf)


def js(a: Array, b: Array, temperature: float = 1.0) -> Array:
    """``(p_i + q_i) f / 4`` (:func:`.log_space.js_term`); ``p_i ln 2 / 2`` where q_i = 0."""
    pair = Pair.of(a, b, temperature)
    p, q, ratio = _probabilities(pair)
    half_log_2 = math.log(2) / 2
    return _placed(pair, (p + q) * js_term(ratio / 2) / 4, p * half_log_2, q * half_log_2)


def cross_entropy(a: Array, b: Array, temperature: float = 1.0) -> Array:
    """``-p_i log q_i``, never negative."""
    pair = Pair.of(a, b, temperature)
    p, _, _ = _probabilities(pair)
    with np.errstate(invalid="ignore"):  # 0 * -inf off the support: not used
        return _placed(pair, -p * pair.lq, np.inf, 0.0)


def entropy(a: Array, b: Array | None = None, temperature: float = 1.0) -> Array:
    """``-p_i log p_i`` (b is ignored)."""
    return cross_entropy(a, a, temperature)


def total_variation(a: Array, b: Array, temperature: float = 1.0) -> Array:
    """``|p_i - q_i| / 2``, ``|p_i - q_i| = p_i |expm1(-log(p_i/q_i))|`` where close."""
    pair = Pair.of(a, b, temperature)
    p, q, ratio = _probabilities(pair)
    with np.errstate(over="ignore", invalid="ignore"):
        gap = np.where(np.abs(ratio) <= 1, p * np.abs(np.expm1(-ratio)), np.abs(p - q))
    return 0.5 * _placed(pair, gap, p, q)


def triangular(a: Array, b: Array, temperature: float = 1.0) -> Array:
    """``(p_i - q_i)^2 / (p_i + q_i)``; ``p m^2 / (2 + m)``, ``m = expm1(-log(p/q))``,
    where close."""
    pair = Pair.of(a, b, temperature)
    p, q, ratio = _probabilities(pair)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
        m = np.expm1(-ratio)
        close = p * m * (m / (2 + m))
        far = np.where(p + q > 0, (p - q) ** 2 / (p + q), 0.0)  # both may underflow
    return _placed(pair, np.where(np.abs(ratio) <= 1, close, far), p, q)


def chi_square(a: Array, b: Array, temperature: float = 1.0) -> Array:
    """``(p_i - q_i)^2 / q_i``: ``q expm1(L)^2`` (``L = log(p_i/q_i)``), or ``exp(2 log p -
    log q) expm1(-L)^2`` where p_i passes e q_i (q_i may underflow there); ``inf`` where
    ``p_i > 0 = q_i``, and where the term overflows float64."""
    pair = Pair.of(a, b, temperature)
    _, q, ratio = _probabilities(pair)
    with np.errstate(over="ignore", invalid="ignore", under="ignore"):
        near = q * np.expm1(np.minimum(ratio, 1.0)) ** 2
        far = np.exp(2 * pair.lp - pair.lq) * np.expm1(-ratio) ** 2
    return _placed(pair, np.where(ratio <= 1, near, far), np.inf, q)


def alpha(a: Array, b: Array, alpha: float, temperature: float = 1.0) -> Array:
    """Amari's terms of order ``alpha`` (see :func:`.terms.alpha`): ``q`` times their
    series in ``L = log(p_i/q_i)`` where small, else ``(p_i g - (p_i - q_i)) / a`` with
    ``p_i g = p_i expm1((a - 1) L) / (a - 1)``, from logarithms where that is large."""
    if alpha < 0.5:
        a, b, alpha = b, a, 1.0 - alpha
    pair = Pair.of(a, b, temperature)
    p, q, ratio = _probabilities(pair)
    shift = alpha - 1.0
    with np.errstate(over="ignore", invalid="ignore", under="ignore"):
        if shift == 0:
            grown = p * ratio
        else:
            exponent = shift * ratio
            plain = p * np.expm1(exponent) / shift
            far_off = (np.exp(pair.lp + exponent) - p) / shift  # no underflowing p times
            grown = np.where(np.abs(exponent) <= 1, plain, far_off)
        far = (grown - (p - q)) / alpha
        small = np.abs(ratio) * max(alpha, 1.0) < 0.05
        common = np.where(small, q * amari_series(ratio, alpha), far)
    p_only = np.inf if alpha >= 1 else p / (1 - alpha)
    return np.maximum(_placed(pair, common, p_only, q / alpha), 0.0)
