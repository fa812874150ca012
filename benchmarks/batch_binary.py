"""Binary batches: ``POST /kl/batch`` with an Arrow IPC stream body and answer, end to end
over HTTP, against computing the same exact KL in process with numpy on arrays already in
memory; and the server's peak resident memory for the request.

    python benchmarks/batch_binary.py [--rows 100000] [--cols 100] [--repeats 3]

p and q are rows x cols float64 (100,000 x 100: 160 MB of payload), so the service runs
with ``DIVERGENCE_MAX_BODY_BYTES`` raised to fit. Requests are sent with the standard
library's http.client (httpx is far slower than the server at sending such bodies), taking
turns with the same body posted to the bare app of ``benchmarks/bare_app.py``, which only
reads it: the floor that HTTP alone costs on this machine. Peak memory is the server process's
VmHWM (reset before each request through /proc/PID/clear_refs), compared with the payload.
Targets: end to end at most 1.5x the in-process numpy time; peak memory at most 3x the
payload above the idle server's.
"""

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import (
    bare_argv,
    machine_note,
    post_bytes,
    running,
    service_argv,
    table,
    wait_for_tensorflow,
)

from service.divergences import formulas

ARROW = "application/vnd.apache.arrow.stream"


def status(pid: int, key: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(key)


def arrow_body(p: np.ndarray, q: np.ndarray) -> bytes:
    def rows(m: np.ndarray) -> pa.Array:
        return pa.FixedSizeListArray.from_arrays(pa.array(m.ravel()), m.shape[1])

    data = pa.table({"p": rows(p), "q": rows(q)})
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, data.schema) as writer:
        writer.write_table(data)
    return sink.getvalue().to_pybytes()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--cols", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    p = rng.random((args.rows, args.cols))
    p /= p.sum(axis=1, keepdims=True)
    q = rng.random((args.rows, args.cols))
    q /= q.sum(axis=1, keepdims=True)
    payload_mb = (p.nbytes + q.nbytes) / 2**20
    body = arrow_body(p, q)
    in_process = []
    for _ in range(args.repeats):
        started = time.perf_counter()
        expected = formulas.kl(p, q)
        in_process.append(time.perf_counter() - started)
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            "DIVERGENCE_DATA_DIR": str(Path(tmp) / "data"),
            "DIVERGENCE_MAX_BODY_BYTES": str(len(body) + 2**20),
            "DIVERGENCE_MAX_BATCH_ROWS": str(args.rows),
        }
        with (
            running("service", service_argv(), Path(tmp), env) as server,
            running("bare", bare_argv(), Path(tmp), env) as bare,
        ):
            wait_for_tensorflow(server.url)
            pid = server.process.pid
            idle = status(pid, "VmRSS")
            over_http, floor, peaks = [], [], []
            headers = {"content-type": ARROW, "accept": ARROW}
            for _ in range(args.repeats + 1):
                Path(f"/proc/{pid}/clear_refs").write_text("5")  # reset VmHWM
                started = time.perf_counter()
                code, answer = post_bytes(server.url + "/kl/batch", body, headers)
                over_http.append(time.perf_counter() - started)
                peaks.append(status(pid, "VmHWM"))
                assert code == 200, answer[:500]
                started = time.perf_counter()
                code, _ = post_bytes(bare.url + "/read-body", body, headers)
                floor.append(time.perf_counter() - started)
                assert code == 200
            values = pa.ipc.open_stream(answer).read_all().column("kl").to_numpy()
            assert np.allclose(values, expected, rtol=1e-12)
            note = machine_note()
    # The first round is untimed: it also sizes the allocator.
    over_http, floor = over_http[1:], floor[1:]
    peak = max(peaks[1:]) - idle
    best_np, best_http = min(in_process), min(over_http)
    print(
        f"POST /kl/batch, Arrow body and answer, {args.rows:,} x {args.cols} float64 "
        f"({payload_mb:.0f} MB of payload, {len(body) / 2**20:.0f} MB of body)"
    )
    print(
        table(
            ["", "best ms", "median ms", "x numpy"],
            [
                [
                    "numpy in process (arrays in memory)",
                    f"{1000 * best_np:.0f}",
                    f"{1000 * statistics.median(in_process):.0f}",
                    "1.00",
                ],
                [
                    "HTTP end to end (Arrow in, Arrow out)",
                    f"{1000 * best_http:.0f}",
                    f"{1000 * statistics.median(over_http):.0f}",
                    f"{best_http / best_np:.2f}",
                ],
                [
                    "HTTP floor (bare app reads the body)",
                    f"{1000 * min(floor):.0f}",
                    f"{1000 * statistics.median(floor):.0f}",
                    f"{min(floor) / best_np:.2f}",
                ],
            ],
        )
    )
    verdict = "met" if best_http / best_np <= 1.5 else "MISSED"
    print(f"end to end / numpy in process: {best_http / best_np:.2f}x (target <= 1.5x: {verdict})")
    print(
        f"server resident memory: idle {idle:.0f} MiB, peak during a request +{peak:.0f} MiB"
        f" = {peak / payload_mb:.2f}x the payload (target <= 3x)"
    )
    print(note)


if __name__ == "__main__":
    main()
