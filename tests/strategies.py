"""Hypothesis strategies for distributions."""

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

weights = st.one_of(st.just(0.0), st.floats(1e-300, 1.0), st.floats(1e-6, 1.0))


@st.composite
def distribution_pairs(draw: st.DrawFn, rows: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """p and q of one shape ((n,) or (rows, n)), non-negative, each vector summing to 1."""
    n = draw(st.integers(1, 12))
    shape = (n,) if rows is None else (rows, n)
    p = draw(hnp.arrays(np.float64, shape, elements=weights))
    q = draw(hnp.arrays(np.float64, shape, elements=weights))
    assume((p.sum(axis=-1) > 0).all() and (q.sum(axis=-1) > 0).all())
    return p / p.sum(axis=-1, keepdims=True), q / q.sum(axis=-1, keepdims=True)


@st.composite
def positive_pairs(draw: st.DrawFn, rows: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Like distribution_pairs, with every element positive (so every divergence is finite)."""
    n = draw(st.integers(1, 12))
    shape = (n,) if rows is None else (rows, n)
    elements = st.floats(1e-6, 1.0)
    p = draw(hnp.arrays(np.float64, shape, elements=elements))
    q = draw(hnp.arrays(np.float64, shape, elements=elements))
    return p / p.sum(axis=-1, keepdims=True), q / q.sum(axis=-1, keepdims=True)
