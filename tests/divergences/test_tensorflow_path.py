"""The TensorFlow batch path against the numpy path, and keras mode against Keras itself."""

import math

import keras
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from service.divergences import formulas, tf_formulas
from service.divergences.catalog import DIVERGENCES, formula
from service.divergences.inputs import Limits
from service.divergences.scoring import score
from tests.strategies import distribution_pairs

LIMITS = Limits(max_vector_length=10_000, max_batch_rows=10_000, sum_tolerance=1e-6)
TWO_PARAMETER = [d for d in DIVERGENCES.values() if not d.parameters]


def agree(a: np.ndarray, b: np.ndarray) -> bool:
    """Equal infinities, and finite values within 1e-12 relative (1e-15 absolute near 0)."""
    return bool(np.array_equal(np.isinf(a), np.isinf(b))) and bool(
        np.allclose(a[np.isfinite(a)], b[np.isfinite(b)], rtol=1e-12, atol=1e-15)
    )


@settings(deadline=None, max_examples=60)
@given(distribution_pairs(rows=3), st.sampled_from(TWO_PARAMETER))
def test_tensorflow_and_numpy_paths_agree(pair: tuple[np.ndarray, np.ndarray], d: object) -> None:
    p, q = pair
    numpy_values = formula(d, "numpy")(p, q)  # type: ignore[arg-type]
    tf_values = formula(d, "tensorflow")(p, q).numpy()  # type: ignore[arg-type]
    assert agree(numpy_values, tf_values), (numpy_values, tf_values)


@settings(deadline=None, max_examples=40)
@given(distribution_pairs(rows=3), st.floats(0, 10))
def test_renyi_paths_agree_for_any_order(pair: tuple[np.ndarray, np.ndarray], alpha: float) -> None:
    p, q = pair
    assert agree(formulas.renyi(p, q, alpha), tf_formulas.renyi(p, q, alpha).numpy())


def test_a_single_q_row_is_compared_with_every_p_row() -> None:
    p = np.array([[0.1, 0.9], [0.5, 0.5], [1.0, 0.0]])
    q = np.array([[0.3, 0.7]])
    expected = [float(formulas.kl(row, q[0])) for row in p]
    assert np.allclose(tf_formulas.kl(p, q).numpy(), expected, rtol=1e-14)


@settings(deadline=None, max_examples=60)
@given(distribution_pairs(rows=3), st.sampled_from([1e-7, 1e-3]))
def test_keras_mode_gives_the_numbers_keras_gives(
    pair: tuple[np.ndarray, np.ndarray], epsilon: float
) -> None:
    p, q = pair
    keras.config.set_epsilon(epsilon)
    try:
        expected = keras.ops.convert_to_numpy(keras.losses.kl_divergence(p, q))
    finally:
        keras.config.set_epsilon(1e-7)
    for backend in ("numpy", "tensorflow"):
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


@pytest.mark.parametrize("base", [2.0, 10.0, 0.5])
def test_base_divides_by_its_logarithm_on_both_paths(base: float) -> None:
    p, q = np.array([[0.2, 0.8]]), np.array([[0.6, 0.4]])
    nats = float(formulas.kl(p[0], q[0]))
    for backend in ("numpy", "tensorflow"):
        got = score(DIVERGENCES["kl"], p=p, q=q, limits=LIMITS, base=base, backend=backend).values  # type: ignore[arg-type]
        assert math.isclose(float(got[0]), nats / math.log(base), rel_tol=1e-14)
