"""Drift: how far a current table has moved from a reference profile (:mod:`.profiles`).

Cells. A numeric column is counted over [below the reference min] + the reference's bins +
[above the reference max] (k + 2 cells; the reference has 0 in both outer cells); a
categorical one over the reference's categories, then the unseen ones (reference count 0)
by current count descending, then label.

Methods, with P = the current table and Q = the reference:

- ``wasserstein`` (numeric only): the 1-Wasserstein distance between the current values
  and the reference's 1000 quantiles as equally weighted atoms (what
  ``scipy.stats.wasserstein_distance`` gives), divided by the reference standard deviation;
  a constant reference scores 0 against the same constant, else infinity.
- any member of the divergence family that compares two distributions and has no
  parameter (``js_distance``, ``jeffreys``, ``kl``, ``hellinger``, ``total_variation``, ...)
  on the cells: the prior added to every cell of both, each normalised, scored by
  ``scoring.score`` as ``POST /divergences/{name}`` with ``normalize: true`` does.
- ``psi``: the Population Stability Index, sum_i (p_i - q_i) ln(p_i / q_i), which is the
  Jeffreys divergence in nats (scored as ``jeffreys``).

Defaults: numeric columns ``wasserstein`` (given as counts, :mod:`.count_tables`:
``js_distance``, as Wasserstein needs the values), threshold 0.1 (reference standard deviations);
categorical columns ``js_distance`` in bits (so in [0, 1]), threshold 0.1; ``psi``
threshold 0.2; any other member threshold 0.1, in nats (``js_distance`` always in bits).
The members score a numeric column with its outer cells folded into the first and last
bins (open-ended outer bins, as PSI is usually computed: one current value beyond the
reference's range does not make KL or PSI infinite), except for a constant reference, whose
one bin is the constant itself. The prior is ``none``: an empty reference cell where the
current has rows (an unseen category) makes KL and PSI infinite, which is reported
(``score`` null, ``finite`` false) and drifts; a prior (``jeffreys``) keeps them finite. A
column drifts when its score >= its threshold; the table drifts when the share of drifted
columns >= ``drift_share``.

``p_value`` is the chi-square test of homogeneity of the reference and current counts over
the cells (cells empty in both dropped, no Yates correction; null with fewer than 2 cells
left). It is informational, not the verdict: at large tables it rejects for changes too
small to matter, which is why the verdict is a distance against a threshold.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy import stats

from service.core.errors import InputTooLarge, InvalidInput
from service.divergences.catalog import DIVERGENCES
from service.divergences.inputs import Limits
from service.divergences.scoring import score
from service.samples.binning import PRIORS, prior_value
from service.samples.count_tables import CellCounts, CountTable
from service.samples.profiles import (
    CATEGORICAL,
    NUMERIC,
    categories_of,
    cells,
    column_loc,
    sorted_cells,
    wasserstein_to_atoms,
)

if TYPE_CHECKING:
    from service.samples.tables import Column, Table

WASSERSTEIN, PSI = "wasserstein", "psi"
# Members that compare two distributions and need no parameter (renyi, alpha need one).
MEMBERS = tuple(n for n, d in DIVERGENCES.items() if d.needs_q and not d.parameters)
METHODS = (WASSERSTEIN, PSI, *MEMBERS)
DEFAULT_METHODS = {NUMERIC: WASSERSTEIN, CATEGORICAL: "js_distance"}
COUNTS_METHOD = "js_distance"
DEFAULT_THRESHOLD = 0.1
THRESHOLDS = {PSI: 0.2}
BASES: dict[str, float | str] = {"js_distance": 2.0}
WASSERSTEIN_UNIT = "reference standard deviations"


@dataclass(frozen=True)
class ColumnOptions:
    """How one column is scored; None takes the kind's method and the method's threshold."""

    method: str | None = None
    threshold: float | None = None
    prior: str | float = "none"  # as service.samples.binning.prior_value


def _checked(
    name: str, kind: str, options: ColumnOptions, counted: bool = False
) -> tuple[str, float, float]:
    """The column's method, threshold and prior, each checked; 422 at its option's loc.
    A column given as counts (``counted``) is scored by ``js_distance`` by default."""
    loc = ("body", "methods", name)
    method = options.method or (COUNTS_METHOD if counted else DEFAULT_METHODS[kind])
    if method not in METHODS:
        raise InvalidInput(
            (*loc, "method"), f"unknown method {method!r}; the methods are {', '.join(METHODS)}"
        )
    if method == WASSERSTEIN and (kind != NUMERIC or counted):
        given = "given as counts" if counted else "categorical"
        raise InvalidInput(
            (*loc, "method"),
            f"wasserstein needs the values; column {name!r} is {given}: use one of "
            f"{', '.join(METHODS[1:])}",
        )
    threshold = options.threshold
    if threshold is None:
        threshold = THRESHOLDS.get(method, DEFAULT_THRESHOLD)
    if not (math.isfinite(threshold) and threshold >= 0):
        raise InvalidInput((*loc, "threshold"), "the threshold must be a finite number >= 0")
    prior = options.prior
    if prior not in PRIORS if isinstance(prior, str) else not (0 <= prior < math.inf):
        raise InvalidInput(
            (*loc, "prior"), f"the prior is one of {', '.join(PRIORS)} or a finite number >= 0"
        )
    return method, float(threshold), prior_value(prior)


def _numeric_cells(
    name: str, profile: dict, column: Column | CellCounts, method: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The current values sorted (wasserstein only: else empty), current and reference cells."""
    if isinstance(column, CellCounts):
        reference = np.array([0, *profile["counts"], 0], dtype=np.int64)
        return np.empty(0), column.numeric_cells(len(profile["counts"])), reference
    if column.numbers is None:
        raise InvalidInput(
            column_loc(name),
            f"the profile's column {name!r} is numeric; the table's holds strings or booleans",
        )
    edges = np.asarray(profile["edges"], dtype=np.float64)
    reference = np.array([0, *profile["counts"], 0], dtype=np.int64)
    if method != WASSERSTEIN:  # the cells alone: one pass, no sort
        return np.empty(0), cells(column.numbers, edges), reference
    ordered = np.sort(column.numbers)
    return ordered, sorted_cells(ordered, edges), reference


def _categorical_cells(
    name: str, profile: dict, column: Column | CellCounts
) -> tuple[list[str], np.ndarray, np.ndarray, list[dict[str, Any]]]:
    labels, counts = categories_of(column, name)
    known = {label: i for i, label in enumerate(profile["categories"])}
    current = np.zeros(len(known), dtype=np.int64)
    unseen: list[tuple[str, int]] = []
    for label, count in zip(labels, counts.tolist(), strict=True):
        if label in known:
            current[known[label]] = count
        else:
            unseen.append((label, count))
    unseen.sort(key=lambda item: (-item[1], item[0]))
    names = [*profile["categories"], *(label for label, _ in unseen)]
    current = np.concatenate([current, [count for _, count in unseen]]).astype(np.int64)
    reference = np.concatenate([profile["counts"], np.zeros(len(unseen))]).astype(np.int64)
    listed = [{"category": label, "count": count} for label, count in unseen]
    return names, current, reference, listed


def homogeneity_p_value(reference: np.ndarray, current: np.ndarray) -> float | None:
    """The chi-square test of homogeneity of the two rows of counts (cells empty in both
    dropped, no Yates correction); None with fewer than 2 cells left."""
    kept = (reference + current) > 0
    if int(kept.sum()) < 2:
        return None
    table = np.stack([reference[kept], current[kept]])
    return float(stats.chi2_contingency(table, correction=False).pvalue)


def _folded(cells: np.ndarray) -> np.ndarray:
    """Numeric cells with [below min] and [above max] counted in the first and last bins."""
    folded = cells[1:-1].copy()
    folded[0] += cells[0]
    folded[-1] += cells[-1]
    return folded


def _member_score(
    method: str, current: np.ndarray, reference: np.ndarray, prior: float, limits: Limits
) -> tuple[float, str]:
    name = "jeffreys" if method == PSI else method
    scores = score(
        DIVERGENCES[name],
        p=current + prior,
        q=reference + prior,
        limits=limits,
        normalize=True,
        base=BASES.get(name, "e"),
    )
    return float(scores.values), scores.unit


def column_drift(
    name: str, profile: dict, column: Column | CellCounts, options: ColumnOptions, limits: Limits
) -> dict[str, Any]:
    """One column's drift from its profile (see the module's docstring for the result)."""
    kind = profile["kind"]
    method, threshold, prior = _checked(name, kind, options, isinstance(column, CellCounts))
    result: dict[str, Any] = {}
    ordered = np.empty(0)
    if kind == NUMERIC:
        ordered, current, reference = _numeric_cells(name, profile, column, method)
        unseen: list[dict[str, Any]] = []
        result["edges"] = profile["edges"]
    else:
        labels, current, reference, unseen = _categorical_cells(name, profile, column)
        result["labels"] = labels
    if current.size > limits.max_vector_length:
        raise InputTooLarge(
            column_loc(name),
            f"column {name!r} makes {current.size} cells; the limit is {limits.max_vector_length}",
        )
    rows = int(current.sum())
    if method == WASSERSTEIN:
        distance = wasserstein_to_atoms(ordered, np.asarray(profile["quantiles"]))
        std = float(profile["std"])
        with np.errstate(over="ignore"):
            value = distance / std if std > 0 else (0.0 if distance == 0 else math.inf)
        unit = WASSERSTEIN_UNIT
    elif kind == NUMERIC and current.size > 3:
        value, unit = _member_score(method, _folded(current), _folded(reference), prior, limits)
    else:
        value, unit = _member_score(method, current, reference, prior, limits)
    finite = math.isfinite(value)
    return {
        "kind": kind,
        "method": method,
        "score": value if finite else None,
        "finite": finite,
        "threshold": threshold,
        "drifted": bool(value >= threshold),
        "p_value": homogeneity_p_value(reference, current),
        "unit": unit,
        "rows": rows,
        "unseen": unseen,
        "unseen_share": sum(u["count"] for u in unseen) / rows if kind == CATEGORICAL else 0.0,
        "outside_share": int(current[0] + current[-1]) / rows if kind == NUMERIC else 0.0,
        "cells": {"reference": reference.tolist(), "current": current.tolist()},
        **result,
    }


def dataset_drift(columns: dict[str, dict], drift_share: float) -> dict[str, Any]:
    """The table's verdict: drifted when the share of drifted columns >= ``drift_share``."""
    drifted = sum(1 for c in columns.values() if c["drifted"])
    share = drifted / len(columns) if columns else 0.0
    return {
        "drift": bool(columns) and share >= drift_share,
        "drifted_share": share,
        "drift_share": drift_share,
        "drifted_columns": drifted,
        "columns": len(columns),
    }


def drift(
    profile_columns: dict[str, dict],
    table: Table | CountTable,
    options: dict[str, ColumnOptions],
    drift_share: float,
    limits: Limits,
) -> dict[str, Any]:
    """Every profiled column's drift, the table's verdict, and the table's columns that
    the profile does not have ("ignored"). Options are checked before anything is counted;
    each column of ``table`` is taken once (a Parquet table reads it then)."""
    counted = isinstance(table, CountTable)
    if not (0.0 <= drift_share <= 1.0):
        raise InvalidInput(("body", "drift_share"), "drift_share must be in [0, 1]")
    for name, column_options in options.items():
        if name not in profile_columns:
            raise InvalidInput(
                ("body", "methods", name),
                f"methods names column {name!r}; the profile has no such column",
            )
        _checked(name, profile_columns[name]["kind"], column_options, counted)
    for name in profile_columns:
        if name not in table:
            raise InvalidInput(
                ("body", "counts", name) if counted else column_loc(name),
                f"the profile has column {name!r}; the table does not",
            )
    columns = {
        name: column_drift(name, profile, table[name], options.get(name, ColumnOptions()), limits)
        for name, profile in profile_columns.items()
    }
    return {
        "columns": columns,
        "dataset": dataset_drift(columns, drift_share),
        "ignored": [name for name in table if name not in profile_columns],
    }
