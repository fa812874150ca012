"""Server memory and event-loop stalls of ``POST /kl/stream`` with wide rows.

The reproducer of "Hardening II": ``--lines`` NDJSON lines (40) of p and q with
``--elements`` numbers each (500,000: a 2 MB line, 8 MB of float64), sent as the chunks
of one chunked request to the service started as ``python -m service serve`` on a free
loopback port, with default settings. Three streams:

- ``zeros``, the issue's lines verbatim (``[0,0,...]``, no ``normalize``): every row is
  invalid (p sums to 0), so the stream ends with an error line once a chunk is scored;
- ``ones``, the same lines with ones and ``?normalize=true``: every row is valid and
  answered (KL 0), and every answer line is counted and checked; then ``ones again``,
  the same stream once TensorFlow has compiled its kernels for rows this wide (the first
  includes that compilation's memory, once per width).

For each: the growth of the server's peak resident memory (VmHWM, reset through
/proc/PID/clear_refs) over its idle size, measured while the stream is still open (every
line sent and the server idle again, before the request's last chunk) and at its end;
the slowest ``GET /healthz`` answered meanwhile (another connection, every 20 ms),
which shows how long the event loop was held; and the seconds the stream took, end to
end (with the second of idleness waited for while it was open).

Run: ``.venv/bin/python benchmarks/stream_wide_rows.py [--lines 40] [--elements 500000]
[--markdown]`` (half a minute).
"""

import argparse
import http.client
import json
import socket
import tempfile
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

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


def line(value: bytes, elements: int) -> bytes:
    """One line of the reproducer: p and q of ``elements`` copies of ``value``."""
    vector = b"[" + (value + b",") * (elements - 1) + value + b"]"
    return b'{"p":' + vector + b',"q":' + vector + b"}\n"


def cpu_ticks(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def settle(pid: int, timeout: float = 300) -> None:
    """Wait until the server has been all but idle (under 5% of a CPU; its job queue polls)
    for a second: it has read what it can of the stream."""
    deadline, last, quiet = time.monotonic() + timeout, cpu_ticks(pid), 0
    while time.monotonic() < deadline and quiet < 2:
        time.sleep(0.5)
        ticks = cpu_ticks(pid)
        quiet = quiet + 1 if ticks - last <= 2 else 0  # ticks of 10 ms
        last = ticks


class HealthProbe(threading.Thread):
    """``GET /healthz`` every 20 ms until stopped; keeps the slowest answer's seconds."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        parts = urlsplit(url)
        self.connection = http.client.HTTPConnection(parts.hostname or "", parts.port)
        self.stop = threading.Event()
        self.slowest = 0.0

    def run(self) -> None:
        while not self.stop.wait(0.02):
            started = time.perf_counter()
            self.connection.request("GET", "/healthz")
            self.connection.getresponse().read()
            self.slowest = max(self.slowest, time.perf_counter() - started)


def stream(url: str, pid: int, data: bytes, lines: int) -> tuple[list[dict[str, Any]], float]:
    """Send ``data`` ``lines`` times as one chunked request, wait for the server to go idle
    with the stream still open, then end it: (answers, VmHWM while open)."""
    parts = urlsplit(url)
    sock = socket.create_connection((parts.hostname, parts.port))
    sock.sendall(
        f"POST {parts.path}?{parts.query} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
        "Content-Type: application/x-ndjson\r\nTransfer-Encoding: chunked\r\n\r\n".encode()
    )
    sent, finish = threading.Event(), threading.Event()

    def send() -> None:
        try:
            for _ in range(lines):
                sock.sendall(b"%x\r\n%b\r\n" % (len(data), data))
            sent.set()
            finish.wait()
            sock.sendall(b"0\r\n\r\n")
        except OSError:  # the server answered an error and closed the connection
            sent.set()

    answers: list[dict[str, Any]] = []

    def read() -> None:
        response = http.client.HTTPResponse(sock)
        response.begin()
        answers.extend(json.loads(line) for line in response)
        sent.set()  # an error line ends the stream before every line is sent

    threads = [threading.Thread(target=send, daemon=True), threading.Thread(target=read)]
    for thread in threads:
        thread.start()
    sent.wait()
    settle(pid)
    open_peak = status(pid, "VmHWM")
    finish.set()
    threads[1].join()
    sock.close()
    return answers, open_peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=40)
    parser.add_argument("--elements", type=int, default=500_000)
    markdown_option(parser)
    args = parser.parse_args()
    md = args.markdown
    rows = []
    with tempfile.TemporaryDirectory(prefix="stream-wide-") as tmp:
        workdir = Path(tmp)
        with running("service", service_argv(), workdir, service_env(workdir)) as service:
            wait_for_tensorflow(service.url)
            pid = service.process.pid
            stream(service.url + "/kl/stream?normalize=true", pid, line(b"1", 10), 2)  # warm-up
            idle = status(pid, "VmRSS")
            ones = ("ones", b"1", "normalize=true")
            for name, value, query in (("zeros", b"0", ""), ones, ("ones again", *ones[1:])):
                data = line(value, args.elements)
                Path(f"/proc/{pid}/clear_refs").write_text("5")  # reset VmHWM
                probe = HealthProbe(service.url)
                probe.start()
                started = time.perf_counter()
                answers, open_peak = stream(
                    f"{service.url}/kl/stream?{query}", pid, data, args.lines
                )
                seconds = time.perf_counter() - started
                probe.stop.set()
                probe.join()
                end_peak = status(pid, "VmHWM")
                scored = [a for a in answers if "error" not in a]
                errors = [a["error"] for a in answers if "error" in a]
                if name.startswith("ones") and (len(scored) != args.lines or errors):
                    raise RuntimeError(f"{len(scored)} answers, errors {errors}")
                if any(a["kl"] != 0.0 for a in scored):
                    raise RuntimeError(f"KL of identical rows should be 0: {scored[:3]}")
                ending = f"error at row {errors[0]['loc'][1]}" if errors else "all answered"
                rows.append(
                    [
                        name,
                        f"{len(data) * args.lines / 2**20:,.0f}",
                        f"+{open_peak - idle:,.0f}",
                        f"+{end_peak - idle:,.0f}",
                        f"{probe.slowest * 1000:,.0f}",
                        f"{seconds:.1f}",
                        f"{len(scored)} rows, {ending}",
                    ]
                )
        note = machine_note()
    say(
        f"POST /kl/stream, {args.lines} lines of p and q with {args.elements:,} numbers each;"
        f" server idle at {idle:.0f} MiB",
        markdown=md,
    )
    headers = [
        "stream",
        "MiB sent",
        "peak growth, open MiB",
        "peak growth, end MiB",
        "slowest /healthz ms",
        "seconds",
        "answers",
    ]
    print(table(headers, rows, markdown=md))
    say(note, markdown=md)


if __name__ == "__main__":
    main()
