"""Newline-delimited JSON streams: rows in, results out as they are computed.

Each input line is one JSON object (``{"p": [...], "q": [...]}``), parsed as it arrives
by the domain's ``parse_row`` (in a worker thread when longer than
:data:`INLINE_LINE_BYTES`, so a line of megabytes does not hold the event loop); each
output line answers one input row, in order. Rows are scored a chunk at a time: when the
chunk holds ``chunk_rows`` rows or ``chunk_bytes`` bytes of parsed rows, whichever comes
first (a chunk holds at least one row), so memory is bounded by a chunk and a line, not by
the stream. Lines longer than ``max_line_bytes``, lines that are not rows or are over a
limit, and rows that break the numerics contract end the stream with one
``{"error": {...}}`` line whose ``loc`` starts with the row's number (0-based): the rows
of the chunks before it have been answered already.
"""

import json
import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Protocol, TypeVar

import orjson
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect
from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from service.core.errors import InvalidInput

NDJSON = "application/x-ndjson"
# Lines up to this long are parsed on the event loop (well under a millisecond): a thread
# hop per line would cost more than the parse. Longer ones are parsed in a worker thread.
INLINE_LINE_BYTES = 64 * 1024

log = logging.getLogger(__name__)


class SizedRow(Protocol):
    @property
    def nbytes(self) -> int: ...


Row = TypeVar("Row", bound=SizedRow)


class LineTooLong(Exception):
    pass


async def lines(chunks: AsyncIterator[bytes], max_line_bytes: int) -> AsyncIterator[bytes]:
    """The non-empty lines of a byte stream, whatever the chunks' boundaries.

    Each byte is searched for the newline once: an unfinished line is kept as its parts
    and joined once, when its newline arrives. Raises :class:`LineTooLong` as soon as a
    line, finished or not, passes ``max_line_bytes``. Whitespace-only lines are skipped;
    the last line needs no newline.
    """
    parts: list[bytes] = []
    pending = 0  # bytes of the unfinished line, in parts
    async for chunk in chunks:
        start = 0
        while (end := chunk.find(b"\n", start)) >= 0:
            if pending + end - start > max_line_bytes:
                raise LineTooLong
            line = b"".join((*parts, chunk[start:end])) if parts else chunk[start:end]
            parts, pending, start = [], 0, end + 1
            if line and not line.isspace():
                yield line
        if start < len(chunk):
            parts.append(chunk[start:] if start else chunk)
            pending += len(chunk) - start
            if pending > max_line_bytes:
                raise LineTooLong
    line = b"".join(parts)
    if line and not line.isspace():
        yield line


def error_line(row: int, loc: tuple[Any, ...], msg: str, type_: str) -> bytes:
    return (
        json.dumps({"error": {"type": type_, "loc": ["body", row, *loc], "msg": msg}}).encode()
        + b"\n"
    )


async def scored_lines(
    chunks: AsyncIterator[bytes],
    parse_row: Callable[[bytes], Row],
    score_chunk: Callable[[list[Row]], Awaitable[list[dict[str, Any]]]],
    *,
    chunk_rows: int,
    chunk_bytes: int,
    max_line_bytes: int,
) -> AsyncIterator[bytes]:
    """Parse each line with ``parse_row``, score the rows a chunk at a time with
    ``score_chunk`` (one output dict per row) and yield the answers as NDJSON lines.

    ``parse_row`` raises pydantic's ValidationError for a line that is not a row, and
    :class:`InvalidInput` (loc ``("body", field, ...)``) for one over a limit: either ends
    the stream with an error line naming the line's row, before its chunk is scored.
    """
    batch: list[Row] = []
    held = 0  # bytes of the batch's rows
    first = 0  # number of the batch's first row
    row = 0
    try:
        async for line in lines(chunks, max_line_bytes):
            try:
                if len(line) <= INLINE_LINE_BYTES:
                    parsed = parse_row(line)
                else:
                    parsed = await run_in_threadpool(parse_row, line)
            except ValidationError as error:
                e = error.errors(include_url=False)[0]
                yield error_line(row, e["loc"], e["msg"], e["type"])
                return
            except InvalidInput as error:
                yield error_line(row, error.loc[1:], error.msg, error.type)
                return
            batch.append(parsed)
            held += parsed.nbytes
            row += 1
            if len(batch) >= chunk_rows or held >= chunk_bytes:
                async for out in _answer(batch, first, score_chunk):
                    yield out
                first, batch, held = row, [], 0
        if batch:
            async for out in _answer(batch, first, score_chunk):
                yield out
    except LineTooLong:
        yield error_line(row, (), f"a line is longer than {max_line_bytes} bytes", "too_large")
    except _RowError as error:
        yield error.line


class _RowError(Exception):
    def __init__(self, line: bytes) -> None:
        self.line = line


# The checks count rows within the chunk they were given ("p sums to 1.2 in row 3, not 1",
# "got -1 at row 3, index 7"); the error line's loc names the stream's row, so the chunk's
# row is dropped from the message: "p sums to 1.2, not 1", "got -1 at index 7".
_CHUNK_ROW = re.compile(r" in row \d+|(?<=at )row \d+, ")


async def _answer(
    batch: list[Any],
    first: int,
    score_chunk: Callable[[list[Any]], Awaitable[list[dict[str, Any]]]],
) -> AsyncIterator[bytes]:
    try:
        answers = await score_chunk(batch)
    except InvalidInput as error:
        # The checks name the chunk's row (loc body, p, row, index); make it the stream's.
        field, *rest = error.loc[1:]
        row = first + rest[0] if rest and isinstance(rest[0], int) else first
        msg = _CHUNK_ROW.sub("", error.msg)
        raise _RowError(error_line(row, (field, *rest[1:]), msg, error.type)) from None
    yield b"".join(orjson.dumps(answer) + b"\n" for answer in answers)


class DuplexStreamingResponse(StreamingResponse):
    """A streaming answer sent while the request body is still arriving.

    Starlette's StreamingResponse listens for the client's disconnect by reading
    ``receive`` (below ASGI 2.4), which would swallow the body messages the stream is
    reading; this one only sends. A client gone mid-stream (the body's end never comes,
    or a send fails) is an ordinary event: one log line at INFO, no traceback.
    """

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await self.stream_response(send)
        except (ClientDisconnect, OSError):
            log.info("%s %s: the client went away mid-stream", scope["method"], scope["path"])
            return
        if self.background is not None:
            await self.background()
