"""NDJSON streams with wide rows: limits checked as lines are parsed, chunks bounded by
bytes, memory bounded by a chunk, and a client that goes away mid-stream."""

import http.client
import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import numpy as np
import pytest

from tests.conftest import Server, start_server, stop_server

MAX_VECTOR_LENGTH = 300_000
CHUNK_BYTES = 1024 * 1024


@pytest.fixture(scope="module")
def small_budget(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A service whose stream chunks are scored at 1 MiB of numbers."""
    running = start_server(
        tmp_path_factory.mktemp("ndjson-memory"),
        env={
            "DIVERGENCE_DATA_DIR": str(tmp_path_factory.mktemp("ndjson-memory-data")),
            "DIVERGENCE_MAX_VECTOR_LENGTH": str(MAX_VECTOR_LENGTH),
            "DIVERGENCE_STREAM_CHUNK_BYTES": str(CHUNK_BYTES),
        },
    )
    yield running
    stop_server(running)


class OpenStream:
    """A chunked ``POST`` whose body is sent piece by piece, its answer read meanwhile."""

    def __init__(self, url: str, path: str) -> None:
        parts = urlsplit(url)
        # A deadline, not a timing: an answer that never comes fails the test, late.
        self.sock = socket.create_connection((parts.hostname, parts.port), timeout=60)
        self.sock.sendall(
            f"POST {path} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
            "Content-Type: application/x-ndjson\r\nTransfer-Encoding: chunked\r\n\r\n".encode()
        )
        self.response = http.client.HTTPResponse(self.sock)
        self.response.begin()
        assert self.response.status == 200

    def send(self, data: bytes) -> None:
        self.sock.sendall(b"%x\r\n%b\r\n" % (len(data), data))

    def answer(self) -> dict[str, Any]:
        line = self.response.readline()
        assert line, "the stream ended"
        answer: dict[str, Any] = json.loads(line)
        return answer

    def close(self) -> None:
        self.response.close()  # the response's file holds the socket open too
        self.sock.close()


def row_line(p: list[float], q: list[float]) -> bytes:
    return json.dumps({"p": p, "q": q}).encode() + b"\n"


def ones_line(elements: int) -> bytes:
    vector = b"[" + b"1," * (elements - 1) + b"1]"
    return b'{"p":' + vector + b',"q":' + vector + b"}\n"


def status_mib(pid: int, key: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
    raise KeyError(key)


@pytest.mark.parametrize("field", ["p", "q"])
def test_a_vector_over_the_length_limit_is_refused_as_its_line_is_parsed(
    small_budget: Server, field: str
) -> None:
    stream = OpenStream(small_budget.url, "/kl/stream")
    try:
        small = [0.5, 0.5]
        wide = [1 / (MAX_VECTOR_LENGTH + 1)] * (MAX_VECTOR_LENGTH + 1)
        stream.send(row_line(small, small) * 2)
        stream.send(row_line(wide, small) if field == "p" else row_line(small, wide))
        # The stream stays open and its chunk is far from full: only the parse can answer.
        assert stream.answer() == {
            "error": {
                "type": "too_large",
                "loc": ["body", 2, field],
                "msg": f"{field} has {MAX_VECTOR_LENGTH + 1} elements; "
                f"the limit is {MAX_VECTOR_LENGTH}",
            }
        }
    finally:
        stream.close()


def test_a_chunk_is_scored_once_its_rows_reach_the_byte_budget(small_budget: Server) -> None:
    n = 40_000  # p and q: 640,000 bytes of float64 a row, so two rows pass 1 MiB
    rng = np.random.default_rng(3)
    p, q = rng.dirichlet(np.ones(n), size=3), rng.dirichlet(np.ones(n), size=3)
    expected = (p * np.log(p / q)).sum(axis=1)
    stream = OpenStream(small_budget.url, "/kl/stream")
    try:
        for a, b in zip(p, q, strict=True):
            stream.send(row_line(a.tolist(), b.tolist()))
        # The body has not ended and 4,096 rows are far off: the budget scored rows 0 and 1.
        first, second = stream.answer(), stream.answer()
        assert np.allclose([first["kl"], second["kl"]], expected[:2], rtol=1e-12)
        stream.sock.sendall(b"0\r\n\r\n")
        assert np.isclose(stream.answer()["kl"], expected[2], rtol=1e-12)
    finally:
        stream.close()


def test_a_stream_of_wide_rows_keeps_the_server_memory_within_a_chunk(
    small_budget: Server,
) -> None:
    rows, elements = 40, 250_000  # 40 lines of 1 MB; 4 MB of float64 a row, 160 MB in all
    line = ones_line(elements)
    url = small_budget.url + "/kl/stream?normalize=true"
    headers = {"content-type": "application/x-ndjson"}
    with httpx.Client(timeout=300) as client:
        warm = client.post(url, content=iter([line] * 2), headers=headers)  # TensorFlow traced
        assert warm.status_code == 200 and warm.text.count("\n") == 2
        pid = small_budget.process.pid
        Path(f"/proc/{pid}/clear_refs").write_text("5")  # reset the peak (VmHWM)
        idle = status_mib(pid, "VmRSS")
        response = client.post(url, content=iter([line] * rows), headers=headers)
    answers = [json.loads(answer) for answer in response.text.splitlines()]
    assert answers == [{"kl": 0.0, "finite": True, "infinite_at": None}] * rows
    growth = status_mib(pid, "VmHWM") - idle
    # Holding the stream's rows would take 160 MB as arrays and 640 MB as Python floats.
    assert growth < 200, f"the server grew by {growth:.0f} MiB"


def test_a_client_gone_mid_stream_is_one_log_line_without_a_traceback(
    small_budget: Server,
) -> None:
    def gone() -> list[str]:
        return [line for line in small_budget.log.read_text().splitlines() if "went away" in line]

    before = len(gone())
    stream = OpenStream(small_budget.url, "/kl/stream")
    stream.send(row_line([0.5, 0.5], [0.25, 0.75]) * 3 + b'{"p": [0.5, ')
    stream.close()
    deadline = time.monotonic() + 60
    while len(gone()) == before and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(gone()) == before + 1, "the server did not log the client going away once"
    record = json.loads(gone()[-1])
    assert record["level"] == "INFO"
    assert record["message"] == "POST /kl/stream: the client went away mid-stream"
    assert "Traceback" not in small_budget.log.read_text()
