"""Health, readiness, Prometheus metrics, request ids and JSON logs."""

import json
import socket
import time
from pathlib import Path

import httpx

from tests.conftest import Server, start_server, stop_server


def test_healthz_and_readyz_when_everything_is_up(client: httpx.Client) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "checks": {"database": "ok", "queue": "ok"}}


def test_metrics_count_requests_by_route_and_status_and_rows_scored(
    client: httpx.Client,
) -> None:
    client.post("/kl", json={"p": [0.5, 0.5], "q": [0.25, 0.75]})
    client.post("/kl", json={"p": [-1, 2], "q": [0.25, 0.75]})
    client.post("/kl/batch", json={"p": [[0.5, 0.5]] * 7, "q": [0.25, 0.75]})
    text = client.get("/metrics").text
    assert 'http_requests_total{method="POST",route="/kl",status="200"}' in text
    assert 'http_requests_total{method="POST",route="/kl",status="422"}' in text
    assert 'http_request_duration_seconds_bucket{le="0.005",method="POST",route="/kl"}' in text
    rows = [
        line
        for line in text.splitlines()
        if line.startswith('divergence_rows_scored_total{backend="tensorflow",divergence="kl"}')
    ]
    assert rows and float(rows[0].split()[-1]) >= 7
    for gauge in ('jobs{status="queued"}', "job_queue_depth", "job_worker_heartbeat_age_seconds"):
        assert gauge in text


def test_request_id_is_returned_and_made_when_missing(client: httpx.Client) -> None:
    given = client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert given.headers["x-request-id"] == "abc-123"
    made = client.get("/healthz").headers["x-request-id"]
    assert len(made) == 32 and made != client.get("/healthz").headers["x-request-id"]


def test_logs_are_json_lines_carrying_the_request_id(client: httpx.Client, server: Server) -> None:
    client.post("/kl", json={"p": [1], "q": [1]}, headers={"X-Request-ID": "trace-me-42"})
    deadline = time.monotonic() + 5  # the access line is written once the answer is sent
    access: list[dict[str, object]] = []
    while not access and time.monotonic() < deadline:
        lines = server.log.read_text().splitlines()
        records = [json.loads(line) for line in lines if line.startswith("{")]
        access = [r for r in records if r.get("request_id") == "trace-me-42"]
        time.sleep(0.05)
    assert access and access[0]["logger"] == "service.access"
    assert access[0]["route"] == "/kl" and access[0]["status"] == 200
    assert {"time", "level", "message"} <= set(access[0])


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_readyz_names_an_unreachable_queue_and_jobs_answer_503(tmp_path: Path) -> None:
    server = start_server(
        tmp_path,
        env={
            "DIVERGENCE_DATA_DIR": str(tmp_path / "data"),
            "DIVERGENCE_QUEUE_URL": f"redis://127.0.0.1:{_closed_port()}/0",
            "DIVERGENCE_WARM_TENSORFLOW": "false",
        },
    )
    try:
        with httpx.Client(base_url=server.url, timeout=30) as client:
            ready = client.get("/readyz")
            assert ready.status_code == 503
            assert ready.json()["checks"]["database"] == "ok"
            assert ready.json()["checks"]["queue"].startswith("unreachable")
            submitted = client.post("/jobs", json={"experiment": "kl-vs-ce-cifar10"})
            assert submitted.status_code == 503 and "queue" in submitted.json()["detail"]
            assert submitted.headers["retry-after"]
            failed = client.get("/jobs", params={"status": "failed"}).json()["jobs"]
            assert failed and "could not be queued" in failed[0]["error"]
            assert client.post("/kl", json={"p": [1], "q": [1]}).status_code == 200
    finally:
        stop_server(server)
