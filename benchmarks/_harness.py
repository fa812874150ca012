"""Shared helpers of the benchmarks: servers on free loopback ports, timing, tables.

Not a benchmark itself; imported by the scripts beside it (which run with this folder
first on ``sys.path``). Tables print as plain text, or as Markdown with ``--markdown``
(``markdown_option``), which docs/benchmarks.md takes its figures from.
"""

import argparse
import http.client
import importlib.metadata
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tarfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import numpy as np
import pyarrow as pa

ROOT = Path(__file__).resolve().parent.parent
BENCHMARKS = ROOT / "benchmarks"
PYTHON = sys.executable
CIFAR10_ARCHIVE = ROOT.parent / "shared" / "data" / "cifar10-jpeg.tar.gz"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    name: str
    url: str
    process: subprocess.Popen[bytes]
    log: Path


def start_server(
    name: str, argv: Sequence[str], workdir: Path, env: dict[str, str] | None = None
) -> Server:
    """Run ``argv + ["--port", P]`` on a free loopback port; wait until /healthz answers."""
    port = free_port()
    log = workdir / f"{name}-{port}.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [*argv, "--port", str(port)],
            cwd=ROOT,
            env={**os.environ, **(env or {})},
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited:\n{log.read_text()}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return Server(name, url, process, log)
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"{name} did not start:\n{log.read_text()}")


def stop_server(server: Server) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait()


@contextmanager
def running(
    name: str, argv: Sequence[str], workdir: Path, env: dict[str, str] | None = None
) -> Iterator[Server]:
    server = start_server(name, argv, workdir, env)
    try:
        yield server
    finally:
        stop_server(server)


def service_argv() -> list[str]:
    """The service as deployed: ``python -m service serve`` (uvicorn, uvloop, httptools)."""
    return [PYTHON, "-m", "service", "serve"]


def service_env(workdir: Path) -> dict[str, str]:
    """Keep the job store and queue out of the work tree; every other setting as default."""
    return {"DIVERGENCE_DATA_DIR": str(workdir / "data")}


def cifar10_dir(given: Path | None, workdir: Path) -> Path:
    """``given``, else ``../shared``'s CIFAR-10 archive unpacked into ``workdir``."""
    if given is not None:
        return given
    with tarfile.open(CIFAR10_ARCHIVE) as archive:
        archive.extractall(workdir / "cifar", filter="data")
    return workdir / "cifar"


def training_env(workdir: Path, cifar10: Path) -> dict[str, str]:
    """A service for training benchmarks: its own data folder, CIFAR-10 from ``cifar10``,
    and no TensorFlow warm-up competing with the first job."""
    return {
        **service_env(workdir),
        "DIVERGENCE_CIFAR10_DIR": str(cifar10),
        "DIVERGENCE_WARM_TENSORFLOW": "false",
    }


def finished_job(url: str, body: dict[str, object]) -> dict[str, object]:
    """Submit a job, poll it every 0.5 s until it ends, and return it; raise unless it
    succeeded."""
    job = httpx.post(f"{url}/jobs", json=body, timeout=30).raise_for_status().json()
    while (state := httpx.get(f"{url}/jobs/{job['id']}", timeout=30).json())["status"] in (
        "queued",
        "running",
    ):
        time.sleep(0.5)
    if state["status"] != "succeeded":
        raise RuntimeError(f"job ended {state['status']}: {state['error']}")
    result: dict[str, object] = state
    return result


def wait_for_tensorflow(url: str) -> None:
    """One small batch request: it returns once TensorFlow is imported and traced."""
    body = {"p": [[0.5, 0.5]], "q": [0.25, 0.75]}
    response = httpx.post(f"{url}/kl/batch", json=body, timeout=300)
    response.raise_for_status()


def post_bytes(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
    """POST ``body`` to ``url`` and read the whole answer: (status, answer bytes).

    With the standard library's http.client, which hands the body to the socket in one
    call: httpx (through h11) takes several times longer than the server itself to send
    bodies of a hundred megabytes, so with it the benchmarks would time the client.
    """
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=600)
    try:
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        connection.request("POST", target, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.partition(":")[2].strip()
    except OSError:
        pass
    return platform.machine() or "unknown CPU"


def _versions() -> str:
    """Python and the installed versions of the libraries the figures depend on (read from
    the packages' metadata: nothing is imported)."""
    found = [f"Python {platform.python_version()}"]
    for name, label in (("numpy", "numpy"), ("tensorflow", "TensorFlow"), ("uvicorn", "uvicorn")):
        with suppress(importlib.metadata.PackageNotFoundError):
            found.append(f"{label} {importlib.metadata.version(name)}")
    return ", ".join(found)


def machine_note() -> str:
    """The machine and its load when the figures were taken (the machine may be shared,
    so figures are noisy), and the versions that ran."""
    one, five, _ = os.getloadavg()
    return (
        f"machine: {os.cpu_count()} CPUs ({_cpu_model()}), load average {one:.1f} (1 min), "
        f"{five:.1f} (5 min); {_versions()}"
    )


def bare_argv(log_level: str = "info") -> list[str]:
    """The bare app of ``benchmarks/bare_app.py``, with the service's uvicorn settings
    (at ``warning``, uvicorn writes no access log)."""
    return [PYTHON, str(BENCHMARKS / "bare_app.py"), "--log-level", log_level]


def timings(fn: Callable[[], object], repeats: int, warmup: int = 1) -> list[float]:
    """Wall-clock seconds of ``repeats`` calls of ``fn``, after ``warmup`` untimed ones."""
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def best_median(times: Sequence[float]) -> tuple[float, float]:
    return min(times), statistics.median(times)


def markdown_option(parser: argparse.ArgumentParser) -> None:
    """Add ``--markdown``: tables as Markdown, each line of text its own paragraph."""
    parser.add_argument(
        "--markdown",
        action="store_true",
        help="print the tables as Markdown, with the line naming the machine (for docs/)",
    )


def say(text: str = "", *, markdown: bool = False) -> None:
    """Print a line of a report; with ``markdown``, followed by a blank line, so that each
    line stays a paragraph of its own."""
    print(text)
    if markdown:
        print()


def table(
    headers: Sequence[str], rows: Sequence[Sequence[object]], *, markdown: bool = False
) -> str:
    """A plain-text table: first column left-aligned, the others right-aligned; with
    ``markdown``, the same table in Markdown, with a blank line before and after."""
    if markdown:
        return markdown_table(headers, rows)
    cells = [[str(h) for h in headers], *[[str(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]

    def line(row: Sequence[str]) -> str:
        parts = [
            cell.ljust(width) if i == 0 else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        ]
        return "  ".join(parts).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(cells[0]), rule, *(line(row) for row in cells[1:])])


def _markdown_cell(value: object) -> str:
    """A cell's text: ``|`` escaped, an indented name (a part of the row above) marked."""
    text = str(value).replace("|", "\\|")
    stripped = text.lstrip(" ")
    if stripped != text and stripped:
        return "↳ " + stripped
    return stripped


def markdown_table(headers: Sequence[object], rows: Sequence[Sequence[object]]) -> str:
    """``table`` in Markdown (GitHub's tables): first column left-aligned, the others
    right-aligned; a blank line before and after, so it stands as its own block."""

    def line(row: Sequence[object]) -> str:
        return "| " + " | ".join(_markdown_cell(cell) for cell in row) + " |"

    rule = "|" + "|".join([":---", *(["---:"] * (len(headers) - 1))]) + "|"
    return "\n".join(["", line(headers), rule, *(line(row) for row in rows), ""])


def stage_table(measured: dict[str, list[float]], baseline: str, *, markdown: bool) -> str:
    """Stages timed in seconds as a table: best and median ms, and the median as a multiple
    of the median of ``baseline`` (one of the stages)."""
    base = statistics.median(measured[baseline])
    rows = [
        [
            name,
            f"{min(times) * 1e3:,.1f}",
            f"{statistics.median(times) * 1e3:,.1f}",
            f"{statistics.median(times) / base:.2f}",
        ]
        for name, times in measured.items()
    ]
    return table(["stage", "best ms", "median ms", "x baseline"], rows, markdown=markdown)


ARROW_STREAM = "application/vnd.apache.arrow.stream"
V2_HEADER_LENGTH = "Inference-Header-Content-Length"


def arrow_body(p: np.ndarray, q: np.ndarray) -> bytes:
    """An Arrow IPC stream of columns p and q (fixed-size lists of float64), one row each."""

    def rows(m: np.ndarray) -> pa.Array:
        return pa.FixedSizeListArray.from_arrays(pa.array(m.ravel()), m.shape[1])

    data = pa.table({"p": rows(p), "q": rows(q)})
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, data.schema) as writer:
        writer.write_table(data)
    return sink.getvalue().to_pybytes()


def v2_body(
    p: np.ndarray, q: np.ndarray, parameters: dict[str, str] | None = None
) -> tuple[bytes, dict[str, str]]:
    """An Open Inference Protocol request with binary tensors P and Q, a binary KL output
    and the request ``parameters``; and its headers."""

    def tensor(name: str, m: np.ndarray) -> dict[str, object]:
        size = {"binary_data_size": m.nbytes}
        return {"name": name, "shape": list(m.shape), "datatype": "FP64", "parameters": size}

    request: dict[str, object] = {
        "inputs": [tensor("P", p), tensor("Q", q)],
        "outputs": [{"name": "KL", "parameters": {"binary_data": True}}],
    }
    if parameters:
        request["parameters"] = parameters
    header = json.dumps(request).encode()
    headers = {"content-type": "application/octet-stream", V2_HEADER_LENGTH: str(len(header))}
    return header + p.astype("<f8").tobytes() + q.astype("<f8").tobytes(), headers
