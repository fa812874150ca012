"""Binned and categorical estimates over HTTP: numpy's histogram (or the category counts)
plus the member's formula, written here, to 1e-12; infinities reported as such; priors
added to every cell, never a hidden epsilon."""

from typing import Any

import httpx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

TOLERANCE = 1e-12


def post(client: httpx.Client, name: str, **body: Any) -> dict[str, Any]:
    response = client.post(f"/samples/divergences/{name}", json=body)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def kl(p: np.ndarray, q: np.ndarray) -> float:
    inside = p > 0
    if (inside & (q == 0)).any():
        return float("inf")
    return float(np.sum(p[inside] * np.log(p[inside] / q[inside])))


FORMULAS = {
    "kl": kl,
    "reverse_kl": lambda p, q: kl(q, p),
    "js": lambda p, q: kl(p, (p + q) / 2) / 2 + kl(q, (p + q) / 2) / 2,
    "hellinger": lambda p, q: float(np.sqrt(np.sum((np.sqrt(p) - np.sqrt(q)) ** 2) / 2)),
    "total_variation": lambda p, q: float(np.sum(np.abs(p - q)) / 2),
    "renyi": lambda p, q: float(np.log(np.sum(p**0.5 * q**0.5)) / (0.5 - 1)),
    "entropy": lambda p, q: -float(np.sum(p[p > 0] * np.log(p[p > 0]))),
}


def frequencies(counts: np.ndarray, prior: float) -> np.ndarray:
    return (counts + prior) / (counts.sum() + prior * counts.size)


def draws(seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.normal(size=300), rng.normal(0.5, 1.5, size=200)


@pytest.mark.parametrize("name", FORMULAS)
@pytest.mark.parametrize("bins", [12, "fd", "sturges", "auto"])
def test_binned_values_equal_numpys_histogram_and_the_formula(
    client: httpx.Client, name: str, bins: Any
) -> None:
    x, y = draws(1)
    answer = post(client, name, x=x.tolist(), y=y.tolist(), bins=bins, prior="laplace", alpha=0.5)
    edges = np.histogram_bin_edges(np.concatenate([x, y]), bins=bins)
    p = frequencies(np.histogram(x, edges)[0], 1.0)
    q = frequencies(np.histogram(y, edges)[0], 1.0)
    assert answer["method"] == "binned" and answer["finite"] is True
    np.testing.assert_array_equal(answer["edges"], edges)
    assert answer["value"] == pytest.approx(FORMULAS[name](p, q), rel=TOLERANCE, abs=TOLERANCE)
    assert (answer["n_x"], answer["n_y"], answer["prior"]) == (300, 200, 1.0)


def test_a_bin_empty_in_y_where_x_has_mass_makes_kl_infinite_without_a_prior(
    client: httpx.Client,
) -> None:
    answer = post(client, "kl", x=[0.5, 1.5, 2.5], y=[0.5, 0.7, 2.5], bins=[0, 1, 2, 3])
    assert answer["value"] is None and answer["finite"] is False
    assert answer["infinite_at"] == 1
    assert answer["counts_x"] == [1, 1, 1] and answer["counts_y"] == [2, 0, 1]


@pytest.mark.parametrize(("prior", "added"), [("jeffreys", 0.5), ("laplace", 1.0), (0.25, 0.25)])
def test_a_prior_adds_its_pseudo_count_to_every_bin(
    client: httpx.Client, prior: Any, added: float
) -> None:
    answer = post(
        client, "kl", x=[0.5, 1.5, 2.5], y=[0.5, 0.7, 2.5], bins=[0, 1, 2, 3], prior=prior
    )
    p = frequencies(np.array([1, 1, 1]), added)
    q = frequencies(np.array([2, 0, 1]), added)
    assert answer["prior"] == added
    assert answer["value"] == pytest.approx(kl(p, q), rel=TOLERANCE)


def test_quantile_bins_follow_x_and_cover_both_samples(client: httpx.Client) -> None:
    x, y = draws(2)
    answer = post(client, "js", x=x.tolist(), y=y.tolist(), bins="quantiles", bin_count=5)
    edges = np.quantile(x, np.linspace(0, 1, 6))
    edges[0], edges[-1] = min(x.min(), y.min()), max(x.max(), y.max())
    np.testing.assert_allclose(answer["edges"], edges, rtol=1e-15)
    assert sum(answer["counts_x"]) == 300 and sum(answer["counts_y"]) == 200


def test_values_in_bits_are_the_nats_divided_by_log_2(client: httpx.Client) -> None:
    x, y = draws(3)
    nats = post(client, "kl", x=x.tolist(), y=y.tolist(), bins=8, prior="jeffreys")
    bits = post(client, "kl", x=x.tolist(), y=y.tolist(), bins=8, prior="jeffreys", base=2)
    assert bits["unit"] == "bit"
    assert bits["value"] == pytest.approx(nats["value"] / np.log(2), rel=TOLERANCE)


def test_categories_are_counted_over_their_sorted_union(client: httpx.Client) -> None:
    x, y = ["b", "a", "b", "c"], ["a", "d", "d", "c", "b"]
    answer = post(client, "kl", x=x, y=y, prior="laplace")
    assert answer["method"] == "categorical"
    assert answer["categories"] == ["a", "b", "c", "d"]
    assert answer["counts_x"] == [1, 2, 1, 0] and answer["counts_y"] == [1, 1, 1, 2]
    p, q = frequencies(np.array([1, 2, 1, 0]), 1.0), frequencies(np.array([1, 1, 1, 2]), 1.0)
    assert answer["value"] == pytest.approx(kl(p, q), rel=TOLERANCE)


def test_integers_are_categories_when_asked_and_a_missing_one_is_infinite(
    client: httpx.Client,
) -> None:
    answer = post(client, "kl", x=[1, 2, 2, 7], y=[1, 2, 2, 2], categorical=True)
    assert answer["categories"] == [1, 2, 7]
    assert answer["finite"] is False and answer["infinite_at"] == 2


@settings(max_examples=25, deadline=None)
@given(
    x=st.lists(st.sampled_from("abcde"), min_size=1, max_size=40),
    y=st.lists(st.sampled_from("abcde"), min_size=1, max_size=40),
    prior=st.sampled_from([0.5, 1.0, 2.0]),
)
def test_categorical_js_matches_the_formula_on_any_samples(
    client: httpx.Client, x: list[str], y: list[str], prior: float
) -> None:
    answer = post(client, "js", x=x, y=y, prior=prior)
    categories = sorted(set(x) | set(y))
    p = frequencies(np.array([x.count(c) for c in categories]), prior)
    q = frequencies(np.array([y.count(c) for c in categories]), prior)
    assert answer["value"] == pytest.approx(FORMULAS["js"](p, q), rel=1e-12, abs=1e-15)
