"""Exact values of the divergences of float64 inputs: mpmath at 80 digits, the oracle of the
numerics tests and of benchmarks/near_zero_accuracy.py."""

import math
from collections.abc import Callable

import mpmath
import numpy as np

from service.divergences.catalog import DIVERGENCES
from service.divergences.inputs import Limits
from service.divergences.scoring import score

# 50 digits are not enough: values near 1e-32 are what is left of sums of terms near 1.
# Set per call (other tests set mpmath's global precision too).
DIGITS = 80
M = mpmath.mpf


def _kl(p: list[M], q: list[M]) -> M:
    return mpmath.fsum(a * mpmath.log(a / b) for a, b in zip(p, q, strict=True) if a > 0)


def _js(p: list[M], q: list[M]) -> M:
    m = [(a + b) / 2 for a, b in zip(p, q, strict=True)]
    return (_kl(p, m) + _kl(q, m)) / 2


def _renyi(alpha: float) -> Callable[[list[M], list[M]], M]:
    a = M(alpha)

    def renyi(p: list[M], q: list[M]) -> M:
        total = mpmath.fsum(x**a * y ** (1 - a) for x, y in zip(p, q, strict=True) if x > 0)
        return mpmath.log(total) / (a - 1)

    return renyi


def _amari(alpha: float) -> Callable[[list[M], list[M]], M]:
    a = M(alpha)

    def term(x: M, y: M) -> M:
        if a == 1:
            return (x * mpmath.log(x / y) if x > 0 else 0) - x + y
        if a == 0:
            return (y * mpmath.log(y / x) if y > 0 else 0) - y + x
        return (x**a * y ** (1 - a) - a * x - (1 - a) * y) / (a * (a - 1))

    return lambda p, q: mpmath.fsum(term(x, y) for x, y in zip(p, q, strict=True) if x or y)


# name: (80-digit value of the exact inputs, lower bound, upper bound)
EXACT: dict[str, tuple[Callable[[list[M], list[M]], M], float, float]] = {
    "kl": (_kl, 0, math.inf),
    "reverse_kl": (lambda p, q: _kl(q, p), 0, math.inf),
    "jeffreys": (lambda p, q: _kl(p, q) + _kl(q, p), 0, math.inf),
    "js": (_js, 0, math.log(2)),
    "js_distance": (lambda p, q: mpmath.sqrt(max(_js(p, q), 0)), 0, math.sqrt(math.log(2))),
    "cross_entropy": (  # its range starts at H(p): see expected()
        lambda p, q: -mpmath.fsum(a * mpmath.log(b) for a, b in zip(p, q, strict=True) if a > 0),
        0,
        math.inf,
    ),
    "hellinger": (
        lambda p, q: mpmath.sqrt(
            mpmath.fsum((mpmath.sqrt(a) - mpmath.sqrt(b)) ** 2 for a, b in zip(p, q, strict=True))
            / 2
        ),
        0,
        1,
    ),
    "total_variation": (
        lambda p, q: mpmath.fsum(abs(a - b) for a, b in zip(p, q, strict=True)) / 2,
        0,
        1,
    ),
    "bhattacharyya": (
        lambda p, q: (
            -mpmath.log(mpmath.fsum(mpmath.sqrt(a * b) for a, b in zip(p, q, strict=True)))
        ),
        0,
        math.inf,
    ),
    "chi_square": (
        lambda p, q: mpmath.fsum((a - b) ** 2 / b for a, b in zip(p, q, strict=True)),
        0,
        math.inf,
    ),
    "triangular": (
        lambda p, q: mpmath.fsum(
            (a - b) ** 2 / (a + b) for a, b in zip(p, q, strict=True) if a + b > 0
        ),
        0,
        2,
    ),
    "alpha_-1": (_amari(-1.0), 0, math.inf),
    "alpha_0": (_amari(0.0), 0, math.inf),
    "alpha_0.5": (_amari(0.5), 0, math.inf),
    "alpha_1": (_amari(1.0), 0, math.inf),
    "alpha_3": (_amari(3.0), 0, math.inf),
    "renyi_0.5": (_renyi(0.5), 0, math.inf),
    "renyi_2": (_renyi(2.0), 0, math.inf),
}


def expected(name: str, p: np.ndarray, q: np.ndarray) -> float:
    """The exact value of the float64 inputs, rounded, and held to the member's range."""
    exact, low, high = EXACT[name]
    with mpmath.workdps(DIGITS):
        p_exact, q_exact = [M(float(x)) for x in p], [M(float(x)) for x in q]
        if name == "cross_entropy":
            low = -mpmath.fsum(a * mpmath.log(a) for a in p_exact if a > 0)
        return float(min(max(exact(p_exact, q_exact), low), high))


# What 80 digits leave of a value that is exactly 0 (p = q): mpmath's own rounding.
NOISE = 1e-60


def service_value(
    name: str, p: np.ndarray, q: np.ndarray, backend: str, limits: Limits
) -> np.ndarray:
    """The service's value for an ``EXACT`` name (``renyi_2``: renyi of order 2) on
    ``backend``, by ``score`` as the routes call it."""
    member, _, order = (name, "", "") if name in DIVERGENCES else name.rpartition("_")
    return score(
        DIVERGENCES[member],
        p=p,
        q=q,
        limits=limits,
        alpha=float(order) if order else None,
        backend=backend,  # type: ignore[arg-type]
    ).values
