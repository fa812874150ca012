"""Per-client job caps hold under concurrent submits when the jobs are in PostgreSQL.

The database lives as long as the module: each test submits as a client of its own."""

from pathlib import Path

from tests.conftest import stop_server
from tests.jobs.concurrency import (
    CAP,
    assert_cap_holds,
    rate_in_message,
    server_without_worker,
    waiting_in_message,
)

KEYS = "alpha-key,beta-key"


def test_thirty_concurrent_submits_accept_exactly_the_queue_cap_on_postgres(
    tmp_path: Path, database_url: str
) -> None:
    server = server_without_worker(
        tmp_path,
        database_url=database_url,
        api_keys=KEYS,
        max_queued_jobs_per_client=str(CAP),
        job_submissions_per_minute="1000",
    )
    try:
        assert_cap_holds(server, {"X-API-Key": "alpha-key"}, waiting_in_message)
    finally:
        stop_server(server)


def test_thirty_concurrent_submits_accept_exactly_the_rate_cap_on_postgres(
    tmp_path: Path, database_url: str
) -> None:
    server = server_without_worker(
        tmp_path,
        database_url=database_url,
        api_keys=KEYS,
        job_submissions_per_minute=str(CAP),
        max_queued_jobs_per_client="1000",
    )
    try:
        assert_cap_holds(server, {"X-API-Key": "beta-key"}, rate_in_message)
    finally:
        stop_server(server)
