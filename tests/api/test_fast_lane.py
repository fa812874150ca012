"""POST /kl answers alike on the fast lane (small bodies with a Content-Length) and on the
full FastAPI route (the same body sent chunked, which the lane leaves to the route); and
all of it again on a server with its fast paths off (``DIVERGENCE_FAST_PATHS=false``: no
lane, no plain-pair shortcut), where the route answers both."""

from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from tests.conftest import start_server, stop_server

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


@contextmanager
def fast_paths_off(
    tmp_path_factory: pytest.TempPathFactory, env: dict[str, str] | None = None
) -> Iterator[httpx.Client]:
    """A client of a server like the session's (the same limits), its fast paths off."""
    server = start_server(
        tmp_path_factory.mktemp("plain-server"),
        env={
            "DIVERGENCE_FAST_PATHS": "false",
            "DIVERGENCE_DATA_DIR": str(tmp_path_factory.mktemp("plain-server-data")),
            "DIVERGENCE_MAX_BODY_BYTES": str(4 * 1024 * 1024),
            "DIVERGENCE_MAX_VECTOR_LENGTH": "100000",
            "DIVERGENCE_MAX_BATCH_ROWS": "50000",
            **(env or {}),
        },
    )
    try:
        with httpx.Client(base_url=server.url, timeout=120) as http:
            yield http
    finally:
        stop_server(server)
    assert "Traceback" not in server.log.read_text(), "the server logged a traceback"


@pytest.fixture(scope="module", params=["fast paths on", "off"])
def kl_client(
    request: pytest.FixtureRequest,
    client: httpx.Client,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[httpx.Client]:
    """The session's server, then one with its fast paths off (no batches here: no
    TensorFlow warm-up)."""
    if request.param == "fast paths on":
        yield client
        return
    with fast_paths_off(tmp_path_factory, {"DIVERGENCE_WARM_TENSORFLOW": "false"}) as plain:
        yield plain


def _chunked(data: bytes) -> Iterator[bytes]:
    yield data


@pytest.mark.parametrize("name", BODIES)
def test_lane_and_full_route_give_the_same_answer(kl_client: httpx.Client, name: str) -> None:
    client = kl_client
    data = httpx.Request("POST", "/", json=BODIES[name]).content
    headers = {"content-type": "application/json"}
    lane = client.post("/kl", content=data, headers=headers)
    full = client.post("/kl", content=_chunked(data), headers=headers)
    assert "content-length" not in full.request.headers  # sent chunked: the route's
    assert lane.status_code == full.status_code
    assert lane.json() == full.json()
    assert lane.headers["content-type"] == full.headers["content-type"] == "application/json"


def test_lane_answers_carry_request_ids_and_count_in_the_metrics(kl_client: httpx.Client) -> None:
    client = kl_client

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


def test_utf8_charset_and_large_bodies_are_answered_too(kl_client: httpx.Client) -> None:
    client = kl_client
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
