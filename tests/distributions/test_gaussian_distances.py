"""POST /distributions/gaussian-distances: Hellinger, Bhattacharyya and 2-Wasserstein
between Gaussians, against the textbook formulas (determinants, inverses and scipy's
sqrtm, written here) and numerical integration."""

import math
from typing import Any

import httpx
import numpy as np
import pytest
import scipy.linalg
from scipy import integrate, stats

from tests.distributions.test_closed_forms import spec


def post(
    client: httpx.Client, p: dict[str, Any], q: dict[str, Any], **options: Any
) -> dict[str, Any]:
    response = client.post("/distributions/gaussian-distances", json={"p": p, "q": q, **options})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_normals_match_the_univariate_formulas_and_integration(client: httpx.Client) -> None:
    (m1, s1), (m2, s2) = (0.3, 1.2), (-0.5, 0.7)
    body = post(client, spec("normal", loc=m1, scale=s1), spec("normal", loc=m2, scale=s2))
    variance = s1 * s1 + s2 * s2
    coefficient = math.sqrt(2 * s1 * s2 / variance) * math.exp(-((m1 - m2) ** 2) / (4 * variance))
    assert body["bhattacharyya"] == pytest.approx(-math.log(coefficient), rel=1e-13)
    assert body["hellinger"] == pytest.approx(math.sqrt(1 - coefficient), rel=1e-13)
    assert body["wasserstein2"] == pytest.approx(math.hypot(m1 - m2, s1 - s2), rel=1e-13)
    overlap = integrate.quad(
        lambda x: math.sqrt(stats.norm.pdf(x, m1, s1) * stats.norm.pdf(x, m2, s2)), -np.inf, np.inf
    )[0]
    assert body["hellinger"] == pytest.approx(math.sqrt(1 - overlap), rel=1e-8)
    assert body["unit"] == "nat"


def test_full_covariance_gaussians_match_determinants_and_sqrtm(client: httpx.Client) -> None:
    rng = np.random.default_rng(3)
    a, b = rng.normal(size=(2, 4, 4))
    cov_p, cov_q = a @ a.T + np.eye(4), b @ b.T + 0.5 * np.eye(4)
    mu_p, mu_q = rng.normal(size=(2, 4))
    body = post(
        client,
        spec("multivariate_normal", loc=mu_p.tolist(), covariance_matrix=cov_p.tolist()),
        spec("multivariate_normal", loc=mu_q.tolist(), covariance_matrix=cov_q.tolist()),
        base=2,
    )
    mean = (cov_p + cov_q) / 2
    d = mu_q - mu_p
    bhattacharyya = d @ np.linalg.inv(mean) @ d / 8 + 0.5 * math.log(
        np.linalg.det(mean) / math.sqrt(np.linalg.det(cov_p) * np.linalg.det(cov_q))
    )
    assert body["unit"] == "bit"
    assert body["bhattacharyya"] == pytest.approx(bhattacharyya / math.log(2), rel=1e-10)
    assert body["hellinger"] == pytest.approx(math.sqrt(-math.expm1(-bhattacharyya)), rel=1e-10)
    root = scipy.linalg.sqrtm(cov_q)
    cross = np.real(scipy.linalg.sqrtm(root @ cov_p @ root))
    w2 = math.sqrt(d @ d + np.trace(cov_p) + np.trace(cov_q) - 2 * np.trace(cross))
    assert body["wasserstein2"] == pytest.approx(w2, rel=1e-9)


def test_equal_gaussians_are_at_distance_zero_and_batches_broadcast(client: httpx.Client) -> None:
    p = spec("normal", loc=[0.0, 1.0], scale=1.0)
    body = post(client, p, spec("normal", loc=0.0, scale=1.0))
    assert body["hellinger"][0] == 0 and body["bhattacharyya"][0] == 0
    assert body["wasserstein2"] == pytest.approx([0.0, 1.0], abs=1e-15)


def test_other_families_are_refused(client: httpx.Client) -> None:
    body = {"p": spec("normal", loc=0.0, scale=1.0), "q": spec("laplace", loc=0.0, scale=1.0)}
    response = client.post("/distributions/gaussian-distances", json=body)
    assert response.status_code == 422
    (error,) = response.json()["detail"]
    assert error["loc"] == ["body", "q", "family"] and "between Gaussians" in error["msg"]
