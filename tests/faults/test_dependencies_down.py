"""Faults: Redis or PostgreSQL going away and coming back, and a read-only data
directory. Divergences keep being served, job endpoints say 503 and why, /readyz names
the dependency that is down, and everything works again without a restart."""

import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import psycopg
import pytest

from tests.conftest import POSTGRES, jobs_env, start_server, stop_server
from tests.faults.conftest import RedisServer, TcpProxy
from tests.jobs.helpers import QUICK, finished, submit, wait_for

PAIR = {"p": [0.5, 0.5], "q": [0.25, 0.75]}


def eventually(check: Callable[[], bool], timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise AssertionError(f"not within {timeout} s")


@pytest.fixture
def database(postgres_proxy: TcpProxy) -> Iterator[str]:
    """A fresh PostgreSQL database, reached through the proxy."""
    name = f"divergence_fault_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    yield f"postgresql+psycopg://postgres@127.0.0.1:{postgres_proxy.port}/{name}"
    with psycopg.connect(POSTGRES, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def test_redis_stopped_and_back(
    tmp_path: Path, tiny_cifar: Path, redis_server: RedisServer
) -> None:
    env = {**jobs_env(tmp_path / "data", tiny_cifar), "DIVERGENCE_QUEUE_URL": redis_server.url}
    server = start_server(tmp_path, env=env)
    try:
        with httpx.Client(base_url=server.url, timeout=30) as client:
            assert client.get("/readyz").status_code == 200
            redis_server.stop()
            assert client.post("/kl", json=PAIR).status_code == 200
            ready = client.get("/readyz")
            assert ready.status_code == 503
            assert ready.json()["checks"]["queue"].startswith("unreachable")
            assert ready.json()["checks"]["database"] == "ok"
            refused = client.post("/jobs", json={"experiment": "kl-vs-ce-cifar10", **QUICK})
            assert refused.status_code == 503 and "queue" in refused.json()["detail"]

            redis_server.start()
            eventually(lambda: client.get("/readyz").status_code == 200)
            job = submit(client, **QUICK, losses=["kl"])
            assert wait_for(client, job["id"], finished)["status"] == "succeeded"
    finally:
        stop_server(server)


def test_postgres_stopped_and_back(
    tmp_path: Path, tiny_cifar: Path, database: str, postgres_proxy: TcpProxy
) -> None:
    env = {**jobs_env(tmp_path / "data", tiny_cifar), "DIVERGENCE_DATABASE_URL": database}
    server = start_server(tmp_path, env=env)
    try:
        with httpx.Client(base_url=server.url, timeout=30) as client:
            assert client.get("/readyz").status_code == 200
            postgres_proxy.stop()
            assert client.post("/kl", json=PAIR).status_code == 200
            ready = client.get("/readyz")
            assert ready.status_code == 503
            assert ready.json()["checks"]["database"].startswith("unreachable")
            listed = client.get("/jobs")
            assert listed.status_code == 503 and "database" in listed.json()["detail"]
            assert listed.headers["retry-after"]
            profiles = client.get("/profiles")
            assert profiles.status_code == 503 and "database" in profiles.json()["detail"]

            postgres_proxy.start()
            eventually(lambda: client.get("/readyz").status_code == 200)
            job = submit(client, **QUICK, losses=["ce"])
            assert wait_for(client, job["id"], finished)["status"] == "succeeded"
    finally:
        stop_server(server)


def test_the_service_starts_while_postgres_is_down_and_connects_when_it_is_back(
    tmp_path: Path, tiny_cifar: Path, database: str, postgres_proxy: TcpProxy
) -> None:
    postgres_proxy.stop()
    env = {**jobs_env(tmp_path / "data", tiny_cifar), "DIVERGENCE_DATABASE_URL": database}
    server = start_server(tmp_path, env=env)
    try:
        with httpx.Client(base_url=server.url, timeout=30) as client:
            assert client.post("/kl", json=PAIR).status_code == 200
            ready = client.get("/readyz")
            assert ready.status_code == 503 and "unavailable" in ready.json()["checks"]["jobs"]
            assert client.get("/jobs").status_code == 503
            profiles = client.post("/profiles", json={"columns": {"x": [1.5, 2.5]}})
            assert profiles.status_code == 503 and "database" in profiles.json()["detail"]
            postgres_proxy.start()
            eventually(lambda: client.get("/jobs").status_code == 200)
            assert client.get("/readyz").status_code == 200
            assert client.post("/profiles", json={"columns": {"x": [1.5, 2.5]}}).status_code == 201
    finally:
        stop_server(server)


def test_a_read_only_data_directory_is_reported_without_a_crash_loop(tmp_path: Path) -> None:
    read_only = tmp_path / "read-only"
    read_only.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", str(read_only)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a read-only file system here: {mounted.stderr!r}")
    try:
        server = start_server(
            tmp_path,
            env={
                "DIVERGENCE_DATA_DIR": str(read_only / "data"),
                "DIVERGENCE_WARM_TENSORFLOW": "false",
            },
        )
        try:
            with httpx.Client(base_url=server.url, timeout=30) as client:
                assert client.post("/kl", json=PAIR).status_code == 200
                ready = client.get("/readyz")
                assert ready.status_code == 503
                assert "Read-only file system" in ready.json()["checks"]["jobs"]
                refused = client.get("/jobs")
                assert refused.status_code == 503
                assert "Read-only file system" in refused.json()["detail"]
                time.sleep(3)
                assert server.process.poll() is None, "the service keeps running"
                assert client.get("/healthz").status_code == 200
        finally:
            stop_server(server)
    finally:
        subprocess.run(["umount", str(read_only)], check=True)
