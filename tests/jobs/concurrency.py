"""Many job submissions from one client at the same moment, against a real server."""

import re
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from tests.conftest import Server, start_server

JOB = {"experiment": "kl-vs-ce-cifar10", "epochs": 1}
CAP = 5


def server_without_worker(tmp: Path, **settings: str) -> Server:
    """A server whose submitted jobs stay queued (no worker), with ``settings`` applied."""
    env = {
        "DIVERGENCE_DATA_DIR": str(tmp / "data"),
        "DIVERGENCE_WARM_TENSORFLOW": "false",
        "DIVERGENCE_EMBEDDED_WORKER": "false",
        **{f"DIVERGENCE_{name.upper()}": value for name, value in settings.items()},
    }
    return start_server(tmp, env=env)


def submit_at_once(url: str, count: int, headers: dict[str, str]) -> list[httpx.Response]:
    """``count`` POST /jobs sent together: each on its own connection, opened beforehand,
    released by one barrier, so the server handles them concurrently."""
    barrier = threading.Barrier(count)

    def one(_: int) -> httpx.Response:
        with httpx.Client(base_url=url, headers=headers, timeout=60) as http:
            http.get("/healthz")  # the connection is open before the race starts
            barrier.wait()
            return http.post("/jobs", json=JOB)

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(one, range(count)))


def waiting_in_message(response: httpx.Response) -> int:
    """N of a 429's "N of your jobs are waiting in the queue"."""
    found = re.match(r"(\d+) of your jobs are waiting", response.json()["detail"])
    assert found, response.text
    return int(found[1])


def rate_in_message(response: httpx.Response) -> int:
    """N of a 429's "at most N jobs a minute per client"."""
    found = re.match(r"at most (\d+) jobs a minute", response.json()["detail"])
    assert found, response.text
    return int(found[1])


def queued_jobs(server: Server, client: dict[str, str]) -> int:
    """How many jobs (of every client) are queued."""
    listed = httpx.get(server.url + "/jobs", params={"status": "queued"}, headers=client)
    assert listed.status_code == 200, listed.text
    return int(listed.json()["total"])


def assert_cap_holds(
    server: Server, client: dict[str, str], number_in_message: Callable[[httpx.Response], int]
) -> None:
    """30 submits at once from one client: exactly ``CAP`` queued, the other 25 refused
    with a 429 whose message reports ``CAP`` (never more) as ``number_in_message`` reads it."""
    before = queued_jobs(server, client)
    answers = submit_at_once(server.url, 30, client)
    codes = [answer.status_code for answer in answers]
    assert codes.count(202) == CAP and codes.count(429) == 30 - CAP, codes
    reported = [number_in_message(a) for a in answers if a.status_code == 429]
    assert set(reported) == {CAP}, reported
    assert queued_jobs(server, client) - before == CAP
