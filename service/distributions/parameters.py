"""What a family's parameters may be: constraints that check arrays and say why they fail.

A :class:`Constraint` checks a whole parameter at once and raises
:class:`~service.core.errors.InvalidInput` naming the first offending element; structural
constraints (a simplex, a symmetric or triangular matrix) check along the parameter's own
dimensions. Positive definiteness is checked where the Cholesky factor is computed
(:mod:`.canonical`): one factorization both checks and is used.
"""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from service.core.errors import InvalidInput, Loc
from service.distributions.tensors import Array, Mask, first, where

Check = Callable[[Array, Loc, float], None]


@dataclass(frozen=True)
class Constraint:
    """A rule, as ``GET /distributions`` states it, and its check (array, loc, tolerance)."""

    text: str
    check: Check


@dataclass(frozen=True)
class Parameter:
    """One parameter: its torch name, what it means, its rule and its own rank (0 for a
    number per batch element, 1 for a vector, 2 for a matrix). Parameters sharing a
    ``choice`` are alternatives: exactly one of them is given (probs | logits)."""

    name: str
    meaning: str
    constraint: Constraint
    rank: int = 0
    choice: str | None = None


def _elementwise(text: str, ok: Callable[[Array], Mask], need: str) -> Constraint:
    def check(array: Array, loc: Loc, tolerance: float) -> None:
        good = ok(array)
        if not good.all():
            index = first(~good)
            raise InvalidInput(
                (*loc, *index), f"{loc[-1]} must be {need}; got {array[index]:g}{where(index)}"
            )

    return Constraint(text, check)


def _any(array: Array) -> Mask:
    return np.ones(array.shape, dtype=bool)


REAL = _elementwise("real", _any, "a real number")
POSITIVE = _elementwise("> 0", lambda a: a > 0, "greater than 0")
NON_NEGATIVE = _elementwise(">= 0", lambda a: a >= 0, "at least 0")
UNIT_INTERVAL = _elementwise("in [0, 1]", lambda a: (a >= 0) & (a <= 1), "in [0, 1]")
HALF_OPEN_UNIT = _elementwise("in (0, 1]", lambda a: (a > 0) & (a <= 1), "in (0, 1]")
# Counts are drawn as int64, and float64 holds every integer up to 2^53 exactly.
COUNT = _elementwise(
    "integer in [0, 2^53]",
    lambda a: (a >= 0) & (a == np.floor(a)) & (a <= 2.0**53),
    "a non-negative integer (at most 2^53)",
)


def _simplex(array: Array, loc: Loc, tolerance: float) -> None:
    UNIT_INTERVAL.check(array, loc, tolerance)
    sums = array.sum(axis=-1)
    off = np.abs(sums - 1) > tolerance
    if off.any():
        index = first(off) if off.ndim else ()
        raise InvalidInput(
            (*loc, *index),
            f"{loc[-1]} sums to {float(sums[index])!r}{where(index)}, not 1 "
            f"(tolerance {tolerance:g})",
        )


SIMPLEX = Constraint("each in [0, 1], summing to 1 along the last axis", _simplex)


def _symmetric(array: Array, loc: Loc, tolerance: float) -> None:
    # Relative to each matrix's largest element: a matrix computed in floating point may
    # differ from its transpose by a few ulps.
    scale = np.abs(array).max(axis=(-2, -1), keepdims=True)
    asymmetric = (np.abs(array - np.swapaxes(array, -1, -2)) > 1e-10 * scale).any(axis=(-2, -1))
    if asymmetric.any():
        index = first(asymmetric) if asymmetric.ndim else ()
        raise InvalidInput(
            (*loc, *index),
            f"{loc[-1]} must be symmetric positive definite; it is not symmetric{where(index)}",
        )


SYMMETRIC_POSITIVE_DEFINITE = Constraint("symmetric positive definite", _symmetric)


def _lower_cholesky(array: Array, loc: Loc, tolerance: float) -> None:
    upper = (np.triu(array, 1) != 0).any(axis=(-2, -1))
    diagonal = np.diagonal(array, axis1=-2, axis2=-1)
    bad = upper | (diagonal <= 0).any(axis=-1)
    if bad.any():
        index = first(bad) if bad.ndim else ()
        raise InvalidInput(
            (*loc, *index),
            f"{loc[-1]} must be lower triangular with a positive diagonal; it is not{where(index)}",
        )


LOWER_CHOLESKY = Constraint("lower triangular, positive diagonal", _lower_cholesky)


# Parameters several families share, in torch's words.
LOC = Parameter("loc", "location (the mean of a normal)", REAL)
SCALE = Parameter("scale", "scale (the standard deviation of a normal)", POSITIVE)
RATE = Parameter("rate", "rate (1 / mean of an exponential)", POSITIVE)


def probs_or_logits(probs: Parameter) -> tuple[Parameter, Parameter]:
    """``probs`` and ``logits``, the two ways of giving a probability: exactly one of them."""
    logits = Parameter("logits", "log odds of success, log(probs / (1 - probs))", REAL)
    return (
        Parameter(probs.name, probs.meaning, probs.constraint, choice="probs | logits"),
        Parameter(logits.name, logits.meaning, logits.constraint, choice="probs | logits"),
    )


SUCCESS = probs_or_logits(Parameter("probs", "probability of success", UNIT_INTERVAL))
# The three ways of giving a Gaussian's shape: exactly one of them.
COVARIANCE = "covariance_matrix | precision_matrix | scale_tril"
