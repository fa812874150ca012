"""Fixtures against the real Redis and PostgreSQL of this machine: a fresh database and a
fresh Redis database per module, and helpers to run API and worker processes on them."""

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from tests.conftest import ROOT, jobs_env


def start_worker(tmp: Path, env: dict[str, str]) -> tuple[subprocess.Popen[bytes], Path]:
    """``python -m service worker`` with ``env``; waits until it logs that it started."""
    log = tmp / f"worker-{uuid.uuid4().hex[:8]}.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "service", "worker"],
            cwd=ROOT,
            env={**os.environ, **env},
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if "worker" in log.read_text() and "started" in log.read_text():
            return process, log
        if process.poll() is not None:
            raise RuntimeError(f"worker exited: {log.read_text()}")
        time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"worker did not start: {log.read_text()}")


@pytest.fixture
def scaled_env(
    tmp_path: Path, tiny_cifar: Path, database_url: str, queue_url: str
) -> dict[str, str]:
    """Settings of a scaled-out process: jobs in PostgreSQL, queue on Redis, no embedded
    worker (workers are processes of their own)."""
    return {
        **jobs_env(tmp_path / "data", tiny_cifar),
        "DIVERGENCE_DATABASE_URL": database_url,
        "DIVERGENCE_QUEUE_URL": queue_url,
        "DIVERGENCE_EMBEDDED_WORKER": "false",
    }


def stop_process(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
