"""Microseconds per ``POST /kl`` in the ASGI app itself, without sockets or uvicorn.

Calls the service's app (``service.app.create_app``) and the bare app of
``benchmarks/bare_app.py`` directly in one event loop, with the 10-element body of
``benchmarks/kl_requests.py``: the service's ``POST /kl`` with its JSON access log (the
service's logging config and its access-log writer, both writing to /dev/null; the
writer's thread formats the lines in this process, so their cost is in the figures) and
without it (the access logger at WARNING), against the bare app's constant and
body-parsing endpoints. Each is the best of several rounds of a few thousand calls; it
shows where the service's time per request goes, which wrk's end-to-end figures cannot.

Run: ``.venv/bin/python benchmarks/kl_in_process.py [--calls 5000] [--rounds 5] [--markdown]``.
"""

import argparse
import asyncio
import logging
import logging.config
import os
import tempfile
import time
from typing import Any

import bare_app
from _harness import machine_note, markdown_option, say, table
from kl_requests import kl_body

from service.app import create_app
from service.core.config import Settings
from service.http.access_log import ACCESS_LOG, LOGGER
from service.http.observability import log_config

BODY = kl_body()


def scope(path: str) -> dict[str, Any]:
    headers = [
        (b"host", b"bench"),
        (b"content-type", b"application/json"),
        (b"content-length", str(len(BODY)).encode()),
    ]
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }


async def receive() -> dict[str, Any]:
    return {"type": "http.request", "body": BODY, "more_body": False}


async def microseconds(app: Any, path: str, calls: int, rounds: int) -> float:
    statuses: set[int] = set()

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.add(message["status"])

    for _ in range(200):  # warm-up
        await app(scope(path), receive, send)
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        for _ in range(calls):
            await app(scope(path), receive, send)
        best = min(best, (time.perf_counter() - started) / calls)
    if statuses != {200}:
        raise RuntimeError(f"{path} answered {statuses}")
    return best * 1e6


async def measure(calls: int, rounds: int) -> list[list[str]]:
    with tempfile.TemporaryDirectory(prefix="kl-in-process-") as tmp:
        os.environ["DIVERGENCE_DATA_DIR"] = tmp
        service = create_app(Settings(warm_tensorflow=False))
        rows = []
        with_log = await microseconds(service, "/kl", calls, rounds)
        LOGGER.setLevel(logging.WARNING)
        without_log = await microseconds(service, "/kl", calls, rounds)
        LOGGER.setLevel(logging.NOTSET)
        constant = await microseconds(bare_app.app, "/constant", calls, rounds)
        parse = await microseconds(bare_app.app, "/parse", calls, rounds)
    for name, value in (
        ("service POST /kl, with its access-log line", with_log),
        ("service POST /kl, access log off", without_log),
        ("bare: constant, body unread", constant),
        ("bare: parse body (async def)", parse),
    ):
        rows.append([name, f"{value:.1f}", f"{with_log / value:.2f}"])
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=5)
    markdown_option(parser)
    args = parser.parse_args()
    logging.config.dictConfig(log_config("info"))
    with open(os.devnull, "w") as devnull:
        for handler in logging.getLogger().handlers:
            if isinstance(handler, logging.StreamHandler):
                handler.setStream(devnull)
        ACCESS_LOG.fd = devnull.fileno()
        rows = asyncio.run(measure(args.calls, args.rounds))
        ACCESS_LOG.flush()
    md = args.markdown
    say(f"ASGI app called in process, best of {args.rounds} x {args.calls:,} calls", markdown=md)
    print(table(["target", "us/request", "service-with-log / target"], rows, markdown=md))
    say(machine_note(), markdown=md)


if __name__ == "__main__":
    main()
