"""Two API processes and two workers share one Redis queue and one PostgreSQL database."""

import signal
import time
from pathlib import Path

import httpx

from tests.conftest import start_server, stop_server
from tests.jobs.helpers import QUICK, finished, submit, wait_for
from tests.scaleout.conftest import start_worker, stop_process


def test_jobs_through_either_api_run_exactly_once_on_shared_redis_and_postgres(
    tmp_path: Path, scaled_env: dict[str, str]
) -> None:
    env = scaled_env
    apis = [start_server(tmp_path, env=env) for _ in range(2)]
    workers = [start_worker(tmp_path, env) for _ in range(2)]
    try:
        clients = [httpx.Client(base_url=api.url, timeout=30) for api in apis]
        for client in clients:
            ready = client.get("/readyz")
            assert ready.status_code == 200 and ready.json()["checks"] == {
                "database": "ok",
                "queue": "ok",
            }
        jobs = [submit(clients[i % 2], **QUICK, losses=["kl"]) for i in range(4)]
        for job in jobs:
            done = wait_for(clients[0], job["id"], finished)
            assert done["status"] == "succeeded", done["error"]
            assert done["attempts"] == 1, "each job ran exactly once"
            seen_by_both = [c.get(f"/jobs/{job['id']}").json() for c in clients]
            assert seen_by_both[0] == seen_by_both[1]
        listed = [c.get("/jobs", params={"limit": 100}).json() for c in clients]
        assert listed[0] == listed[1] and listed[0]["total"] == 4
        executions = sum(log.read_text().count("training in process") for _, log in workers)
        assert executions == 4
        for client in clients:
            client.close()
    finally:
        for process, _ in workers:
            stop_process(process)
        for api in apis:
            stop_server(api)


def test_a_worker_killed_mid_job_is_failed_by_another_worker_within_a_bounded_time(
    tmp_path: Path, scaled_env: dict[str, str]
) -> None:
    env = scaled_env
    api = start_server(tmp_path, env=env)
    first, first_log = start_worker(tmp_path, env)
    second = None
    try:
        with httpx.Client(base_url=api.url, timeout=30) as client:
            job = submit(client, epochs=400, batch_size=32, runs=1, losses=["kl"])
            wait_for(client, job["id"], lambda j: j["progress"] is not None)
            second, _ = start_worker(tmp_path, env)
            first.send_signal(signal.SIGKILL)
            first.wait()
            killed_at = time.monotonic()
            failed = wait_for(client, job["id"], finished, timeout=30)
            assert failed["status"] == "failed" and "no heartbeat" in failed["error"]
            assert time.monotonic() - killed_at < 15  # stale after 5 s, swept every 1.7 s
            assert client.post("/kl", json={"p": [1], "q": [1]}).status_code == 200
            after = submit(client, **QUICK, losses=["ce"])
            assert wait_for(client, after["id"], finished)["status"] == "succeeded"
    finally:
        if second is not None:
            stop_process(second)
        stop_server(api)
    assert "training in process" in first_log.read_text()
