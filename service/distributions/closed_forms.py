"""The table of closed forms, keyed by (p's family, q's family): the same-family pairs and
the cross-family pairs torch.distributions registers, with when each is infinite beyond
the support rule (q's support not covering p's, applied to every pair by :mod:`.kl`).

A pair not in the table is computed by Monte Carlo (:mod:`.monte_carlo`).
"""

from collections.abc import Callable
from dataclasses import dataclass

from service.distributions import cross_family as cross
from service.distributions import same_family as same
from service.distributions.canonical import Params
from service.distributions.tensors import Array


@dataclass(frozen=True)
class ClosedForm:
    """KL(p || q) in nats over canonical parameters, and, where the formula can be
    infinite inside q's support, when, in words."""

    kl: Callable[[Params, Params], Array]
    infinite_when: str = ""


_ZERO_MASS = "q gives probability 0 to an outcome p gives probability > 0"
_PARETO_MEAN = "p's mean is infinite (alpha <= 1) and -log q grows linearly"
_PARETO_VARIANCE = "p's variance is infinite (alpha <= 2) and -log q grows quadratically"
_GAUSSIANS = ("multivariate_normal", "low_rank_multivariate_normal")

CLOSED_FORMS: dict[tuple[str, str], ClosedForm] = {
    ("normal", "normal"): ClosedForm(same.normal),
    ("half_normal", "half_normal"): ClosedForm(same.half_normal),
    # KL is invariant under one bijection applied to both: exp maps normals to log-normals.
    ("log_normal", "log_normal"): ClosedForm(same.normal),
    ("laplace", "laplace"): ClosedForm(same.laplace),
    ("gumbel", "gumbel"): ClosedForm(same.gumbel),
    ("exponential", "exponential"): ClosedForm(same.exponential),
    ("gamma", "gamma"): ClosedForm(same.gamma),
    ("beta", "beta"): ClosedForm(same.beta),
    ("dirichlet", "dirichlet"): ClosedForm(same.dirichlet),
    ("pareto", "pareto"): ClosedForm(same.pareto),
    ("uniform", "uniform"): ClosedForm(same.uniform),
    ("poisson", "poisson"): ClosedForm(same.poisson, _ZERO_MASS),
    ("bernoulli", "bernoulli"): ClosedForm(same.bernoulli, _ZERO_MASS),
    ("binomial", "binomial"): ClosedForm(same.binomial, _ZERO_MASS),
    ("geometric", "geometric"): ClosedForm(same.geometric, _ZERO_MASS),
    ("categorical", "categorical"): ClosedForm(same.categorical, _ZERO_MASS),
    **{(a, b): ClosedForm(same.gaussian) for a in _GAUSSIANS for b in _GAUSSIANS},
    ("bernoulli", "poisson"): ClosedForm(cross.bernoulli_poisson, _ZERO_MASS),
    ("beta", "exponential"): ClosedForm(cross.beta_exponential),
    ("beta", "gamma"): ClosedForm(cross.beta_gamma),
    ("beta", "normal"): ClosedForm(cross.beta_normal),
    ("beta", "uniform"): ClosedForm(cross.beta_uniform),
    ("exponential", "gamma"): ClosedForm(cross.exponential_gamma),
    ("exponential", "gumbel"): ClosedForm(cross.exponential_gumbel),
    ("exponential", "normal"): ClosedForm(cross.exponential_normal),
    ("gamma", "exponential"): ClosedForm(cross.gamma_exponential),
    ("gamma", "gumbel"): ClosedForm(cross.gamma_gumbel),
    ("gamma", "normal"): ClosedForm(cross.gamma_normal),
    ("gumbel", "normal"): ClosedForm(cross.gumbel_normal),
    ("laplace", "normal"): ClosedForm(cross.laplace_normal),
    ("normal", "gumbel"): ClosedForm(cross.normal_gumbel),
    ("pareto", "exponential"): ClosedForm(cross.pareto_exponential, _PARETO_MEAN),
    ("pareto", "gamma"): ClosedForm(cross.pareto_gamma, _PARETO_MEAN),
    ("pareto", "normal"): ClosedForm(cross.pareto_normal, _PARETO_VARIANCE),
    ("uniform", "beta"): ClosedForm(cross.uniform_beta),
    ("uniform", "exponential"): ClosedForm(cross.uniform_exponential),
    ("uniform", "gamma"): ClosedForm(cross.uniform_gamma),
    ("uniform", "gumbel"): ClosedForm(cross.uniform_gumbel),
    ("uniform", "normal"): ClosedForm(cross.uniform_normal),
    ("uniform", "pareto"): ClosedForm(cross.uniform_pareto),
}
