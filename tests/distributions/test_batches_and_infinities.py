"""Batches (parameters with leading dimensions broadcast as torch's batch_shape) and the
rules that make KL infinite, over HTTP."""

import math
from typing import Any

import httpx
import pytest

from tests.distributions.test_closed_forms import post_kl, spec


def test_batch_dimensions_broadcast_into_nested_lists(client: httpx.Client) -> None:
    locs, scales = [0.0, 1.0, 2.0], [[1.0], [2.0]]
    body = post_kl(
        client, spec("normal", loc=locs, scale=1.0), spec("normal", loc=0.0, scale=scales)
    )
    assert body["finite"] == [[True] * 3] * 2 and body["method"] == "closed_form"
    for i, row in enumerate(body["kl"]):
        assert len(row) == 3
        for j, value in enumerate(row):
            one = post_kl(
                client,
                spec("normal", loc=locs[j], scale=1.0),
                spec("normal", loc=0.0, scale=scales[i][0]),
            )
            assert value == pytest.approx(one["kl"], rel=1e-15)


def test_a_batch_of_gaussians_against_one_gives_one_value_each(client: httpx.Client) -> None:
    p = spec(
        "multivariate_normal",
        loc=[[0.0, 0.0], [1.0, 0.0], [0.0, 2.0]],
        covariance_matrix=[[1.0, 0.0], [0.0, 1.0]],
    )
    q = spec("multivariate_normal", loc=[0.0, 0.0], covariance_matrix=[[2.0, 0.3], [0.3, 1.0]])
    body = post_kl(client, p, q)
    assert len(body["kl"]) == 3
    single = spec("multivariate_normal", loc=[1.0, 0.0], covariance_matrix=[[1.0, 0.0], [0.0, 1.0]])
    assert body["kl"][1] == pytest.approx(post_kl(client, single, q)["kl"], rel=1e-14)


def test_covariances_batch_as_well_as_means(client: httpx.Client) -> None:
    covariances = [[[1.0, 0.0], [0.0, 1.0]], [[2.0, 0.5], [0.5, 1.0]]]
    p = spec("multivariate_normal", loc=[0.5, 0.5], covariance_matrix=covariances)
    q = spec("multivariate_normal", loc=[0.0, 0.0], scale_tril=[[1.0, 0.0], [0.0, 1.0]])
    body = post_kl(client, p, q)
    assert len(body["kl"]) == 2 and body["kl"][0] == pytest.approx(0.25, rel=1e-14)


def test_categorical_rows_are_a_batch(client: httpx.Client) -> None:
    p = spec("categorical", probs=[[0.5, 0.5, 0.0], [0.2, 0.3, 0.5]])
    q = spec("categorical", logits=[0.0, 0.0, 0.0])
    body = post_kl(client, p, q)
    assert len(body["kl"]) == 2
    assert body["kl"][0] == pytest.approx(math.log(1.5), rel=1e-15)
    assert body["kl"][1] == pytest.approx(sum(x * math.log(3 * x) for x in (0.2, 0.3, 0.5)))


def test_one_infinite_element_is_null_and_named_by_its_index(client: httpx.Client) -> None:
    p = spec("uniform", low=0.0, high=[0.5, 2.0])
    body = post_kl(client, p, spec("beta", concentration1=2.0, concentration0=2.0))
    assert body["kl"][0] > 0 and body["kl"][1] is None
    assert body["finite"] == [True, False]
    assert body["reason"] == "at [1]: q's support [0, 1] does not cover p's [0, 2]"


def test_batches_that_do_not_broadcast_are_refused(client: httpx.Client) -> None:
    response = client.post(
        "/distributions/kl",
        json={
            "p": spec("normal", loc=[0.0, 1.0, 2.0], scale=1.0),
            "q": spec("normal", loc=[0.0, 1.0], scale=1.0),
        },
    )
    assert response.status_code == 422
    (error,) = response.json()["detail"]
    assert error["loc"] == ["body", "q"] and "does not broadcast" in error["msg"]


def test_a_batch_over_the_limit_is_refused_with_413(client: httpx.Client) -> None:
    p = spec("normal", loc=[0.0] * 50_001, scale=1.0)
    response = client.post(
        "/distributions/kl", json={"p": p, "q": spec("normal", loc=0.0, scale=1.0)}
    )
    assert response.status_code == 413
    assert response.json()["detail"][0]["loc"] == ["body", "p"]


def test_gaussian_batches_too_large_to_compute_on_are_refused_with_413(
    client: httpx.Client,
) -> None:
    n = 100
    identity = [[float(i == j) for j in range(n)] for i in range(n)]
    p = spec("multivariate_normal", loc=[[0.0] * n] * 4000, covariance_matrix=identity)
    q = spec("multivariate_normal", loc=[0.0] * n, covariance_matrix=identity)
    response = client.post("/distributions/kl", json={"p": p, "q": q})
    assert response.status_code == 413
    (error,) = response.json()["detail"]
    assert error["loc"] == ["body", "p"] and "4000 Gaussians of dimension 100" in error["msg"]


def test_values_beyond_float64_are_null_with_a_reason(client: httpx.Client) -> None:
    p, q = spec("normal", loc=1e308, scale=1e-300), spec("normal", loc=-1e308, scale=1.0)
    body = post_kl(client, p, q)
    assert body["kl"] is None and body["finite"] is False
    assert body["reason"] == "the value overflows float64"


INFINITE: list[tuple[dict[str, Any], dict[str, Any], str]] = [
    (
        spec("uniform", low=0.0, high=2.0),
        spec("beta", concentration1=2.0, concentration0=5.0),
        "q's support [0, 1] does not cover p's [0, 2]",
    ),
    (
        spec("normal", loc=0.0, scale=1.0),
        spec("exponential", rate=1.0),
        "q's support [0, inf) does not cover p's (-inf, inf)",
    ),
    (
        spec("pareto", scale=1.0, alpha=3.0),
        spec("pareto", scale=2.0, alpha=3.0),
        "q's support [2, inf) does not cover p's [1, inf)",
    ),
    (
        spec("binomial", total_count=5, probs=0.5),
        spec("binomial", total_count=3, probs=0.5),
        "q's support {0, ..., 3} does not cover p's {0, ..., 5}",
    ),
    (
        spec("poisson", rate=1.0),
        spec("bernoulli", probs=0.5),
        "q's support {0, 1} does not cover p's {0, 1, ...}",
    ),
    (
        spec("bernoulli", probs=0.5),
        spec("bernoulli", probs=0.0),
        "q's support {0} does not cover p's {0, 1}",
    ),
    (
        spec("categorical", probs=[0.5, 0.5, 0.0]),
        spec("categorical", probs=[0.5, 0.0, 0.5]),
        "q gives probability 0 to an outcome p gives probability > 0",
    ),
    (
        spec("pareto", scale=1.0, alpha=0.8),
        spec("exponential", rate=1.0),
        "p's mean is infinite (alpha <= 1) and -log q grows linearly",
    ),
    (
        spec("normal", loc=0.0, scale=1.0),
        spec("poisson", rate=1.0),
        "p is continuous and q is discrete: q gives probability 0 to a set that holds p's mass",
    ),
    (
        spec("dirichlet", concentration=[1.0, 1.0]),
        spec("multivariate_normal", loc=[0.0, 0.0], covariance_matrix=[[1.0, 0.0], [0.0, 1.0]]),
        "p is a distribution on the simplex (which has no volume in R^n) and q is a "
        "distribution over R^n: q gives probability 0 to a set that holds p's mass",
    ),
]


@pytest.mark.parametrize(
    ("p", "q", "reason"), INFINITE, ids=[f"{p['family']}-{q['family']}" for p, q, _ in INFINITE]
)
def test_an_infinite_pair_is_null_with_its_reason(
    client: httpx.Client, p: dict[str, Any], q: dict[str, Any], reason: str
) -> None:
    response = client.post("/distributions/kl", json={"p": p, "q": q})
    assert response.status_code == 200
    assert b"Infinity" not in response.content and b"NaN" not in response.content
    body = response.json()
    assert body == {
        "kl": None,
        "finite": False,
        "method": "closed_form",
        "unit": "nat",
        "reason": reason,
    }
