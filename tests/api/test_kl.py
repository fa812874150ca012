"""POST /kl and POST /kl/batch over HTTP against the real server."""

import math

import httpx
import numpy as np
import pytest
from scipy import special

P = [0.1, 0.4, 0.5]
Q = [0.8, 0.15, 0.05]


def expected_kl(p: list[float], q: list[float]) -> float:
    return float(np.sum(special.rel_entr(p, q)))


def test_kl_of_two_distributions_in_nats(client: httpx.Client) -> None:
    response = client.post("/kl", json={"p": P, "q": Q})
    assert response.status_code == 200
    body = response.json()
    assert math.isclose(body["kl"], expected_kl(P, Q), rel_tol=1e-15)
    assert body == {"kl": body["kl"], "finite": True, "infinite_at": None, "unit": "nat"}


def test_kl_in_bits_and_in_any_base(client: httpx.Client) -> None:
    bits = client.post("/kl", json={"p": P, "q": Q, "base": 2}).json()
    assert bits["unit"] == "bit"
    assert math.isclose(bits["kl"], expected_kl(P, Q) / math.log(2), rel_tol=1e-15)
    other = client.post("/kl", json={"p": P, "q": Q, "base": 3.5}).json()
    assert math.isclose(other["kl"], expected_kl(P, Q) / math.log(3.5), rel_tol=1e-15)
    assert other["unit"] == "log3.5-unit"


@pytest.mark.parametrize(
    ("base", "unit"),
    [(16, "log16-unit"), (3.7, "log3.7-unit"), (1.0000000000000002, "log1.0000000000000002-unit")],
)
def test_a_units_name_writes_its_base_as_given(
    client: httpx.Client, base: float, unit: str
) -> None:
    answer = client.post("/kl", json={"p": P, "q": Q, "base": base})
    assert answer.status_code == 200 and answer.json()["unit"] == unit


def test_zero_in_q_where_p_positive_is_infinite_as_null_and_index(client: httpx.Client) -> None:
    response = client.post("/kl", json={"p": [0.2, 0.3, 0.5], "q": [0.5, 0.5, 0.0]})
    assert response.status_code == 200
    assert response.json() == {"kl": None, "finite": False, "infinite_at": 2, "unit": "nat"}
    assert b"Infinity" not in response.content and b"NaN" not in response.content


def test_zero_in_p_contributes_nothing(client: httpx.Client) -> None:
    body = client.post("/kl", json={"p": [1, 0], "q": [0.5, 0.5]}).json()
    assert math.isclose(body["kl"], math.log(2), rel_tol=1e-15)


def test_keras_mode_clips_so_the_value_is_finite(client: httpx.Client) -> None:
    body = client.post(
        "/kl", json={"p": [0.2, 0.3, 0.5], "q": [0.5, 0.5, 0.0], "mode": "keras"}
    ).json()
    p, q = np.clip([0.2, 0.3, 0.5], 1e-7, 1), np.clip([0.5, 0.5, 0.0], 1e-7, 1)
    assert body["finite"] is True
    assert math.isclose(body["kl"], float(np.sum(p * np.log(p / q))), rel_tol=1e-14)
    looser = client.post(
        "/kl", json={"p": [0.2, 0.3, 0.5], "q": [0.5, 0.5, 0.0], "mode": "keras", "epsilon": 1e-3}
    ).json()
    assert looser["kl"] < body["kl"]


def test_normalize_accepts_counts(client: httpx.Client) -> None:
    body = client.post("/kl", json={"p": [1, 2, 7], "q": [5, 3, 2], "normalize": True}).json()
    assert math.isclose(body["kl"], expected_kl([0.1, 0.2, 0.7], [0.5, 0.3, 0.2]), rel_tol=1e-14)


def test_sums_within_tolerance_are_accepted(client: httpx.Client) -> None:
    response = client.post("/kl", json={"p": [0.5, 0.5000001], "q": [0.5, 0.5]})
    assert response.status_code == 200


def test_batch_scores_every_row_in_order(client: httpx.Client) -> None:
    rng = np.random.default_rng(7)
    p = rng.random((50, 6))
    q = rng.random((50, 6))
    p /= p.sum(axis=1, keepdims=True)
    q /= q.sum(axis=1, keepdims=True)
    body = client.post("/kl/batch", json={"p": p.tolist(), "q": q.tolist()}).json()
    expected = special.rel_entr(p, q).sum(axis=1)
    assert np.allclose(body["kl"], expected, rtol=1e-12)
    assert body["finite"] == [True] * 50
    assert body["summary"]["rows"] == 50
    assert math.isclose(body["summary"]["mean"], float(expected.mean()), rel_tol=1e-12)
    assert math.isclose(body["summary"]["max"], float(expected.max()), rel_tol=1e-12)


def test_batch_with_a_single_q_row_compares_it_with_every_p_row(client: httpx.Client) -> None:
    body = client.post("/kl/batch", json={"p": [P, Q, [1, 0, 0]], "q": Q}).json()
    assert np.allclose(
        body["kl"], [expected_kl(P, Q), 0.0, expected_kl([1, 0, 0], Q)], rtol=1e-12, atol=1e-15
    )


def test_batch_reports_infinite_rows_as_null_with_their_index(client: httpx.Client) -> None:
    response = client.post("/kl/batch", json={"p": [P, [0, 0.5, 0.5]], "q": [[0.5, 0.5, 0], Q]})
    body = response.json()
    assert body["kl"][0] is None and body["finite"] == [False, True]
    assert body["infinite_at"] == [2, None]
    assert body["summary"] == {
        "rows": 2,
        "infinite_rows": 1,
        "mean": None,
        "min": body["kl"][1],
        "max": None,
    }
    assert b"Infinity" not in response.content


def test_batch_numpy_and_tensorflow_agree_through_http(client: httpx.Client) -> None:
    rng = np.random.default_rng(11)
    p = rng.dirichlet(np.ones(20), size=30)
    q = rng.dirichlet(np.ones(20), size=30)
    batch = client.post("/kl/batch", json={"p": p.tolist(), "q": q.tolist()}).json()["kl"]
    single = [
        client.post("/kl", json={"p": a.tolist(), "q": b.tolist()}).json()["kl"]
        for a, b in zip(p, q, strict=True)
    ]
    assert np.allclose(batch, single, rtol=1e-12, atol=0)
