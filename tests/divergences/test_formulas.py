"""The numpy formulas against scipy, known values and the properties every divergence has."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import special, stats
from scipy.spatial import distance

from service.divergences import formulas
from service.divergences.gaussian import kl_diagonal_gaussians
from tests.strategies import distribution_pairs, positive_pairs

P = np.array([0.1, 0.4, 0.5])
Q = np.array([0.8, 0.15, 0.05])


def close(a: float, b: float, rtol: float = 1e-12, atol: float = 1e-15) -> bool:
    return math.isclose(a, b, rel_tol=rtol, abs_tol=atol) or (math.isinf(a) and a == b)


@given(distribution_pairs())
def test_kl_matches_scipy_rel_entr_sum(pair: tuple[np.ndarray, np.ndarray]) -> None:
    p, q = pair
    expected = float(np.sum(special.rel_entr(p, q)))
    assert close(float(formulas.kl(p, q)), expected, atol=1e-14)


@given(distribution_pairs())
def test_entropy_matches_scipy(pair: tuple[np.ndarray, np.ndarray]) -> None:
    p, _ = pair
    assert close(float(formulas.entropy(p)), float(stats.entropy(p)), atol=1e-14)


@given(distribution_pairs())
def test_js_distance_matches_scipy_jensenshannon(pair: tuple[np.ndarray, np.ndarray]) -> None:
    p, q = pair
    with np.errstate(invalid="ignore"):
        expected = float(distance.jensenshannon(p, q))
    if math.isnan(expected):
        expected = 0.0  # scipy takes the square root of a JS that rounded below 0
    # Compared squared: the square root magnifies rounding near 0.
    assert close(float(formulas.js_distance(p, q)) ** 2, expected**2, rtol=1e-9, atol=1e-15)


@given(distribution_pairs())
def test_every_divergence_of_p_with_itself_is_zero(pair: tuple[np.ndarray, np.ndarray]) -> None:
    p, _ = pair
    for fn in (
        formulas.kl,
        formulas.reverse_kl,
        formulas.jeffreys,
        formulas.js,
        formulas.hellinger,
        formulas.total_variation,
        formulas.chi_square,
    ):
        assert abs(float(fn(p, p))) <= 1e-15, fn.__name__
    assert abs(float(formulas.bhattacharyya(p, p))) <= 1e-12
    assert abs(float(formulas.renyi(p, p, 0.5))) <= 1e-12


@given(positive_pairs())
def test_divergences_are_non_negative_and_within_their_ranges(
    pair: tuple[np.ndarray, np.ndarray],
) -> None:
    p, q = pair
    slack = 1e-12
    assert float(formulas.kl(p, q)) >= -slack
    assert -slack <= float(formulas.js(p, q)) <= math.log(2) + slack
    assert 0 <= float(formulas.hellinger(p, q)) <= 1 + slack
    assert 0 <= float(formulas.total_variation(p, q)) <= 1 + slack
    assert float(formulas.chi_square(p, q)) >= 0
    assert float(formulas.bhattacharyya(p, q)) >= -slack


@given(positive_pairs())
def test_cross_entropy_is_entropy_plus_kl(pair: tuple[np.ndarray, np.ndarray]) -> None:
    p, q = pair
    expected = -float(np.sum(p * np.log(q)))
    assert close(float(formulas.cross_entropy(p, q)), expected, rtol=1e-10, atol=1e-12)


@given(positive_pairs(), st.floats(0.01, 20))
def test_renyi_matches_its_definition(pair: tuple[np.ndarray, np.ndarray], alpha: float) -> None:
    p, q = pair
    if alpha == 1:
        return
    expected = math.log(float(np.sum(p**alpha * q ** (1 - alpha)))) / (alpha - 1)
    assert close(float(formulas.renyi(p, q, alpha)), expected, rtol=1e-8, atol=1e-10)


@given(positive_pairs())
def test_renyi_of_order_one_is_kl(pair: tuple[np.ndarray, np.ndarray]) -> None:
    p, q = pair
    assert float(formulas.renyi(p, q, 1.0)) == float(formulas.kl(p, q))


@given(distribution_pairs(rows=4))
def test_a_batch_equals_its_rows_one_by_one(pair: tuple[np.ndarray, np.ndarray]) -> None:
    p, q = pair
    batch = formulas.kl(p, q)
    assert batch.shape == (4,)
    for row in range(4):
        assert batch[row] == formulas.kl(p[row], q[row]) or close(
            float(batch[row]), float(formulas.kl(p[row], q[row]))
        )


def test_known_values() -> None:
    assert close(
        float(formulas.kl(P, Q)),
        0.1 * math.log(0.1 / 0.8) + 0.4 * math.log(0.4 / 0.15) + 0.5 * math.log(0.5 / 0.05),
    )
    assert close(float(formulas.entropy(np.full(4, 0.25))), math.log(4))
    assert close(float(formulas.js(np.array([1.0, 0.0]), np.array([0.0, 1.0]))), math.log(2))
    assert close(float(formulas.total_variation(P, Q)), 0.7)
    assert close(float(formulas.chi_square(P, Q)), 0.7**2 / 0.8 + 0.25**2 / 0.15 + 0.45**2 / 0.05)


def test_zero_in_q_where_p_positive_is_infinite() -> None:
    p, q = np.array([0.5, 0.5]), np.array([1.0, 0.0])
    with np.errstate(all="raise"):
        assert formulas.kl(p, q) == np.inf
        assert formulas.cross_entropy(p, q) == np.inf
        assert formulas.chi_square(p, q) == np.inf
        assert formulas.renyi(p, q, 2.0) == np.inf
        assert formulas.reverse_kl(q, p) == np.inf


def test_zero_in_p_contributes_nothing() -> None:
    p, q = np.array([1.0, 0.0]), np.array([0.5, 0.5])
    with np.errstate(all="raise"):
        assert close(float(formulas.kl(p, q)), math.log(2))
        assert math.isfinite(float(formulas.renyi(p, q, 0.5)))


def test_disjoint_supports_make_bhattacharyya_and_low_order_renyi_infinite() -> None:
    p, q = np.array([1.0, 0.0]), np.array([0.0, 1.0])
    assert formulas.bhattacharyya(p, q) == np.inf
    assert formulas.renyi(p, q, 0.5) == np.inf
    assert close(float(formulas.hellinger(p, q)), 1.0)


def test_subnormal_q_gives_a_finite_accurate_term() -> None:
    p, q = np.array([0.5, 0.5]), np.array([1.0 - 5e-324, 5e-324])
    expected = 0.5 * math.log(0.5 / q[0]) + 0.5 * (math.log(0.5) - math.log(5e-324))
    assert close(float(formulas.kl(p, q)), expected)


def test_chi_square_is_infinite_where_q_is_zero_even_when_p_squared_underflows() -> None:
    p, q = np.array([1e-170, 1 - 1e-170]), np.array([0.0, 1.0])
    with np.errstate(invalid="raise", divide="raise"):
        assert formulas.chi_square(p, q) == np.inf


def test_one_q_row_against_many_p_rows_with_a_subnormal_ratio() -> None:
    p = np.array([[0.5, 0.5], [1.0 - 5e-324, 5e-324]])
    q = np.array([1.0 - 5e-324, 5e-324])
    one_by_one = [float(formulas.kl(row, q)) for row in p]
    assert formulas.kl(p, q).tolist() == one_by_one
    assert formulas.reverse_kl(p, q).tolist() == [float(formulas.kl(q, row)) for row in p]


@pytest.mark.parametrize("logvar", [-3.0, -1e-9, 0.0, 1e-9, 2.0])
def test_gaussian_kl_matches_the_vae_formula(logvar: float) -> None:
    mu, lv = np.array([0.3, -1.2]), np.array([logvar, 0.5])
    expected = -0.5 * float(np.sum(1 + lv - mu**2 - np.exp(lv)))
    got = float(kl_diagonal_gaussians(mu, lv, np.zeros(2), np.zeros(2)))
    assert close(got, expected, rtol=1e-12, atol=1e-15)


def test_gaussian_kl_between_two_gaussians_matches_the_univariate_formula() -> None:
    m1, s1, m2, s2 = 0.4, 0.7, -0.2, 1.9
    expected = math.log(s2 / s1) + (s1**2 + (m1 - m2) ** 2) / (2 * s2**2) - 0.5
    got = kl_diagonal_gaussians(
        np.array([m1]), np.array([2 * math.log(s1)]), np.array([m2]), np.array([2 * math.log(s2)])
    )
    assert close(float(got), expected)
