"""Fixtures for the jobs: a server whose embedded worker trains on the tiny image folders
(``tiny_cifar``) with short heartbeats."""

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import Server, jobs_env, start_server, stop_server


@pytest.fixture(scope="module")
def jobs_server(tmp_path_factory: pytest.TempPathFactory, tiny_cifar: Path) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("jobs")
    server = start_server(tmp, env=jobs_env(tmp / "data", tiny_cifar))
    yield server
    stop_server(server)


@pytest.fixture(scope="module")
def jobs_client(jobs_server: Server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=jobs_server.url, timeout=30) as http:
        yield http
