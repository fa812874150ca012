"""Peak server memory of ``POST /kl/stream`` (NDJSON) against the size of the stream.

Streams of growing size (rows of 100 float64 for p and q, one JSON object a line, sent
chunked by a thread while the main thread reads the answer lines as they come) go to the
service started as ``python -m service serve`` on a free loopback port. For each, the
table has the stream's size, its rows per second end to end, and the growth of the server
process's peak resident memory (VmHWM, reset through /proc/PID/clear_refs before each
stream) over its idle size. Memory bounded by a chunk of rows means the growth stays flat
while the stream grows ten times; every answer line is counted and checked.

Run: ``.venv/bin/python benchmarks/stream_memory.py [--rows 20000 200000] [--markdown]``
(a minute).
"""

import argparse
import http.client
import json
import socket
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
from _harness import (
    machine_note,
    markdown_option,
    running,
    say,
    service_argv,
    service_env,
    table,
    wait_for_tensorflow,
)
from batch_binary import status

COLUMNS, BLOCK_ROWS = 100, 1_000


def block() -> tuple[bytes, float]:
    """BLOCK_ROWS lines of NDJSON, and the KL of the first row (numpy)."""
    rng = np.random.default_rng(5)
    p = rng.random((BLOCK_ROWS, COLUMNS))
    q = rng.random((BLOCK_ROWS, COLUMNS))
    p /= p.sum(axis=1, keepdims=True)
    q /= q.sum(axis=1, keepdims=True)
    lines = [json.dumps({"p": a.tolist(), "q": b.tolist()}) for a, b in zip(p, q, strict=True)]
    first = float(np.sum(p[0] * np.log(p[0] / q[0])))
    return ("\n".join(lines) + "\n").encode(), first


def stream(url: str, data: bytes, blocks: int) -> tuple[int, float]:
    """Send ``data`` ``blocks`` times as one chunked NDJSON request while reading the answer;
    (answer lines, KL of the first line)."""
    parts = urlsplit(url)
    sock = socket.create_connection((parts.hostname, parts.port))
    head = (
        f"POST {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
        "Content-Type: application/x-ndjson\r\nTransfer-Encoding: chunked\r\n\r\n"
    )

    def send() -> None:
        sock.sendall(head.encode())
        for _ in range(blocks):
            sock.sendall(b"%x\r\n%b\r\n" % (len(data), data))
        sock.sendall(b"0\r\n\r\n")

    sender = threading.Thread(target=send, daemon=True)
    sender.start()
    response = http.client.HTTPResponse(sock)
    response.begin()
    if response.status != 200:
        raise RuntimeError(f"{response.status}: {response.read()[:500]!r}")
    count, first = 0, float("nan")
    for line in response:
        answer = json.loads(line)
        if "error" in answer:
            raise RuntimeError(f"the stream ended with {answer}")
        if count == 0:
            first = answer["kl"]
        count += 1
    sender.join()
    sock.close()
    return count, first


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[20_000, 200_000])
    markdown_option(parser)
    args = parser.parse_args()
    md = args.markdown
    data, expected = block()
    rows = []
    with tempfile.TemporaryDirectory(prefix="stream-memory-") as tmp:
        workdir = Path(tmp)
        with running("service", service_argv(), workdir, service_env(workdir)) as service:
            wait_for_tensorflow(service.url)
            pid = service.process.pid
            stream(service.url + "/kl/stream", data, 1)  # warm-up
            idle = status(pid, "VmRSS")
            for total in args.rows:
                blocks = max(1, total // BLOCK_ROWS)
                Path(f"/proc/{pid}/clear_refs").write_text("5")  # reset VmHWM
                started = time.perf_counter()
                count, first = stream(service.url + "/kl/stream", data, blocks)
                seconds = time.perf_counter() - started
                growth = status(pid, "VmHWM") - idle
                if count != blocks * BLOCK_ROWS or abs(first - expected) > 1e-12 * expected:
                    raise RuntimeError(f"{count} answers, first {first} (expected {expected})")
                size = len(data) * blocks / 2**20
                rows.append(
                    [f"{count:,}", f"{size:,.0f}", f"{count / seconds:,.0f}", f"+{growth:.0f}"]
                )
        note = machine_note()
    say(
        f"POST /kl/stream, rows of {COLUMNS} float64 p and q; server idle at {idle:.0f} MiB",
        markdown=md,
    )
    headers = ["rows", "stream MiB", "rows/s", "peak memory growth MiB"]
    print(table(headers, rows, markdown=md))
    say(note, markdown=md)


if __name__ == "__main__":
    main()
