"""The plain-pair path of POST /kl: it answers only what needs no detailed checks, and
then exactly what the full checks and formulas answer."""

import math

import httpx
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from service.divergences.catalog import DIVERGENCES
from service.divergences.inputs import Limits
from service.divergences.near_zero import NEAR_ZERO
from service.divergences.plain_pair import plain_kl
from service.divergences.scoring import score
from tests.strategies import distribution_pairs, positive_pairs

LIMITS = Limits(max_vector_length=100, max_batch_rows=10, sum_tolerance=1e-6)
TINY = float(np.finfo(np.float64).tiny)


def full_kl(p: np.ndarray, q: np.ndarray, normalize: bool = False) -> float:
    return float(score(DIVERGENCES["kl"], p=p, q=q, limits=LIMITS, normalize=normalize).values)


def assert_plain_answer(value: float | None, full: float) -> None:
    """Bit for bit the full path's answer; or None below NEAR_ZERO, where the full path's
    accurate forms for nearly equal distributions answer."""
    if full >= NEAR_ZERO:
        assert value == full
    else:
        assert value is None


@given(positive_pairs())
def test_plain_pairs_are_answered_bit_for_bit_as_the_full_path(
    pair: tuple[np.ndarray, np.ndarray],
) -> None:
    p, q = pair
    assert_plain_answer(plain_kl(p.tolist(), q.tolist(), limits=LIMITS), full_kl(p, q))


@given(distribution_pairs())
def test_pairs_with_zeros_or_tiny_numbers_are_left_to_the_full_path_or_agree(
    pair: tuple[np.ndarray, np.ndarray],
) -> None:
    p, q = pair
    value = plain_kl(p.tolist(), q.tolist(), limits=LIMITS)
    if (p == 0).any() or (q == 0).any():
        assert value is None
    if value is not None:
        assert value == full_kl(p, q)


weights = hnp.arrays(np.float64, st.integers(1, 12), elements=st.floats(1e-3, 1e6))


@given(weights, st.data())
def test_normalized_weights_are_answered_bit_for_bit_as_the_full_path(
    p: np.ndarray, data: st.DataObject
) -> None:
    q = data.draw(hnp.arrays(np.float64, p.shape, elements=st.floats(1e-3, 1e6)))
    value = plain_kl(p.tolist(), q.tolist(), limits=LIMITS, normalize=True)
    assert_plain_answer(value, full_kl(p, q, normalize=True))


@pytest.mark.parametrize(
    ("p", "q", "normalize"),
    [
        pytest.param([0.5, 0.5, 0.0], [0.2, 0.3, 0.5], False, id="zero in p"),
        pytest.param([0.2, 0.3, 0.5], [0.5, 0.5, 0.0], False, id="zero in q"),
        pytest.param([1.5, -0.5], [0.5, 0.5], False, id="negative"),
        pytest.param([math.nan, 1.0], [0.5, 0.5], False, id="NaN"),
        pytest.param([math.inf, 1.0], [0.5, 0.5], True, id="infinite weight"),
        pytest.param([0.5, 0.6], [0.5, 0.5], False, id="sum off 1"),
        pytest.param([1.0 - TINY / 4, TINY / 4], [0.5, 0.5], False, id="subnormal"),
        pytest.param([0.5, 0.5], [0.2, 0.3, 0.5], False, id="lengths differ"),
        pytest.param([], [], False, id="empty"),
        pytest.param([1 / 101] * 101, [1 / 101] * 101, False, id="over the length limit"),
        pytest.param([0.0, 0.0], [0.5, 0.5], True, id="all zero weights"),
    ],
)
def test_anything_but_a_plain_pair_is_left_to_the_full_checks(
    p: list[float], q: list[float], normalize: bool
) -> None:
    assert plain_kl(p, q, limits=LIMITS, normalize=normalize) is None


def test_kl_answers_as_the_family_endpoint_bit_for_bit_over_http(client: httpx.Client) -> None:
    """POST /kl takes the plain path; POST /divergences/kl scores through the full one."""
    rng = np.random.default_rng(7)
    for n, options in [
        (10, {}),
        (3, {"base": 2}),
        (100, {"base": 10}),
        (7, {"base": 3.7}),
        (50, {"normalize": True}),
        (1, {}),
    ]:
        p, q = rng.random(n) + 1e-9, rng.random(n) + 1e-9
        if not options.get("normalize"):
            p, q = p / p.sum(), q / q.sum()
        body = {"p": p.tolist(), "q": q.tolist(), **options}
        kl = client.post("/kl", json=body).json()
        family = client.post("/divergences/kl", json=body).json()
        assert kl["kl"] == family["value"], (n, options)
        assert kl["unit"] == family["unit"]
