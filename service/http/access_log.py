"""The access log: one JSON line per answered request, written in batches off its path.

The request observer queues each line's fields (a tuple) on a :class:`queue.SimpleQueue`,
and a :class:`logging.handlers.QueueListener` owns the thread that writes them, with two
of its documented hooks overridden: ``dequeue`` lets a batch gather, ``handle`` turns an
entry into its line and adds it to the batch. Why not a ``QueueHandler`` on the request
path as well: a record through it (``LOGGER.info`` making a ``LogRecord``, the handler's
``prepare`` formatting and copying it) costs 10 µs here, 8.3 µs without the caller's
lookup, 4.7 µs even with a ``prepare`` that copies nothing, where :meth:`AccessLog.add`
costs 0.2 µs, as the deque it replaces did; a small ``POST /kl`` takes about 28 µs in
process (``benchmarks/kl_in_process.py``), so the handler would slow it by a third. The
level check, the queue and the listener are all public API.

As nginx's ``access_log ... buffer= flush=``, a batch is written :attr:`AccessLog.flush_seconds`
after its first line was queued (later if standard error is slow to take it), and what is
queued is written at a normal exit; a killed process loses what was waiting. At most
:data:`MAX_WAITING` lines wait: beyond that new ones are dropped, so a stalled standard
error cannot grow memory for ever.

The lines are the JSON objects of the service's other logs (``time``, ``level``,
``logger``, ``message``, ``request_id``) plus ``route``, ``status``, ``duration_ms`` and
``client``, written to standard error beside them. Each ``write`` holds whole lines and
at most ``PIPE_BUF`` bytes, so lines from several worker processes sharing one pipe do not
interleave (a single line longer than that, a path of kilobytes, is written alone and may).
The logger ``service.access`` still decides: lines are kept only while it is enabled for
INFO (``--log-level warning`` turns them off, as before).
"""

import atexit
import functools
import logging
import logging.handlers
import os
import queue
import select
import threading
import time
from typing import Any

import orjson

LOGGER = logging.getLogger("service.access")
MAX_WAITING = 100_000

# Request time, request id, method, path, status, route, seconds taken, client address.
Entry = tuple[float, str, str, str, int, str, float, str]


def _clock(created: float) -> str:
    """``created`` as logging's default ``asctime``: ``2026-11-24 21:25:58,123``."""
    seconds = int(created)
    return f"{_second(seconds)},{int((created - seconds) * 1000):03d}"


@functools.lru_cache(maxsize=4)
def _second(seconds: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(seconds))


def line(entry: Entry) -> bytes:
    """One entry as its JSON line (without the newline)."""
    created, request_id, method, path, status, route, seconds, client = entry
    return orjson.dumps(
        {
            "time": _clock(created),
            "level": "INFO",
            "logger": LOGGER.name,
            "message": f"{method} {path} {status}",
            "request_id": request_id,
            "route": route,
            "status": status,
            "duration_ms": round(seconds * 1000, 3),
            "client": client,
        }
    )


class _BatchWriter(logging.handlers.QueueListener):
    """A QueueListener whose records are entries, written as JSON lines in batches.

    Its thread gathers a batch for ``flush_seconds`` after the first entry that finds the
    queue empty, then writes the lines in ``write`` calls of whole lines and at most
    ``PIPE_BUF`` bytes, and writes what it gathered whenever the queue runs dry."""

    def __init__(self, log: "AccessLog", entries: "queue.SimpleQueue[Entry | None]") -> None:
        super().__init__(entries)
        self.log = log
        self.entries = entries
        self._chunk: list[bytes] = []
        self._size = 0
        self._hurry = threading.Event()  # set by stop(): no more gathering

    def dequeue(self, block: bool) -> Any:
        try:
            return self.entries.get_nowait()
        except queue.Empty:
            pass
        self.write_batch()  # the queue ran dry: write what was gathered
        threading.current_thread().name = "access-log"  # for thread dumps
        entry = self.entries.get(block)
        if entry is not None:  # None: the end, queued by stop()
            self._hurry.wait(self.log.flush_seconds)  # let a batch gather
        return entry

    def handle(self, record: Any) -> None:
        try:
            text = line(record) + b"\n"
        except TypeError:  # orjson: a string that is not valid UTF-8
            return
        if self._chunk and self._size + len(text) > select.PIPE_BUF:
            self.write_batch()
        self._chunk.append(text)
        self._size += len(text)

    def write_batch(self) -> None:
        if self._chunk:
            data, self._chunk, self._size = b"".join(self._chunk), [], 0
            self._write(data)

    def stop(self) -> None:
        """Write every entry queued before this call, at once, and end the thread."""
        self._hurry.set()
        super().stop()
        self._hurry.clear()
        self.write_batch()  # the end arrived in the middle of a batch

    def _write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            try:
                view = view[os.write(self.log.fd, view) :]
            except BlockingIOError:  # a non-blocking standard error, full for now
                select.select([], [self.log.fd], [], 1.0)
            except OSError:
                return  # standard error closed: the lines have nowhere to go


class AccessLog:
    """Queues entries from any thread; a QueueListener's thread writes them to ``fd``."""

    def __init__(self, fd: int = 2, flush_seconds: float = 0.05) -> None:
        self.fd = fd
        self.flush_seconds = flush_seconds
        self._entries: queue.SimpleQueue[Entry | None] = queue.SimpleQueue()
        self._writer = _BatchWriter(self, self._entries)
        self._lock = threading.Lock()
        self._running = False
        self._closed = False
        self._exit_registered = False

    def add(self, entry: Entry) -> None:
        """Queue ``entry`` (0.2 µs) when ``service.access`` logs INFO."""
        if not LOGGER.isEnabledFor(logging.INFO):
            return
        if not self._running:
            self._start()
        if self._entries.qsize() < MAX_WAITING:
            self._entries.put_nowait(entry)

    def flush(self) -> None:
        """Write every queued entry now (the writer thread stops for it, then goes on)."""
        with self._lock:
            if self._running:
                self._writer.stop()
            self._write_waiting()
            if self._running:
                self._writer.start()

    def close(self) -> None:
        """Write every queued entry and end the writer thread for good (at exit)."""
        with self._lock:
            self._closed = True
            if self._running:
                self._writer.stop()
                self._running = False
            self._write_waiting()

    def _write_waiting(self) -> None:
        """Write, from this thread, what is queued while no writer thread runs."""
        while True:
            try:
                entry = self._entries.get_nowait()
            except queue.Empty:
                break
            if entry is not None:
                self._writer.handle(entry)
        self._writer.write_batch()

    def _start(self) -> None:
        with self._lock:
            if self._running or self._closed:
                return
            self._writer.start()
            self._running = True
            if not self._exit_registered:
                atexit.register(self.close)
                self._exit_registered = True


ACCESS_LOG = AccessLog()  # standard error (file descriptor 2)
