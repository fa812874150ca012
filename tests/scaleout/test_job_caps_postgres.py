"""Per-client job caps hold under concurrent submits when the jobs are in PostgreSQL.

The database lives as long as the module: each test submits as a client of its own."""

from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tests.conftest import stop_server
from tests.jobs.concurrency import (
    CAP,
    assert_cap_holds,
    rate_in_message,
    server_without_worker,
    waiting_in_message,
)

KEYS = "alpha-key,beta-key"


@pytest.mark.parametrize(
    ("capped", "other", "key", "in_message"),
    [
        (
            "max_queued_jobs_per_client",
            "job_submissions_per_minute",
            "alpha-key",
            waiting_in_message,
        ),
        ("job_submissions_per_minute", "max_queued_jobs_per_client", "beta-key", rate_in_message),
    ],
    ids=["queue cap", "rate cap"],
)
def test_thirty_concurrent_submits_accept_exactly_the_cap_on_postgres(
    tmp_path: Path,
    database_url: str,
    capped: str,
    other: str,
    key: str,
    in_message: Callable[[httpx.Response], int],
) -> None:
    settings = {capped: str(CAP), other: "1000"}
    server = server_without_worker(tmp_path, database_url=database_url, api_keys=KEYS, **settings)
    try:
        assert_cap_holds(server, {"X-API-Key": key}, in_message)
    finally:
        stop_server(server)
