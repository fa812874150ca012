"""KL(p || q) between two parsed sides: the rules that make it infinite, then the closed
form where the table has the pair, Monte Carlo otherwise.

In order: p and q must have one event shape (else 422) and batch shapes that broadcast;
distributions of different kinds (continuous, discrete, on the simplex) share no density,
so KL is infinite; where q's support does not cover p's it is infinite; elsewhere the
closed form, or the estimate, gives the value.
"""

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np

from service.core.errors import InputTooLarge, InvalidInput
from service.distributions import monte_carlo
from service.distributions.canonical import MAX_MATRIX_ELEMENTS
from service.distributions.closed_forms import CLOSED_FORMS
from service.distributions.distribution import Distribution, Side
from service.distributions.supports import Kind
from service.distributions.tensors import Array, Mask, Shape, first, where

Method = Literal["closed_form", "monte_carlo"]


@dataclass(frozen=True)
class Result:
    """Values in nats over the pair's batch shape (``inf`` where infinite), how they were
    found, why the first infinite one is, and, for Monte Carlo, standard errors and the
    number of draws."""

    values: Array
    method: Method
    reason: str | None = None
    standard_errors: Array | None = None
    samples: int | None = None


@dataclass(frozen=True)
class Options:
    """``method``: "auto" (closed form where there is one), or one of the two forced.
    Monte Carlo takes ``samples`` draws of p per batch element from ``seed``."""

    method: Literal["auto", "closed_form", "monte_carlo"] = "auto"
    samples: int = 100_000
    seed: int = 0
    max_batch: int = 1_000_000
    max_draws: int = 10_000_000


_KINDS = {
    Kind.CONTINUOUS: "continuous",
    Kind.DISCRETE: "discrete",
    Kind.VECTOR: "a distribution over R^n",
    Kind.SIMPLEX: "a distribution on the simplex (which has no volume in R^n)",
}


def kl(p: Side, q: Side, options: Options) -> Result:
    """KL(p || q) for every element of the broadcast batch; see the module for the rules."""
    batch = _pair_shape(p, q, options)
    p, q = p.spread(batch), q.spread(batch)
    if p.kind != q.kind:
        reason = (
            f"p is {_KINDS[p.kind]} and q is {_KINDS[q.kind]}: q gives probability 0 to a "
            "set that holds p's mass"
        )
        return Result(np.full(batch, np.inf), "closed_form", reason)
    uncovered, why = _uncovered(p, q)
    discrete = p.kind == Kind.DISCRETE
    form = CLOSED_FORMS.get((p.name, q.name))
    if form is not None and options.method != "monte_carlo":
        assert isinstance(p, Distribution) and isinstance(q, Distribution)  # mixtures: none
        with np.errstate(all="ignore"):  # infinities are results; uncovered values are reset
            values = np.where(uncovered, np.inf, form.kl(p.params, q.params))
        return Result(
            values, "closed_form", _reason(values, uncovered, why, discrete, form.infinite_when)
        )
    if uncovered.all():  # exact without a formula
        values = np.full(batch, np.inf)
        return Result(values, "closed_form", _reason(values, uncovered, why, discrete))
    if form is None and options.method == "closed_form":
        raise InvalidInput(
            ("body", "method"),
            f"no closed form for {p.name} || {q.name}; GET /distributions lists the pairs "
            "that have one",
        )
    found = monte_carlo.estimate(
        p, q, samples=options.samples, seed=options.seed, max_draws=options.max_draws
    )
    values = np.where(uncovered, np.inf, found.values)
    errors = np.where(uncovered, np.nan, found.standard_errors)
    why_first = _reason(values, uncovered, why, discrete, found.why)
    return Result(values, "monte_carlo", why_first, errors, options.samples)


def _pair_shape(p: Side, q: Side, options: Options) -> Shape:
    """The pair's batch shape; raises where the two cannot be compared."""
    if p.event_shape != q.event_shape:
        raise InvalidInput(
            ("body", "q"),
            f"q's draws have shape {list(q.event_shape)} ({q.name}) but p's have "
            f"{list(p.event_shape)} ({p.name}); KL compares distributions of one event shape",
            "shape",
        )
    if (
        isinstance(p, Distribution)
        and isinstance(q, Distribution)
        and p.name == q.name == "categorical"
    ):
        k_p, k_q = p.params["probs"].shape[-1], q.params["probs"].shape[-1]
        if k_p != k_q:
            raise InvalidInput(
                ("body", "q"),
                f"q has {k_q} categories but p has {k_p}; they must have the same number",
                "shape",
            )
    try:
        batch = np.broadcast_shapes(p.batch_shape, q.batch_shape)
    except ValueError:
        raise InvalidInput(
            ("body", "q"),
            f"q's batch shape {list(q.batch_shape)} does not broadcast with p's "
            f"{list(p.batch_shape)}",
            "shape",
        ) from None
    pairs = math.prod(batch)
    if pairs > options.max_batch:
        raise InputTooLarge(
            ("body",), f"p and q broadcast to {pairs} pairs; the limit is {options.max_batch}"
        )
    # Vector pairs compute on n x n matrices per pair (Gaussians: whitened factors).
    n = p.event_shape[0] if p.event_shape else 1
    if pairs * n * n > MAX_MATRIX_ELEMENTS:
        raise InputTooLarge(
            ("body",),
            f"p and q broadcast to {pairs} pairs of dimension {n}: {pairs * n * n:,} numbers "
            f"of matrices; the limit is {MAX_MATRIX_ELEMENTS:,}",
        )
    return batch


def _uncovered(p: Side, q: Side) -> tuple[Mask, Array | None]:
    """Where q's support does not cover p's (for scalar families with known bounds), and
    the four bounds (p's low, high, q's low, high) stacked, to say so."""
    shape = p.batch_shape
    if not (isinstance(p, Distribution) and isinstance(q, Distribution)):
        return np.zeros(shape, dtype=bool), None
    if p.family.support.bounds is None or q.family.support.bounds is None:
        return np.zeros(shape, dtype=bool), None
    p_low, p_high = p.family.support.bounds(p.params)
    q_low, q_high = q.family.support.bounds(q.params)
    uncovered = (p_low < q_low) | (p_high > q_high)
    return uncovered, np.stack(np.broadcast_arrays(p_low, p_high, q_low, q_high))


def _reason(
    values: Array,
    uncovered: Mask,
    bounds: Array | None,
    discrete: bool,
    otherwise: str | Callable[[Shape], str | None] = "",
) -> str | None:
    """Why the first infinite value is infinite: the supports (``bounds``, of a discrete
    family or not), ``otherwise`` (the formula's own rule, or what Monte Carlo found at an
    index), or an overflow."""
    infinite = ~np.isfinite(values)  # NaN too: parameters too extreme for float64
    if not infinite.any():
        return None
    index = first(infinite) if infinite.ndim else ()
    at = f"{where(index).strip()}: " if index else ""
    if uncovered[index] and bounds is not None:
        p_low, p_high, q_low, q_high = (float(b[index]) for b in bounds)
        return (
            f"{at}q's support {_interval(q_low, q_high, discrete)} does not cover p's "
            f"{_interval(p_low, p_high, discrete)}"
        )
    said = otherwise(index) if callable(otherwise) else otherwise
    return f"{at}{said or 'the value overflows float64'}"


def _interval(low: float, high: float, discrete: bool) -> str:
    if not discrete:
        return f"[{low:g}, {high:g}]".replace("inf]", "inf)").replace("[-inf", "(-inf")
    if high - low <= 1:
        return "{" + ", ".join(f"{v:g}" for v in sorted({low, high})) + "}"
    if math.isinf(high):
        return f"{{{low:g}, {low + 1:g}, ...}}"
    return f"{{{low:g}, ..., {high:g}}}"
