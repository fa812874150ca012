"""KL(p || q) in closed form for p and q of different families (the pairs torch registers),
in nats, over canonical parameters broadcast to one batch shape.

Most are ``-H(p) - E_p[log q]`` with p's entropy and the expectations of log x, x and x^2
under p. Where q's support does not cover p's the caller makes the value ``inf``
(:mod:`.kl`); where p's moments needed are infinite (Pareto tails) these return ``inf``.
"""

import math

import numpy as np
from scipy import special

from service.distributions.canonical import Params
from service.distributions.same_family import EULER_GAMMA
from service.distributions.tensors import Array

HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


def bernoulli_entropy(p: Params) -> Array:
    probs, failure = p["probs"], p["failure"]
    result: Array = -(
        np.where(probs > 0, probs * p["log_p"], 0.0)
        + np.where(failure > 0, failure * p["log_failure"], 0.0)
    )
    return result


def beta_entropy(p: Params) -> Array:
    a, b = p["concentration1"], p["concentration0"]
    result: Array = (
        special.betaln(a, b)
        - (a - 1) * special.digamma(a)
        - (b - 1) * special.digamma(b)
        + (a + b - 2) * special.digamma(a + b)
    )
    return result


def gamma_entropy(p: Params) -> Array:
    a, b = p["concentration"], p["rate"]
    result: Array = a - np.log(b) + special.gammaln(a) + (1 - a) * special.digamma(a)
    return result


def _normal_cross_entropy(q: Params, mean: Array, second_moment: Array) -> Array:
    """``-E_p[log q]`` for a normal q, from p's mean and E[x^2]."""
    mu, sigma = q["loc"], q["scale"]
    result: Array = (
        HALF_LOG_2PI
        + np.log(sigma)
        + (second_moment - 2 * mu * mean + mu * mu) / (2 * sigma * sigma)
    )
    return result


def _gamma_cross_entropy(q: Params, mean_log: Array, mean: Array) -> Array:
    """``-E_p[log q]`` for a gamma q, from E_p[log x] and E_p[x]."""
    a, b = q["concentration"], q["rate"]
    result: Array = special.gammaln(a) - special.xlogy(a, b) - (a - 1) * mean_log + b * mean
    return result


def _xlogx(x: Array) -> Array:
    result: Array = special.xlogy(x, x)
    return result


def bernoulli_poisson(p: Params, q: Params) -> Array:
    rate = q["rate"]
    result: Array = -bernoulli_entropy(p) - special.xlogy(p["probs"], rate) + rate
    return result


def beta_exponential(p: Params, q: Params) -> Array:
    a, b, rate = p["concentration1"], p["concentration0"], q["rate"]
    result: Array = -beta_entropy(p) - np.log(rate) + rate * a / (a + b)
    return result


def beta_gamma(p: Params, q: Params) -> Array:
    a, b = p["concentration1"], p["concentration0"]
    mean_log = special.digamma(a) - special.digamma(a + b)
    return -beta_entropy(p) + _gamma_cross_entropy(q, mean_log, a / (a + b))


def beta_normal(p: Params, q: Params) -> Array:
    a, b = p["concentration1"], p["concentration0"]
    mean = a / (a + b)
    second = mean * (1 - mean) / (a + b + 1) + mean * mean
    return -beta_entropy(p) + _normal_cross_entropy(q, mean, second)


def beta_uniform(p: Params, q: Params) -> Array:
    result: Array = -beta_entropy(p) + np.log(q["high"] - q["low"])
    return result


def exponential_gamma(p: Params, q: Params) -> Array:
    rate = p["rate"]
    # H = 1 - log(rate); E[log x] = -gamma - log(rate); E[x] = 1 / rate.
    mean_log = -EULER_GAMMA - np.log(rate)
    result: Array = np.log(rate) - 1 + _gamma_cross_entropy(q, mean_log, 1 / rate)
    return result


def exponential_gumbel(p: Params, q: Params) -> Array:
    product = p["rate"] * q["scale"]
    ratio = q["loc"] / q["scale"]
    result: Array = (
        np.log(product)
        - 1
        - ratio
        + np.exp(ratio + np.log(product) - np.log1p(product))
        + 1 / product
    )
    return result


def exponential_normal(p: Params, q: Params) -> Array:
    rate = p["rate"]
    second = 2 / (rate * rate)
    result: Array = np.log(rate) - 1 + _normal_cross_entropy(q, 1 / rate, second)
    return result


def gamma_exponential(p: Params, q: Params) -> Array:
    rate = q["rate"]
    result: Array = -gamma_entropy(p) - np.log(rate) + rate * p["concentration"] / p["rate"]
    return result


def gamma_gumbel(p: Params, q: Params) -> Array:
    a, b, mu, s = p["concentration"], p["rate"], q["loc"], q["scale"]
    product = b * s
    # E_p[exp(-x / s)] is the gamma's moment generating function at -1 / s.
    result: Array = (
        -gamma_entropy(p)
        + np.log(s)
        + (a / b - mu) / s
        + np.exp(mu / s - a * np.log1p(1 / product))
    )
    return result


def gamma_normal(p: Params, q: Params) -> Array:
    a, b = p["concentration"], p["rate"]
    return -gamma_entropy(p) + _normal_cross_entropy(q, a / b, a * (a + 1) / (b * b))


def gumbel_normal(p: Params, q: Params) -> Array:
    mu, s = p["loc"], p["scale"]
    mean = mu + s * EULER_GAMMA
    entropy = np.log(s) + EULER_GAMMA + 1
    second = (math.pi * s) ** 2 / 6 + mean * mean
    return -entropy + _normal_cross_entropy(q, mean, second)


def laplace_normal(p: Params, q: Params) -> Array:
    mu, b = p["loc"], p["scale"]
    entropy = 1 + np.log(2 * b)
    return -entropy + _normal_cross_entropy(q, mu, 2 * b * b + mu * mu)


def normal_gumbel(p: Params, q: Params) -> Array:
    mean, sigma, mu, s = p["loc"], p["scale"], q["loc"], q["scale"]
    entropy = 0.5 + HALF_LOG_2PI + np.log(sigma)
    # -log q(x) = log s + (x - mu) / s + exp(-(x - mu) / s); E of the exp is lognormal.
    result: Array = (
        -entropy + np.log(s) + (mean - mu) / s + np.exp((mu - mean) / s + 0.5 * (sigma / s) ** 2)
    )
    return result


def _pareto_mean(p: Params) -> Array:
    alpha = p["alpha"]
    result: Array = np.where(alpha > 1, alpha * p["scale"] / (alpha - 1), np.inf)
    return result


def _pareto_entropy(p: Params) -> Array:
    alpha = p["alpha"]
    result: Array = np.log(p["scale"]) - np.log(alpha) + 1 / alpha + 1
    return result


def pareto_exponential(p: Params, q: Params) -> Array:
    rate = q["rate"]
    result: Array = -_pareto_entropy(p) - np.log(rate) + rate * _pareto_mean(p)
    return result


def pareto_gamma(p: Params, q: Params) -> Array:
    mean_log = np.log(p["scale"]) + 1 / p["alpha"]
    return -_pareto_entropy(p) + _gamma_cross_entropy(q, mean_log, _pareto_mean(p))


def pareto_normal(p: Params, q: Params) -> Array:
    alpha, scale = p["alpha"], p["scale"]
    # Where alpha <= 2 p's variance is infinite, and so is E_p[(x - mu)^2] under q.
    safe = np.where(alpha > 2, alpha, 3.0)
    second = safe * scale * scale / (safe - 2)
    mean = safe * scale / (safe - 1)
    finite = -_pareto_entropy(p) + _normal_cross_entropy(q, mean, second)
    result: Array = np.where(alpha > 2, finite, np.inf)
    return result


def _uniform_moments(p: Params) -> tuple[Array, Array, Array, Array]:
    """Width, E[x], E[x^2] and E[log x] (the last for low >= 0) of a uniform p."""
    low, high = p["low"], p["high"]
    width = high - low
    mean = (low + high) / 2
    second = (low * low + low * high + high * high) / 3
    mean_log = (_xlogx(high) - _xlogx(low) - width) / width
    return width, mean, second, mean_log


def uniform_beta(p: Params, q: Params) -> Array:
    a, b = q["concentration1"], q["concentration0"]
    width, _, _, mean_log = _uniform_moments(p)
    low, high = p["low"], p["high"]
    # E[log(1 - x)]: the same integral, mirrored.
    mean_log_1m = (_xlogx(1 - low) - _xlogx(1 - high) - width) / width
    result: Array = (
        -np.log(width) + special.betaln(a, b) - (a - 1) * mean_log - (b - 1) * mean_log_1m
    )
    return result


def uniform_exponential(p: Params, q: Params) -> Array:
    width, mean, _, _ = _uniform_moments(p)
    rate = q["rate"]
    result: Array = -np.log(width) - np.log(rate) + rate * mean
    return result


def uniform_gamma(p: Params, q: Params) -> Array:
    width, mean, _, mean_log = _uniform_moments(p)
    result: Array = -np.log(width) + _gamma_cross_entropy(q, mean_log, mean)
    return result


def uniform_gumbel(p: Params, q: Params) -> Array:
    mu, s = q["loc"], q["scale"]
    width, mean, _, _ = _uniform_moments(p)
    # E_p[exp(-(x - mu) / s)] = s (e^(-(low - mu)/s) - e^(-(high - mu)/s)) / width.
    tail = s * (np.exp(-(p["low"] - mu) / s) - np.exp(-(p["high"] - mu) / s)) / width
    result: Array = -np.log(width) + np.log(s) + (mean - mu) / s + tail
    return result


def uniform_normal(p: Params, q: Params) -> Array:
    width, mean, second, _ = _uniform_moments(p)
    return -np.log(width) + _normal_cross_entropy(q, mean, second)


def uniform_pareto(p: Params, q: Params) -> Array:
    alpha, scale = q["alpha"], q["scale"]
    width, _, _, mean_log = _uniform_moments(p)
    result: Array = -np.log(width) - np.log(alpha) - alpha * np.log(scale) + (alpha + 1) * mean_log
    return result
