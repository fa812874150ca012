"""scipy's own tests of ``scipy.special.rel_entr``, ``kl_div`` and ``entr`` (with the
gh-20710 accuracy cases), ported to the service over HTTP (a real server, the session
``client``). ``test_scipy_suite_entropy_and_distance.py`` ports those of
``scipy.stats.entropy`` and ``scipy.spatial.distance.jensenshannon``;
``docs/scipy-suite.md`` maps each scipy test to its port and lists every deliberate
difference.

scipy takes weights and arrays of any shape and answers ``inf`` outside the domain; the
service takes distributions (summing to 1 within 1e-6 unless ``normalize: true``), one pair
or rows of pairs, answers an infinite value as ``null`` with ``finite: false`` and
``infinite_at``, and refuses negative, NaN and infinite numbers with a 422. Where scipy is
right it is the oracle; its tests' literals keep their tolerances.
"""

import itertools
import json
import math
from typing import Any

import httpx
import numpy as np
import pytest
from scipy import special

# assert_func_equal's tolerances in scipy's test_rel_entr, test_kl_div and test_entr.
ELEMENTWISE = {"rtol": 1e-13, "atol": 1e-13}

# scipy's grid: signs (-1, 1) times values (0, 0.5, 1.0); -1 * 0 is a negative zero.
SIGNED = [sign * v for sign, v in itertools.product((-1, 1), (0.0, 0.5, 1.0))]
GRID = list(itertools.product(SIGNED, SIGNED))
NON_NEGATIVE_GRID = [(x, y) for x, y in GRID if x >= 0 and y >= 0]  # -0.0 >= 0 holds


def grid_id(pair: tuple[float, float]) -> str:
    return "x={!r},y={!r}".format(*pair)


def post(client: httpx.Client, path: str, body: dict[str, object]) -> httpx.Response:
    # json.dumps writes -0.0 as -0.0 and non-finite numbers as the NaN/Infinity tokens
    # (which httpx's own encoder refuses to send): the service must see what scipy saw.
    return client.post(path, content=json.dumps(body), headers={"content-type": "application/json"})


def ok(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def refused_at(response: httpx.Response, loc: list[object]) -> str:
    """The 422's first error names ``loc``; returns its message."""
    assert response.status_code == 422, response.text
    error = response.json()["detail"][0]
    assert error["loc"] == loc, error
    return str(error["msg"])


def complement(x: float) -> list[float]:
    """A two-element distribution holding ``x``: the other element is ``1 - x``."""
    return [x, 1 - x]


def first_infinite_index(p: list[float], q: list[float]) -> int:
    return int(np.flatnonzero((np.array(p) > 0) & (np.array(q) == 0))[0])


def assert_kl_answer(
    answer: dict[str, Any], expected: float, p: list[float], q: list[float]
) -> None:
    """``answer`` (of POST /kl) is ``expected`` to scipy's elementwise tolerances, or, when
    that is infinite, null and not finite, blaming the first i with p_i > 0 = q_i."""
    if math.isinf(expected):
        assert answer["kl"] is None and answer["finite"] is False, answer
        assert answer["infinite_at"] == first_infinite_index(p, q), answer
    else:
        assert answer["finite"] is True and answer["infinite_at"] is None, answer
        np.testing.assert_allclose(answer["kl"], expected, **ELEMENTWISE)


# --- scipy.special: rel_entr, kl_div, entr (elementwise; the service sums) -------------
# The service answers sums over a distribution, never one term. Two honest ways to see
# a term: (1) the complement pair [x, 1-x] || [y, 1-y], whose KL is the sum of scipy's
# rel_entr over both elements (scipy computes each term: the oracle); (2) for x >= y,
# the three-element pair [x, 1-x, 0] || [y, 1-x, x-y], whose KL is rel_entr(x, y) alone
# (the middle term is 1-x log 1 = 0 exactly, the last has p = 0). For x < y no pair of
# distributions isolates the term: KL >= 0 while rel_entr(x, y) < 0.


@pytest.mark.parametrize(("x", "y"), GRID, ids=map(grid_id, GRID))
def test_kl_of_complement_pairs_is_the_sum_of_scipys_rel_entr_terms(
    client: httpx.Client, x: float, y: float
) -> None:
    """Ports test_rel_entr. scipy answers inf for a negative argument; the service refuses
    negative numbers (422 naming the element) and takes -0.0 as a zero."""
    p, q = complement(x), complement(y)
    response = post(client, "/kl", {"p": p, "q": q})
    if x < 0 or y < 0:
        field = "p" if x < 0 else "q"  # p is checked first
        assert "non-negative" in refused_at(response, ["body", field, 0])
        return
    assert_kl_answer(ok(response), float(np.sum(special.rel_entr(p, q))), p, q)


ISOLATED = [(x, y) for x, y in NON_NEGATIVE_GRID if x >= y]


@pytest.mark.parametrize(("x", "y"), ISOLATED, ids=map(grid_id, ISOLATED))
def test_kl_of_a_pair_isolating_one_term_is_scipys_rel_entr(
    client: httpx.Client, x: float, y: float
) -> None:
    """Ports test_rel_entr term by term, where a pair of distributions can hold the term
    alone (x >= y)."""
    p, q = [x, 1 - x, 0.0], [y, 1 - x, x - y]
    assert_kl_answer(ok(post(client, "/kl", {"p": p, "q": q})), special.rel_entr(x, y), p, q)


def test_a_batch_of_the_rel_entr_grid_answers_each_row_as_scipy(client: httpx.Client) -> None:
    """Ports test_rel_entr on the batch path (TensorFlow): one row per grid point."""
    p = [complement(x) for x, _ in NON_NEGATIVE_GRID]
    q = [complement(y) for _, y in NON_NEGATIVE_GRID]
    answer = ok(post(client, "/kl/batch", {"p": p, "q": q}))
    for row, (p_row, q_row) in enumerate(zip(p, q, strict=True)):
        expected = float(np.sum(special.rel_entr(p_row, q_row)))
        one = {key: answer[key][row] for key in ("kl", "finite", "infinite_at")}
        assert_kl_answer(one, expected, p_row, q_row)


@pytest.mark.parametrize(("x", "y"), GRID, ids=map(grid_id, GRID))
def test_kl_of_complement_pairs_is_the_sum_of_scipys_kl_div_terms(
    client: httpx.Client, x: float, y: float
) -> None:
    """Ports test_kl_div: kl_div(x, y) = x log(x/y) - x + y, whose sum over two
    distributions is KL (the -x + y terms cancel, exactly here: x, y in {0, 0.5, 1}).
    scipy extends kl_div to negative arguments as inf; the service refuses them."""
    p, q = complement(x), complement(y)
    response = post(client, "/kl", {"p": p, "q": q})
    if x < 0 or y < 0:
        field = "p" if x < 0 else "q"
        assert "non-negative" in refused_at(response, ["body", field, 0])
        return
    assert_kl_answer(ok(response), float(np.sum(special.kl_div(p, q))), p, q)


ENTR_VALUES = [sign * v for sign, v in itertools.product((-1, 1), (0.0, 0.5, 1.0, math.inf))]


@pytest.mark.parametrize("x", ENTR_VALUES, ids=repr)
def test_entropy_of_a_complement_pair_is_the_sum_of_scipys_entr_terms(
    client: httpx.Client, x: float
) -> None:
    """Ports test_entr. scipy answers -inf for a negative argument and entr(inf) = -inf;
    the service refuses negative and infinite numbers (422 naming the element)."""
    p = complement(x)
    response = post(client, "/divergences/entropy", {"p": p})
    if math.isinf(x):
        assert "finite" in refused_at(response, ["body", "p", 0])
    elif x < 0:
        assert "non-negative" in refused_at(response, ["body", "p", 0])
    else:
        expected = float(np.sum(special.entr(p)))
        np.testing.assert_allclose(ok(response)["value"], expected, **ELEMENTWISE)


# test_rel_entr_gh_20710_near_zero: scipy's inputs and its terms (mpmath, dps=30).
NEAR_ZERO = [
    (0.9456657713430001, 0.9456657713430094, -9.325873406851269e-15),
    (0.48066098564791515, 0.48066098564794774, -3.258504577274724e-14),
    (0.786048657854401, 0.7860486578542367, 1.6431300764454033e-13),
]
# KL([x, 1-x] || [y, 1-y]) of the float64 inputs as sent, exactly (mpmath, dps=50). The
# second is not tiny: 1 - x and 1 - y are rounded (x < 0.5), so the vectors as given do
# not sum to exactly the same number, and the service uses them as given.
NEAR_ZERO_COMPLEMENT_KL = [8.463263450129421e-28, 5.551115123338806e-17, 8.026929507711387e-26]


@pytest.mark.parametrize(
    ("case", "exact"),
    list(zip(NEAR_ZERO, NEAR_ZERO_COMPLEMENT_KL, strict=True)),
    ids=[f"x={x!r}" for x, _, _ in NEAR_ZERO],
)
def test_kl_of_nearly_equal_complement_pairs_is_exact(
    client: httpx.Client, case: tuple[float, float, float], exact: float
) -> None:
    """Ports test_rel_entr_gh_20710_near_zero to sums: scipy checks each term to 1e-13
    relative, so the sum of both terms is held to 1e-13 times the sum of their sizes (the
    terms cancel to a value far below either), and is never negative (KL's range)."""
    x, y, scipy_term = case
    p, q = complement(x), complement(y)
    terms = special.rel_entr(p, q)
    np.testing.assert_allclose(terms[0], scipy_term, rtol=1e-13, atol=0)  # scipy's own check
    tolerance = 1e-13 * float(np.sum(np.abs(terms)))
    assert abs(math.fsum(terms) - exact) <= tolerance  # scipy, summed, is right
    answer = ok(post(client, "/kl", {"p": p, "q": q}))
    assert answer["finite"] is True
    assert answer["kl"] >= 0, f"KL {answer['kl']!r} is negative; exactly it is {exact!r}"
    assert abs(answer["kl"] - exact) <= tolerance, f"KL {answer['kl']!r}, exactly {exact!r}"


def test_kl_of_a_pair_isolating_a_nearly_equal_term_is_scipys_rel_entr(
    client: httpx.Client,
) -> None:
    """Ports test_rel_entr_gh_20710_near_zero's x > y case term for term (rtol 1e-13):
    log(x/y) of a rounded ratio near 1 loses the digits; the term must keep them."""
    x, y, expected = NEAR_ZERO[2]
    answer = ok(post(client, "/kl", {"p": [x, 1 - x, 0.0], "q": [y, 1 - x, x - y]}))
    np.testing.assert_allclose(answer["kl"], expected, rtol=1e-13, atol=0)


def test_kl_against_a_subnormal_q_whose_ratio_overflows_is_finite_and_exact(
    client: httpx.Client,
) -> None:
    """Ports test_rel_entr_gh_20710_overflow's overflow case, rel_entr(4, 2.22e-308) =
    2839.139983229607, scaled by 1/4 into a distribution: rel_entr(1, 2.22e-308 / 4) =
    2839.139983229607 / 4, where 1 / q_0 overflows float64. (Its underflow and subnormal
    cases need x / y below 5e-324 or x, y > 1, which no pair of distributions holds.)"""
    tiny_q = 2.22e-308 / 4
    answer = ok(post(client, "/kl", {"p": [1.0, 0.0], "q": [tiny_q, 1.0]}))
    assert answer["finite"] is True
    np.testing.assert_allclose(answer["kl"], 2839.139983229607 / 4, rtol=1e-13, atol=0)
    np.testing.assert_allclose(answer["kl"], special.rel_entr(1.0, tiny_q), rtol=1e-13, atol=0)
