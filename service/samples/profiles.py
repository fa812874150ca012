"""Profiles: a reference table summarised per column, kept to score later tables against.

A column is ``numeric`` or ``categorical``. :func:`infer_kind` decides unless the request
says: strings and booleans are categorical; numbers are numeric, except integers with at
most :data:`MAX_CODE_VALUES` (20) distinct values, each seen :data:`MIN_CODE_ROWS` (5) times
on average, which are codes or ratings (categorical): in a small table, ten ages are ten
numbers, not ten codes.

A numeric profile holds the reference's :data:`DEFAULT_BINS` (20) equal-frequency bins:
edges at its quantiles 0, 1/k, ..., 1 (numpy's linear interpolation; repeated edges merged,
so ties give fewer, wider bins; a constant column has the edges [v, v] and one bin), the
rows in each bin by numpy.histogram's rule (the last bin closed), and its quantile function
at the :data:`QUANTILE_LEVELS` (1000) levels (i + 0.5) / 1000, the atoms the Wasserstein
distance of :mod:`.drift` is measured against; and the mean, the population standard
deviation (ddof=0), min, max and median. A categorical profile holds the categories sorted
by count (descending, then label) and their counts; over :data:`MAX_CATEGORIES` (10,000)
distinct values is refused (an identifier is not a distribution).

Each numeric column is sorted once: the quantiles, the edges and the counts are all read
from the sorted values (binary searches, no histogram pass); :mod:`.drift` reads the
current table's cells and Wasserstein distance from its values sorted once, or, for the
other methods, its cells in one unsorted pass (:func:`cells`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from service.core.errors import InvalidInput

if TYPE_CHECKING:
    from service.samples.count_tables import CellCounts
    from service.samples.tables import Column, Table

NUMERIC, CATEGORICAL = "numeric", "categorical"
KINDS = (NUMERIC, CATEGORICAL)
DEFAULT_BINS = 20
QUANTILE_LEVELS = 1000
MAX_CATEGORIES = 10_000
# Integers with this many distinct values or fewer are codes (a rating, a class id).
MAX_CODE_VALUES = 20
MIN_CODE_ROWS = 5

LEVELS = (np.arange(QUANTILE_LEVELS) + 0.5) / QUANTILE_LEVELS


def column_loc(name: str) -> tuple[str, ...]:
    """Where a column's problems are reported."""
    return ("body", "columns", name)


def infer_kind(column: Column) -> str:
    """labels -> categorical; numbers -> numeric, except integers with at most 20 distinct
    values seen 5 times each on average -> categorical (a code, a rating)."""
    if column.numbers is None:
        return CATEGORICAL
    return _kind_of_sorted(column, np.sort(column.numbers))


def _kind_of_sorted(column: Column, ordered: np.ndarray) -> str:
    if not column.integral:
        return NUMERIC
    distinct = 1 + int(np.count_nonzero(np.diff(ordered)))
    codes = distinct <= MAX_CODE_VALUES and distinct * MIN_CODE_ROWS <= column.rows
    return CATEGORICAL if codes else NUMERIC


def sorted_quantiles(ordered: np.ndarray, levels: np.ndarray) -> np.ndarray:
    """``numpy.quantile(ordered, levels)`` (linear interpolation) for already sorted
    values, without numpy's partition pass."""
    n = ordered.size
    virtual = (n - 1) * levels
    below = np.floor(virtual)
    gamma = virtual - below
    low = np.minimum(below.astype(np.intp), n - 1)
    a, b = ordered[low], ordered[np.minimum(low + 1, n - 1)]
    step = b - a
    # numpy's _lerp: from the nearer end, so that a level near 1 does not overshoot b.
    return np.where(gamma >= 0.5, b - step * (1 - gamma), a + step * gamma)


def sorted_cells(ordered: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Rows of sorted values below the first edge, in each bin of ``edges``
    (numpy.histogram's rule: the last bin closed) and above the last edge: k + 2 counts."""
    below_edge = np.searchsorted(ordered, edges, side="left")
    last = np.searchsorted(ordered, edges[-1:], side="right")
    return np.diff(np.concatenate([[0], below_edge[:-1], last, [ordered.size]])).astype(np.int64)


def cells(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """:func:`sorted_cells` of values in any order, without sorting them (one pass)."""
    found = np.bincount(np.searchsorted(edges, values, side="right"), minlength=edges.size + 1)
    # A value on the last edge is in the last bin (closed), not above it.
    on_last = int(np.count_nonzero(values == edges[-1]))
    found[-2:] += (on_last, -on_last)
    return found.astype(np.int64)


def wasserstein_to_atoms(ordered: np.ndarray, atoms: np.ndarray) -> float:
    """W1 between the empirical distribution of sorted values and equally weighted atoms
    (``scipy.stats.wasserstein_distance``, without sorting the values again): the integral
    over levels u in (0, 1] of |Q_values(u) - Q_atoms(u)|, counted in units of 1/(n m).

    Value k holds the levels (k m, (k + 1) m], atom j the levels (j n, (j + 1) n]: each
    value is charged in full at the atom of its last level, then each atom boundary j n
    inside a value's levels corrects the part below it, which telescopes where one value
    holds several boundaries. One pass over the values, none over their merge.
    """
    n, m = ordered.size, atoms.size
    atoms = np.sort(atoms)
    per_atom = np.diff(np.arange(m + 1, dtype=np.int64) * n // m)  # values charged to each
    boundaries = np.arange(1, m, dtype=np.int64) * n
    value = boundaries // m
    below = (boundaries - value * m).astype(np.float64)
    x = ordered[value]
    with np.errstate(over="ignore", invalid="ignore"):
        charged = float(np.abs(ordered - np.repeat(atoms, per_atom)).sum()) * m
        corrections = float(np.dot(below, np.abs(x - atoms[:-1]) - np.abs(x - atoms[1:])))
        distance = (charged + corrections) / (n * m)
    return distance if math.isfinite(distance) else math.inf


def numeric_profile(ordered: np.ndarray, bins: int, name: str) -> dict[str, Any]:
    """The profile of one column's values, sorted (see the module's docstring)."""
    with np.errstate(over="ignore", invalid="ignore"):
        spread = ordered[-1] - ordered[0]
        mean, std = float(np.mean(ordered)), float(np.std(ordered))
    if not (np.isfinite(spread) and np.isfinite(mean) and np.isfinite(std)):
        raise InvalidInput(
            column_loc(name),
            f"column {name!r} holds numbers too large to profile in float64 (their spread "
            "or their squares overflow); rescale it",
        )
    edges = np.unique(sorted_quantiles(ordered, np.linspace(0.0, 1.0, bins + 1)))
    # The outer edges are the reference's min and max exactly, whatever the rounding.
    edges[0], edges[-1] = ordered[0], ordered[-1]
    if edges.size == 1:  # a constant column: one closed bin [v, v]
        edges = np.array([ordered[0], ordered[0]])
    counts = sorted_cells(ordered, edges)[1:-1]
    n = ordered.size
    return {
        "kind": NUMERIC,
        "rows": n,
        "edges": edges.tolist(),
        "counts": counts.tolist(),
        "quantiles": sorted_quantiles(ordered, LEVELS).tolist(),
        "mean": mean,
        "std": std,
        "min": float(ordered[0]),
        "max": float(ordered[-1]),
        "median": float((ordered[(n - 1) // 2] + ordered[n // 2]) / 2),
    }


def categories_of(column: Column | CellCounts, name: str) -> tuple[tuple[str, ...], np.ndarray]:
    """The column's labels and counts (numbers as labels; the cells of counts), at most
    :data:`MAX_CATEGORIES`."""
    labels, counts = column.as_categories()
    if len(labels) > MAX_CATEGORIES:
        raise InvalidInput(
            column_loc(name),
            f"column {name!r} has {len(labels)} distinct values; a categorical column may "
            f"have at most {MAX_CATEGORIES} (an identifier is not a distribution"
            + (
                "; declare it numeric in kinds)"
                if getattr(column, "numbers", None) is not None
                else ")"
            ),
        )
    return labels, np.asarray(counts, dtype=np.int64)


def categorical_profile(column: Column, name: str) -> dict[str, Any]:
    """Categories by count descending, then label, and their counts."""
    labels, counts = categories_of(column, name)
    order = sorted(range(len(labels)), key=lambda i: (-int(counts[i]), labels[i]))
    return {
        "kind": CATEGORICAL,
        "rows": int(counts.sum()),
        "categories": [labels[i] for i in order],
        "counts": [int(counts[i]) for i in order],
    }


def _check_kinds(table: Table, kinds: Mapping[str, str]) -> None:
    for name, kind in kinds.items():
        loc = ("body", "kinds", name)
        if name not in table:
            raise InvalidInput(loc, f"kinds names column {name!r}; the table has no such column")
        if kind not in KINDS:
            raise InvalidInput(loc, f"kind {kind!r} is not one of {', '.join(KINDS)}")
        if kind == NUMERIC and table[name].numbers is None:
            raise InvalidInput(
                loc, f"column {name!r} holds strings or booleans; it cannot be numeric"
            )


def build_profile(table: Table, *, kinds: Mapping[str, str], bins: int) -> dict[str, dict]:
    """JSON-ready profile per column. kinds overrides the inferred kind (a column of
    strings asked to be numeric: 422 naming it; an unknown column in kinds: 422)."""
    if bins < 1:
        raise InvalidInput(("body", "bins"), f"bins must be at least 1, not {bins}")
    _check_kinds(table, kinds)
    profile: dict[str, dict] = {}
    for name, column in table.items():
        if column.numbers is None:
            profile[name] = categorical_profile(column, name)
            continue
        ordered = np.sort(column.numbers)
        kind = kinds.get(name) or _kind_of_sorted(column, ordered)
        if kind == NUMERIC:
            profile[name] = numeric_profile(ordered, bins, name)
        else:
            profile[name] = categorical_profile(column, name)
    return profile
