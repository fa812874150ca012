"""Closed to abuse: optional API keys, per-client job limits, CORS closed by default."""

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import Server, start_server, stop_server

JOB = {"experiment": "kl-vs-ce-cifar10", "epochs": 1}
PAIR = {"p": [0.5, 0.5], "q": [0.25, 0.75]}


def server_with(tmp: Path, **settings: str) -> Server:
    env = {
        "DIVERGENCE_DATA_DIR": str(tmp / "data"),
        "DIVERGENCE_WARM_TENSORFLOW": "false",
        # No worker: submitted jobs stay queued, nothing trains.
        "DIVERGENCE_EMBEDDED_WORKER": "false",
    }
    return start_server(
        tmp, env={**env, **{f"DIVERGENCE_{k.upper()}": v for k, v in settings.items()}}
    )


@pytest.fixture(scope="module")
def keyed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = server_with(
        tmp_path_factory.mktemp("keyed"),
        api_keys="alpha-key, beta-key",
        job_submissions_per_minute="3",
        max_queued_jobs_per_client="100",
    )
    yield server
    stop_server(server)


def test_job_endpoints_need_a_key_when_keys_are_set(keyed: Server) -> None:
    for method, path in (("GET", "/jobs"), ("POST", "/jobs"), ("GET", "/jobs/x")):
        response = httpx.request(method, keyed.url + path, json=JOB)
        assert response.status_code == 401, path
        assert response.headers["www-authenticate"] == "Bearer"
        assert "API key" in response.json()["detail"]
    wrong = httpx.get(keyed.url + "/jobs", headers={"Authorization": "Bearer gamma-key"})
    assert wrong.status_code == 401 and "not valid" in wrong.json()["detail"]


def test_a_key_in_either_header_opens_the_job_endpoints(keyed: Server) -> None:
    bearer = httpx.get(keyed.url + "/jobs", headers={"Authorization": "Bearer alpha-key"})
    header = httpx.get(keyed.url + "/jobs", headers={"X-API-Key": "beta-key"})
    assert bearer.status_code == 200 and header.status_code == 200


def test_divergence_endpoints_stay_open_unless_asked(keyed: Server) -> None:
    assert httpx.post(keyed.url + "/kl", json=PAIR).status_code == 200


def test_keys_are_never_logged(keyed: Server) -> None:
    httpx.get(keyed.url + "/jobs", headers={"Authorization": "Bearer alpha-key"})
    httpx.get(keyed.url + "/jobs", headers={"Authorization": "Bearer gamma-key"})
    log = keyed.log.read_text()
    assert "alpha-key" not in log and "gamma-key" not in log


def test_submissions_over_the_rate_get_429_with_retry_after_per_client(keyed: Server) -> None:
    alpha = {"X-API-Key": "alpha-key"}
    answers = [httpx.post(keyed.url + "/jobs", json=JOB, headers=alpha) for _ in range(4)]
    assert [a.status_code for a in answers] == [202, 202, 202, 429]
    assert 1 <= int(answers[-1].headers["retry-after"]) <= 60
    assert "3 jobs a minute" in answers[-1].json()["detail"]
    beta = httpx.post(keyed.url + "/jobs", json=JOB, headers={"X-API-Key": "beta-key"})
    assert beta.status_code == 202, "another client has its own budget"


def test_too_many_queued_jobs_get_429(tmp_path: Path) -> None:
    server = server_with(tmp_path, max_queued_jobs_per_client="2")
    try:
        answers = [httpx.post(server.url + "/jobs", json=JOB) for _ in range(3)]
        assert [a.status_code for a in answers] == [202, 202, 429]
        assert "waiting in the queue" in answers[-1].json()["detail"]
        assert answers[-1].headers["retry-after"]
        httpx.delete(server.url + f"/jobs/{answers[0].json()['id']}")
        assert httpx.post(server.url + "/jobs", json=JOB).status_code == 202
    finally:
        stop_server(server)


def test_divergence_endpoints_can_require_a_key_too(tmp_path: Path) -> None:
    server = server_with(tmp_path, api_keys="alpha-key", require_key_for_divergences="true")
    try:
        assert httpx.post(server.url + "/kl", json=PAIR).status_code == 401
        keyed = httpx.post(server.url + "/kl", json=PAIR, headers={"X-API-Key": "alpha-key"})
        assert keyed.status_code == 200
    finally:
        stop_server(server)


def test_cors_is_closed_by_default_and_opens_to_configured_origins(
    client: httpx.Client, tmp_path: Path
) -> None:
    preflight = {"Origin": "https://app.example", "Access-Control-Request-Method": "POST"}
    closed = client.options("/kl", headers=preflight)
    assert "access-control-allow-origin" not in closed.headers
    server = server_with(tmp_path, cors_origins="https://app.example")
    try:
        opened = httpx.options(server.url + "/kl", headers=preflight)
        assert opened.headers["access-control-allow-origin"] == "https://app.example"
        other = httpx.options(
            server.url + "/kl", headers={**preflight, "Origin": "https://evil.example"}
        )
        assert "access-control-allow-origin" not in other.headers
    finally:
        stop_server(server)
