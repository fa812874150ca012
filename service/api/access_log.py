"""The access log: one JSON line per answered request, written in batches off its path.

A record through :mod:`logging` (a ``LogRecord``, filters, a JSON formatter, a write and a
flush) costs about 28 µs in a request's flow: more than answering a small ``POST /kl``.
So the request observer only queues the line's fields (a tuple on a deque), and a daemon
thread writes the lines in batches, as nginx's ``access_log ... buffer= flush=`` does: a
batch is written :attr:`AccessLog.flush_seconds` after its first line was queued (later if
standard error is slow to take it), and what is queued is written at a normal exit; a
killed process loses what was waiting. At most :data:`MAX_WAITING` lines wait: beyond
that the oldest are dropped, so a stalled standard error cannot grow memory for ever.

The lines are the JSON objects of the service's other logs (``time``, ``level``,
``logger``, ``message``, ``request_id``) plus ``route``, ``status``, ``duration_ms`` and
``client``, written to standard error beside them. Each ``write`` holds whole lines and
at most ``PIPE_BUF`` bytes, so lines from several worker processes sharing one pipe do not
interleave (a single line longer than that, a path of kilobytes, is written alone and may).
The logger ``service.access`` still decides: lines are kept only while it is enabled for
INFO (``--log-level warning`` turns them off, as before).
"""

import atexit
import collections
import functools
import logging
import os
import select
import threading
import time

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


class AccessLog:
    """Queues entries from any thread; a daemon thread writes them to ``fd`` in batches."""

    def __init__(self, fd: int = 2, flush_seconds: float = 0.05) -> None:
        self.fd = fd
        self.flush_seconds = flush_seconds
        self._entries: collections.deque[Entry] = collections.deque(maxlen=MAX_WAITING)
        self._wake = threading.Event()
        self._write_lock = threading.Lock()
        self._start_lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def add(self, entry: Entry) -> None:
        """Queue ``entry`` (a few hundred nanoseconds) when ``service.access`` logs INFO."""
        if not LOGGER.isEnabledFor(logging.INFO):
            return
        if self._thread is None:
            self._start()
        self._entries.append(entry)
        if len(self._entries) == 1:  # the writer drained the queue before this entry
            self._wake.set()

    def flush(self) -> None:
        """Write every queued entry now."""
        with self._write_lock:
            chunk: list[bytes] = []
            size = 0
            while self._entries:
                try:
                    text = line(self._entries.popleft()) + b"\n"
                except TypeError:  # orjson: a string that is not valid UTF-8
                    continue
                if chunk and size + len(text) > select.PIPE_BUF:
                    self._write(b"".join(chunk))
                    chunk, size = [], 0
                chunk.append(text)
                size += len(text)
            if chunk:
                self._write(b"".join(chunk))

    def _write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            try:
                view = view[os.write(self.fd, view) :]
            except BlockingIOError:  # a non-blocking standard error, full for now
                select.select([], [self.fd], [], 1.0)
            except OSError:
                return  # standard error closed: the lines have nowhere to go

    def _start(self) -> None:
        with self._start_lock:
            if self._thread is None:
                thread = threading.Thread(target=self._run, name="access-log", daemon=True)
                thread.start()
                atexit.register(self.flush)
                self._thread = thread

    def _run(self) -> None:
        while True:
            self._wake.wait()  # set by the first entry queued after a flush
            self._wake.clear()
            time.sleep(self.flush_seconds)  # let a batch gather
            self.flush()


ACCESS_LOG = AccessLog()  # standard error (file descriptor 2)
