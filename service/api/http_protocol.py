"""uvicorn's httptools protocol with the limits uvicorn lacks: slow and huge requests.

uvicorn times out only idle keep-alive connections *between* requests (any byte received
cancels that timer) and has no limit on the size of request headers, so a client sending
a byte a second, or megabytes of headers, holds a connection and its memory for ever.
Here the request line and headers must arrive within ``HEADER_TIMEOUT`` seconds and total
at most ``MAX_HEADER_BYTES``; the body must then average ``MIN_BODY_RATE`` bytes a second
once ``BODY_GRACE`` seconds have passed (while the app reads it). Otherwise: 431 or 408,
and the connection is closed.

It also lets the app read a large body straight into a buffer of its own
(:data:`READ_BODY_INTO`): the socket's bytes land in that buffer, with none of the four
copies the usual path makes (uvloop's ``bytes``, httptools' ``bytes`` per body chunk,
uvicorn's ``bytearray`` and its ``bytes`` per ASGI message) before the app copies them
once more.
"""

import asyncio
import functools
from typing import Any

import httptools
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol, RequestResponseCycle

from service.api.asgi import header

# The key in the ASGI scope's "extensions" of ``async read_into(buffer) -> bool``: it fills
# ``buffer`` (writable, the length of the whole body) with the request's body straight
# from the socket and returns True; or returns False, having read nothing, where it cannot
# (a chunked body, a buffer not of the declared length, some of the body already received
# through ``receive``, the request already read or gone): the app then reads the body
# through ``receive`` as usual.
READ_BODY_INTO = "divergence.read_body_into"

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
        if self.cycle is not None and self.cycle.scope is self.scope:
            extensions: dict[str, Any] = self.scope.setdefault("extensions", {})
            extensions[READ_BODY_INTO] = functools.partial(self._read_body_into, self.cycle)

    def on_body(self, body: bytes) -> None:
        self._body_bytes += len(body)
        super().on_body(body)

    def on_message_complete(self) -> None:
        self._cancel()
        super().on_message_complete()

    async def _read_body_into(self, cycle: RequestResponseCycle, buffer: memoryview) -> bool:
        """The body of ``cycle``'s request into ``buffer``: what httptools has parsed so
        far, then the rest straight from the socket (see :data:`READ_BODY_INTO`)."""
        parsed = len(cycle.body)
        declared = header(self.scope, b"content-length") or b""
        if (
            cycle is not self.cycle
            or not declared.isdigit()  # chunked: the socket's bytes are not the body's
            or int(declared) != len(buffer)
            or not cycle.more_body
            or cycle.disconnected
            or self.transport.is_closing()
            or parsed != self._body_bytes  # some of it went through receive()
            or parsed >= len(buffer)
        ):
            return False
        if cycle.waiting_for_100_continue:
            self.transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            cycle.waiting_for_100_continue = False
        buffer[:parsed] = cycle.body
        cycle.body = bytearray()
        reader = _BodyReader(self, buffer, parsed)
        self.transport.set_protocol(reader)
        self.flow.resume_reading()
        return await reader.done

    def _body_read(self) -> None:
        """The direct read is done: back to HTTP, with a parser for the next request (the
        old one still waits for the body bytes it never saw)."""
        self.transport.set_protocol(self)
        self.parser = httptools.HttpRequestParser(self)
        self.parser.set_dangerous_leniencies(lenient_data_after_close=True)  # as uvicorn's
        self.on_message_complete()

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


class _BodyReader(asyncio.BufferedProtocol):
    """The connection's protocol while a body is read into ``buffer`` from ``filled`` on:
    the transport writes into the buffer itself; the rest goes to the HTTP protocol."""

    def __init__(self, http: BoundedHttpToolsProtocol, buffer: memoryview, filled: int) -> None:
        self.http = http
        self.buffer = buffer
        self.filled = filled
        self.done: asyncio.Future[bool] = http.loop.create_future()

    def get_buffer(self, sizehint: int) -> memoryview:
        return self.buffer[self.filled :]  # never more than the body: the next request waits

    def buffer_updated(self, nbytes: int) -> None:
        self.filled += nbytes
        self.http._body_bytes += nbytes
        if self.filled == len(self.buffer):
            self.http._body_read()
            if not self.done.done():
                self.done.set_result(True)

    def eof_received(self) -> None:
        self.http.eof_received()

    def connection_lost(self, exc: Exception | None) -> None:
        self.http.connection_lost(exc)
        if not self.done.done():
            self.done.set_result(False)  # receive() then tells the app of the disconnect

    def pause_writing(self) -> None:
        self.http.pause_writing()

    def resume_writing(self) -> None:
        self.http.resume_writing()
