"""The divergence family: what each one is, and how to compute it on either backend."""

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from types import ModuleType
from typing import Any

import numpy as np

from service.divergences import formulas


class Infinite(StrEnum):
    """Which single index makes a divergence infinite, when one does."""

    NEVER = "never"
    P_WITHOUT_Q = "p_i > 0 where q_i = 0"
    Q_WITHOUT_P = "q_i > 0 where p_i = 0"
    EITHER = "p_i > 0 where q_i = 0, or q_i > 0 where p_i = 0"
    DISJOINT = "p and q have disjoint supports"


@dataclass(frozen=True)
class Divergence:
    """One member of the family, as ``GET /divergences`` describes it.

    ``base_power`` says how the value depends on the logarithm's base: 1 for values in
    log units (divided by ln base), 0.5 for square roots of such values, 0 where the base
    does not apply.
    """

    name: str
    title: str
    formula: str
    range: str
    symmetric: bool
    infinite_when: Infinite
    base_power: float = 1.0
    needs_q: bool = True
    parameters: tuple[str, ...] = ()

    @property
    def uses_base(self) -> bool:
        return self.base_power != 0

    def infinite_mask(
        self, p: np.ndarray, q: np.ndarray, alpha: float | None = None
    ) -> np.ndarray | None:
        """Where single elements make the value infinite (None: no single element does).

        Renyi divergences of order below 1 are infinite only for disjoint supports.
        """
        if alpha is not None and alpha < 1:
            return None
        if self.infinite_when is Infinite.P_WITHOUT_Q:
            return (p > 0) & (q == 0)
        if self.infinite_when is Infinite.Q_WITHOUT_P:
            return (q > 0) & (p == 0)
        if self.infinite_when is Infinite.EITHER:
            return (p > 0) != (q > 0)
        return None


DIVERGENCES: dict[str, Divergence] = {
    d.name: d
    for d in (
        Divergence(
            "kl",
            "Kullback-Leibler divergence",
            "sum_i p_i log(p_i / q_i)",
            "[0, inf]",
            False,
            Infinite.P_WITHOUT_Q,
        ),
        Divergence(
            "reverse_kl",
            "Reverse Kullback-Leibler divergence",
            "sum_i q_i log(q_i / p_i)",
            "[0, inf]",
            False,
            Infinite.Q_WITHOUT_P,
        ),
        Divergence(
            "jeffreys",
            "Jeffreys divergence (symmetric KL)",
            "KL(p||q) + KL(q||p)",
            "[0, inf]",
            True,
            Infinite.EITHER,
        ),
        Divergence(
            "js",
            "Jensen-Shannon divergence",
            "KL(p||m)/2 + KL(q||m)/2, m = (p + q)/2",
            "[0, log 2]",
            True,
            Infinite.NEVER,
        ),
        Divergence(
            "js_distance",
            "Jensen-Shannon distance",
            "sqrt(JS(p, q))",
            "[0, sqrt(log 2)]",
            True,
            Infinite.NEVER,
            base_power=0.5,
        ),
        Divergence(
            "cross_entropy",
            "Cross-entropy",
            "-sum_i p_i log q_i",
            "[H(p), inf]",
            False,
            Infinite.P_WITHOUT_Q,
        ),
        Divergence(
            "entropy",
            "Shannon entropy of p",
            "-sum_i p_i log p_i",
            "[0, log n]",
            True,
            Infinite.NEVER,
            needs_q=False,
        ),
        Divergence(
            "hellinger",
            "Hellinger distance",
            "sqrt(sum_i (sqrt p_i - sqrt q_i)^2 / 2)",
            "[0, 1]",
            True,
            Infinite.NEVER,
            base_power=0,
        ),
        Divergence(
            "total_variation",
            "Total variation distance",
            "sum_i |p_i - q_i| / 2",
            "[0, 1]",
            True,
            Infinite.NEVER,
            base_power=0,
        ),
        Divergence(
            "bhattacharyya",
            "Bhattacharyya distance",
            "-log sum_i sqrt(p_i q_i)",
            "[0, inf]",
            True,
            Infinite.DISJOINT,
        ),
        Divergence(
            "renyi",
            "Renyi divergence of order alpha",
            "log(sum_i p_i^alpha q_i^(1 - alpha)) / (alpha - 1); alpha = 1 is KL",
            "[0, inf]",
            False,
            Infinite.P_WITHOUT_Q,
            parameters=("alpha",),
        ),
        Divergence(
            "chi_square",
            "Pearson chi-square divergence",
            "sum_i (p_i - q_i)^2 / q_i",
            "[0, inf]",
            False,
            Infinite.P_WITHOUT_Q,
            base_power=0,
        ),
    )
}


def _backend(name: str) -> ModuleType:
    if name == "numpy":
        return formulas
    # Imported on first use (or at start-up by the warm-up), never by the single-pair path.
    return importlib.import_module("service.divergences.tf_formulas")


def formula(divergence: Divergence, backend: str = "numpy") -> Callable[..., Any]:
    """The function computing ``divergence`` in nats on ``backend`` ("numpy" or "tensorflow")."""
    function: Callable[..., Any] = getattr(_backend(backend), divergence.name)
    return function
