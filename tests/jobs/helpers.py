"""Waiting on jobs through the API."""

import time
from collections.abc import Callable
from typing import Any

import httpx

QUICK = {"epochs": 4, "batch_size": 32, "runs": 1}


def submit(client: httpx.Client, **params: Any) -> dict[str, Any]:
    response = client.post("/jobs", json={"experiment": "kl-vs-ce-cifar10", **params})
    assert response.status_code == 202, response.text
    job: dict[str, Any] = response.json()
    return job


def wait_for(
    client: httpx.Client, job_id: str, done: Callable[[dict[str, Any]], bool], timeout: float = 120
) -> dict[str, Any]:
    """Poll GET /jobs/{id} until ``done(job)``; fail with the last state on time-out."""
    deadline = time.monotonic() + timeout
    job: dict[str, Any] = {}
    while time.monotonic() < deadline:
        job = client.get(f"/jobs/{job_id}").json()
        if done(job):
            return job
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} did not get there in {timeout} s: {job}")


def finished(job: dict[str, Any]) -> bool:
    return job["status"] in ("succeeded", "failed", "cancelled")
