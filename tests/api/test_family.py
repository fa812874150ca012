"""The divergence family (/divergences) and the Gaussian KL over HTTP."""

import math

import httpx
import numpy as np
import pytest
from scipy import special, stats
from scipy.spatial import distance

P = [0.1, 0.4, 0.5]
Q = [0.8, 0.15, 0.05]
p, q = np.array(P), np.array(Q)

EXPECTED = {
    "kl": float(np.sum(special.rel_entr(p, q))),
    "reverse_kl": float(np.sum(special.rel_entr(q, p))),
    "jeffreys": float(np.sum(special.rel_entr(p, q) + special.rel_entr(q, p))),
    "js": float(distance.jensenshannon(p, q)) ** 2,
    "js_distance": float(distance.jensenshannon(p, q)),
    "cross_entropy": float(-np.sum(p * np.log(q))),
    "entropy": float(stats.entropy(p)),
    "hellinger": float(np.sqrt(0.5 * np.sum((np.sqrt(p) - np.sqrt(q)) ** 2))),
    "total_variation": 0.7,
    "bhattacharyya": float(-np.log(np.sum(np.sqrt(p * q)))),
    "chi_square": float(np.sum((p - q) ** 2 / q)),
    "triangular": float(np.sum((p - q) ** 2 / (p + q))),
}


def test_list_names_every_divergence_with_its_description(client: httpx.Client) -> None:
    listed = {d["name"]: d for d in client.get("/divergences").json()}
    assert set(EXPECTED) | {"renyi", "alpha"} == set(listed)
    assert listed["renyi"]["parameters"] == listed["alpha"]["parameters"] == ["alpha"]
    assert listed["hellinger"]["uses_base"] is False and listed["hellinger"]["unit"] == "none"
    assert listed["kl"]["formula"] and listed["kl"]["range"] == "[0, inf]"


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_divergence_for_one_pair_and_for_a_batch(client: httpx.Client, name: str) -> None:
    one = client.post(f"/divergences/{name}", json={"p": P, "q": Q})
    assert one.status_code == 200, one.text
    assert one.json()["divergence"] == name
    assert math.isclose(one.json()["value"], EXPECTED[name], rel_tol=1e-9)
    batch = client.post(f"/divergences/{name}/batch", json={"p": [P, P], "q": Q}).json()
    assert np.allclose(batch["value"], [EXPECTED[name]] * 2, rtol=1e-9)


def test_renyi_needs_alpha_and_order_one_is_kl(client: httpx.Client) -> None:
    missing = client.post("/divergences/renyi", json={"p": P, "q": Q})
    assert missing.status_code == 422
    assert missing.json()["detail"][0]["loc"] == ["body", "alpha"]
    order_one = client.post("/divergences/renyi", json={"p": P, "q": Q, "alpha": 1}).json()
    assert math.isclose(order_one["value"], EXPECTED["kl"], rel_tol=1e-14)
    order_two = client.post(
        "/divergences/renyi/batch", json={"p": [P], "q": [Q], "alpha": 2}
    ).json()
    assert math.isclose(order_two["value"][0], math.log(float(np.sum(p**2 / q))), rel_tol=1e-12)


def test_entropy_needs_no_q(client: httpx.Client) -> None:
    body = client.post("/divergences/entropy", json={"p": [0.25] * 4, "base": 2}).json()
    assert math.isclose(body["value"], 2.0, rel_tol=1e-15) and body["unit"] == "bit"


def test_js_distance_in_bits_matches_scipy(client: httpx.Client) -> None:
    body = client.post("/divergences/js_distance", json={"p": P, "q": Q, "base": 2}).json()
    assert math.isclose(body["value"], float(distance.jensenshannon(p, q, base=2)), rel_tol=1e-12)
    assert body["unit"] == "sqrt(bit)"


def test_unknown_divergence_is_a_422_naming_the_known_ones(client: httpx.Client) -> None:
    response = client.post("/divergences/kullback", json={"p": P, "q": Q})
    assert response.status_code == 422
    detail = response.json()["detail"][0]
    assert detail["loc"] == ["path", "name"] and "kl" in detail["msg"]


def test_gaussian_kl_against_the_standard_normal(client: httpx.Client) -> None:
    mu, logvar = np.array([0.5, -1.0]), np.array([0.1, -0.3])
    body = client.post("/kl/gaussian", json={"mu": mu.tolist(), "logvar": logvar.tolist()}).json()
    expected = -0.5 * float(np.sum(1 + logvar - mu**2 - np.exp(logvar)))
    assert math.isclose(body["kl"], expected, rel_tol=1e-14)
    assert body["finite"] is True and body["unit"] == "nat"


def test_gaussian_kl_against_a_second_gaussian_for_batches(client: httpx.Client) -> None:
    body = client.post(
        "/kl/gaussian/batch",
        json={
            "mu": [[0.4], [0.0]],
            "logvar": [[2 * math.log(0.7)], [0.0]],
            "mu2": [-0.2],
            "logvar2": [2 * math.log(1.9)],
        },
    ).json()
    first = math.log(1.9 / 0.7) + (0.7**2 + 0.6**2) / (2 * 1.9**2) - 0.5
    second = math.log(1.9) + (1 + 0.2**2) / (2 * 1.9**2) - 0.5
    assert np.allclose(body["kl"], [first, second], rtol=1e-13)
    assert body["summary"]["rows"] == 2
