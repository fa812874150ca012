"""uvicorn's httptools protocol with the limits uvicorn lacks: slow and huge requests.

uvicorn times out only idle keep-alive connections *between* requests (any byte received
cancels that timer) and has no limit on the size of request headers, so a client sending
a byte a second, or megabytes of headers, holds a connection and its memory for ever.
Here the request line and headers must arrive within ``HEADER_TIMEOUT`` seconds and total
at most ``MAX_HEADER_BYTES``; the body must then average ``MIN_BODY_RATE`` bytes a second
once ``BODY_GRACE`` seconds have passed (while the app reads it). Otherwise: 431 or 408,
and the connection is closed.
"""

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

HEADER_TIMEOUT = 10.0
MAX_HEADER_BYTES = 64 * 1024
BODY_GRACE = 10.0
MIN_BODY_RATE = 1024.0


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._timer: asyncio.TimerHandle | None = None
        self._header_bytes = 0
        self._in_headers = True
        self._tail = b""
        self._body_bytes = 0
        self._body_started = 0.0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._start_headers()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._in_headers:  # count up to the blank line that ends the headers
            end = (self._tail + data).find(b"\r\n\r\n")
            self._header_bytes += len(data) if end < 0 else end + 4 - len(self._tail)
            self._tail = data[-3:]
            if self._header_bytes > MAX_HEADER_BYTES:
                self._refuse(b"431 Request Header Fields Too Large")
                return
        super().data_received(data)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._timer is None:  # a keep-alive connection's next request
            self._start_headers()

    def on_headers_complete(self) -> None:
        self._in_headers = False
        self._cancel()
        super().on_headers_complete()
        self._body_bytes = 0
        self._body_started = self.loop.time()
        self._timer = self.loop.call_later(BODY_GRACE, self._check_body_rate)

    def on_body(self, body: bytes) -> None:
        self._body_bytes += len(body)
        super().on_body(body)

    def on_message_complete(self) -> None:
        self._cancel()
        super().on_message_complete()

    def _start_headers(self) -> None:
        self._cancel()
        self._in_headers = True
        self._header_bytes = 0
        self._tail = b""
        self._timer = self.loop.call_later(HEADER_TIMEOUT, self._refuse, b"408 Request Timeout")

    def _check_body_rate(self) -> None:
        self._timer = None
        elapsed = self.loop.time() - self._body_started
        if not self.flow.read_paused and self._body_bytes < MIN_BODY_RATE * elapsed:
            self._refuse(b"408 Request Timeout")
        else:
            self._timer = self.loop.call_later(1.0, self._check_body_rate)

    def _cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _refuse(self, status: bytes) -> None:
        self._timer = None
        if self.transport.is_closing():
            return
        if self.cycle is None or not self.cycle.response_started:
            self.transport.write(
                b"HTTP/1.1 " + status + b"\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
            )
        self.transport.close()
