"""Newline-delimited JSON streams: rows in, results out as they are computed.

A stream is read a chunk of rows at a time (``chunk_rows``), so memory is bounded by a
chunk and a line, not by the stream. Each input line is one JSON object (``{"p": [...],
"q": [...]}``); each output line answers one input row, in order. Lines longer than
``max_line_bytes`` and rows that break the numerics contract end the stream with one
``{"error": {...}}`` line whose ``loc`` starts with the row's number (0-based): the rows
before it have been answered already.
"""

import json
import re
from collections.abc import AsyncIterator, Callable
from typing import Any, TypeVar

import orjson
from pydantic import BaseModel, ValidationError
from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from service.errors import InvalidInput

NDJSON = "application/x-ndjson"
Row = TypeVar("Row", bound=BaseModel)


class LineTooLong(Exception):
    pass


async def lines(chunks: AsyncIterator[bytes], max_line_bytes: int) -> AsyncIterator[bytes]:
    """The non-empty lines of a byte stream, whatever the chunks' boundaries."""
    pending = b""
    async for chunk in chunks:
        pending += chunk
        *complete, pending = pending.split(b"\n")
        for line in complete:
            if line.strip():
                yield line
        if len(pending) > max_line_bytes:
            raise LineTooLong
    if pending.strip():
        yield pending


def error_line(row: int, loc: tuple[Any, ...], msg: str, type_: str) -> bytes:
    return (
        json.dumps({"error": {"type": type_, "loc": ["body", row, *loc], "msg": msg}}).encode()
        + b"\n"
    )


async def scored_lines(
    chunks: AsyncIterator[bytes],
    row_model: type[Row],
    score_chunk: Callable[[list[Row]], Any],
    *,
    chunk_rows: int,
    max_line_bytes: int,
) -> AsyncIterator[bytes]:
    """Parse rows, score them ``chunk_rows`` at a time with ``score_chunk`` (awaitable,
    returning one output dict per row), and yield the answers as NDJSON lines."""
    batch: list[Row] = []
    first = 0  # number of the batch's first row
    row = 0
    try:
        async for line in lines(chunks, max_line_bytes):
            try:
                batch.append(row_model.model_validate_json(line))
            except ValidationError as error:
                e = error.errors(include_url=False)[0]
                yield error_line(row, e["loc"], e["msg"], e["type"])
                return
            row += 1
            if len(batch) == chunk_rows:
                async for out in _answer(batch, first, score_chunk):
                    yield out
                first, batch = row, []
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


async def _answer(
    batch: list[Any], first: int, score_chunk: Callable[[list[Any]], Any]
) -> AsyncIterator[bytes]:
    try:
        answers = await score_chunk(batch)
    except InvalidInput as error:
        # The checks name the chunk's row (loc body, p, row, index); make it the stream's.
        field, *rest = error.loc[1:]
        row = first + rest[0] if rest and isinstance(rest[0], int) else first
        # The message's own "row N" counts within the chunk; the loc says the stream's row.
        msg = re.sub(r" ?(at|in) row \d+,?", " at", error.msg).replace(" at at ", " at ")
        raise _RowError(error_line(row, (field, *rest[1:]), msg, error.type)) from None
    yield b"".join(orjson.dumps(answer) + b"\n" for answer in answers)


class DuplexStreamingResponse(StreamingResponse):
    """A streaming answer sent while the request body is still arriving.

    Starlette's StreamingResponse listens for the client's disconnect by reading
    ``receive`` (below ASGI 2.4), which would swallow the body messages the stream is
    reading; this one only sends, and a gone client shows as a failed send.
    """

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await self.stream_response(send)
        except OSError:
            return
        if self.background is not None:
            await self.background()
