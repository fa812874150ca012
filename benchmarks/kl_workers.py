"""Requests per second of ``POST /kl`` (10-element vectors) with 1 and with 2 uvicorn workers.

The service runs as ``python -m service serve --no-worker --workers N --port P`` (no
embedded job worker in either case, so the two differ only in the number of API
processes); load comes from ``wrk`` (2 threads, 32 connections, the POST body of
``benchmarks/kl_requests.py``). The two take turns for a few rounds; the table has each
round's req/s and the median, and the scaling 2 workers / 1 worker (the median of each
round's ratio). On a machine with two cores, wrk itself needs part of one, so the
scaling stays below 2.

Run: ``.venv/bin/python benchmarks/kl_workers.py [--rounds 3] [--duration 5] [--markdown]``
(needs wrk).
"""

import argparse
import shutil
import statistics
import tempfile
from pathlib import Path

from _harness import (
    machine_note,
    markdown_option,
    running,
    say,
    service_argv,
    service_env,
    table,
)
from kl_requests import LUA, kl_body, wrk

WORKERS = (1, 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per measurement")
    parser.add_argument("--connections", type=int, default=32)
    markdown_option(parser)
    args = parser.parse_args()
    md = args.markdown
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed (Debian: apt-get install wrk)")
    with tempfile.TemporaryDirectory(prefix="kl-workers-") as tmp:
        workdir = Path(tmp)
        script = workdir / "post.lua"
        script.write_text(LUA.format(body=kl_body().decode()))
        results: dict[int, list[float]] = {n: [] for n in WORKERS}
        for round_ in range(args.rounds):
            order = WORKERS if round_ % 2 == 0 else WORKERS[::-1]
            for n in order:
                argv = [*service_argv(), "--no-worker", "--workers", str(n)]
                with running(f"service-{n}", argv, workdir, service_env(workdir)) as service:
                    url = f"{service.url}/kl"
                    wrk(url, script, 1, args.connections, threads=2)  # warm every worker
                    results[n].append(wrk(url, script, args.duration, args.connections, threads=2))
        note = machine_note()
    rows = [
        [
            f"{n} worker{'s' if n > 1 else ''}",
            *(f"{v:,.0f}" for v in results[n]),
            f"{statistics.median(results[n]):,.0f}",
        ]
        for n in WORKERS
    ]
    scaling = statistics.median(b / a for a, b in zip(results[1], results[2], strict=True))
    say(
        f"POST /kl with 10-element p and q; wrk, 2 threads, {args.connections} connections, "
        f"{args.duration:g} s per measurement; {note}",
        markdown=md,
    )
    headers = ["", *(f"round {i + 1}" for i in range(args.rounds)), "median req/s"]
    print(table(headers, rows, markdown=md))
    say(f"2 workers / 1 worker: {scaling:.2f}x", markdown=md)


if __name__ == "__main__":
    main()
