"""uvicorn's httptools protocol with the limits uvicorn lacks: slow and huge requests.

uvicorn times out only idle keep-alive connections *between* requests (any byte received
cancels that timer) and has no limit on the size of request headers, so a client sending
a byte a second, or megabytes of headers, holds a connection and its memory for ever.
Here the request line and headers must arrive within ``HEADER_TIMEOUT`` seconds of their
first byte and total at most ``MAX_HEADER_BYTES``; the body must then average
``MIN_BODY_RATE`` bytes a second once ``BODY_GRACE`` seconds have passed (while the app reads
it). Otherwise: 431 or 408, and the connection is closed. The header limits hold for every
request of a connection, pipelined ones too (as nginx applies its header buffers to each
request); a pipelined request is refused after the answers to those before it.

Header bytes are counted twice over, each count against the limit: as the socket delivers
them while the connection is between a request's end and its successor's headers (which
bounds a header that never ends, held by the parser until it does), and as the parser
hands over each complete header (which counts a request that begins in the middle of a
read, behind another request).

This module is the one place that relies on uvicorn's and httptools' internals (the
protocol's parser callbacks, ``cycle``, ``pipeline`` and ``flow``): pyproject.toml bounds
uvicorn to the versions tested, and tests/api/test_http_protocol.py fails when they change.

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

from service.web.asgi import READ_BODY_INTO, header

HEADER_TIMEOUT = 10.0
MAX_HEADER_BYTES = 64 * 1024
BODY_GRACE = 10.0
MIN_BODY_RATE = 1024.0
LINGER = 2.0


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._timer: asyncio.TimerHandle | None = None
        self._header_bytes = 0  # as received, since the headers began
        self._parsed_header_bytes = 0  # as parsed, of the request being parsed
        self._in_headers = True
        self._tail = b""
        self._refusal: bytes | None = None  # a status line, once a request is refused
        self._body_bytes = 0
        self._body_started = 0.0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._start_headers()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._refusal is not None:
            return  # a refused connection reads nothing more
        if self._in_headers:  # count up to the blank line that ends the headers
            if self._timer is None:  # the first byte of a keep-alive connection's next request
                self._start_header_timer()
            end = (self._tail + data).find(b"\r\n\r\n")
            self._header_bytes += len(data) if end < 0 else end + 4 - len(self._tail)
            self._tail = data[-3:]
            if self._header_bytes > MAX_HEADER_BYTES:
                self._refuse_headers(b"431 Request Header Fields Too Large")
                return
        super().data_received(data)

    # The parser's callbacks: none reaches uvicorn once the connection is refused, so a
    # refused request never becomes a cycle and its bytes never reach an earlier one.
    def on_message_begin(self) -> None:
        if self._refusal is None:
            self._parsed_header_bytes = 0
            super().on_message_begin()
            if self._timer is None:  # a request that began behind another in one read
                self._start_header_timer()

    def on_url(self, url: bytes) -> None:
        if self._count_parsed(len(url)):
            super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        if self._count_parsed(len(name) + len(value) + 4):  # ": " and CRLF
            super().on_header(name, value)

    def on_headers_complete(self) -> None:
        if self._refusal is not None:
            return
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
        if self._refusal is None:
            self._body_bytes += len(body)
            super().on_body(body)

    def on_message_complete(self) -> None:
        if self._refusal is not None:
            return
        self._cancel()
        super().on_message_complete()
        # The next request's headers: counted from its first byte, timed from then too.
        self._in_headers = True
        self._header_bytes = 0
        self._tail = b""

    def on_response_complete(self) -> None:
        super().on_response_complete()  # starts the next pipelined request, resumes reading
        if self._refusal is not None:
            self.flow.pause_reading()
            if not self._answering():
                self._unset_keepalive_if_required()
                self._close_with(self._refusal)

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
        self._start_header_timer()

    def _start_header_timer(self) -> None:
        self._timer = self.loop.call_later(
            HEADER_TIMEOUT, self._refuse_headers, b"408 Request Timeout"
        )

    def _count_parsed(self, size: int) -> bool:
        """Counts ``size`` parsed header bytes; False once the connection is refused."""
        if self._refusal is not None:
            return False
        self._parsed_header_bytes += size
        if self._parsed_header_bytes > MAX_HEADER_BYTES:
            self._refuse_headers(b"431 Request Header Fields Too Large")
            return False
        return True

    def _check_body_rate(self) -> None:
        self._timer = None
        elapsed = self.loop.time() - self._body_started
        if not self.flow.read_paused and self._body_bytes < MIN_BODY_RATE * elapsed:
            self._refusal = b"408 Request Timeout"
            # The slow request's own answer, unless the app has begun one: then just close.
            started = self.cycle is not None and self.cycle.response_started
            self._close_with(None if started else self._refusal)
        else:
            self._timer = self.loop.call_later(1.0, self._check_body_rate)

    def _cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _answering(self) -> bool:
        """Whether an earlier request of the connection is still being answered."""
        return bool(self.pipeline) or (self.cycle is not None and not self.cycle.response_complete)

    def _refuse_headers(self, status: bytes) -> None:
        """Refuses the request whose headers are being read: answers ``status`` and closes,
        after the answers to the requests before it (``on_response_complete``)."""
        self._cancel()
        self._refusal = status
        self.flow.pause_reading()
        if not self._answering():
            self._close_with(status)

    def _close_with(self, status: bytes | None) -> None:
        """Answers ``status`` (None: nothing) and closes. The close lingers: the answer is
        followed by a FIN and what the client still sends is read and dropped until it
        closes too, or ``LINGER`` seconds pass; closing with unread bytes would send a
        reset, which can destroy the answer before the client reads it (nginx's
        lingering_close)."""
        self._cancel()
        if self.transport.is_closing():
            return
        if status is not None:
            self.transport.write(_refusal_answer(status))
        if status is None or not self.transport.can_write_eof():
            self.transport.close()
            return
        self.transport.write_eof()
        self.flow.resume_reading()  # data_received drops it; the client's EOF closes
        self._timer = self.loop.call_later(LINGER, self.transport.close)


def _refusal_answer(status: bytes) -> bytes:
    return b"HTTP/1.1 " + status + b"\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"


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
