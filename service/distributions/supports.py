"""Where a family's mass is: its kind (what a draw is) and, for a scalar family, the least
and greatest value of each batch element. :mod:`.kl` reads them to find pairs whose KL is
infinite before any formula runs.
"""

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from service.distributions.canonical import Params
from service.distributions.tensors import Array


class Kind(StrEnum):
    """What a draw is. Distributions of different kinds share no density, so KL between
    them is infinite: a continuous p puts its mass where a discrete q has none, a discrete
    p its atoms where a continuous q gives probability 0, and the simplex has no volume."""

    CONTINUOUS = "continuous"
    DISCRETE = "discrete"
    VECTOR = "vector"
    SIMPLEX = "simplex"


Bounds = Callable[[Params], tuple[Array, Array]]


@dataclass(frozen=True)
class Support:
    """Where the mass is: in words, and, for a scalar family, as the least and greatest
    value of each batch element (atoms with probability 0 left out)."""

    kind: Kind
    text: str
    bounds: Bounds | None = None


def constant(low: float, high: float) -> Bounds:
    def bounds(params: Params) -> tuple[Array, Array]:
        shape = next(iter(params.values())).shape
        return np.full(shape, low), np.full(shape, high)

    return bounds


def between(low: str, high: str) -> Bounds:
    return lambda params: (params[low], params[high])


def from_(low: str) -> Bounds:
    return lambda params: (params[low], np.full(params[low].shape, np.inf))


def binary(params: Params) -> tuple[Array, Array]:
    """{0, ..., n} for a binomial (n = 1: a Bernoulli), narrowed where probs is 0 or 1."""
    probs = params["probs"]
    n = params.get("total_count", np.ones(probs.shape))
    return np.where(probs < 1, 0.0, n), np.where(probs > 0, n, 0.0)


def counts(name: str) -> Bounds:
    """{0, 1, ...}, or {0} where the parameter puts all the mass there."""

    def bounds(params: Params) -> tuple[Array, Array]:
        value = params[name]
        degenerate = value == 0 if name == "rate" else value == 1
        return np.zeros(value.shape), np.where(degenerate, 0.0, np.inf)

    return bounds


def categories(params: Params) -> tuple[Array, Array]:
    positive = params["probs"] > 0
    k = positive.shape[-1]
    return 1.0 * positive.argmax(axis=-1), k - 1.0 - positive[..., ::-1].argmax(axis=-1)


REALS = Support(Kind.CONTINUOUS, "(-inf, inf)", constant(-np.inf, np.inf))
POSITIVE_REALS = Support(Kind.CONTINUOUS, "(0, inf)", constant(0, np.inf))
