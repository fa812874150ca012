"""POST /kl answers alike on the fast lane (small bodies with a Content-Length) and on the
full FastAPI route (the same body sent chunked, which the lane leaves to the route)."""

from collections.abc import Iterator

import httpx
import pytest

P = [0.1, 0.4, 0.5]
Q = [0.8, 0.15, 0.05]

BODIES = {
    "plain": {"p": P, "q": Q},
    "bits": {"p": P, "q": Q, "base": 2},
    "keras": {"p": [0.0, 0.5, 0.5], "q": [0.5, 0.5, 0.0], "mode": "keras"},
    "counts": {"p": [1, 2, 3], "q": [3, 2, 1], "normalize": True},
    "infinite": {"p": [0.2, 0.3, 0.5], "q": [0.5, 0.5, 0.0]},
    "sums off": {"p": [0.5, 0.6], "q": [0.5, 0.5]},
    "negative": {"p": [-0.5, 1.5], "q": [0.5, 0.5]},
    "lengths differ": {"p": [0.5, 0.5], "q": [1.0]},
    "unknown field": {"p": P, "q": Q, "colour": "red"},
    "string": {"p": ["0.5", 0.5], "q": [0.5, 0.5]},
}


def _chunked(data: bytes) -> Iterator[bytes]:
    yield data


@pytest.mark.parametrize("name", BODIES)
def test_lane_and_full_route_give_the_same_answer(client: httpx.Client, name: str) -> None:
    data = httpx.Request("POST", "/", json=BODIES[name]).content
    headers = {"content-type": "application/json"}
    lane = client.post("/kl", content=data, headers=headers)
    full = client.post("/kl", content=_chunked(data), headers=headers)
    assert "content-length" not in full.request.headers  # sent chunked: the route's
    assert lane.status_code == full.status_code
    assert lane.json() == full.json()
    assert lane.headers["content-type"] == full.headers["content-type"] == "application/json"


def test_lane_answers_carry_request_ids_and_count_in_the_metrics(client: httpx.Client) -> None:
    def kl_requests() -> float:
        text = client.get("/metrics").text
        prefix = 'http_requests_total{method="POST",route="/kl",status="200"} '
        lines = text.splitlines()
        return sum(float(line[len(prefix) :]) for line in lines if line.startswith(prefix))

    before = kl_requests()
    response = client.post("/kl", json=BODIES["plain"], headers={"x-request-id": "lane-1"})
    assert response.status_code == 200
    assert response.headers["x-request-id"] == "lane-1"
    assert kl_requests() == before + 1


def test_utf8_charset_and_large_bodies_are_answered_too(client: httpx.Client) -> None:
    n = 20_000  # a body over the lane's 64 KiB: the full route answers it
    big = {"p": [1 / n] * n, "q": [1 / n] * n}
    response = client.post("/kl", json=big)
    assert response.status_code == 200 and response.json()["kl"] == 0.0
    data = httpx.Request("POST", "/", json=BODIES["plain"]).content
    typed = client.post(
        "/kl", content=data, headers={"content-type": "application/json; charset=utf-8"}
    )
    assert typed.status_code == 200
    assert typed.json() == client.post("/kl", json=BODIES["plain"]).json()
