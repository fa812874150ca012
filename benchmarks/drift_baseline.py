"""The baseline of ``drift_tables.py``: the drift cells and scores with numpy and scipy in
process, none of the service's code; and its checks against scipy and against the service.

From the body's bytes: pyarrow reads the stream (or the Parquet file), then per numeric
column ``np.sort``, its cells over the reference's edges ([below min], 20 equal-frequency
bins by numpy.histogram's rule, [above max]) by ``np.searchsorted``, W1 to the
reference's 1,000 quantile atoms (the two quantile functions integrated in one pass over
the sorted values, checked against ``scipy.stats.wasserstein_distance``) over the
reference std, and the chi-square test of homogeneity (``scipy.stats.chi2_contingency``,
no correction); per categorical column ``pyarrow.compute.value_counts``, the
Jensen-Shannon distance in bits (``scipy.spatial.distance.jensenshannon``) and the same
chi-square test. The reference's summaries (edges, counts, quantiles, std, categories) are
computed the same way from the reference table.
"""

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from drift_data import CATEGORICAL
from scipy import stats
from scipy.spatial.distance import jensenshannon

BINS, LEVELS = 20, (np.arange(1000) + 0.5) / 1000
THRESHOLD = 0.1  # the service's default for both methods here: wasserstein, js_distance

Scores = dict[str, tuple[float, float]]  # column -> (score, p-value)


def w1_to_atoms(ordered: np.ndarray, atoms: np.ndarray) -> float:
    """W1 between the empirical distribution of sorted values and equally weighted atoms:
    the integral over levels u in (0, 1] of |Q_values(u) - Q_atoms(u)|, in units of
    1/(n m). Value k holds the levels (k m, (k + 1) m], atom j the levels (j n, (j + 1) n]:
    each value is first charged at the atom of its right end, then each atom boundary j n
    inside a value's levels corrects the part of them below it (which telescopes where one
    value holds several boundaries)."""
    n, m = ordered.size, atoms.size
    atoms = np.sort(atoms)
    per_atom = np.diff(np.arange(m + 1, dtype=np.int64) * n // m)  # values charged to each
    charged = float(np.abs(ordered - np.repeat(atoms, per_atom)).sum()) * m
    boundaries = np.arange(1, m, dtype=np.int64) * n
    value = boundaries // m
    below = (boundaries - value * m).astype(np.float64)
    x = ordered[value]
    corrections = float(np.dot(below, np.abs(x - atoms[:-1]) - np.abs(x - atoms[1:])))
    return (charged + corrections) / (n * m)


def check_w1() -> float:
    """The largest relative difference of :func:`w1_to_atoms` from scipy's on small cases
    (ties, n below, equal to and above m, m not dividing n); raises above 1e-12."""
    rng = np.random.default_rng(1)
    worst = 0.0
    for n, m in ((7, 5), (1000, 1000), (12_345, 1000), (300, 1000), (5000, 7)):
        values = np.round(rng.normal(size=n), 1)
        atoms = rng.gamma(2.0, size=m)
        mine = w1_to_atoms(np.sort(values), atoms)
        theirs = stats.wasserstein_distance(values, atoms)
        worst = max(worst, abs(mine - theirs) / theirs)
    if worst > 1e-12:
        raise RuntimeError(f"w1_to_atoms differs from scipy by {worst:.1e} (relative)")
    return worst


def histogram_cells(ordered: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """[below edges[0]] + numpy.histogram's bins of ``edges`` (last closed) + [above]."""
    left = np.searchsorted(ordered, edges, side="left")
    right = np.searchsorted(ordered, edges[-1], side="right")
    return np.diff(np.concatenate([[0], left[:-1], [right, ordered.size]]))


@dataclass
class Reference:
    """What the baseline keeps of the reference: per numeric column its edges, cells,
    quantile atoms and std; per categorical column its counts by label."""

    numeric: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray, float]]
    categorical: dict[str, dict[str, int]]


def reference_of(data: pa.Table) -> Reference:
    """The reference's summaries; equal quantiles (ties) give fewer than BINS bins, and the
    outer edges are the minimum and maximum themselves."""
    numeric, categorical = {}, {}
    for name in data.column_names:
        column = data.column(name)
        if name in CATEGORICAL:
            categorical[name] = _value_counts(column)
            continue
        ordered = np.sort(column.to_numpy().astype(np.float64))
        edges = np.unique(np.quantile(ordered, np.linspace(0, 1, BINS + 1)))
        edges[0], edges[-1] = ordered[0], ordered[-1]
        cells = histogram_cells(ordered, edges)
        numeric[name] = (edges, cells, np.quantile(ordered, LEVELS), float(np.std(ordered)))
    return Reference(numeric, categorical)


def _value_counts(column: pa.ChunkedArray) -> dict[str, int]:
    counted = pc.value_counts(column)
    labels = counted.field("values").to_pylist()
    return dict(zip(labels, counted.field("counts").to_numpy().tolist(), strict=True))


def _p_value(reference: np.ndarray, current: np.ndarray) -> float:
    """Chi-square test of homogeneity of two count vectors; cells empty in both are
    dropped, since chi2_contingency rejects a zero expected frequency."""
    kept = (reference + current) > 0
    table = np.stack([reference[kept], current[kept]])
    return float(stats.chi2_contingency(table, correction=False).pvalue)


def baseline_drift(data: pa.Table, reference: Reference) -> Scores:
    """Per column (score, p_value) of the current table against the reference; a label
    unseen in the reference gets a cell of its own, with a reference count of zero."""
    out = {}
    for name, (edges, ref_cells, atoms, std) in reference.numeric.items():
        ordered = np.sort(data.column(name).to_numpy().astype(np.float64, copy=False))
        cells = histogram_cells(ordered, edges)
        out[name] = (w1_to_atoms(ordered, atoms) / std, _p_value(ref_cells, cells))
    for name, ref_counts in reference.categorical.items():
        counts = _value_counts(data.column(name))
        labels = [*ref_counts, *(label for label in counts if label not in ref_counts)]
        ref = np.array([ref_counts.get(label, 0) for label in labels])
        cur = np.array([counts.get(label, 0) for label in labels])
        out[name] = (float(jensenshannon(cur, ref, base=2)), _p_value(ref, cur))
    return out


def baseline_from_arrow(body: bytes, reference: Reference) -> Scores:
    return baseline_drift(pa.ipc.open_stream(body).read_all(), reference)


def baseline_from_parquet(body: bytes, reference: Reference) -> Scores:
    return baseline_drift(pq.read_table(pa.BufferReader(body)), reference)


def check_reference(reference: Reference, profile: dict[str, dict]) -> None:
    """The baseline's reference summaries are the service's profile (edges and counts
    exactly, quantiles and std to 1e-12 relative); raises AssertionError where not."""
    for name, (edges, cells, atoms, std) in reference.numeric.items():
        column = profile[name]
        assert column["kind"] == "numeric", (name, column["kind"])
        assert np.array_equal(edges, column["edges"]), name
        assert np.array_equal(cells[1:-1], column["counts"]), name
        assert np.allclose(atoms, column["quantiles"], rtol=1e-12, atol=0), name
        assert math.isclose(std, column["std"], rel_tol=1e-12), name
    for name, counts in reference.categorical.items():
        column = profile[name]
        assert column["kind"] == "categorical", (name, column["kind"])
        assert dict(zip(column["categories"], column["counts"], strict=True)) == counts, name


def largest_differences(answer: dict[str, Any], expected: Scores) -> tuple[float, float]:
    """The largest relative differences of the service's scores and p-values from the
    baseline's (0 where both are equal, zeros included); raises where a score differs by
    more than 1e-9 or a verdict differs; p-values are reported, not bounded."""

    def relative(a: float, b: float) -> float:
        return 0.0 if a == b else abs(a - b) / max(abs(a), abs(b))

    scores, p_values = 0.0, 0.0
    for name, (score, p_value) in expected.items():
        column = answer["columns"][name]
        scores = max(scores, relative(column["score"], score))
        p_values = max(p_values, relative(column["p_value"], p_value))
        if column["drifted"] != (score >= THRESHOLD):
            raise RuntimeError(f"column {name}: the verdicts differ")
    if scores > 1e-9:
        raise RuntimeError(f"the service's scores differ from the baseline's by {scores:.1e}")
    return scores, p_values
