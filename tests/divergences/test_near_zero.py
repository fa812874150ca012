"""Every member is accurate relative to its own value near its minimum, on both backends:
nearly equal distributions (q = p moved by a few ulps, by 1e-8 and by 1e-4) checked against
80-digit arithmetic (mpmath) on the very float64 inputs, and never outside its range."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from service.divergences.inputs import Limits
from tests.exact_values import EXACT, NOISE, expected, service_value

LIMITS = Limits(max_vector_length=1000, max_batch_rows=5000, sum_tolerance=1e-6)
TINY = float(np.finfo(np.float64).tiny)
RTOL = 1e-12


def computed(name: str, p: np.ndarray, q: np.ndarray, backend: str) -> np.ndarray:
    return service_value(name, p, q, backend, LIMITS)


def assert_accurate(got: float, want: float, name: str) -> None:
    if abs(want) >= NOISE:
        assert abs(got - want) <= RTOL * abs(want), (name, got, want)
    else:  # 0, within the reference's own rounding
        assert abs(got) <= 4 * TINY, (name, got, want)


@st.composite
def nearly_equal(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    """p, and q = p moved by a few ulps or by a relative 1e-8 or 1e-4 (then rescaled to sum
    1 within the tolerance)."""
    n = draw(st.integers(2, 12))
    p = draw(hnp.arrays(np.float64, n, elements=st.floats(1e-4, 1.0)))
    p = p / p.sum()
    how = draw(st.sampled_from(["ulps", "1e-8", "1e-4"]))
    if how == "ulps":
        steps = draw(hnp.arrays(np.int64, n, elements=st.integers(-4, 4)))
        q = p.copy()
        for i, k in enumerate(steps):
            for _ in range(abs(int(k))):
                q[i] = np.nextafter(q[i], np.inf if k > 0 else 0.0)
    else:
        moves = draw(hnp.arrays(np.float64, n, elements=st.floats(-1.0, 1.0)))
        q = p * (1 + float(how) * moves)
        q = q / q.sum()
    return p, q


@pytest.mark.parametrize("name", list(EXACT))
@settings(max_examples=40, deadline=None)
@given(pair=nearly_equal())
def test_nearly_equal_pairs_are_accurate_relative_to_the_value_on_numpy(
    name: str, pair: tuple[np.ndarray, np.ndarray]
) -> None:
    p, q = pair
    assert_accurate(float(computed(name, p, q, "numpy")), expected(name, p, q), name)


@pytest.mark.parametrize("name", list(EXACT))
@settings(max_examples=15, deadline=None)
@given(pairs=st.lists(nearly_equal(), min_size=1, max_size=4))
def test_nearly_equal_rows_are_accurate_relative_to_the_value_on_tensorflow(
    name: str, pairs: list[tuple[np.ndarray, np.ndarray]]
) -> None:
    n = min(len(p) for p, _ in pairs)
    rows = [(p[:n] / p[:n].sum(), q[:n] / q[:n].sum()) for p, q in pairs]
    p = np.array([p for p, _ in rows])
    q = np.array([q for _, q in rows])
    got = computed(name, p, q, "tensorflow")
    for row, (p_row, q_row) in enumerate(rows):
        assert_accurate(float(got[row]), expected(name, p_row, q_row), name)


# scipy's test for gh-20710 (special.rel_entr near zero): its pairs as distributions.
GH_20710 = [
    (0.9456657713430001, 0.9456657713430094),
    (0.48066098564791515, 0.48066098564794774),
    (0.786048657854401, 0.7860486578542367),
]


@pytest.mark.parametrize(("a", "b"), GH_20710)
@pytest.mark.parametrize("backend", ["numpy", "tensorflow"])
def test_the_gh_20710_pairs_are_exact_on_both_backends(a: float, b: float, backend: str) -> None:
    p, q = np.array([a, 1 - a]), np.array([b, 1 - b])
    for name in EXACT:
        got = computed(name, p[None] if backend == "tensorflow" else p, q, backend)
        assert_accurate(float(np.ravel(got)[0]), expected(name, p, q), name)


def test_the_batch_kernels_compiled_by_xla_mark_nearly_equal_rows_for_the_exact_path() -> None:
    """A batch large enough for the XLA chunks (and a row of far distributions among the
    nearly equal ones): every row as the numpy path computes it."""
    rng = np.random.default_rng(20710)
    p = rng.dirichlet(np.ones(64), size=4096)
    q = p * (1 + 1e-9 * rng.uniform(-1, 1, size=p.shape))
    q /= q.sum(axis=1, keepdims=True)
    q[7] = rng.dirichlet(np.ones(64))
    for name in ("kl", "js", "bhattacharyya", "renyi_2", "hellinger"):
        batch = computed(name, p, q, "tensorflow")
        single = computed(name, p, q, "numpy")
        np.testing.assert_allclose(batch, single, rtol=RTOL, atol=0, err_msg=name)
        assert (batch >= 0).all()
