"""Binary batches: ``POST /kl/batch`` with an Arrow IPC stream body and answer, and the Open
Inference Protocol's ``POST /v2/models/kl/infer`` with binary tensors, end to end
over HTTP, against computing the same exact KL in process with numpy on arrays already in
memory; and the server's peak resident memory for the request.

    python benchmarks/batch_binary.py [--rows 100000] [--cols 100] [--repeats 3] [--markdown]

p and q are rows x cols float64 (100,000 x 100: 160 MB of payload), so the service runs
with ``DIVERGENCE_MAX_BODY_BYTES`` raised to fit. Requests are sent with the standard
library's http.client (httpx is far slower than the server at sending such bodies), taking
turns with the same body posted to the bare app of ``benchmarks/bare_app.py``, which only
reads it: the floor that HTTP alone costs on this machine; and the same bytes sent over a
bare loopback TCP connection into one preallocated buffer (``recv_into``, no HTTP, no
server loop): the floor of moving them at all. Peak memory is the server process's
VmHWM (reset before each request through /proc/PID/clear_refs), compared with the payload.
Targets: end to end at most 1.5x the in-process numpy time; peak memory at most 3x the
payload above the idle server's.
"""

import argparse
import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pyarrow as pa

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import (
    ARROW_STREAM,
    arrow_body,
    bare_argv,
    machine_note,
    markdown_option,
    post_bytes,
    running,
    say,
    service_argv,
    table,
    timings,
    v2_body,
    wait_for_tensorflow,
)

from service.divergences import formulas
from service.divergences.catalog import DIVERGENCES
from service.divergences.inputs import Limits
from service.divergences.scoring import score


def status(pid: int, key: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(key)


def raw_loopback(body: bytes, repeats: int) -> list[float]:
    """Seconds to send ``body`` over loopback TCP into one buffer and get a byte back."""
    buffer = memoryview(bytearray(len(body)))
    with socket.create_server(("127.0.0.1", 0)) as server:

        def receive() -> None:
            connection, _ = server.accept()
            with connection:
                for _ in range(repeats):
                    got = 0
                    while got < len(body):
                        got += connection.recv_into(buffer[got : got + (4 << 20)])
                    connection.sendall(b"k")

        receiver = threading.Thread(target=receive)
        receiver.start()
        times = []
        with socket.create_connection(server.getsockname()) as sender:
            for _ in range(repeats):
                started = time.perf_counter()
                sender.sendall(body)
                sender.recv(1)
                times.append(time.perf_counter() - started)
        receiver.join()
    return times


def service_compute(p: np.ndarray, q: np.ndarray, repeats: int) -> list[float]:
    """Seconds of the service's own work on arrays in memory: the checks and the kernel
    (after one untimed call, which imports TensorFlow and compiles)."""
    limits = Limits(max_vector_length=p.shape[1], max_batch_rows=len(p), sum_tolerance=1e-6)
    kl = DIVERGENCES["kl"]
    return timings(lambda: score(kl, p=p, q=q, limits=limits, backend="tensorflow"), repeats)


def kl_values(target: str, answer: bytes, rows: int) -> np.ndarray:
    """The KL column of an answer: Arrow's, or V2's binary KL (the last ``rows`` doubles)."""
    if target == ARROW_TARGET:
        return pa.ipc.open_stream(answer).read_all().column("kl").to_numpy()
    return np.frombuffer(answer[-8 * rows :], dtype="<f8")


ARROW_TARGET = "POST /kl/batch, Arrow in and out"
V2_TARGET = "POST /v2/models/kl/infer, binary tensors"
FLOOR = "HTTP floor (bare app reads the body)"
SCORE = "service checks + TF kernel in process (no HTTP)"
RAW = "loopback TCP floor (recv_into one buffer, no HTTP)"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--cols", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=3)
    markdown_option(parser)
    args = parser.parse_args()
    md = args.markdown
    rng = np.random.default_rng(0)
    p = rng.random((args.rows, args.cols))
    p /= p.sum(axis=1, keepdims=True)
    q = rng.random((args.rows, args.cols))
    q /= q.sum(axis=1, keepdims=True)
    payload_mb = (p.nbytes + q.nbytes) / 2**20
    body = arrow_body(p, q)
    bodies = {
        ARROW_TARGET: ("/kl/batch", body, {"content-type": ARROW_STREAM, "accept": ARROW_STREAM}),
        V2_TARGET: ("/v2/models/kl/infer", *v2_body(p, q)),
        FLOOR: ("/read-body", body, {"content-type": ARROW_STREAM}),
    }
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
            times: dict[str, list[float]] = {name: [] for name in bodies}
            peaks: dict[str, list[float]] = {name: [] for name in bodies}
            for _ in range(args.repeats + 1):  # the first round also sizes the allocator
                for name, (path, data, headers) in bodies.items():
                    url = (bare if name == FLOOR else server).url + path
                    Path(f"/proc/{pid}/clear_refs").write_text("5")  # reset VmHWM
                    started = time.perf_counter()
                    code, answer = post_bytes(url, data, headers)
                    times[name].append(time.perf_counter() - started)
                    peaks[name].append(status(pid, "VmHWM") - idle)
                    assert code == 200, answer[:500]
                    if name != FLOOR:
                        values = kl_values(name, answer, args.rows)
                        assert np.allclose(values, expected, rtol=1e-12), name
            note = machine_note()
    times[RAW] = raw_loopback(body, args.repeats + 1)
    best_np = min(in_process)
    rows = [["numpy in process (arrays in memory)", f"{1000 * best_np:.0f}", "", "1.00", ""]]
    checked = service_compute(p, q, args.repeats)
    rows.append([SCORE, f"{1000 * min(checked):.0f}", "", f"{min(checked) / best_np:.2f}", ""])
    for name, seconds in times.items():
        seconds = seconds[1:]
        peak = "" if name in (FLOOR, RAW) else f"{max(peaks[name][1:]) / payload_mb:.2f}x"
        best, median = min(seconds), statistics.median(seconds)
        rows.append(
            [name, f"{1000 * best:.0f}", f"{1000 * median:.0f}", f"{best / best_np:.2f}", peak]
        )
    say(
        f"{args.rows:,} x {args.cols} float64 p and q ({payload_mb:.0f} MB of payload, "
        f"{len(body) / 2**20:.0f} MB of Arrow body); server idle at {idle:.0f} MiB resident",
        markdown=md,
    )
    headers = ["", "best ms", "median ms", "x numpy", "peak memory / payload"]
    print(table(headers, rows, markdown=md))
    for name in (ARROW_TARGET, V2_TARGET):
        ratio = min(times[name][1:]) / best_np
        memory = max(peaks[name][1:]) / payload_mb
        say(
            f"{name}: {ratio:.2f}x numpy (target <= 1.5x: {'met' if ratio <= 1.5 else 'MISSED'})"
            f", peak memory {memory:.2f}x the payload "
            f"(target <= 3x: {'met' if memory <= 3 else 'MISSED'})",
            markdown=md,
        )
    say(note, markdown=md)


if __name__ == "__main__":
    main()
