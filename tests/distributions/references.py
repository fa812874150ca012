"""Independent references for KL between parametric distributions: TensorFlow Probability's
``kl_divergence`` where it registers the pair, and numerical integration (scipy's quad, or
a sum over the outcomes) of p's density times log(p / q) otherwise.

Specs are the request's sides: ``{"family": ..., <torch parameters>}``, one distribution.
"""

import math
from typing import Any

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp
from scipy import integrate, special, stats

tfd = tfp.distributions
Spec = dict[str, Any]


def _success(spec: Spec) -> float:
    return float(spec["probs"]) if "probs" in spec else float(special.expit(spec["logits"]))


def _tril(spec: Spec) -> np.ndarray:
    if "scale_tril" in spec:
        return np.array(spec["scale_tril"], dtype=float)
    if "covariance_matrix" in spec:
        return np.linalg.cholesky(np.array(spec["covariance_matrix"], dtype=float))
    if "precision_matrix" in spec:
        return np.linalg.cholesky(np.linalg.inv(np.array(spec["precision_matrix"], dtype=float)))
    w = np.array(spec["cov_factor"], dtype=float)
    return np.linalg.cholesky(w @ w.T + np.diag(spec["cov_diag"]))


def tfp_distribution(spec: Spec) -> Any:
    """``spec`` as a TFP distribution in float64."""
    f = {k: tf.constant(v, tf.float64) for k, v in spec.items() if k != "family"}
    family = spec["family"]
    if family in ("multivariate_normal", "low_rank_multivariate_normal"):
        return tfd.MultivariateNormalTriL(f["loc"], tf.constant(_tril(spec), tf.float64))
    if family in ("bernoulli", "binomial", "geometric"):
        success = {"probs": f["probs"]} if "probs" in f else {"logits": f["logits"]}
        if family == "binomial":
            return tfd.Binomial(f["total_count"], **success)
        if family == "bernoulli":
            return tfd.Bernoulli(**success, dtype=np.float64)
        return tfd.Geometric(**success)
    if family == "categorical":
        return tfd.Categorical(
            **({"probs": f["probs"]} if "probs" in f else {"logits": f["logits"]})
        )
    if family == "pareto":
        return tfd.Pareto(concentration=f["alpha"], scale=f["scale"])
    constructors = {
        "normal": tfd.Normal,
        "poisson": tfd.Poisson,
        "beta": tfd.Beta,
        "dirichlet": tfd.Dirichlet,
        "gamma": tfd.Gamma,
        "exponential": tfd.Exponential,
        "laplace": tfd.Laplace,
        "uniform": tfd.Uniform,
        "gumbel": tfd.Gumbel,
        "half_normal": tfd.HalfNormal,
        "log_normal": tfd.LogNormal,
    }
    return constructors[family](**f)


def tfp_kl(p: Spec, q: Spec) -> float | None:
    """TFP's KL(p || q), or None where TFP registers no formula for the pair."""
    try:
        value = tfd.kl_divergence(tfp_distribution(p), tfp_distribution(q))
    except NotImplementedError:
        return None
    return float(np.asarray(value))


def scipy_distribution(spec: Spec) -> Any:
    """``spec`` (a scalar family) as a frozen scipy.stats distribution."""
    family = spec["family"]
    g = {k: v for k, v in spec.items() if k != "family"}
    if family in ("bernoulli", "binomial", "geometric"):
        success = _success(spec)
        if family == "bernoulli":
            return stats.bernoulli(success)
        if family == "binomial":
            return stats.binom(int(g["total_count"]), success)
        return stats.geom(success, loc=-1)
    if family == "categorical":
        probs = np.asarray(g["probs"]) if "probs" in g else special.softmax(g["logits"])
        return stats.rv_discrete(values=(np.arange(len(probs)), probs))
    makers = {
        "normal": lambda: stats.norm(g["loc"], g["scale"]),
        "half_normal": lambda: stats.halfnorm(scale=g["scale"]),
        "log_normal": lambda: stats.lognorm(g["scale"], scale=math.exp(g["loc"])),
        "laplace": lambda: stats.laplace(g["loc"], g["scale"]),
        "gumbel": lambda: stats.gumbel_r(g["loc"], g["scale"]),
        "uniform": lambda: stats.uniform(g["low"], g["high"] - g["low"]),
        "exponential": lambda: stats.expon(scale=1 / g["rate"]),
        "gamma": lambda: stats.gamma(g["concentration"], scale=1 / g["rate"]),
        "beta": lambda: stats.beta(g["concentration1"], g["concentration0"]),
        "pareto": lambda: stats.pareto(g["alpha"], scale=g["scale"]),
        "poisson": lambda: stats.poisson(g["rate"]),
    }
    return makers[family]()


DISCRETE = {"bernoulli", "binomial", "geometric", "categorical", "poisson"}


def integrated_kl(p: Spec, q: Spec) -> float:
    """KL(p || q) of scalar families by quadrature over p's support (or a sum over its
    outcomes), from scipy's densities."""
    dp, dq = scipy_distribution(p), scipy_distribution(q)
    if p["family"] in DISCRETE:
        k = np.arange(0, int(dp.isf(1e-16)) + 200)
        log_p, log_q = dp.logpmf(k), dq.logpmf(k)
        mass = np.exp(log_p)
        with np.errstate(invalid="ignore"):  # -inf - -inf where p has no mass
            return float(np.sum(np.where(mass > 0, mass * (log_p - log_q), 0.0)))
    low, high = dp.support()

    def integrand(x: float) -> float:
        # Far in the tails scipy's densities overflow on the way to 0: p's mass there is 0.
        with np.errstate(all="ignore"):
            log_p = dp.logpdf(x)
            density = np.exp(log_p)
            return 0.0 if density == 0 else float(density * (log_p - dq.logpdf(x)))

    # Split at p's median so that quad sees both halves of a narrow density.
    middle = float(dp.median())
    left = integrate.quad(integrand, low, middle, epsabs=1e-13, epsrel=1e-11, limit=400)[0]
    right = integrate.quad(integrand, middle, high, epsabs=1e-13, epsrel=1e-11, limit=400)[0]
    return float(left + right)


def reference_kl(p: Spec, q: Spec) -> tuple[float, str]:
    """KL(p || q) and where it came from: TFP when it has the pair, else integration."""
    value = tfp_kl(p, q)
    if value is not None:
        return value, "tfp"
    return integrated_kl(p, q), "integration"
