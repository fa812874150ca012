"""The divergence family, one declaration per member: what it is, its parameters, when it
is infinite, and its kernels. ``GET /divergences``, the V2 models' metadata, the options'
checks and the property tests are all read from :data:`DIVERGENCES`.

A new member is a :class:`Divergence` here, a numpy kernel (``formulas``) and a TensorFlow
kernel of the same name (``tf``, looked up on first use: this module never imports
TensorFlow); the tests parametrized over the registry then cover it.
"""

import importlib
import math
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from types import ModuleType
from typing import Any

import numpy as np

from service.divergences import formulas, log_space, terms
from service.divergences.parameters import Parameter
from service.divergences.terms import Terms


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
    does not apply. ``infinite_when`` is a rule, or, for members whose rule depends on
    their parameter, a function of it (``infinite_text`` then says the rule in words).
    ``numpy`` computes the member in nats over the last axis (``formulas``); the
    TensorFlow kernel is ``tf.kernels``' attribute of the member's name. ``keras``, where
    Keras has the member as a loss, computes keras mode exactly as Keras does.
    ``log_numpy`` computes the member from log-weights (``log_space``: logits and
    log-probabilities, in log space), with ``tf.log_kernels``' attribute of the same name
    for batches; a member without one would take the probabilities its log-weights
    exponentiate to (every member has one). ``terms``, for members that are a sum over
    elements, computes each element's summand (``terms``); None for the others.
    """

    name: str
    title: str
    formula: str
    range: str
    symmetric: bool
    infinite_when: Infinite | Callable[[float], Infinite]
    numpy: Callable[..., Any]
    base_power: float = 1.0
    needs_q: bool = True
    parameters: tuple[Parameter, ...] = ()
    infinite_text: str = ""
    keras: Callable[..., Any] | None = None
    log_numpy: Callable[..., Any] | None = None
    terms: Terms | None = None

    @property
    def uses_base(self) -> bool:
        return self.base_power != 0

    def infinite(self, alpha: float | None = None) -> Infinite:
        """The rule for ``alpha`` (the member's parameter, where it has one)."""
        if isinstance(self.infinite_when, Infinite):
            return self.infinite_when
        return self.infinite_when(alpha if alpha is not None else math.nan)

    @property
    def infinite_rule(self) -> str:
        """The rule in words, as ``GET /divergences`` gives it."""
        if isinstance(self.infinite_when, Infinite):
            return self.infinite_when.value
        return self.infinite_text

    def infinite_mask(
        self, p: np.ndarray, q: np.ndarray, alpha: float | None = None
    ) -> np.ndarray | None:
        """Where single elements make the value infinite (None: no single element does)."""
        rule = self.infinite(alpha)
        if rule is Infinite.P_WITHOUT_Q:
            return (p > 0) & (q == 0)
        if rule is Infinite.Q_WITHOUT_P:
            return (q > 0) & (p == 0)
        if rule is Infinite.EITHER:
            return (p > 0) != (q > 0)
        return None


def _renyi_infinite(alpha: float) -> Infinite:
    return Infinite.P_WITHOUT_Q if alpha >= 1 else Infinite.DISJOINT


def _amari_infinite(alpha: float) -> Infinite:
    if alpha >= 1:
        return Infinite.P_WITHOUT_Q
    return Infinite.Q_WITHOUT_P if alpha <= 0 else Infinite.NEVER


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
            formulas.kl,
            log_numpy=log_space.kl,
            terms=terms.KL,
            keras=formulas.keras_kl,
        ),
        Divergence(
            "reverse_kl",
            "Reverse Kullback-Leibler divergence",
            "sum_i q_i log(q_i / p_i)",
            "[0, inf]",
            False,
            Infinite.Q_WITHOUT_P,
            formulas.reverse_kl,
            log_numpy=log_space.reverse_kl,
            terms=terms.REVERSE_KL,
        ),
        Divergence(
            "jeffreys",
            "Jeffreys divergence (symmetric KL)",
            "KL(p||q) + KL(q||p)",
            "[0, inf]",
            True,
            Infinite.EITHER,
            formulas.jeffreys,
            log_numpy=log_space.jeffreys,
            terms=terms.JEFFREYS,
        ),
        Divergence(
            "js",
            "Jensen-Shannon divergence",
            "KL(p||m)/2 + KL(q||m)/2, m = (p + q)/2",
            "[0, log 2]",
            True,
            Infinite.NEVER,
            formulas.js,
            log_numpy=log_space.js,
            terms=terms.JS,
        ),
        Divergence(
            "js_distance",
            "Jensen-Shannon distance",
            "sqrt(JS(p, q))",
            "[0, sqrt(log 2)]",
            True,
            Infinite.NEVER,
            formulas.js_distance,
            log_numpy=log_space.js_distance,
            base_power=0.5,
        ),
        Divergence(
            "cross_entropy",
            "Cross-entropy",
            "-sum_i p_i log q_i",
            "[H(p), inf]",
            False,
            Infinite.P_WITHOUT_Q,
            formulas.cross_entropy,
            log_numpy=log_space.cross_entropy,
            terms=terms.CROSS_ENTROPY,
        ),
        Divergence(
            "entropy",
            "Shannon entropy of p",
            "-sum_i p_i log p_i",
            "[0, log n]",
            True,
            Infinite.NEVER,
            formulas.entropy,
            log_numpy=log_space.entropy,
            terms=terms.ENTROPY,
            needs_q=False,
        ),
        Divergence(
            "hellinger",
            "Hellinger distance",
            "sqrt(sum_i (sqrt p_i - sqrt q_i)^2 / 2)",
            "[0, 1]",
            True,
            Infinite.NEVER,
            formulas.hellinger,
            log_numpy=log_space.hellinger,
            base_power=0,
        ),
        Divergence(
            "total_variation",
            "Total variation distance",
            "sum_i |p_i - q_i| / 2",
            "[0, 1]",
            True,
            Infinite.NEVER,
            formulas.total_variation,
            log_numpy=log_space.total_variation,
            terms=terms.TOTAL_VARIATION,
            base_power=0,
        ),
        Divergence(
            "bhattacharyya",
            "Bhattacharyya distance",
            "-log sum_i sqrt(p_i q_i)",
            "[0, inf]",
            True,
            Infinite.DISJOINT,
            formulas.bhattacharyya,
            log_numpy=log_space.bhattacharyya,
        ),
        Divergence(
            "renyi",
            "Renyi divergence of order alpha",
            "log(sum_i p_i^alpha q_i^(1 - alpha)) / (alpha - 1); alpha = 1 is KL",
            "[0, inf]",
            False,
            _renyi_infinite,
            formulas.renyi,
            log_numpy=log_space.renyi,
            parameters=(Parameter("alpha", "the order of the Renyi divergence, at least 0", 0.0),),
            infinite_text="alpha >= 1: p_i > 0 where q_i = 0; alpha < 1: p and q have "
            "disjoint supports",
        ),
        Divergence(
            "chi_square",
            "Pearson chi-square divergence",
            "sum_i (p_i - q_i)^2 / q_i",
            "[0, inf]",
            False,
            Infinite.P_WITHOUT_Q,
            formulas.chi_square,
            log_numpy=log_space.chi_square,
            terms=terms.CHI_SQUARE,
            base_power=0,
        ),
        Divergence(
            "alpha",
            "Amari alpha-divergence",
            "sum_i [p_i^alpha q_i^(1 - alpha) - alpha p_i - (1 - alpha) q_i] / (alpha (alpha - 1)),"
            " which is (sum_i p_i^alpha q_i^(1 - alpha) - 1) / (alpha (alpha - 1)) for p and q "
            "summing to 1; alpha = 1 is KL(p||q), alpha = 0 is KL(q||p)",
            "[0, inf]",
            False,
            _amari_infinite,
            formulas.alpha,
            log_numpy=log_space.alpha,
            terms=terms.ALPHA,
            base_power=0,
            parameters=(Parameter("alpha", "the order of the Amari alpha-divergence, any real"),),
            infinite_text="alpha >= 1: p_i > 0 where q_i = 0; alpha <= 0: q_i > 0 where "
            "p_i = 0; otherwise never",
        ),
        Divergence(
            "triangular",
            "Triangular discrimination",
            "sum_i (p_i - q_i)^2 / (p_i + q_i), 0 where p_i = q_i = 0",
            "[0, 2]",
            True,
            Infinite.NEVER,
            formulas.triangular,
            log_numpy=log_space.triangular,
            terms=terms.TRIANGULAR,
            base_power=0,
        ),
    )
}


def _tensorflow(log_weights: bool) -> ModuleType:
    # Imported on first use (or at start-up by the warm-up), never by the single-pair path.
    kernels = "log_kernels" if log_weights else "kernels"
    return importlib.import_module(f"service.divergences.tf.{kernels}")


def formula(
    divergence: Divergence, backend: str = "numpy", log_weights: bool = False
) -> Callable[..., Any]:
    """The function computing ``divergence`` in nats on ``backend`` ("numpy" or
    "tensorflow"), from probabilities or, with ``log_weights``, from log-weights."""
    if backend == "numpy":
        kernel = divergence.log_numpy if log_weights else divergence.numpy
        if kernel is None:
            raise ValueError(f"{divergence.name} has no log-space kernel")
        return kernel
    function: Callable[..., Any] = getattr(_tensorflow(log_weights), divergence.name)
    return function
