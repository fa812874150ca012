"""What ``drift_tables.py`` measures: the drift requests over HTTP against the HTTP floor
and the in-process baselines, taking turns, with the server's peak memory; and the
service's own stages in process, for the breakdown.

The requests go through the standard library's http.client (``_harness.post_bytes``),
each body encoded beforehand, the answer read inside the timing.
"""

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from _harness import ARROW_STREAM, bare_argv, post_bytes, running, service_argv, timings
from drift_baseline import (
    Reference,
    baseline_from_arrow,
    baseline_from_parquet,
    check_reference,
)
from drift_data import PARQUET
from drift_memory import reset_peak, server_pid, status

ARROW_HTTP = "POST /profiles/{id}/drift, Arrow body"
PARQUET_HTTP = "POST /profiles/{id}/drift, Parquet body"
FLOOR = "HTTP floor (bare app reads the Arrow body)"
ARROW_BASE = "numpy + scipy in process, from the Arrow bytes"
PARQUET_BASE = "numpy + scipy in process, from the Parquet bytes"


def post_json(url: str, body: bytes, content_type: str) -> tuple[float, dict[str, Any]]:
    """Seconds to POST ``body`` and read the whole answer, and the answer's JSON (parsed
    after the timing); raises RuntimeError unless the answer is 201 Created."""
    started = time.perf_counter()
    code, answer = post_bytes(url, body, {"content-type": content_type})
    elapsed = time.perf_counter() - started
    if code != 201:
        raise RuntimeError(f"POST {url} answered {code}: {answer[:500]!r}")
    return elapsed, json.loads(answer)


@dataclass
class Measured:
    """Seconds of every timed round by row name, and the server's memory, in bytes."""

    times: dict[str, list[float]]
    peaks: dict[str, list[int]]  # VmHWM - VmRSS just before, every round
    fresh: dict[str, int]  # VmHWM - VmRSS of a freshly started server, its first request
    answers: dict[str, dict[str, Any]]  # the last round's answers
    profile_seconds: float
    profile_peak: int  # VmHWM - VmRSS of the server just started, for POST /profiles
    profile: dict[str, dict]  # the profile's columns, as POST /profiles answered them
    idle: int  # VmRSS of the server just started


def measure(
    bodies: dict[str, bytes], reference: Reference, repeats: int, workdir: Path
) -> Measured:
    """Profile the reference once, then ``repeats`` timed rounds (after one untimed) of the
    two drift requests, the floor and the two baselines, taking turns; then each drift
    request once more as the first request of a freshly started server, for its peak
    memory over the idle server's. Raises AssertionError where the baseline's reference
    differs from the service's profile."""
    largest = max(map(len, bodies.values()))
    rows = pq.read_metadata(pa.BufferReader(bodies["current parquet"])).num_rows
    env = {
        "DIVERGENCE_DATA_DIR": str(workdir / "data"),
        "DIVERGENCE_MAX_BODY_BYTES": str(largest + (1 << 20)),
        "DIVERGENCE_MAX_TABLE_ROWS": str(max(rows, 1_000_000)),
        "DIVERGENCE_WARM_TENSORFLOW": "false",  # these routes never use it
    }
    with (
        running("service", service_argv(), workdir, env) as service,
        running("bare", bare_argv(), workdir, env) as bare,
    ):
        pid = server_pid(service)
        idle = reset_peak(pid)
        profile_seconds, profile = post_json(
            f"{service.url}/profiles?name=reference", bodies["reference arrow"], ARROW_STREAM
        )
        profile_peak = status(pid, "VmHWM") - idle
        check_reference(reference, profile["columns"])
        drift_url = f"{service.url}/profiles/{profile['id']}/drift"
        requests = {
            ARROW_HTTP: (bodies["current arrow"], ARROW_STREAM),
            PARQUET_HTTP: (bodies["current parquet"], PARQUET),
        }

        def floor() -> None:
            code, _ = post_bytes(
                f"{bare.url}/read-body", bodies["current arrow"], {"content-type": ARROW_STREAM}
            )
            assert code == 200, code

        others: dict[str, Callable[[], object]] = {
            FLOOR: floor,
            ARROW_BASE: lambda: baseline_from_arrow(bodies["current arrow"], reference),
            PARQUET_BASE: lambda: baseline_from_parquet(bodies["current parquet"], reference),
        }
        times: dict[str, list[float]] = {name: [] for name in (*requests, *others)}
        peaks: dict[str, list[int]] = {name: [] for name in requests}
        answers: dict[str, dict[str, Any]] = {}
        for round_ in range(repeats + 1):  # the first round warms up, untimed
            # Arrow first, then Parquet first: each in turn meets what the other left.
            for name in sorted(requests, reverse=bool(round_ % 2)):
                body, media = requests[name]
                before = reset_peak(pid)
                elapsed, answers[name] = post_json(drift_url, body, media)
                peaks[name].append(status(pid, "VmHWM") - before)  # the untimed round too
                if round_:
                    times[name].append(elapsed)
            for name, fn in others.items():
                started = time.perf_counter()
                fn()
                if round_:
                    times[name].append(time.perf_counter() - started)
    fresh = {}
    for name, (body, media) in requests.items():  # the profile is kept in data/
        with running("fresh", service_argv(), workdir, env) as service:
            pid = server_pid(service)
            before = reset_peak(pid)
            post_json(f"{service.url}/profiles/{profile['id']}/drift", body, media)
            fresh[name] = status(pid, "VmHWM") - before
    return Measured(
        times, peaks, fresh, answers, profile_seconds, profile_peak, profile["columns"], idle
    )


def service_stages(
    bodies: dict[str, bytes], profile: dict[str, dict], repeats: int
) -> dict[str, list[float]]:
    """Seconds of the service's own steps (its code, unchanged) on the current table, in
    this process: ``repeats`` calls of each after one untimed. No row limit applies."""
    # Imported here, not at the top: the service's modules (FastAPI and the rest) stay out
    # of this process until the in-process baselines have been timed.
    from service.core.config import Settings
    from service.samples.deps import divergence_limits
    from service.samples.drift import drift
    from service.samples.tables import read_arrow_table, read_parquet_table

    limits, rows = divergence_limits(Settings()), 1 << 40
    arrow, parquet = bodies["current arrow"], bodies["current parquet"]
    current = read_arrow_table(arrow, max_rows=rows)
    stages: dict[str, Callable[[], object]] = {
        "  service: read + check the Arrow table": lambda: read_arrow_table(arrow, max_rows=rows),
        "  service: read + check the Parquet table": lambda: read_parquet_table(
            parquet, max_rows=rows
        ),
        "  service: drift() on the table read": lambda: drift(profile, current, {}, 0.5, limits),
    }
    return {name: timings(fn, repeats) for name, fn in stages.items()}
