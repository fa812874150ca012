"""The batched access log: the lines logging would write, whole, in order, not lost at a
normal exit; written by a standard-library QueueListener's thread."""

import fcntl
import json
import logging
import os
import select
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import pytest
from pythonjsonlogger.orjson import OrjsonFormatter

from service.http.access_log import LOGGER, AccessLog, Entry, line
from service.http.observability import log_config

ENTRY: Entry = (1795555432.0421, "trace-1", "POST", "/kl", 200, "/kl", 0.0001234, "127.0.0.1")


@pytest.fixture
def access_info() -> Iterator[None]:
    """``service.access`` enabled for INFO, as under the service's logging config."""
    LOGGER.setLevel(logging.INFO)
    yield
    LOGGER.setLevel(logging.NOTSET)


def test_a_line_is_what_the_service_log_formatter_writes() -> None:
    spec = dict(log_config("info")["formatters"]["json"])
    formatter = OrjsonFormatter(**{k: v for k, v in spec.items() if k != "()"})
    record = LOGGER.makeRecord(
        LOGGER.name,
        logging.INFO,
        "",
        0,
        "%s %s %d",
        ("POST", "/kl", 200),
        None,
        extra={
            "route": "/kl",
            "status": 200,
            "duration_ms": 0.123,
            "client": "127.0.0.1",
            "request_id": "trace-1",
        },
    )
    record.created, record.msecs = ENTRY[0], int(ENTRY[0] % 1 * 1000)
    assert json.loads(line(ENTRY)) == json.loads(formatter.format(record))


def _messages(reader: socket.socket, count: int, timeout: float = 5) -> list[bytes]:
    """Each write the writer made, as one message (SOCK_SEQPACKET keeps their bounds)."""
    messages: list[bytes] = []
    deadline = time.monotonic() + timeout
    while sum(m.count(b"\n") for m in messages) < count and time.monotonic() < deadline:
        if select.select([reader], [], [], 0.1)[0]:
            messages.append(reader.recv(1 << 20))
    return messages


@pytest.mark.usefixtures("access_info")
def test_entries_are_written_in_order_soon_in_whole_lines_of_at_most_pipe_buf_bytes() -> None:
    reader, writer = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    with reader, writer:
        log = AccessLog(writer.fileno(), flush_seconds=0.02)
        for i in range(300):
            log.add((*ENTRY[:1], f"id-{i}", *ENTRY[2:]))  # type: ignore[arg-type]
        messages = _messages(reader, 300)
    assert len(messages) > 1  # 300 lines of about 200 bytes: several writes
    assert all(len(m) <= select.PIPE_BUF and m.endswith(b"\n") for m in messages)
    ids = [json.loads(text)["request_id"] for m in messages for text in m.splitlines()]
    assert ids == [f"id-{i}" for i in range(300)]


def test_nothing_is_kept_when_the_access_logger_is_not_enabled_for_info() -> None:
    reader, writer = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    with reader, writer:
        LOGGER.setLevel(logging.WARNING)
        try:
            log = AccessLog(writer.fileno(), flush_seconds=0.01)
            log.add(ENTRY)
            log.flush()
        finally:
            LOGGER.setLevel(logging.NOTSET)
        assert _messages(reader, 1, timeout=0.3) == []


def test_lines_queued_just_before_exit_are_written() -> None:
    script = (
        "import logging\n"
        "from service.http.access_log import ACCESS_LOG, LOGGER\n"
        "LOGGER.setLevel(logging.INFO)\n"
        f"ACCESS_LOG.add({ENTRY!r})\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=60)
    assert done.returncode == 0
    assert json.loads(done.stderr)["request_id"] == "trace-1"


@pytest.mark.usefixtures("access_info")
def test_a_line_longer_than_pipe_buf_is_written_whole_and_alone() -> None:
    long_path = "/kl/" + "a" * 5000
    reader, writer = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    with reader, writer:
        log = AccessLog(writer.fileno(), flush_seconds=0.02)
        log.add(ENTRY)
        log.add((*ENTRY[:3], long_path, *ENTRY[4:]))  # type: ignore[arg-type]
        log.add(ENTRY)
        messages = _messages(reader, 3)
    assert [m.count(b"\n") for m in messages if len(m) > select.PIPE_BUF] == [1]
    paths = [json.loads(text)["message"].split()[1] for m in messages for text in m.splitlines()]
    assert paths == ["/kl", long_path, "/kl"]


@pytest.mark.usefixtures("access_info")
def test_a_full_non_blocking_pipe_delays_lines_but_loses_none() -> None:
    read_end, write_end = os.pipe()
    fcntl.fcntl(write_end, fcntl.F_SETPIPE_SZ, 4096)  # the smallest pipe Linux makes
    os.set_blocking(write_end, False)
    try:
        log = AccessLog(write_end, flush_seconds=0.01)
        for i in range(100):  # about 20 KB: five times what the pipe holds
            log.add((*ENTRY[:1], f"id-{i}", *ENTRY[2:]))  # type: ignore[arg-type]
        time.sleep(0.2)  # the writer fills the pipe and waits
        received = b""
        deadline = time.monotonic() + 5
        while received.count(b"\n") < 100 and time.monotonic() < deadline:
            if select.select([read_end], [], [], 0.1)[0]:
                received += os.read(read_end, 65536)
    finally:
        os.close(read_end)
        os.close(write_end)
    ids = [json.loads(text)["request_id"] for text in received.splitlines()]
    assert ids == [f"id-{i}" for i in range(100)]


@pytest.mark.usefixtures("access_info")
def test_flush_writes_what_is_queued_at_once_and_the_log_goes_on() -> None:
    reader, writer = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    with reader, writer:
        log = AccessLog(writer.fileno(), flush_seconds=30)  # its thread would wait 30 s
        for i in range(50):
            log.add((*ENTRY[:1], f"id-{i}", *ENTRY[2:]))  # type: ignore[arg-type]
        started = time.monotonic()
        log.flush()
        flushed_in = time.monotonic() - started
        first = _messages(reader, 50, timeout=1)
        log.add((*ENTRY[:1], "id-50", *ENTRY[2:]))  # type: ignore[arg-type]
        log.flush()
        second = _messages(reader, 1, timeout=1)
        log.close()
    assert flushed_in < 5
    ids = [json.loads(text)["request_id"] for m in first + second for text in m.splitlines()]
    assert ids == [f"id-{i}" for i in range(51)]


@pytest.mark.usefixtures("access_info")
def test_close_writes_what_is_queued_and_ends_the_writer_thread() -> None:
    reader, writer = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    with reader, writer:
        before = set(threading.enumerate())
        log = AccessLog(writer.fileno(), flush_seconds=30)
        log.add(ENTRY)
        deadline = time.monotonic() + 5
        while not (
            new := [t for t in set(threading.enumerate()) - before if t.name == "access-log"]
        ):
            assert time.monotonic() < deadline, "no writer thread named access-log"
            time.sleep(0.01)
        log.close()
        assert not new[0].is_alive()
        messages = _messages(reader, 1, timeout=1)
    assert [json.loads(m)["request_id"] for m in messages] == ["trace-1"]
