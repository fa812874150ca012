"""The kNN estimate of KL over HTTP: close to the truth on Gaussian pairs, finite whatever
the ties, with a subsampling interval that covers the truth (docs/samples.md has the
figures of benchmarks/samples_accuracy.py)."""

import math
from typing import Any

import httpx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.samples.test_binned import post


def gaussian_pair(d: int, n: int, seed: int, mu: float = 0.5, s: float = 1.5) -> tuple[Any, Any]:
    """x ~ N(0, I_d), y ~ N(mu, s^2 I_d), rounded to 5 decimals (a smaller body)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d)).round(5)
    y = (mu + s * rng.normal(size=(n, d))).round(5)
    return x.tolist(), y.tolist()


def true_kl(d: int, mu: float = 0.5, s: float = 1.5) -> float:
    return d / 2 * (1 / s**2 + mu**2 / s**2 - 1 + 2 * math.log(s))


# (d, n, tolerance): benchmarks/samples_accuracy.py's |bias| + 4 sd for this pair (mu 0.5,
# s 1.5; docs/samples.md), rounded up.
ACCURACY = [
    (1, 2_000, 0.10),
    (2, 2_000, 0.13),
    (5, 2_000, 0.35),
    (1, 20_000, 0.03),
    (2, 20_000, 0.045),
    (5, 20_000, 0.15),
]


@pytest.mark.parametrize(("d", "n", "tolerance"), ACCURACY)
def test_knn_estimates_the_kl_of_gaussians_within_tolerance(
    client: httpx.Client, d: int, n: int, tolerance: float
) -> None:
    x, y = gaussian_pair(d, n, seed=d * n)
    answer = post(client, "kl", x=x, y=y, method="knn")
    assert (answer["method"], answer["k"], answer["dimension"]) == ("knn", 5, d)
    assert abs(answer["value"] - true_kl(d)) <= tolerance, answer["value"]


def test_rows_of_more_than_one_number_go_to_knn_by_default(client: httpx.Client) -> None:
    x, y = gaussian_pair(2, 50, seed=1)
    assert post(client, "kl", x=x, y=y)["method"] == "knn"


def test_one_dimensional_numbers_can_use_knn_in_bits(client: httpx.Client) -> None:
    x, y = gaussian_pair(1, 500, seed=2)
    flat_x, flat_y = [r[0] for r in x], [r[0] for r in y]
    nats = post(client, "kl", x=flat_x, y=flat_y, method="knn", k=3)
    bits = post(client, "kl", x=x, y=y, method="knn", k=3, base=2)
    assert bits["unit"] == "bit"
    assert bits["value"] == pytest.approx(nats["value"] / math.log(2), rel=1e-12)


@settings(max_examples=25, deadline=None)
@given(
    x=st.lists(st.integers(0, 4), min_size=8, max_size=30),
    y=st.lists(st.integers(0, 4), min_size=8, max_size=30),
)
def test_ties_never_make_the_estimate_infinite_or_nan(
    client: httpx.Client, x: list[int], y: list[int]
) -> None:
    """Rows repeated many times, in x and across x and y: coincident rows are skipped."""
    response = client.post(
        "/samples/divergences/kl", json={"x": x, "y": y, "method": "knn", "k": 2}
    )
    if response.status_code == 422:  # too few distinct rows for k = 2: said, not computed
        assert "distinct neighbours" in response.text or "rows" in response.text
        return
    answer = response.json()
    assert answer["finite"] is True and math.isfinite(answer["value"])


def test_the_subsampling_interval_surrounds_the_estimate(client: httpx.Client) -> None:
    x, y = gaussian_pair(2, 2_000, seed=7)
    answer = post(client, "kl", x=x, y=y, method="knn", bootstrap=100, seed=1)
    interval = answer["interval"]
    assert interval["scheme"].startswith("subsampling without replacement")
    assert interval["low"] < answer["value"] < interval["high"]
    assert interval["low"] < true_kl(2) < interval["high"]


@pytest.mark.slow
@pytest.mark.parametrize("d", [1, 2])
def test_the_95_percent_interval_covers_the_truth_in_most_of_50_repetitions(
    client: httpx.Client, d: int
) -> None:
    """Measured 41/50 (d = 1) and 48/50 (d = 2). Not d = 5: there the estimator's bias is
    several times its spread and the interval misses (docs/samples.md has the figures)."""
    covered = 0
    for seed in range(50):
        x, y = gaussian_pair(d, 2_000, seed=seed, s=1.0)
        answer = post(client, "kl", x=x, y=y, method="knn", bootstrap=100, seed=seed)
        covered += answer["interval"]["low"] <= true_kl(d, s=1.0) <= answer["interval"]["high"]
    assert covered >= 35, covered
