"""KL(p || q) in closed form for p and q of one family, in nats, over canonical parameters
broadcast to one batch shape (:mod:`.canonical`).

Formulas as torch.distributions.kl registers them, rewritten where a plain form loses
accuracy: ``r - 1 - log r`` as ``expm1(x) - x`` with ``x = log r`` (exact near r = 1,
where KL is near 0), logs of probabilities from logits by ``log_expit``. A term weighted
by a probability 0 contributes 0; an outcome p gives probability > 0 and q gives 0 makes
the value ``inf``. Values where q's support does not cover p's are set to ``inf`` by the
caller (:mod:`.kl`), whatever these return there.
"""

import numpy as np
from scipy import special, stats

from service.core.errors import InvalidInput
from service.distributions import gaussians
from service.distributions.canonical import Params
from service.distributions.tensors import Array

EULER_GAMMA = float(np.euler_gamma)
# Binomials with different total_count are summed term by term: this many terms at most.
MAX_BINOMIAL_TERMS = 10_000_000


def weighted(w: Array, a: Array, b: Array) -> Array:
    """``w (a - b)``, 0 where ``w = 0`` (there a and b may be infinite)."""
    result: Array = np.where(w > 0, w * (a - b), 0.0)
    return result


def ratio_term(x: Array) -> Array:
    """``r - 1 - log r`` for ``x = log r``: >= 0, exact near r = 1."""
    result: Array = np.expm1(x) - x
    return result


def normal(p: Params, q: Params) -> Array:
    t = 2 * (np.log(p["scale"]) - np.log(q["scale"]))
    d = (p["loc"] - q["loc"]) / q["scale"]
    result: Array = 0.5 * (ratio_term(t) + d * d)
    return result


def half_normal(p: Params, q: Params) -> Array:
    result: Array = 0.5 * ratio_term(2 * (np.log(p["scale"]) - np.log(q["scale"])))
    return result


def laplace(p: Params, q: Params) -> Array:
    x = np.log(p["scale"]) - np.log(q["scale"])
    gap = np.abs(p["loc"] - q["loc"])
    # -log r + r e^(-gap / b_p) - 1 + gap / b_q, with r e^(-g) - 1 = r expm1(-g) + (r - 1).
    result: Array = ratio_term(x) + np.exp(x) * np.expm1(-gap / p["scale"]) + gap / q["scale"]
    return result


def gumbel(p: Params, q: Params) -> Array:
    ratio = p["scale"] / q["scale"]
    shift = (p["loc"] - q["loc"]) / q["scale"]
    result: Array = (
        -np.log(ratio)
        + shift
        + ratio * EULER_GAMMA
        + np.exp(special.gammaln(1 + ratio) - shift)
        - (1 + EULER_GAMMA)
    )
    return result


def exponential(p: Params, q: Params) -> Array:
    return ratio_term(np.log(q["rate"]) - np.log(p["rate"]))


def gamma(p: Params, q: Params) -> Array:
    a_p, b_p, a_q, b_q = p["concentration"], p["rate"], q["concentration"], q["rate"]
    result: Array = (
        a_q * (np.log(b_p) - np.log(b_q))
        + special.gammaln(a_q)
        - special.gammaln(a_p)
        + (a_p - a_q) * special.digamma(a_p)
        + (b_q - b_p) * (a_p / b_p)
    )
    return result


def beta(p: Params, q: Params) -> Array:
    a_p, b_p, a_q, b_q = (
        p["concentration1"],
        p["concentration0"],
        q["concentration1"],
        q["concentration0"],
    )
    result: Array = (
        special.betaln(a_q, b_q)
        - special.betaln(a_p, b_p)
        + (a_p - a_q) * special.digamma(a_p)
        + (b_p - b_q) * special.digamma(b_p)
        + (a_q - a_p + b_q - b_p) * special.digamma(a_p + b_p)
    )
    return result


def dirichlet(p: Params, q: Params) -> Array:
    a_p, a_q = p["concentration"], q["concentration"]
    sum_p = a_p.sum(axis=-1)
    result: Array = (
        special.gammaln(sum_p)
        - special.gammaln(a_q.sum(axis=-1))
        - (special.gammaln(a_p) - special.gammaln(a_q)).sum(axis=-1)
        + ((a_p - a_q) * (special.digamma(a_p) - special.digamma(sum_p)[..., None])).sum(axis=-1)
    )
    return result


def pareto(p: Params, q: Params) -> Array:
    result: Array = q["alpha"] * (np.log(p["scale"]) - np.log(q["scale"])) + ratio_term(
        np.log(q["alpha"]) - np.log(p["alpha"])
    )
    return result


def uniform(p: Params, q: Params) -> Array:
    result: Array = np.log(q["high"] - q["low"]) - np.log(p["high"] - p["low"])
    return result


def poisson(p: Params, q: Params) -> Array:
    result: Array = special.rel_entr(p["rate"], q["rate"]) - p["rate"] + q["rate"]
    return result


def bernoulli(p: Params, q: Params) -> Array:
    return weighted(p["probs"], p["log_p"], q["log_p"]) + weighted(
        p["failure"], p["log_failure"], q["log_failure"]
    )


def binomial(p: Params, q: Params) -> Array:
    """n KL(Bernoulli) where the counts agree; elsewhere the sum over k = 0 .. n_p (where
    n_p > n_q, q's support does not cover p's, and the caller makes it ``inf``)."""
    n_p, n_q = p["total_count"], q["total_count"]
    same = n_p == n_q
    value: Array = n_p * bernoulli(p, q)
    if same.all():
        return value
    longest = int(n_p[~same].max()) + 1
    if longest * n_p.size > MAX_BINOMIAL_TERMS:
        raise InvalidInput(
            ("body", "p", "total_count"),
            f"binomials of different total_count are summed term by term: {longest} terms "
            f"for each of {n_p.size} pairs is over the limit of {MAX_BINOMIAL_TERMS:,}",
        )
    k = np.arange(longest, dtype=np.float64).reshape(-1, *(1,) * n_p.ndim)
    log_p = stats.binom.logpmf(k, n_p, p["probs"])
    log_q = stats.binom.logpmf(k, n_q, q["probs"])
    summed = weighted(np.exp(log_p), log_p, log_q).sum(axis=0)
    result: Array = np.where(same, value, summed)
    return result


def geometric(p: Params, q: Params) -> Array:
    # E_p[k] = (1 - p) / p failures, each costing log(1 - p) - log(1 - q).
    mean = p["failure"] / p["probs"]
    return (p["log_p"] - q["log_p"]) + weighted(mean, p["log_failure"], q["log_failure"])


def categorical(p: Params, q: Params) -> Array:
    result: Array = weighted(p["probs"], p["log_probs"], q["log_probs"]).sum(axis=-1)
    return result


def gaussian(p: Params, q: Params) -> Array:
    return gaussians.kl(p["loc"], p["scale_tril"], q["loc"], q["scale_tril"])
