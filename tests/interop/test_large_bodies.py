"""Bodies of a megabyte and more (read into memory numpy allocates), on every batch path."""

import json

import httpx
import numpy as np
import pyarrow as pa
import pytest
import tritonclient.http as triton

from service.divergences import formulas
from tests.interop.test_arrow import post, rows
from tests.interop.test_v2 import infer

rng = np.random.default_rng(11)
P = rng.dirichlet(np.ones(100), size=2_000)  # 1.6 MB a matrix: the test server takes 4 MiB
Q = rng.dirichlet(np.ones(100), size=2_000)


def test_a_large_arrow_body_scores_like_numpy(client: httpx.Client) -> None:
    response = post(client, "/kl/batch", pa.table({"p": rows(P), "q": rows(Q)}))
    assert response.status_code == 200, response.text
    np.testing.assert_allclose(response.json()["kl"], formulas.kl(P, Q), rtol=1e-12)


@pytest.mark.parametrize("binary", [True, False], ids=["binary", "json"])
def test_a_large_v2_body_scores_like_numpy(v2: triton.InferenceServerClient, binary: bool) -> None:
    p, q = (P[:, :40], Q[:, :40]) if not binary else (P, Q)  # JSON text: 4 MiB at most
    p, q = p / p.sum(axis=1, keepdims=True), q / q.sum(axis=1, keepdims=True)
    result = infer(v2, "kl", p, q, binary, outputs=["KL"])
    np.testing.assert_allclose(result.as_numpy("KL"), formulas.kl(p, q), rtol=1e-12)


@pytest.mark.parametrize(
    ("last", "loc"),
    [('"0.5"', ["body", "p", 799, 99]), ("NaN", ["body", "p", 799, 99])],
    ids=["string", "NaN"],
)
def test_a_large_json_body_with_one_bad_number_is_422_naming_it(
    client: httpx.Client, last: str, loc: list[object]
) -> None:
    p: list[list[object]] = P[:800].tolist()
    p[-1][-1] = "BAD"
    body = json.dumps({"p": p, "q": Q[:800].tolist()}).replace('"BAD"', last)
    assert 1 << 20 < len(body) < 4 << 20
    response = client.post("/kl/batch", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"] == loc


def test_a_large_single_pair_is_read_and_scored_like_numpy(client: httpx.Client) -> None:
    p, q = P.ravel()[:60_000], Q.ravel()[:60_000]  # weights: scaled by normalize
    body = json.dumps({"p": p.tolist(), "q": q.tolist(), "normalize": True})
    assert 1 << 20 < len(body) < 4 << 20  # past the fast lane, through the route
    response = client.post("/kl", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 200, response.text
    expected = formulas.kl(p / p.sum(), q / q.sum())
    assert np.isclose(response.json()["kl"], float(expected), rtol=1e-12)
