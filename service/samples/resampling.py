"""Uncertainty from resampling: percentile and subsampling intervals, permutation p-values.

Intervals are read off order statistics (no interpolation), so a resample whose value is
infinite gives an infinite bound rather than NaN.
"""

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

Statistic = Callable[[np.ndarray, np.ndarray], float]


@dataclass(frozen=True)
class Interval:
    """A two-sided interval at ``confidence`` from ``resamples`` draws of ``scheme``."""

    low: float
    high: float
    confidence: float
    scheme: str
    resamples: int


def _order_statistics(draws: np.ndarray, confidence: float) -> tuple[float, float]:
    """The (1 - c)/2 and (1 + c)/2 empirical quantiles of ``draws`` (inverted CDF)."""
    ordered = np.sort(draws)
    size = ordered.size
    tail = (1.0 - confidence) / 2.0
    low = min(max(math.ceil(tail * size) - 1, 0), size - 1)
    high = min(max(math.ceil((1.0 - tail) * size) - 1, 0), size - 1)
    return float(ordered[low]), float(ordered[high])


def percentile_interval(draws: np.ndarray, confidence: float) -> Interval:
    """The bootstrap percentile interval of the resampled values ``draws``."""
    low, high = _order_statistics(draws, confidence)
    return Interval(low, high, confidence, "bootstrap percentile", draws.size)


def subsampling_interval(
    estimate: float, draws: np.ndarray, confidence: float, fraction: float
) -> Interval:
    """The subsampling interval (Politis & Romano, 1994) for a root-n statistic: ``draws``
    are its values on subsamples of ``fraction`` of each sample, drawn without
    replacement. Given the data, draw - estimate varies as (1/f - 1) times the estimate
    does (the subsamples share rows with the whole: the delete-d jackknife's finite
    population correction, Shao & Wu 1989), so it is scaled by sqrt(f / (1 - f)) (1 for
    halves) to stand for the law of estimate - truth."""
    scale = math.sqrt(fraction / (1.0 - fraction))
    low, high = _order_statistics(draws - estimate, confidence)
    return Interval(
        estimate - scale * high,
        estimate - scale * low,
        confidence,
        f"subsampling without replacement ({fraction:g} of each sample)",
        draws.size,
    )


def bootstrap_rows(
    statistic: Statistic, x: np.ndarray, y: np.ndarray, rng: np.random.Generator, times: int
) -> np.ndarray:
    """``statistic`` on ``times`` resamples of x and y, rows drawn with replacement."""
    return np.array(
        [
            statistic(x[rng.integers(0, len(x), len(x))], y[rng.integers(0, len(y), len(y))])
            for _ in range(times)
        ]
    )


def subsample_rows(
    statistic: Statistic,
    x: np.ndarray,
    y: np.ndarray,
    rng: np.random.Generator,
    times: int,
    fraction: float,
) -> np.ndarray:
    """``statistic`` on ``times`` subsamples of x and y of ``fraction`` of their rows each,
    drawn without replacement (so no row is repeated: no artificial ties)."""
    bx, by = max(int(len(x) * fraction), 1), max(int(len(y) * fraction), 1)
    return np.array(
        [
            statistic(
                x[rng.choice(len(x), bx, replace=False)], y[rng.choice(len(y), by, replace=False)]
            )
            for _ in range(times)
        ]
    )


def permuted_rows(
    statistic: Statistic, x: np.ndarray, y: np.ndarray, rng: np.random.Generator, times: int
) -> np.ndarray:
    """``statistic`` on ``times`` random splits of the pooled rows into sizes of x and y."""
    pooled = np.concatenate([x, y])
    values = []
    for _ in range(times):
        shuffled = pooled[rng.permutation(len(pooled))]
        values.append(statistic(shuffled[: len(x)], shuffled[len(x) :]))
    return np.array(values)


def p_value(observed: float, permuted: np.ndarray) -> float:
    """The permutation p-value (1 + #{permuted >= observed}) / (1 + N): never 0, exact
    under "x and y come from one distribution" (Phipson & Smyth, 2010)."""
    return float((1 + np.count_nonzero(permuted >= observed)) / (1 + permuted.size))
