"""Draws and log densities of each family, over canonical parameters (:mod:`.canonical`).

A sampler returns ``samples`` draws for every batch element, shape
``(samples, *batch_shape, *event_shape)``, from numpy's ``Generator``; a log density
takes such draws and returns ``(samples, *batch_shape)``: ``-inf`` outside the support
(for a family's own draws that never happens, but Monte Carlo evaluates q at p's draws).
Densities come from ``scipy.stats`` where it has the family in torch's parameterisation.
"""

from collections.abc import Callable

import numpy as np
from scipy import special, stats

from service.distributions import gaussians
from service.distributions.canonical import Params
from service.distributions.tensors import Array

Sampler = Callable[[Params, np.random.Generator, int], Array]
LogDensity = Callable[[Params, Array], Array]


def _size(params: Params, name: str, samples: int) -> tuple[int, ...]:
    return (samples, *params[name].shape)


def _as_array(values: object) -> Array:
    return np.asarray(values, dtype=np.float64)


# Continuous families on the real line or a part of it.


def sample_normal(params: Params, rng: np.random.Generator, samples: int) -> Array:
    return rng.normal(params["loc"], params["scale"], _size(params, "loc", samples))


def log_normal_density(params: Params, x: Array) -> Array:
    return _as_array(stats.norm.logpdf(x, params["loc"], params["scale"]))


def sample_half_normal(params: Params, rng: np.random.Generator, samples: int) -> Array:
    return np.abs(rng.normal(0.0, params["scale"], _size(params, "scale", samples)))


def log_half_normal_density(params: Params, x: Array) -> Array:
    return _as_array(stats.halfnorm.logpdf(x, scale=params["scale"]))


def sample_log_normal(params: Params, rng: np.random.Generator, samples: int) -> Array:
    return np.exp(sample_normal(params, rng, samples))


def log_log_normal_density(params: Params, x: Array) -> Array:
    return _as_array(stats.lognorm.logpdf(x, params["scale"], scale=np.exp(params["loc"])))


def sample_laplace(params: Params, rng: np.random.Generator, samples: int) -> Array:
    return rng.laplace(params["loc"], params["scale"], _size(params, "loc", samples))


def log_laplace_density(params: Params, x: Array) -> Array:
    return _as_array(stats.laplace.logpdf(x, params["loc"], params["scale"]))


def sample_gumbel(params: Params, rng: np.random.Generator, samples: int) -> Array:
    return rng.gumbel(params["loc"], params["scale"], _size(params, "loc", samples))


def log_gumbel_density(params: Params, x: Array) -> Array:
    return _as_array(stats.gumbel_r.logpdf(x, params["loc"], params["scale"]))


def sample_uniform(params: Params, rng: np.random.Generator, samples: int) -> Array:
    return rng.uniform(params["low"], params["high"], _size(params, "low", samples))


def log_uniform_density(params: Params, x: Array) -> Array:
    low, high = params["low"], params["high"]
    return _as_array(stats.uniform.logpdf(x, low, high - low))


def sample_exponential(params: Params, rng: np.random.Generator, samples: int) -> Array:
    return rng.exponential(1 / params["rate"], _size(params, "rate", samples))


def log_exponential_density(params: Params, x: Array) -> Array:
    return _as_array(stats.expon.logpdf(x, scale=1 / params["rate"]))


def sample_gamma(params: Params, rng: np.random.Generator, samples: int) -> Array:
    shape = _size(params, "concentration", samples)
    return rng.gamma(params["concentration"], 1 / params["rate"], shape)


def log_gamma_density(params: Params, x: Array) -> Array:
    return _as_array(stats.gamma.logpdf(x, params["concentration"], scale=1 / params["rate"]))


def sample_beta(params: Params, rng: np.random.Generator, samples: int) -> Array:
    shape = _size(params, "concentration1", samples)
    return rng.beta(params["concentration1"], params["concentration0"], shape)


def log_beta_density(params: Params, x: Array) -> Array:
    return _as_array(stats.beta.logpdf(x, params["concentration1"], params["concentration0"]))


def sample_pareto(params: Params, rng: np.random.Generator, samples: int) -> Array:
    # numpy's pareto is the Lomax distribution: shifted by one, then scaled.
    lomax = rng.pareto(params["alpha"], _size(params, "alpha", samples))
    return params["scale"] * (1 + lomax)


def log_pareto_density(params: Params, x: Array) -> Array:
    return _as_array(stats.pareto.logpdf(x, params["alpha"], scale=params["scale"]))


# Counts.


def sample_bernoulli(params: Params, rng: np.random.Generator, samples: int) -> Array:
    return (rng.random(_size(params, "probs", samples)) < params["probs"]).astype(np.float64)


def log_bernoulli_mass(params: Params, x: Array) -> Array:
    other = np.where(x == 0, params["log_failure"], -np.inf)
    return _as_array(np.where(x == 1, params["log_p"], other))


def sample_binomial(params: Params, rng: np.random.Generator, samples: int) -> Array:
    shape = _size(params, "probs", samples)
    return _as_array(rng.binomial(params["total_count"].astype(np.int64), params["probs"], shape))


def log_binomial_mass(params: Params, x: Array) -> Array:
    return _as_array(stats.binom.logpmf(x, params["total_count"], params["probs"]))


def sample_geometric(params: Params, rng: np.random.Generator, samples: int) -> Array:
    # numpy counts trials up to the first success; torch counts the failures before it.
    return _as_array(rng.geometric(params["probs"], _size(params, "probs", samples)) - 1)


def log_geometric_mass(params: Params, x: Array) -> Array:
    failures = np.where(x == 0, 0.0, x * params["log_failure"])  # 0 failures: p = 1 too
    return _as_array(np.where((x >= 0) & (x == np.floor(x)), failures + params["log_p"], -np.inf))


def sample_poisson(params: Params, rng: np.random.Generator, samples: int) -> Array:
    return _as_array(rng.poisson(params["rate"], _size(params, "rate", samples)))


def log_poisson_mass(params: Params, x: Array) -> Array:
    rate = params["rate"]
    return _as_array(special.xlogy(x, rate) - rate - special.gammaln(x + 1))


def sample_categorical(params: Params, rng: np.random.Generator, samples: int) -> Array:
    probs = params["probs"]
    u = rng.random((samples, *probs.shape[:-1], 1))
    index = (np.cumsum(probs, axis=-1) < u).sum(axis=-1)
    return _as_array(np.minimum(index, probs.shape[-1] - 1))  # a sum of 1 - 1e-16 < u


def log_categorical_mass(params: Params, x: Array) -> Array:
    log_probs = params["log_probs"]
    k = log_probs.shape[-1]
    inside = (x >= 0) & (x < k) & (x == np.floor(x))
    index = np.where(inside, x, 0).astype(np.intp)[..., np.newaxis]
    spread = np.broadcast_to(log_probs, (*x.shape, k))
    return _as_array(np.where(inside, np.take_along_axis(spread, index, axis=-1)[..., 0], -np.inf))


# Vectors.


def sample_dirichlet(params: Params, rng: np.random.Generator, samples: int) -> Array:
    # Generator.dirichlet takes one concentration vector: normalized gammas take a batch.
    gammas = rng.gamma(params["concentration"], 1.0, _size(params, "concentration", samples))
    return _as_array(gammas / gammas.sum(axis=-1, keepdims=True))


def log_dirichlet_density(params: Params, x: Array) -> Array:
    alpha = params["concentration"]
    norm = special.gammaln(alpha.sum(axis=-1)) - special.gammaln(alpha).sum(axis=-1)
    return _as_array(norm + special.xlogy(alpha - 1, x).sum(axis=-1))


def sample_gaussian(params: Params, rng: np.random.Generator, samples: int) -> Array:
    return gaussians.sample(params["loc"], params["scale_tril"], rng, samples)


def log_gaussian_density(params: Params, x: Array) -> Array:
    return gaussians.log_density(params["loc"], params["scale_tril"], x)
