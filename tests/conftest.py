"""Shared fixtures: a real server (uvicorn in a child process) on a free loopback port."""

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from hypothesis import settings

# In CI every run tries the same examples, so a failure is reproducible, not a flake.
settings.register_profile("ci", derandomize=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    url: str
    process: subprocess.Popen[bytes]
    log: Path


def start_server(tmp: Path, env: dict[str, str] | None = None, timeout: float = 60) -> Server:
    """Run ``python -m service serve`` on a free port and wait until /healthz answers."""
    port = free_port()
    log = tmp / f"server-{port}.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "service", "serve", "--port", str(port)],
            cwd=ROOT,
            env={**os.environ, **(env or {})},
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited: {log.read_text()}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return Server(url, process, log)
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"server did not start: {log.read_text()}")


def stop_server(server: Server) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.process.kill()


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One service for the whole session, with a small body limit to test 413 cheaply."""
    running = start_server(
        tmp_path_factory.mktemp("server"),
        env={
            "DIVERGENCE_MAX_BODY_BYTES": str(4 * 1024 * 1024),
            "DIVERGENCE_MAX_VECTOR_LENGTH": "100000",
            "DIVERGENCE_MAX_BATCH_ROWS": "50000",
        },
    )
    yield running
    stop_server(running)
    assert "Traceback" not in running.log.read_text(), "the server logged a traceback"


@pytest.fixture(scope="session")
def client(server: Server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=60) as http:
        yield http
