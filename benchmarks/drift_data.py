"""The seeded tables of ``drift_tables.py`` and their request bodies; not a benchmark itself.

A reference and a current table of the same number of rows (seeded ``default_rng``, so
the same ``rows`` gives the same tables): 20 numeric columns of varied distributions
(normal, lognormal, gamma, beta, Student's t, Pareto, mixtures, two of int64, one of
rounded values with ties), of which two have their mean shifted by 0.5 reference
standard deviations and two their spread doubled in the current table; and 5 columns of
strings with 5 to 50 categories, one of them reshuffled (its shares reversed) and one with
10% of its rows in unseen categories. With few rows a rare category may not be drawn at
all, in either table.
"""

from collections.abc import Callable
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

PARQUET = "application/vnd.apache.parquet"
SEED = 20261130

Sampler = Callable[[np.random.Generator, int], np.ndarray]

# name -> (sampler, change in the current table: None, "shift" or "scale")
NUMERIC: dict[str, tuple[Sampler, str | None]] = {
    "normal": (lambda g, n: g.normal(0.0, 1.0, n), None),
    "normal_50_10": (lambda g, n: g.normal(50.0, 10.0, n), "shift"),
    "lognormal": (lambda g, n: g.lognormal(3.0, 0.5, n), None),
    "exponential": (lambda g, n: g.exponential(2.0, n), None),
    "uniform": (lambda g, n: g.uniform(-1.0, 1.0, n), None),
    "gamma": (lambda g, n: g.gamma(2.0, 3.0, n), "scale"),
    "beta": (lambda g, n: g.beta(2.0, 5.0, n), None),
    "student_t5": (lambda g, n: g.standard_t(5, n), None),
    "poisson_int": (lambda g, n: g.poisson(40, n).astype(np.int64), None),
    "bimodal": (
        lambda g, n: np.where(g.random(n) < 0.3, g.normal(-2, 0.5, n), g.normal(3, 1, n)),
        None,
    ),
    "laplace": (lambda g, n: g.laplace(10.0, 2.0, n), None),
    "weibull": (lambda g, n: g.weibull(1.5, n), None),
    "pareto": (lambda g, n: 1.0 + g.pareto(3.0, n), None),
    "chisquare": (lambda g, n: g.chisquare(4.0, n), "shift"),
    "logistic": (lambda g, n: g.logistic(0.0, 2.0, n), None),
    "rounded_ties": (lambda g, n: np.round(g.normal(100.0, 15.0, n), 0), None),
    "gumbel": (lambda g, n: g.gumbel(5.0, 1.5, n), None),
    "triangular": (lambda g, n: g.triangular(0.0, 2.0, 10.0, n), None),
    "lognormal_wide": (lambda g, n: g.lognormal(0.0, 1.0, n), "scale"),
    "uniform_int": (lambda g, n: g.integers(0, 1000, n, dtype=np.int64), None),
}
# name -> (categories, change in the current table: None, "reshuffle" or "unseen")
CATEGORICAL: dict[str, tuple[int, str | None]] = {
    "color_5": (5, None),
    "segment_10": (10, "reshuffle"),
    "region_20": (20, None),
    "product_30": (30, "unseen"),
    "store_50": (50, None),
}
UNSEEN_SHARE = 0.1


def _shares(rng: np.random.Generator, k: int) -> np.ndarray:
    """Unequal category shares (Zipf-like, 1/(i+1)^0.8), in a seeded order."""
    weights = 1.0 / np.arange(1, k + 1) ** 0.8
    return rng.permutation(weights / weights.sum())


def _strings(labels: list[str], codes: np.ndarray) -> pa.Array:
    """A plain (not dictionary-encoded) string column of ``labels[codes]``."""
    return pa.DictionaryArray.from_arrays(
        pa.array(codes, pa.int32()), pa.array(labels)
    ).dictionary_decode()


def make_tables(rows: int) -> tuple[pa.Table, pa.Table]:
    """The reference and the current table of ``rows`` rows each (see the module's
    docstring). The draws alternate between the two tables column by column, so a column's
    values depend on ``rows`` and on every column before it."""
    rng = np.random.default_rng(SEED)
    reference: dict[str, Any] = {}
    current: dict[str, Any] = {}
    for name, (sample, change) in NUMERIC.items():
        ref, cur = sample(rng, rows), sample(rng, rows)
        if change == "shift":
            cur = cur + 0.5 * float(np.std(ref))
        elif change == "scale":
            center = float(np.mean(ref))
            cur = center + 2.0 * (cur - center)
        reference[name], current[name] = ref, cur
    for name, (k, change) in CATEGORICAL.items():
        prefix = name.split("_")[0]
        labels = [f"{prefix}-{i:02d}" for i in range(k)]
        shares = _shares(rng, k)
        ref_codes = rng.choice(k, rows, p=shares)
        current_shares = shares
        if change == "reshuffle":
            order = np.argsort(shares)
            current_shares = np.empty(k)
            current_shares[order] = shares[order[::-1]]  # the largest share to the smallest
        cur_codes = rng.choice(k, rows, p=current_shares)
        cur_labels = labels
        if change == "unseen":
            new = rng.random(rows) < UNSEEN_SHARE
            cur_labels = [*labels, *(f"{prefix}-new-{i}" for i in range(3))]
            cur_codes = np.where(new, k + rng.integers(0, 3, rows), cur_codes)
        reference[name] = _strings(labels, ref_codes)
        current[name] = _strings(cur_labels, cur_codes)
    return pa.table(reference), pa.table(current)


def arrow_bytes(data: pa.Table) -> bytes:
    """``data`` as an Arrow IPC stream (the body of an Arrow request)."""
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, data.schema) as writer:
        writer.write_table(data)
    return sink.getvalue().to_pybytes()


def parquet_bytes(data: pa.Table) -> bytes:
    """``data`` as a Parquet file (the body of a Parquet request)."""
    sink = pa.BufferOutputStream()
    pq.write_table(data, sink)  # pyarrow's defaults: snappy, dictionary-encoded strings
    return sink.getvalue().to_pybytes()


def make_bodies(reference: pa.Table, current: pa.Table) -> dict[str, bytes]:
    """Both tables in both formats, keyed ``"<reference|current> <arrow|parquet>"``."""
    return {
        "reference arrow": arrow_bytes(reference),
        "current arrow": arrow_bytes(current),
        "reference parquet": parquet_bytes(reference),
        "current parquet": parquet_bytes(current),
    }
