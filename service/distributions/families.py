"""The parametric families, one declaration each, in torch.distributions' vocabulary
(snake_case names, torch's parameter names). ``GET /distributions``, the request's
validation and OpenAPI examples, the infinite-support rules and Monte Carlo are all read
from :data:`FAMILIES`; the closed forms are a table of their own (:mod:`.closed_forms`).

A new family is a :class:`Family` here, a canonical form (:mod:`.canonical`) and a sampler
and log density (:mod:`.densities`).
"""

from dataclasses import dataclass
from typing import Any

import numpy as np

from service.distributions import canonical, densities, supports
from service.distributions.canonical import Canonical
from service.distributions.densities import LogDensity, Sampler
from service.distributions.parameters import (
    COUNT,
    COVARIANCE,
    HALF_OPEN_UNIT,
    LOC,
    LOWER_CHOLESKY,
    NON_NEGATIVE,
    POSITIVE,
    RATE,
    REAL,
    SCALE,
    SIMPLEX,
    SUCCESS,
    SYMMETRIC_POSITIVE_DEFINITE,
    Parameter,
    probs_or_logits,
)
from service.distributions.supports import POSITIVE_REALS, REALS, Kind, Support


@dataclass(frozen=True)
class Family:
    """One family: its parameters (alternatives share a ``choice``), where its mass is,
    the rank of a draw (0: a number, 1: a vector), and its functions."""

    name: str
    title: str
    parameters: tuple[Parameter, ...]
    support: Support
    event_rank: int
    canonical: Canonical
    sample: Sampler
    log_density: LogDensity
    example: dict[str, Any]


FAMILIES: dict[str, Family] = {
    f.name: f
    for f in (
        Family(
            "normal",
            "Normal (Gaussian)",
            (LOC, SCALE),
            REALS,
            0,
            canonical.scalars,
            densities.sample_normal,
            densities.log_normal_density,
            {"loc": 0.0, "scale": 1.0},
        ),
        Family(
            "multivariate_normal",
            "Multivariate normal",
            (
                Parameter("loc", "mean vector", REAL, 1),
                Parameter(
                    "covariance_matrix",
                    "covariance matrix",
                    SYMMETRIC_POSITIVE_DEFINITE,
                    2,
                    COVARIANCE,
                ),
                Parameter(
                    "precision_matrix",
                    "inverse of the covariance matrix",
                    SYMMETRIC_POSITIVE_DEFINITE,
                    2,
                    COVARIANCE,
                ),
                Parameter(
                    "scale_tril",
                    "lower Cholesky factor L of the covariance L L^T",
                    LOWER_CHOLESKY,
                    2,
                    COVARIANCE,
                ),
            ),
            Support(Kind.VECTOR, "R^n"),
            1,
            canonical.gaussian,
            densities.sample_gaussian,
            densities.log_gaussian_density,
            {"loc": [0.0, 1.0], "covariance_matrix": [[2.0, 0.5], [0.5, 1.0]]},
        ),
        Family(
            "low_rank_multivariate_normal",
            "Multivariate normal with covariance W W^T + diag(D)",
            (
                Parameter("loc", "mean vector", REAL, 1),
                Parameter("cov_factor", "factor W (n x rank) of the low-rank part", REAL, 2),
                Parameter("cov_diag", "diagonal D of the covariance's diagonal part", POSITIVE, 1),
            ),
            Support(Kind.VECTOR, "R^n"),
            1,
            canonical.gaussian,
            densities.sample_gaussian,
            densities.log_gaussian_density,
            {"loc": [0.0, 0.0], "cov_factor": [[1.0], [0.5]], "cov_diag": [1.0, 1.0]},
        ),
        Family(
            "categorical",
            "Categorical (an index in 0 .. K - 1)",
            (
                Parameter("probs", "probability of each category", SIMPLEX, 1, "probs | logits"),
                Parameter(
                    "logits", "log probabilities, up to a constant", REAL, 1, "probs | logits"
                ),
            ),
            Support(Kind.DISCRETE, "{0, 1, ..., K - 1}", supports.categories),
            0,
            canonical.categories,
            densities.sample_categorical,
            densities.log_categorical_mass,
            {"probs": [0.2, 0.3, 0.5]},
        ),
        Family(
            "bernoulli",
            "Bernoulli",
            SUCCESS,
            Support(Kind.DISCRETE, "{0, 1}", supports.binary),
            0,
            canonical.binary,
            densities.sample_bernoulli,
            densities.log_bernoulli_mass,
            {"probs": 0.3},
        ),
        Family(
            "binomial",
            "Binomial",
            (Parameter("total_count", "number of trials", COUNT), *SUCCESS),
            Support(Kind.DISCRETE, "{0, 1, ..., total_count}", supports.binary),
            0,
            canonical.binary,
            densities.sample_binomial,
            densities.log_binomial_mass,
            {"total_count": 10, "probs": 0.3},
        ),
        Family(
            "geometric",
            "Geometric (failures before the first success)",
            probs_or_logits(Parameter("probs", "probability of success", HALF_OPEN_UNIT)),
            Support(Kind.DISCRETE, "{0, 1, ...}", supports.counts("probs")),
            0,
            canonical.binary,
            densities.sample_geometric,
            densities.log_geometric_mass,
            {"probs": 0.25},
        ),
        Family(
            "poisson",
            "Poisson",
            (Parameter("rate", "mean number of events", NON_NEGATIVE),),
            Support(Kind.DISCRETE, "{0, 1, ...}", supports.counts("rate")),
            0,
            canonical.scalars,
            densities.sample_poisson,
            densities.log_poisson_mass,
            {"rate": 4.0},
        ),
        Family(
            "beta",
            "Beta",
            (
                Parameter("concentration1", "first shape parameter (alpha)", POSITIVE),
                Parameter("concentration0", "second shape parameter (beta)", POSITIVE),
            ),
            Support(Kind.CONTINUOUS, "[0, 1]", supports.constant(0, 1)),
            0,
            canonical.scalars,
            densities.sample_beta,
            densities.log_beta_density,
            {"concentration1": 2.0, "concentration0": 5.0},
        ),
        Family(
            "dirichlet",
            "Dirichlet (a point of the simplex)",
            (Parameter("concentration", "concentration of each component", POSITIVE, 1),),
            Support(Kind.SIMPLEX, "the simplex: K numbers >= 0 summing to 1"),
            1,
            canonical.concentration,
            densities.sample_dirichlet,
            densities.log_dirichlet_density,
            {"concentration": [1.0, 2.0, 3.0]},
        ),
        Family(
            "gamma",
            "Gamma",
            (Parameter("concentration", "shape (alpha)", POSITIVE), RATE),
            POSITIVE_REALS,
            0,
            canonical.scalars,
            densities.sample_gamma,
            densities.log_gamma_density,
            {"concentration": 2.0, "rate": 1.5},
        ),
        Family(
            "exponential",
            "Exponential",
            (RATE,),
            POSITIVE_REALS,
            0,
            canonical.scalars,
            densities.sample_exponential,
            densities.log_exponential_density,
            {"rate": 2.0},
        ),
        Family(
            "laplace",
            "Laplace",
            (LOC, Parameter("scale", "scale (mean absolute deviation)", POSITIVE)),
            REALS,
            0,
            canonical.scalars,
            densities.sample_laplace,
            densities.log_laplace_density,
            {"loc": 0.0, "scale": 1.0},
        ),
        Family(
            "uniform",
            "Uniform",
            (
                Parameter("low", "lower bound", REAL),
                Parameter("high", "upper bound (greater than low)", REAL),
            ),
            Support(Kind.CONTINUOUS, "[low, high]", supports.between("low", "high")),
            0,
            canonical.interval,
            densities.sample_uniform,
            densities.log_uniform_density,
            {"low": 0.0, "high": 2.0},
        ),
        Family(
            "gumbel",
            "Gumbel (maximum extreme value)",
            (LOC, Parameter("scale", "scale", POSITIVE)),
            REALS,
            0,
            canonical.scalars,
            densities.sample_gumbel,
            densities.log_gumbel_density,
            {"loc": 1.0, "scale": 2.0},
        ),
        Family(
            "half_normal",
            "Half-normal (|x| for x normal with mean 0)",
            (Parameter("scale", "standard deviation of the normal folded", POSITIVE),),
            Support(Kind.CONTINUOUS, "[0, inf)", supports.constant(0, np.inf)),
            0,
            canonical.scalars,
            densities.sample_half_normal,
            densities.log_half_normal_density,
            {"scale": 1.0},
        ),
        Family(
            "log_normal",
            "Log-normal (exp(x) for x normal)",
            (
                Parameter("loc", "mean of log(x)", REAL),
                Parameter("scale", "standard deviation of log(x)", POSITIVE),
            ),
            POSITIVE_REALS,
            0,
            canonical.scalars,
            densities.sample_log_normal,
            densities.log_log_normal_density,
            {"loc": 0.0, "scale": 0.5},
        ),
        Family(
            "pareto",
            "Pareto (type I)",
            (
                Parameter("scale", "least value (x_m)", POSITIVE),
                Parameter("alpha", "tail index", POSITIVE),
            ),
            Support(Kind.CONTINUOUS, "[scale, inf)", supports.from_("scale")),
            0,
            canonical.scalars,
            densities.sample_pareto,
            densities.log_pareto_density,
            {"scale": 1.0, "alpha": 3.0},
        ),
    )
}
