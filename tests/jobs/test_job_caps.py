"""Per-client job caps hold when one client submits many jobs at the same moment (SQLite,
the default database), and job parameters are bounded with 422s that name the field."""

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import Server, stop_server
from tests.jobs.concurrency import (
    CAP,
    assert_cap_holds,
    rate_in_message,
    server_without_worker,
    waiting_in_message,
)

ALPHA, BETA = {"X-API-Key": "alpha-key"}, {"X-API-Key": "beta-key"}
GAMMA = {"X-API-Key": "gamma-key"}  # submits nothing but invalid jobs


@pytest.fixture(scope="module")
def queue_capped(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = server_without_worker(
        tmp_path_factory.mktemp("queue-capped"),
        api_keys="alpha-key,beta-key,gamma-key",
        max_queued_jobs_per_client=str(CAP),
        job_submissions_per_minute="1000",
    )
    yield server
    stop_server(server)


def test_thirty_concurrent_submits_from_one_client_accept_exactly_the_queue_cap(
    queue_capped: Server,
) -> None:
    assert_cap_holds(queue_capped, ALPHA, waiting_in_message)


def test_another_client_has_its_own_queue_cap_under_concurrency(queue_capped: Server) -> None:
    assert_cap_holds(queue_capped, BETA, waiting_in_message)


def test_thirty_concurrent_submits_from_one_client_accept_exactly_the_rate_cap(
    tmp_path: Path,
) -> None:
    server = server_without_worker(
        tmp_path, job_submissions_per_minute=str(CAP), max_queued_jobs_per_client="1000"
    )
    try:
        assert_cap_holds(server, {}, rate_in_message)
    finally:
        stop_server(server)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("train_limit", 50_001, "less than or equal to 50000"),
        ("train_limit", 10**30, "less than or equal to 50000"),
        ("test_limit", 10_001, "less than or equal to 10000"),
    ],
)
def test_limits_over_the_dataset_size_are_422_naming_the_field(
    queue_capped: Server, field: str, value: int, message: str
) -> None:
    response = httpx.post(
        queue_capped.url + "/jobs",
        json={"experiment": "kl-vs-ce-cifar10", field: value},
        headers=GAMMA,
    )
    assert response.status_code == 422, response.text
    error = response.json()["detail"][0]
    assert error["loc"] == ["body", field] and message in error["msg"]


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_a_validation_split_that_is_not_finite_is_422_saying_so(
    queue_capped: Server, literal: str
) -> None:
    response = httpx.post(
        queue_capped.url + "/jobs",
        content=f'{{"experiment": "kl-vs-ce-cifar10", "validation_split": {literal}}}',
        headers={**GAMMA, "Content-Type": "application/json"},
    )
    assert response.status_code == 422, response.text
    error = response.json()["detail"][0]
    assert error["loc"] == ["body", "validation_split"]
    assert "finite number" in error["msg"], error
