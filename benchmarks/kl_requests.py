"""Requests per second of ``POST /kl`` (10-element vectors) against a bare FastAPI endpoint.

Both servers run under uvicorn with the same settings (uvloop, httptools, one worker, log
level info, so one access-log line per request for both): the service as
``python -m service serve --port P``, the bare app (``benchmarks/bare_app.py``) as
``python benchmarks/bare_app.py --port P``, each on a free loopback port. The bare app
has three endpoints that answer a constant: one that never reads the body, one that
parses it into a pydantic model of two ``list[float]`` (``async def``), and the same as a
plain ``def`` run in FastAPI's thread pool, as the service's routes are. Together they show
where the service's cost per request goes. The service writes its access lines in
batches (``service/http/access_log.py``), the bare app through uvicorn's access logger, a
record per line; so a second bare app runs at log level ``warning``, without any access
log: the constant endpoint of a server that writes no log at all.

Load comes from ``wrk`` (one thread, a small Lua script for the POST body) when it is on
the PATH, else from a concurrent httpx/asyncio client in a separate process (which is
far slower than the servers, so its figures and ratios are the client's, not theirs: the
script says so when it falls back). The targets take turns, in a
rotated order, for a few rounds; the table has each round's req/s, the median, the
microseconds per request it implies, and the ratio service/target (the median over rounds
of each round's ratio, so that slow drifts of a shared machine cancel; target: >= 0.9).

Run: ``.venv/bin/python benchmarks/kl_requests.py [--rounds 3] [--duration 5] [--markdown]``
(about a minute and a half on two cores; ``--markdown`` prints the table in Markdown).
"""

import argparse
import asyncio
import json
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np
from _harness import (
    PYTHON,
    bare_argv,
    machine_note,
    markdown_option,
    running,
    say,
    service_argv,
    service_env,
    table,
    wait_for_tensorflow,
)

SERVICE = "service POST /kl"
CONSTANT = "bare: constant, body unread"
QUIET = "bare: constant, no access log"
PARSE = "bare: parse body (async def)"
PARSE_SYNC = "bare: parse body (def, thread pool)"

LUA = """wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = [[{body}]]
"""


def kl_body(n: int = 10, seed: int = 0) -> bytes:
    rng = np.random.default_rng(seed)
    p, q = rng.random(n), rng.random(n)
    return json.dumps({"p": (p / p.sum()).tolist(), "q": (q / q.sum()).tolist()}).encode()


def wrk(url: str, script: Path, seconds: float, connections: int, threads: int = 1) -> float:
    """Requests per second of ``wrk`` against ``url``; raises on any error it reports."""
    out = subprocess.run(
        ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds:g}s", "-s", str(script), url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for error in ("Non-2xx or 3xx responses", "Socket errors"):
        if error in out:
            raise RuntimeError(f"wrk against {url} reported errors:\n{out}")
    found = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if not found:
        raise RuntimeError(f"no Requests/sec in wrk's output:\n{out}")
    return float(found[1])


async def _load(url: str, body: bytes, seconds: float, connections: int) -> float:
    headers = {"content-type": "application/json"}
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    done = 0
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:
        deadline = time.perf_counter() + seconds

        async def one() -> None:
            nonlocal done
            while time.perf_counter() < deadline:
                response = await client.post(url, content=body, headers=headers)
                response.raise_for_status()
                done += 1

        start = time.perf_counter()
        await asyncio.gather(*(one() for _ in range(connections)))
        return done / (time.perf_counter() - start)


def httpx_load(url: str, body_file: Path, seconds: float, connections: int) -> float:
    """The fallback load generator, in a process of its own like wrk."""
    out = subprocess.run(
        [PYTHON, __file__, "--load", url, str(body_file), f"{seconds:g}", str(connections)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return float(out.split()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per measurement")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--client", choices=["auto", "wrk", "httpx"], default="auto")
    parser.add_argument("--load", nargs=4, help=argparse.SUPPRESS)
    markdown_option(parser)
    args = parser.parse_args()
    if args.load:
        url, body_file, seconds, connections = args.load
        body = Path(body_file).read_bytes()
        print(asyncio.run(_load(url, body, float(seconds), int(connections))))
        return

    client = args.client
    if client == "auto":
        client = "wrk" if shutil.which("wrk") else "httpx"
    body = kl_body()
    with tempfile.TemporaryDirectory(prefix="kl-requests-") as tmp:
        workdir = Path(tmp)
        script = workdir / "post.lua"
        script.write_text(LUA.format(body=body.decode()))
        body_file = workdir / "body.json"
        body_file.write_bytes(body)

        def measure(url: str, seconds: float) -> float:
            if client == "wrk":
                return wrk(url, script, seconds, args.connections)
            return httpx_load(url, body_file, seconds, args.connections)

        with (
            running("service", service_argv(), workdir, service_env(workdir)) as service,
            running("bare", bare_argv(), workdir) as bare,
            running("bare-quiet", bare_argv("warning"), workdir) as quiet,
        ):
            wait_for_tensorflow(service.url)
            targets = {
                SERVICE: f"{service.url}/kl",
                CONSTANT: f"{bare.url}/constant",
                QUIET: f"{quiet.url}/constant",
                PARSE: f"{bare.url}/parse",
                PARSE_SYNC: f"{bare.url}/parse-sync",
            }
            for url in targets.values():
                response = httpx.post(
                    url, content=body, headers={"content-type": "application/json"}
                )
                response.raise_for_status()
                measure(url, 1)  # warm-up: connections, caches, the thread pool
            results: dict[str, list[float]] = {name: [] for name in targets}
            names = list(targets)
            for round_ in range(args.rounds):
                shift = round_ % len(names)
                for name in names[shift:] + names[:shift]:
                    results[name].append(measure(targets[name], args.duration))
            note = machine_note()

    service_rps = results[SERVICE]
    rows = []
    ratios = {}
    for name, values in results.items():
        # Each round's ratio is taken within the round, so slow drifts of a shared machine
        # cancel out; the median of them is reported.
        ratios[name] = statistics.median(s / v for s, v in zip(service_rps, values, strict=True))
        median = statistics.median(values)
        rows.append(
            [
                name,
                *(f"{v:,.0f}" for v in values),
                f"{median:,.0f}",
                f"{1e6 / median:,.0f}",
                f"{ratios[name]:.2f}",
            ]
        )
    headers = [
        "target",
        *(f"round {i + 1}" for i in range(args.rounds)),
        "median req/s",
        "us/req",
        "service/target",
    ]
    md = args.markdown
    say(
        f"POST with 10-element p and q; load: {client}, {args.connections} connections, "
        f"{args.duration:g} s per measurement; uvicorn uvloop+httptools, 1 worker, log info; "
        f"{note}",
        markdown=md,
    )
    print(table(headers, rows, markdown=md))
    if client == "httpx":
        say(
            "WARNING: the httpx client saturates (about 600 req/s on two cores) well before "
            "either server: these ratios measure the client; install wrk for real figures",
            markdown=md,
        )
    for name in (CONSTANT, QUIET, PARSE):
        verdict = "met" if ratios[name] >= 0.9 else "MISSED"
        say(f"service / {name}: {ratios[name]:.2f} (target >= 0.9: {verdict})", markdown=md)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
