"""Shared bins for two 1-D samples, category counts, and the priors added to them.

Rules are numpy's (``numpy.histogram_bin_edges``) applied to the pooled samples, so the
bins cover both; ``"quantiles"`` puts the edges at quantiles of x (widened to the pooled
range, repeated edges merged). Explicit edges must cover every sample: a sample outside
them is an error naming its row, never silently dropped nor put in an open-ended bin.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from service.core.errors import InputTooLarge, InvalidInput

# numpy's rules whose bin count depends on the spread: a few far-off values can ask for
# millions of bins, so their count is checked before numpy allocates the edges.
WIDTH_RULES = ("auto", "fd", "scott")
COUNT_RULES = ("sturges", "rice", "sqrt", "doane")
RULES = (*WIDTH_RULES, *COUNT_RULES, "quantiles")
PRIORS = {"none": 0.0, "jeffreys": 0.5, "laplace": 1.0}

Bins = str | int | Sequence[float]


@dataclass(frozen=True)
class Counts:
    """Counts of x and y over shared cells (bins or categories), before any prior."""

    x: np.ndarray
    y: np.ndarray


def prior_value(prior: str | float) -> float:
    """The pseudo-count a prior adds to every cell: none 0, jeffreys 1/2, laplace 1, or
    the number itself (checked finite and >= 0 by the request model)."""
    return PRIORS[prior] if isinstance(prior, str) else float(prior)


def _width(rule: str, pooled: np.ndarray) -> float:
    """The bin width numpy's ``rule`` gives (0 where it gives one bin)."""
    n = pooled.size
    sturges = float(np.ptp(pooled)) / (math.log2(n) + 1.0)
    if rule == "scott":
        return float((24.0 * math.pi**0.5 / n) ** (1.0 / 3.0) * np.std(pooled))
    iqr = float(np.subtract(*np.percentile(pooled, [75, 25])))
    fd = 2.0 * iqr * n ** (-1.0 / 3.0)
    if rule == "fd":
        return fd
    return min(fd, sturges) if fd > 0 else sturges


def edges(bins: Bins, x: np.ndarray, y: np.ndarray, *, count: int, max_bins: int) -> np.ndarray:
    """The shared bin edges for 1-D samples ``x`` and ``y``.

    ``bins`` is a count of equal-width bins over the pooled range, a rule of
    :data:`RULES` (``count`` is the number of quantile bins), or explicit edges (strictly
    increasing, finite, at least two, covering every sample). Over ``max_bins`` bins: 413.
    """
    pooled = np.concatenate([x, y])
    with np.errstate(over="ignore"):
        spread = float(pooled.max() - pooled.min())
    if not math.isfinite(spread) and isinstance(bins, str | int):
        raise InvalidInput(
            ("body", "bins"),
            "the samples span more than float64 holds; give explicit edges",
        )
    if isinstance(bins, str):
        if bins == "quantiles":
            return _quantile_edges(x, pooled, count)
        if bins in WIDTH_RULES:
            width = _width(bins, pooled)
            # A width under the spread's float64 resolution asks for infinitely many.
            wanted = spread / width if width > 0 else 1.0
            if wanted > max_bins:
                many = f"{math.ceil(wanted)}" if math.isfinite(wanted) else "more than 1e308"
                raise InputTooLarge(
                    ("body", "bins"),
                    f"the {bins!r} rule gives {many} bins for these samples; the limit is "
                    f"{max_bins}: give a count, edges or another rule",
                )
        return np.histogram_bin_edges(pooled, bins=bins)
    if isinstance(bins, int):
        if bins > max_bins:
            raise InputTooLarge(("body", "bins"), f"{bins} bins; the limit is {max_bins}")
        return np.histogram_bin_edges(pooled, bins=bins)
    return _explicit(np.asarray(bins, dtype=np.float64), x, y, max_bins)


def _quantile_edges(x: np.ndarray, pooled: np.ndarray, count: int) -> np.ndarray:
    # Ties (discrete data) repeat quantiles: repeated edges would make empty bins.
    found = np.unique(np.quantile(x, np.linspace(0.0, 1.0, count + 1)))
    found[0], found[-1] = min(found[0], pooled.min()), max(found[-1], pooled.max())
    if found.size == 1:  # one value in all: numpy's convention for a zero range
        return np.array([found[0] - 0.5, found[0] + 0.5])
    return found


def _explicit(given: np.ndarray, x: np.ndarray, y: np.ndarray, max_bins: int) -> np.ndarray:
    if given.size < 2:
        raise InvalidInput(("body", "bins"), "edges need at least two numbers (one bin)")
    if given.size - 1 > max_bins:
        raise InputTooLarge(("body", "bins"), f"{given.size - 1} bins; the limit is {max_bins}")
    if not np.isfinite(given).all():
        at = int(np.argmin(np.isfinite(given)))
        raise InvalidInput(("body", "bins", at), "edges must be finite numbers")
    with np.errstate(over="ignore"):  # edges far apart overflow to inf: still rising
        rising = np.diff(given) > 0
    if not rising.all():
        at = int(np.argmin(rising)) + 1
        raise InvalidInput(
            ("body", "bins", at),
            f"edges must increase strictly; edge {at} is {given[at]:g} after {given[at - 1]:g}",
        )
    for field, sample in (("x", x), ("y", y)):
        outside = (sample < given[0]) | (sample > given[-1])
        if outside.any():
            row = int(np.argmax(outside))
            raise InvalidInput(
                ("body", field, row),
                f"{field}[{row}] = {sample[row]:g} is outside the edges "
                f"[{given[0]:g}, {given[-1]:g}]; widen the first or last edge",
            )
    return given


def binned_counts(x: np.ndarray, y: np.ndarray, bin_edges: np.ndarray) -> Counts:
    """numpy's histogram counts of x and y over ``bin_edges`` (the last bin is closed)."""
    return Counts(np.histogram(x, bin_edges)[0], np.histogram(y, bin_edges)[0])


def category_counts(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, Counts]:
    """The sorted union of the categories of x and y, and the counts of each sample."""
    categories, codes = np.unique(np.concatenate([x, y]), return_inverse=True)
    size = categories.size
    counts = Counts(
        np.bincount(codes[: x.size], minlength=size), np.bincount(codes[x.size :], minlength=size)
    )
    return categories, counts
