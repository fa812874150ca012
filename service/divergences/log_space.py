"""Divergences of distributions given by log-weights, in numpy, float64, along the last axis.

Each kernel takes ``a`` and ``b``: log-probabilities of p and q up to a constant per
vector (logits, log-probabilities, or the logarithms of probabilities), ``-inf`` for an
exact zero, each vector with a finite element (checked by ``inputs.log_weights``), and last
a ``temperature`` that divides both (logits on both sides: the difference of the logits is
then divided, not each logit, so nearly equal logits keep their digits). It
normalises them in log space and returns the divergence of the normalised distributions in
nats, as :mod:`service.divergences.formulas` does for probabilities: the same 0 and
infinity rules, with a probability that underflows float64 (``softmax([0, -800])``) still
positive, and accurate relative to its own value near p = q too.

How (:class:`~service.divergences.log_pair.Pair` sets the pair out): with ``K(s)`` the
cumulant of the exactly centred log-ratio under p on the common support S, ``w_p`` and
``w_q`` the masses of p and q on S,

- KL is ``K(-1) - log w_q``; reverse KL, Jeffreys and cross-entropy (``H(p) + KL``) follow;
- Renyi of order a is ``K(a - 1) / (a - 1) + K(-1) + (a log w_p + (1 - a) log w_q) / (a - 1)``,
  or ``logsumexp(a log p + (1 - a) log q) / (a - 1)`` where those parts exceed 1 (the value
  is then not small); chi-square is ``expm1(D_2)``, Bhattacharyya ``D_(1/2) / 2``, Amari's
  ``expm1((a - 1) D_a) / (a (a - 1))``;
- Hellinger, total variation, triangular and JS are sums of terms that are never negative,
  written with the exact ``log(p_i / q_i)``; Hellinger and JS are summed in logs, so that
  a distance whose square underflows float64 is still answered.
"""

import math

import numpy as np
import numpy.typing as npt

from service.divergences.log_pair import Array, Pair, log_probabilities, log_sum_exp


def _finite_where(value: Array, infinite: npt.ArrayLike) -> Array:
    return np.where(infinite, np.inf, np.maximum(value, 0.0))


def _kl_of(pair: Pair) -> Array:
    # K(-1) on S, and -log w_q (q's mass off p's support); infinite where p_i > 0 = q_i.
    value = pair.cumulant(-1.0) - pair.log_w_q
    return _finite_where(value, pair.p_only.any(axis=-1))


def _renyi_of(pair: Pair, alpha: float) -> Array:
    """Renyi divergence of order ``alpha`` >= 1/2 (not 1) of a pair: the centred form, or
    ``logsumexp(a log p + (1 - a) log q) / (a - 1)`` where the centred form would add
    numbers above 1 (its cumulants are then large, and so is the value)."""
    t = alpha - 1.0
    with np.errstate(invalid="ignore", over="ignore"):
        parts = [pair.cumulant(t) / t, pair.cumulant(-1.0)]
        parts.append((alpha * pair.log_w_p + (1 - alpha) * pair.log_w_q) / t)
        centred = parts[0] + parts[1] + parts[2]
        powers = alpha * pair.lp + (1 - alpha) * pair.lq  # q_i = 0 < p_i: the sign of -t
        direct = log_sum_exp(np.where(pair.lp > -np.inf, powers, -np.inf)) / t
        value = np.where(sum(np.abs(part) for part in parts) <= 1, centred, direct)
    if alpha > 1:
        return _finite_where(value, pair.p_only.any(axis=-1))
    return _finite_where(value, ~pair.both.any(axis=-1))


def kl(a: Array, b: Array, temperature: float = 1.0) -> Array:
    """``KL(p || q)``; infinite where some ``p_i > 0 = q_i``."""
    return _kl_of(Pair.of(a, b, temperature))


def reverse_kl(a: Array, b: Array, temperature: float = 1.0) -> Array:
    """``KL(q || p)``."""
    return kl(b, a, temperature)


def jeffreys(a: Array, b: Array, temperature: float = 1.0) -> Array:
    """``KL(p || q) + KL(q || p)``."""
    return kl(a, b, temperature) + kl(b, a, temperature)


def entropy(a: Array, b: Array | None = None, temperature: float = 1.0) -> Array:
    """``-sum p log p`` of p alone (terms never negative)."""
    lp = log_probabilities(a / temperature)
    with np.errstate(under="ignore", invalid="ignore"):
        terms = np.where(a > -np.inf, -np.exp(lp) * lp, 0.0)
    return np.maximum(terms.sum(axis=-1), 0.0)


def cross_entropy(a: Array, b: Array, temperature: float = 1.0) -> Array:
    """``H(p) + KL(p || q)``: both never negative."""
    return entropy(a, None, temperature) + kl(a, b, temperature)


def renyi(a: Array, b: Array, alpha: float, temperature: float = 1.0) -> Array:
    """Renyi divergence of order ``alpha >= 0``; below 1/2 through ``D_a(p || q) =
    a / (1 - a) D_(1-a)(q || p)``, order 0 as ``-log q(supp p)``, order 1 as KL."""
    if alpha == 1:
        return kl(a, b, temperature)
    if alpha == 0:
        pair = Pair.of(b, a, temperature)  # q's mass off p's support: p_only of the swap
        with np.errstate(divide="ignore"):
            return _finite_where(-pair.log_w_p, ~pair.both.any(axis=-1))
    if alpha < 0.5:
        return alpha / (1 - alpha) * _renyi_of(Pair.of(b, a, temperature), 1 - alpha)
    return _renyi_of(Pair.of(a, b, temperature), alpha)


def alpha(a: Array, b: Array, alpha: float, temperature: float = 1.0) -> Array:
    """Amari's alpha-divergence ``(sum p^a q^(1-a) - 1) / (a (a - 1))`` of the normalised
    distributions; orders below 1/2 as ``D_(1-a)(q || p)``, order 1 as KL."""
    if alpha < 0.5:
        a, b, alpha = b, a, 1 - alpha
    if alpha == 1:
        return kl(a, b, temperature)
    t = alpha - 1
    with np.errstate(over="ignore", invalid="ignore"):
        values = np.expm1(t * _renyi_of(Pair.of(a, b, temperature), alpha)) / (alpha * t)
    return np.maximum(values, 0.0)


def chi_square(a: Array, b: Array, temperature: float = 1.0) -> Array:
    """``sum p^2 / q - 1 = expm1(D_2)``; infinite where some ``p_i > 0 = q_i``."""
    with np.errstate(over="ignore"):
        return np.expm1(renyi(a, b, 2.0, temperature))


def bhattacharyya(a: Array, b: Array, temperature: float = 1.0) -> Array:
    """``-log sum sqrt(p q) = D_(1/2) / 2``; infinite for disjoint supports."""
    return renyi(a, b, 0.5, temperature) / 2


def _log_abs_expm1(x: Array) -> Array:
    """``log |exp(x) - 1|``, for large ``x`` too (-inf at 0)."""
    with np.errstate(divide="ignore", over="ignore"):
        large = x + np.log1p(-np.exp(-np.abs(x)))
        return np.where(x > 30, large, np.log(np.abs(np.expm1(x))))


def _log_of_sum(pair: Pair, terms: Array, p_alone: Array, q_alone: Array) -> Array:
    """log of a sum of positive terms, from their logarithms: ``terms`` on S, ``p_alone``
    where only p is positive, ``q_alone`` where only q is. In logs, a value whose square
    root is a normal float64 does not underflow with its square."""
    logs = np.where(pair.both, terms, np.where(pair.p_only, p_alone, q_alone))
    return log_sum_exp(np.where(pair.both | pair.p_only | pair.q_only, logs, -np.inf))


def _log_squared_hellinger(a: Array, b: Array, temperature: float) -> Array:
    # (sqrt p - sqrt q)^2 / 2 = p expm1(-log(p/q) / 2)^2 / 2, or the same with p and q
    # swapped where q is the larger (then no large logarithms cancel): never negative.
    pair = Pair.of(a, b, temperature)
    ratio = pair.log_ratio()
    terms = np.where(
        ratio >= 0,
        pair.lp + 2 * _log_abs_expm1(-ratio / 2),
        pair.lq + 2 * _log_abs_expm1(ratio / 2),
    )
    return _log_of_sum(pair, terms, pair.lp, pair.lq) - math.log(2)


def hellinger(a: Array, b: Array, temperature: float = 1.0) -> Array:
    """``sqrt(sum (sqrt p - sqrt q)^2 / 2)``, between 0 and 1."""
    with np.errstate(under="ignore"):
        return np.minimum(np.exp(_log_squared_hellinger(a, b, temperature) / 2), 1.0)


def _parts(a: Array, b: Array, temperature: float) -> tuple[Pair, Array, Array, Array, Array]:
    """The pair, the log-ratio on S, p and q, and the mass on one side only."""
    pair = Pair.of(a, b, temperature)
    with np.errstate(under="ignore"):
        p, q = np.exp(pair.lp), np.exp(pair.lq)
    alone = np.where(pair.p_only, p, 0.0).sum(axis=-1) + np.where(pair.q_only, q, 0.0).sum(axis=-1)
    return pair, pair.log_ratio(), p, q, alone


def total_variation(a: Array, b: Array, temperature: float = 1.0) -> Array:
    """``sum |p - q| / 2``; ``|p - q| = p |expm1(-log(p/q))|`` where p and q are close."""
    pair, delta, p, q, alone = _parts(a, b, temperature)
    with np.errstate(over="ignore", invalid="ignore"):
        close = p * np.abs(np.expm1(-delta))
    gaps = np.where(pair.both, np.where(np.abs(delta) <= 1, close, np.abs(p - q)), 0.0)
    return np.minimum(0.5 * (gaps.sum(axis=-1) + alone), 1.0)


def triangular(a: Array, b: Array, temperature: float = 1.0) -> Array:
    """``sum (p - q)^2 / (p + q)``; with ``m = expm1(-log(p/q))``, ``p m^2 / (2 + m)`` where
    p and q are close."""
    pair, delta, p, q, alone = _parts(a, b, temperature)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
        m = np.expm1(-delta)
        close = p * m * (m / (2 + m))
        far = np.where(p + q > 0, (p - q) ** 2 / (p + q), 0.0)  # both may underflow
    terms = np.where(pair.both, np.where(np.abs(delta) <= 1, close, far), 0.0)
    return np.minimum(terms.sum(axis=-1) + alone, 2.0)


def js_term(half: Array) -> Array:
    """``2x tanh x - 2 log cosh x`` at ``x = log(p/q) / 2``: the JS summand over (p+q)/4."""
    x = np.abs(half)
    with np.errstate(over="ignore", under="ignore"):
        # Near 0: log cosh x = log1p(2 sinh(x/2)^2); the difference loses a factor 2 at most.
        near = 2 * x * np.tanh(x) - 2 * np.log1p(2 * np.sinh(x / 2) ** 2)
        fading = np.exp(-2 * np.minimum(x, 400.0))
        far = 2 * math.log(2) - 4 * x * fading / (1 + fading) - 2 * np.log1p(fading)
    return np.where(x <= 1, near, far)


def _log_js(a: Array, b: Array, temperature: float) -> Array:
    # (p + q) f / 4 on S, f never negative; p ln 2 / 2 where q = 0 (f = 2 ln 2), and the reverse.
    pair = Pair.of(a, b, temperature)
    with np.errstate(divide="ignore"):
        terms = np.logaddexp(pair.lp, pair.lq) + np.log(js_term(pair.log_ratio() / 2))
    alone = math.log(2 * math.log(2))
    return _log_of_sum(pair, terms, pair.lp + alone, pair.lq + alone) - math.log(4)


def js(a: Array, b: Array, temperature: float = 1.0) -> Array:
    """Jensen-Shannon divergence ``sum (p + q) f / 4`` (``f`` never negative), at most ln 2."""
    with np.errstate(under="ignore"):
        return np.minimum(np.exp(_log_js(a, b, temperature)), math.log(2))


def js_distance(a: Array, b: Array, temperature: float = 1.0) -> Array:
    """The square root of the JS divergence (from its logarithm: representable where the
    divergence itself underflows)."""
    with np.errstate(under="ignore"):
        return np.minimum(np.exp(_log_js(a, b, temperature) / 2), math.sqrt(math.log(2)))
