"""Refuse request bodies the service will not read, before they are read into memory:
those over the configured size, and encoded ones.

A declared ``Content-Length`` over the limit is answered at once, before a byte of the
body is read; a body sent without a length (chunked) is counted as it arrives and cut off
as soon as it passes the limit (a body within its declared length is not counted: the
server hands the app no more than the declared length). Both answers are 413 in the
error shape of the application it guards (FastAPI's own ``max_body_size`` answers in plain
text, so it is not used). Sub-applications mounted under a path (the Open Inference
Protocol's, under ``/v2``) carry a limit of their own, in their own error shape: the
application's limit passes their requests to them.

A body with a ``Content-Encoding`` other than ``identity`` (gzip, br, ...) is answered 415
naming the encoding: bodies are read as sent, never decompressed (a decoded size could be
any multiple of the limit), and an encoded body taken for JSON would only get a misleading
"JSON decode error".
"""

from collections.abc import Callable, Sequence

from fastapi import HTTPException
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.web.asgi import header

# An error answer: the status and the message, in the guarded application's shape.
Answer = Callable[[int, str], Response]


def detail_answer(status: int, message: str) -> Response:
    """The service's shape of an error about the request as a whole: ``{"detail"}``."""
    return JSONResponse({"detail": message}, status)


def _too_large(size: str, limit: int) -> str:
    return f"Request body too large: {size} bytes, over the limit of {limit}"


def _encoded(encoding: bytes) -> str:
    name = encoding.decode("latin-1")[:40]
    return f"Content-Encoding {name!r} is not supported: send the body unencoded (identity)"


class BodySizeLimit:
    """Pure ASGI middleware: 413 for a request body longer than ``max_bytes``, 415 for an
    encoded one, answered by ``answer``; requests under the ``passes`` paths (mounted
    sub-applications, with limits of their own) are passed on as they are."""

    def __init__(
        self,
        app: ASGIApp,
        max_bytes: int,
        answer: Answer = detail_answer,
        passes: Sequence[str] = (),
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.answer = answer
        self.passes = tuple(passes)

    def _passed(self, path: str) -> bool:
        return any(path == prefix or path.startswith(prefix + "/") for prefix in self.passes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self._passed(scope["path"]):
            await self.app(scope, receive, send)
            return
        encoding = header(scope, b"content-encoding")
        if encoding is not None and encoding.strip().lower() not in (b"", b"identity"):
            await self.answer(415, _encoded(encoding))(scope, receive, send)
            return
        # NDJSON streams are read a chunk at a time (lines have their own limit).
        if scope["path"].endswith("/stream"):
            await self.app(scope, receive, send)
            return
        declared = header(scope, b"content-length") or b""
        if declared.isdigit():
            if int(declared) > self.max_bytes:
                message = _too_large(declared.decode(), self.max_bytes)
                await self.answer(413, message)(scope, receive, send)
                return
            if header(scope, b"transfer-encoding") is None:
                # The server hands the app at most the declared length: nothing to count.
                await self.app(scope, receive, send)
                return
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.max_bytes:
                # Raised inside the route's body reading, where FastAPI re-raises
                # HTTPExceptions to the app's handler (which answers in JSON).
                raise HTTPException(413, _too_large(f"more than {self.max_bytes}", self.max_bytes))
            return message

        await self.app(scope, counting_receive, send)
