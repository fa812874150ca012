"""The estimators' computations, one function per method (declared in :mod:`.estimators`).

- ``binned``: 1-D numbers counted over shared bins, then any member of the family on the
  frequencies, computed by the family's own scoring (``scoring.score``, as
  ``POST /divergences/{name}`` with ``normalize: true`` on the counts plus the prior).
- ``categorical``: the same over the union of the categories.
- ``knn``: KL from rows of numbers by k-nearest-neighbour distances (:mod:`.knn`).
- ``exact``: the Wasserstein and energy distances of the empirical distributions.
"""

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from service.core.errors import InputTooLarge, InvalidInput
from service.divergences.catalog import DIVERGENCES, Divergence
from service.divergences.inputs import Limits
from service.divergences.scoring import Scores, in_base, score, unit_name
from service.samples import binning, resampling
from service.samples.distances import DISTANCES
from service.samples.knn import DEFAULT_K, knn_kl
from service.samples.parsing import Sample

# Subsamples for the kNN interval hold this fraction of each sample.
SUBSAMPLE_FRACTION = 0.5
# Resampling recomputes the estimate on every resample: at most this many rows
# (knn, exact) or cells (binned, categorical) in all, (bootstrap + permutations) times
# the rows of x and y, or the cells.
MAX_RESAMPLED = 10_000_000
SAMPLE_UNIT = "unit of the samples"


@dataclass(frozen=True)
class Options:
    """What a request may ask of an estimator (checked for range by the request model)."""

    base: float | str = "e"
    alpha: float | None = None
    bins: binning.Bins = "auto"
    bin_count: int = 10
    prior: str | float = "none"
    k: int = DEFAULT_K
    bootstrap: int = 0
    confidence: float = 0.95
    permutations: int = 0
    seed: int = 0
    max_bins: int = 100_000


@dataclass(frozen=True)
class Estimate:
    """A value (``inf`` where infinite) with what the method used in ``details``."""

    value: float
    unit: str
    infinite_at: int | None = None
    interval: resampling.Interval | None = None
    p_value: float | None = None
    details: dict[str, Any] = field(default_factory=dict)
    method: str = ""


Run = Callable[[str, Sample, Sample, Options, Limits], Estimate]


def _member(name: str, options: Options) -> Divergence:
    divergence = DIVERGENCES[name]
    for parameter in divergence.parameters:
        problem = parameter.problem(options.alpha, name)
        if problem is not None:
            kind = "missing" if options.alpha is None else "value_error"
            raise InvalidInput(("body", parameter.name), problem, kind)
    return divergence


def _count_scores(
    divergence: Divergence, options: Options, limits: Limits
) -> Callable[[np.ndarray, np.ndarray], Scores]:
    """The member's scores for counts (or rows of counts: resamples), the prior added to
    every cell and each side normalised, as ``POST /divergences/{name}`` with
    ``normalize: true`` scores them."""
    prior = binning.prior_value(options.prior)
    alpha = options.alpha if divergence.parameters else None

    def scores(x: np.ndarray, y: np.ndarray) -> Scores:
        rows = replace(limits, max_batch_rows=max(limits.max_batch_rows, len(np.atleast_2d(x))))
        return score(
            divergence,
            p=x + prior,
            q=y + prior,
            limits=rows,
            normalize=True,
            base=options.base,
            alpha=alpha,
        )

    return scores


def _from_counts(
    name: str, counts: binning.Counts, options: Options, limits: Limits, details: dict[str, Any]
) -> Estimate:
    divergence = _member(name, options)
    cells = counts.x.size
    if cells > limits.max_vector_length:
        raise InputTooLarge(
            ("body", "x"),
            f"x and y hold {cells} categories; the limit is {limits.max_vector_length}",
        )
    check_resampled(options, cells, "cells")
    scores = _count_scores(divergence, options, limits)
    found = scores(counts.x, counts.y)
    value, at = float(found.values), int(found.infinite_at)
    rng = np.random.default_rng(options.seed)
    n_x, n_y = int(counts.x.sum()), int(counts.y.sum())
    interval = None
    if options.bootstrap:
        # Resampling rows with replacement over fixed cells is drawing multinomial counts.
        draws = scores(
            rng.multinomial(n_x, counts.x / n_x, size=options.bootstrap),
            rng.multinomial(n_y, counts.y / n_y, size=options.bootstrap),
        )
        interval = resampling.percentile_interval(draws.values, options.confidence)
    p = None
    if options.permutations:
        _needs_q(divergence)
        # A random split of the pooled rows, over fixed cells: hypergeometric counts.
        pooled = counts.x + counts.y
        x_counts = rng.multivariate_hypergeometric(pooled, n_x, size=options.permutations)
        p = resampling.p_value(value, scores(x_counts, pooled - x_counts).values)
    details |= {
        "counts_x": counts.x.tolist(),
        "counts_y": counts.y.tolist(),
        "prior": binning.prior_value(options.prior),
    }
    return Estimate(value, found.unit, at if at >= 0 else None, interval, p, details)


def check_resampled(options: Options, size: int, what: str) -> None:
    """413 where the resamples would recompute the estimate on more than
    :data:`MAX_RESAMPLED` rows or cells in all."""
    resampled = (options.bootstrap + options.permutations) * size
    if resampled > MAX_RESAMPLED:
        raise InputTooLarge(
            ("body", "bootstrap" if options.bootstrap else "permutations"),
            f"{options.bootstrap} resamples and {options.permutations} permutations of "
            f"{size} {what} make {resampled} {what} to compute; the limit is {MAX_RESAMPLED}",
        )


def _needs_q(divergence: Divergence) -> None:
    if not divergence.needs_q:
        raise InvalidInput(
            ("body", "permutations"),
            f"{divergence.name} is of x alone: there is no difference to test",
        )


def binned(name: str, x: Sample, y: Sample, options: Options, limits: Limits) -> Estimate:
    """The member on the frequencies of 1-D x and y over shared bins (:mod:`.binning`)."""
    x1, y1 = x.values[:, 0], y.values[:, 0]
    bin_edges = binning.edges(
        options.bins, x1, y1, count=options.bin_count, max_bins=options.max_bins
    )
    counts = binning.binned_counts(x1, y1, bin_edges)
    return _from_counts(name, counts, options, limits, {"edges": bin_edges.tolist()})


def categorical(name: str, x: Sample, y: Sample, options: Options, limits: Limits) -> Estimate:
    """The member on the frequencies of x and y over the sorted union of their categories."""
    categories, counts = binning.category_counts(x.values, y.values)
    return _from_counts(name, counts, options, limits, {"categories": categories.tolist()})


def _rows_estimate(
    statistic: resampling.Statistic,
    x: np.ndarray,
    y: np.ndarray,
    options: Options,
    unit: str,
    subsample: bool,
    details: dict[str, Any],
) -> Estimate:
    """``statistic`` of x and y, with its interval from rows resampled (``subsample``:
    without replacement) and its permutation p-value, as ``options`` ask."""
    value = statistic(x, y)
    rng = np.random.default_rng(options.seed)
    interval = None
    if options.bootstrap and subsample:
        draws = resampling.subsample_rows(
            statistic, x, y, rng, options.bootstrap, SUBSAMPLE_FRACTION
        )
        interval = resampling.subsampling_interval(
            value, draws, options.confidence, SUBSAMPLE_FRACTION
        )
    elif options.bootstrap:
        draws = resampling.bootstrap_rows(statistic, x, y, rng, options.bootstrap)
        interval = resampling.percentile_interval(draws, options.confidence)
    p = None
    if options.permutations:
        permuted = resampling.permuted_rows(statistic, x, y, rng, options.permutations)
        p = resampling.p_value(value, permuted)
    return Estimate(value, unit, None, interval, p, details)


def knn(name: str, x: Sample, y: Sample, options: Options, limits: Limits) -> Estimate:
    """KL by k-nearest-neighbour distances (:mod:`.knn`), its interval by subsampling: a
    bootstrap's repeated rows would be the zero distances that bias the estimate."""
    kl = DIVERGENCES["kl"]
    if options.bootstrap and int(min(x.size, y.size + 1) * SUBSAMPLE_FRACTION) < options.k + 1:
        raise InvalidInput(
            ("body", "bootstrap"),
            f"the kNN interval subsamples half of each sample, which needs at least "
            f"{2 * (options.k + 1)} rows in each",
        )

    def statistic(a: np.ndarray, b: np.ndarray) -> float:
        return float(in_base(knn_kl(a, b, options.k), kl, options.base))

    details = {"k": options.k, "dimension": x.dimension}
    return _rows_estimate(
        statistic, x.values, y.values, options, unit_name(kl, options.base), True, details
    )


def exact(name: str, x: Sample, y: Sample, options: Options, limits: Limits) -> Estimate:
    """The Wasserstein or energy distance of 1-D x and y (:mod:`.distances`)."""
    distance = DISTANCES[name][1]
    return _rows_estimate(distance, x.values[:, 0], y.values[:, 0], options, SAMPLE_UNIT, False, {})


def json_number(value: float) -> float | None:
    """``value``, or None where it is not finite (JSON has no Infinity)."""
    return value if math.isfinite(value) else None
