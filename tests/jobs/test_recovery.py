"""Jobs survive restarts; a worker killed mid-job leaves no job running forever; data that
cannot be found fails a job fast with the reason."""

import os
import signal
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import jobs_env, start_server, stop_server
from tests.jobs.helpers import QUICK, finished, submit, wait_for


def test_jobs_queued_before_a_restart_are_kept_and_each_runs_once(
    tmp_path: Path, tiny_cifar: Path
) -> None:
    env = jobs_env(tmp_path / "data", tiny_cifar)
    server = start_server(tmp_path, env=env)
    with httpx.Client(base_url=server.url, timeout=30) as client:
        busy = submit(client, epochs=400, batch_size=32, runs=1, losses=["kl"])
        wait_for(client, busy["id"], lambda j: j["progress"] is not None)
        queued = [submit(client, **QUICK, losses=["ce"]) for _ in range(2)]
    stop_server(server)  # SIGTERM: the running job goes back to the queue

    server = start_server(tmp_path, env=env)
    try:
        with httpx.Client(base_url=server.url, timeout=30) as client:
            client.delete(f"/jobs/{busy['id']}")
            for job in queued:
                done = wait_for(client, job["id"], finished)
                assert done["status"] == "succeeded" and done["attempts"] == 1
            again = wait_for(client, busy["id"], finished)
            assert again["status"] == "cancelled"
    finally:
        stop_server(server)


def test_a_worker_killed_mid_job_is_detected_and_its_job_failed_with_a_reason(
    tmp_path: Path, tiny_cifar: Path
) -> None:
    env = jobs_env(tmp_path / "data", tiny_cifar)
    server = start_server(tmp_path, env=env)
    with httpx.Client(base_url=server.url, timeout=30) as client:
        job = submit(client, epochs=400, batch_size=32, runs=1, losses=["kl"])
        wait_for(client, job["id"], lambda j: j["progress"] is not None)
    server.process.send_signal(signal.SIGKILL)
    server.process.wait()

    server = start_server(tmp_path, env=env)
    try:
        with httpx.Client(base_url=server.url, timeout=30) as client:
            started = time.monotonic()
            failed = wait_for(client, job["id"], finished, timeout=30)
            assert failed["status"] == "failed"
            assert "no heartbeat" in failed["error"]
            assert time.monotonic() - started < 15  # stale after 5 s, swept every 1.7 s
            assert failed["results"]["runs"][0]["history"]["loss"], "partial history is kept"
            assert client.post("/kl", json={"p": [1], "q": [1]}).status_code == 200
    finally:
        stop_server(server)


@pytest.mark.parametrize("layout", ["missing", "empty", "corrupt"])
def test_data_that_cannot_be_read_fails_the_job_fast_with_the_reason(
    tmp_path: Path, tiny_cifar: Path, layout: str
) -> None:
    cifar = tmp_path / "cifar"
    if layout == "empty":
        cifar.mkdir()
    elif layout == "corrupt":
        (cifar / "cifar-10-batches-py").mkdir(parents=True)
        (cifar / "cifar-10-batches-py" / "data_batch_1").write_bytes(b"not a pickle")
    server = start_server(tmp_path, env=jobs_env(tmp_path / "data", cifar))
    try:
        with httpx.Client(base_url=server.url, timeout=30) as client:
            job = submit(client, **QUICK)
            failed = wait_for(client, job["id"], finished, timeout=60)
        assert failed["status"] == "failed"
        expected = {
            "missing": "does not exist",
            "empty": "no CIFAR-10",
            "corrupt": "cannot read CIFAR-10 batch",
        }[layout]
        assert expected in failed["error"], failed["error"]
    finally:
        stop_server(server)


def test_the_training_runs_in_a_child_process_not_the_api(tmp_path: Path, tiny_cifar: Path) -> None:
    server = start_server(tmp_path, env=jobs_env(tmp_path / "data", tiny_cifar))
    try:
        with httpx.Client(base_url=server.url, timeout=30) as client:
            job = submit(client, epochs=400, batch_size=32, runs=1, losses=["kl"])
            wait_for(client, job["id"], lambda j: j["progress"] is not None)
            threads = Path(f"/proc/{server.process.pid}/task").iterdir()
            child_ids = [c for t in threads for c in (t / "children").read_text().split()]
            assert child_ids, "the training has a process of its own"
            commands = [Path(f"/proc/{c}/cmdline").read_bytes() for c in child_ids]
            assert any(b"service.training.child" in c for c in commands)
            api_maps = Path(f"/proc/{server.process.pid}/maps").read_text()
            assert "_pywrap_tensorflow" not in api_maps, "the API process never loads TF"
            client.delete(f"/jobs/{job['id']}")
            wait_for(client, job["id"], finished)
            for child in child_ids:
                assert (
                    not os.path.exists(f"/proc/{child}")
                    or b"zombie" in Path(f"/proc/{child}/status").read_bytes().lower()
                )
    finally:
        stop_server(server)
