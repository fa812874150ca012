"""Shared fixtures: a real server (uvicorn in a child process) on a free loopback port."""

import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import psycopg
import pytest
import redis
import uvicorn
from hypothesis import settings
from PIL import Image

from service.training.data import CLASSES

# In CI every run tries the same examples, so a failure is reproducible, not a flake.
settings.register_profile("ci", derandomize=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

ROOT = Path(__file__).resolve().parent.parent
# This machine's PostgreSQL and Redis (scale-out, fault and container tests).
POSTGRES = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/14")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    url: str
    process: subprocess.Popen[bytes]
    log: Path


def start_server(
    tmp: Path,
    env: dict[str, str] | None = None,
    timeout: float = 60,
    argv: list[str] | None = None,
) -> Server:
    """Run ``argv`` (by default ``python -m service serve``) with ``--port`` set to a free
    port, and wait until /healthz answers."""
    port = free_port()
    log = tmp / f"server-{port}.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [*(argv or [sys.executable, "-m", "service", "serve"]), "--port", str(port)],
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


@contextmanager
def served_in_thread(app: Any, loop: str = "auto") -> Iterator[str]:
    """``app`` served by uvicorn with the service's own protocol, in a thread of this
    process, on a free loopback port; yields its base URL."""
    config = uvicorn.Config(
        app,
        port=free_port(),
        loop=loop,
        http="service.http.protocol:BoundedHttpToolsProtocol",
        log_level="warning",
        lifespan="off",
    )
    running = uvicorn.Server(config)
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not running.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert running.started
    try:
        yield f"http://127.0.0.1:{config.port}"
    finally:
        running.should_exit = True
        thread.join(10)


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
            "DIVERGENCE_DATA_DIR": str(tmp_path_factory.mktemp("server-data")),
            "DIVERGENCE_MAX_BODY_BYTES": str(4 * 1024 * 1024),
            "DIVERGENCE_MAX_VECTOR_LENGTH": "100000",
            "DIVERGENCE_MAX_BATCH_ROWS": "50000",
            "DIVERGENCE_MAX_SAMPLE_ROWS": "50000",
        },
    )
    yield running
    stop_server(running)
    assert "Traceback" not in running.log.read_text(), "the server logged a traceback"


@pytest.fixture(scope="session")
def client(server: Server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=60) as http:
        yield http


def make_image_folders(root: Path, train_per_class: int = 30, test_per_class: int = 10) -> Path:
    """train/<class>/*.png and test/<class>/*.png: each class a noisy colour of its own,
    so a few epochs learn it well above chance."""
    rng = np.random.default_rng(0)
    for split, count in (("train", train_per_class), ("test", test_per_class)):
        for label, name in enumerate(CLASSES):
            folder = root / split / name
            folder.mkdir(parents=True)
            colour = np.array([label * 37 % 256, label * 91 % 256, label * 151 % 256])
            for i in range(count):
                pixels = np.clip(colour + rng.normal(0, 20, (32, 32, 3)), 0, 255)
                Image.fromarray(pixels.astype(np.uint8)).save(folder / f"{i:04d}.png")
    return root


@pytest.fixture(scope="session")
def tiny_cifar(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_image_folders(tmp_path_factory.mktemp("tiny-cifar"))


def jobs_env(data_dir: Path, cifar_dir: Path) -> dict[str, str]:
    return {
        "DIVERGENCE_DATA_DIR": str(data_dir),
        "DIVERGENCE_CIFAR10_DIR": str(cifar_dir),
        "DIVERGENCE_WARM_TENSORFLOW": "false",
        "DIVERGENCE_HEARTBEAT_SECONDS": "0.5",
        "DIVERGENCE_STALE_AFTER_SECONDS": "5",
        "DIVERGENCE_CANCEL_GRACE_SECONDS": "5",
        "DIVERGENCE_MAX_EPOCHS": "500",
    }


@pytest.fixture(scope="module")
def database_url() -> Iterator[str]:
    """A PostgreSQL database of its own, dropped afterwards."""
    name = f"divergence_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    base = POSTGRES.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
    yield f"{base}/{name}"
    with psycopg.connect(POSTGRES, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(scope="module")
def queue_url() -> Iterator[str]:
    """A Redis database emptied before and after."""
    client = redis.Redis.from_url(REDIS)
    client.flushdb()
    yield REDIS
    client.flushdb()
    client.close()
