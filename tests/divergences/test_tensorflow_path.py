"""The TensorFlow batch path against the numpy path, and keras mode against Keras itself,
both ways: with the fast paths on (every batch here forced onto the XLA chunks) and off
(the plain graph, as ``DIVERGENCE_FAST_PATHS=false`` runs every batch)."""

import math
from collections.abc import Iterator
from contextlib import contextmanager

import keras
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from service.divergences import formulas, scoring
from service.divergences.catalog import DIVERGENCES, formula
from service.divergences.inputs import Limits
from service.divergences.scoring import score
from service.divergences.tf import chunks, engine, kernels
from tests.strategies import distribution_pairs

LIMITS = Limits(max_vector_length=10_000, max_batch_rows=10_000, sum_tolerance=1e-6)
TWO_PARAMETER = [d for d in DIVERGENCES.values() if not d.parameters]
FAST_PATHS = pytest.mark.parametrize("fast", [True, False], ids=["fast paths on", "off"])
_COMPILED_HERE: dict[tuple[str, int, int, int], object] = {}


@contextmanager
def fast_paths(
    on: bool, compiled: dict[tuple[str, int, int, int], object] | None = None
) -> Iterator[None]:
    """The service's switch set to ``on`` (as ``DIVERGENCE_FAST_PATHS`` sets it). On, every
    batch takes the XLA chunks, of 64 elements, compiled into ``compiled`` (by default a
    cache kept for these tests); off, the plain graph. Kernels called directly are told
    the same with ``xla=on``."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(scoring, "_fast_paths", on)
        if on:
            patch.setattr(chunks, "CHUNK_ELEMENTS", 64)
            patch.setattr(engine, "XLA_MIN_ELEMENTS", 1)
            patch.setattr(engine, "MAX_COMPILED", 10_000)
            patch.setattr(engine, "_COMPILED", _COMPILED_HERE if compiled is None else compiled)
        yield


def agree(a: np.ndarray, b: np.ndarray) -> bool:
    """Equal infinities, and finite values within 1e-12 relative (1e-15 absolute near 0)."""
    return bool(np.array_equal(np.isinf(a), np.isinf(b))) and bool(
        np.allclose(a[np.isfinite(a)], b[np.isfinite(b)], rtol=1e-12, atol=1e-15)
    )


@FAST_PATHS
@settings(deadline=None, max_examples=60)
@given(distribution_pairs(rows=3), st.sampled_from(TWO_PARAMETER))
def test_tensorflow_and_numpy_paths_agree(
    fast: bool, pair: tuple[np.ndarray, np.ndarray], d: object
) -> None:
    p, q = pair
    numpy_values = formula(d, "numpy")(p, q)  # type: ignore[arg-type]
    with fast_paths(fast):
        tf_values = formula(d, "tensorflow")(p, q, xla=fast).numpy()  # type: ignore[arg-type]
    assert agree(numpy_values, tf_values), (numpy_values, tf_values)


def renyi_rounding(p: np.ndarray, q: np.ndarray, alpha: float) -> np.ndarray:
    """Per row, how far rounding alone can move a Renyi divergence, on either path.

    Both compute ``log(S) / (a-1)`` with ``S = sum p exp((a-1) log(p/q))``: one ulp of a log
    ratio of size L is a relative error of about ``|a-1| L eps`` in its term, and the n
    terms' own rounding about ``(n+2) eps`` in S; divided by ``a-1``, that is
    ``L eps + (n+2) eps / |a-1|`` in the value. Near 0 (``a`` near 0, ``p`` close to ``q``)
    or for ``a`` near 1 that is far above 1e-12 relative, whichever log and exp each path
    uses (the graph path before the fused kernels differed from numpy as much).
    """
    with np.errstate(divide="ignore", invalid="ignore"):  # 0s: logs of -inf, left out
        logs = np.abs(np.log(p) - np.log(q))
    largest = np.where(np.isfinite(logs), logs, 0).max(axis=-1)
    return 4 * np.finfo(np.float64).eps * (largest + (p.shape[-1] + 2) / abs(alpha - 1))


@FAST_PATHS
@settings(deadline=None, max_examples=40)
@given(distribution_pairs(rows=3), st.floats(0, 10))
def test_renyi_paths_agree_for_any_order(
    fast: bool, pair: tuple[np.ndarray, np.ndarray], alpha: float
) -> None:
    p, q = pair
    numpy_values = formulas.renyi(p, q, alpha)
    with fast_paths(fast):
        tf_values = kernels.renyi(p, q, alpha, xla=fast).numpy()
    if alpha == 1:  # KL on both paths
        assert agree(numpy_values, tf_values)
        return
    finite = np.isfinite(numpy_values)
    assert np.array_equal(np.isinf(numpy_values), np.isinf(tf_values))
    # agree()'s 1e-12 relative, 1e-15 absolute, plus what the log ratios' rounding allows.
    tolerance = 1e-12 * np.abs(numpy_values) + 1e-15 + renyi_rounding(p, q, alpha)
    difference = np.abs(numpy_values[finite] - tf_values[finite])
    assert np.all(difference <= tolerance[finite]), (numpy_values, tf_values)


@FAST_PATHS
def test_a_single_q_row_is_compared_with_every_p_row(fast: bool) -> None:
    p = np.array([[0.1, 0.9], [0.5, 0.5], [1.0, 0.0]])
    q = np.array([[0.3, 0.7]])
    expected = [float(formulas.kl(row, q[0])) for row in p]
    with fast_paths(fast):
        assert np.allclose(kernels.kl(p, q, xla=fast).numpy(), expected, rtol=1e-14)


@FAST_PATHS
@settings(deadline=None, max_examples=60)
@given(distribution_pairs(rows=3), st.sampled_from([1e-7, 1e-3]))
def test_keras_mode_gives_the_numbers_keras_gives(
    fast: bool, pair: tuple[np.ndarray, np.ndarray], epsilon: float
) -> None:
    p, q = pair
    keras.config.set_epsilon(epsilon)
    try:
        expected = keras.ops.convert_to_numpy(keras.losses.kl_divergence(p, q))
    finally:
        keras.config.set_epsilon(1e-7)
    for backend in ("numpy", "tensorflow"):
        with fast_paths(fast):
            got = score(
                DIVERGENCES["kl"],
                p=p,
                q=q,
                limits=LIMITS,
                mode="keras",
                epsilon=epsilon,
                backend=backend,
            ).values  # type: ignore[arg-type]
        assert np.allclose(got, expected, rtol=1e-12, atol=1e-15), backend


@FAST_PATHS
@pytest.mark.parametrize("base", [2.0, 10.0, 3.7])
def test_base_divides_by_its_logarithm_on_both_paths(fast: bool, base: float) -> None:
    p, q = np.array([[0.2, 0.8]]), np.array([[0.6, 0.4]])
    nats = float(formulas.kl(p[0], q[0]))
    for backend in ("numpy", "tensorflow"):
        with fast_paths(fast):
            got = score(
                DIVERGENCES["kl"], p=p, q=q, limits=LIMITS, base=base, backend=backend
            ).values  # type: ignore[arg-type]
        assert math.isclose(float(got[0]), nats / math.log(base), rel_tol=1e-14)
