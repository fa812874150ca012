"""Graceful shutdown on SIGTERM: the API finishes requests in flight; a worker hands its
running job back to the queue, where another worker picks it up."""

import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from tests.conftest import start_server, stop_server
from tests.jobs.helpers import finished, submit, wait_for
from tests.scaleout.conftest import start_worker


def test_the_api_finishes_a_request_in_flight_when_terminated(tmp_path: Path) -> None:
    server = start_server(tmp_path, env={"DIVERGENCE_DATA_DIR": str(tmp_path / "data")})
    headers_sent = threading.Event()

    def body() -> Iterator[bytes]:
        yield b'{"p": [0.25, 0.25, 0.5], '
        headers_sent.set()
        time.sleep(1.0)  # the server is told to stop while the body is still arriving
        yield b'"q": [0.5, 0.25, 0.25]}'

    def terminate() -> None:
        headers_sent.wait(10)
        time.sleep(0.3)
        server.process.send_signal(signal.SIGTERM)

    killer = threading.Thread(target=terminate)
    killer.start()
    response = httpx.post(
        f"{server.url}/kl", content=body(), headers={"content-type": "application/json"}, timeout=30
    )
    killer.join()
    assert response.status_code == 200 and response.json()["finite"] is True
    # uvicorn shuts down, then re-raises SIGTERM so the exit status tells how it ended.
    assert server.process.wait(timeout=30) in (0, -signal.SIGTERM)
    assert "Application shutdown complete" in server.log.read_text()


def test_a_terminated_worker_hands_its_job_back_and_another_worker_finishes_it(
    tmp_path: Path, scaled_env: dict[str, str]
) -> None:
    env = scaled_env
    api = start_server(tmp_path, env=env)
    first, _ = start_worker(tmp_path, env)
    second = None
    try:
        with httpx.Client(base_url=api.url, timeout=30) as client:
            job = submit(client, epochs=8, batch_size=32, runs=1, losses=["kl"])
            wait_for(client, job["id"], lambda j: j["progress"] is not None)
            first.send_signal(signal.SIGTERM)
            assert first.wait(timeout=30) == 0
            back = client.get(f"/jobs/{job['id']}").json()
            assert back["status"] == "queued" and back["attempts"] == 1
            second, _ = start_worker(tmp_path, env)
            done = wait_for(client, job["id"], finished)
            assert done["status"] == "succeeded" and done["attempts"] == 2
    finally:
        if second is not None:
            second.terminate()
            second.wait(timeout=30)
        stop_server(api)
