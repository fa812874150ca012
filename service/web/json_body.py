"""A route class that parses JSON bodies with pydantic's own parser, in one pass.

FastAPI reads a JSON body with the standard library's ``json`` and then validates the
Python objects; for a batch of a million numbers that costs several times the parse
itself. Routes of :class:`ModelBodyRoute` hand the raw bytes to
``Model.model_validate_json`` (a Rust parser that builds the model directly), and run that
in a worker thread for large bodies so the event loop keeps serving. When the body is
invalid they hand FastAPI the parsed JSON instead, so its usual 422 errors, with their
``loc``, are reported exactly as for any other route. Bodies that are not JSON get 415.
"""

import email.message
import json
import re
from collections.abc import Callable, Coroutine
from typing import Any, Self, TypeVar

import numpy as np
import pydantic_core
from anyio import to_thread
from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import BaseModel, ValidationError
from starlette.types import Receive, Scope

from service.core.errors import UnsupportedMediaType
from service.web.asgi import READ_BODY_INTO, media_type
from service.web.responses import BODY_ERROR_RESPONSES

# Bodies larger than this are parsed off the event loop, and read into numpy's memory.
_THREAD_THRESHOLD_BYTES = 1 << 20

Body = bytes | bytearray | memoryview
# A reader of a body in another media type into the route's model, given the query's
# parameters (run in a worker thread), and a faster reader of a JSON body into the model's
# values (None where it cannot read this body: pydantic's parser then does).
BodyReader = Callable[[type[BaseModel], Body, dict[str, str]], BaseModel]
JSONReader = Callable[[type[BaseModel], Body], Any | None]


def _is_json(content_type: str | None) -> bool:
    if content_type is None:
        return False
    message = email.message.Message()
    message["content-type"] = content_type
    subtype = message.get_content_subtype()
    return message.get_content_maintype() == "application" and (
        subtype == "json" or subtype.endswith("+json")
    )


def _parse(model: type[BaseModel], body: Body, fast: tuple[JSONReader, ...] = ()) -> Any:
    for reader in fast:
        if (read := reader(model, body)) is not None:
            return read
    if isinstance(body, memoryview):
        body = body.tobytes()  # pydantic's parser takes bytes, not buffers
    try:
        return model.model_validate_json(body)
    except ValidationError:
        pass  # FastAPI validates the parsed JSON again and reports the errors.
    try:
        return pydantic_core.from_json(body, allow_inf_nan=True)
    except ValueError as error:
        raise _decode_error(str(error), body) from None


def _decode_error(message: str, body: bytes | bytearray) -> json.JSONDecodeError:
    """jiter's "... at line L column C" as a JSONDecodeError whose ``pos`` is the offset."""
    text = body.decode("utf-8", "replace")
    found = re.search(r"line (\d+) column (\d+)", message)
    pos = 0
    if found:
        line, column = int(found[1]), int(found[2])
        pos = sum(len(row) + 1 for row in text.split("\n", line - 1)[: line - 1]) + column - 1
    return json.JSONDecodeError(message, text, pos)


def _buffer(size: int) -> bytearray | memoryview:
    """A writable buffer of ``size`` bytes, its memory not yet touched when it is large.

    ``bytearray(size)`` writes zeros over all of it first: for 150 MB about 80 ms of page
    faults here, five times the copy that fills it. numpy's ``empty`` leaves the memory
    untouched (and asks Linux for huge pages), so it is faulted in once, by the copy.
    """
    if size < _THREAD_THRESHOLD_BYTES:
        return bytearray(size)
    return np.empty(size, dtype=np.uint8).data


async def read_body(request: Request) -> Body:
    """The whole body, in one buffer sized by ``Content-Length`` where there is one: a
    ``memoryview`` from 1 MiB up (pydantic's parser needs ``bytes`` of it), a ``bytearray``
    below, ``bytes`` for a chunked body.

    Starlette's ``Request.body()`` keeps every chunk and then joins them: twice the body
    in memory at the peak, which matters for batches of hundreds of megabytes. It reads
    the body once: callers keep what it returns (:class:`_ModelJSONRequest` does).
    """
    length = request.headers.get("content-length", "")
    if length.isdigit():
        body: Body = _buffer(int(length))
        with memoryview(body) as view:
            read_into = request.scope.get("extensions", {}).get(READ_BODY_INTO)
            if not (len(view) >= _THREAD_THRESHOLD_BYTES and read_into and await read_into(view)):
                filled = 0
                async for chunk in request.stream():
                    view[filled : filled + len(chunk)] = chunk
                    filled += len(chunk)
    else:  # chunked: the length is known at the end only
        body = b"".join([chunk async for chunk in request.stream()])
    return body


_UNREAD: Any = object()


class _ModelJSONRequest(Request):
    """A request whose ``body()`` and ``json()`` (FastAPI's two reads of a JSON body) are
    the service's: one buffer, parsed by pydantic. It keeps both in attributes of its own,
    not in Starlette's private ``_body`` and ``_json``; ``given`` makes one whose body was
    read and parsed already (an Arrow stream, read into the route's model)."""

    model: type[BaseModel]
    fast: tuple[JSONReader, ...]  # tried before pydantic's parser (a tuple: not a method)
    _service_body: Body | None = None
    _service_json: Any = _UNREAD

    @classmethod
    def given(cls, scope: Scope, receive: Receive, body: Body, parsed: Any) -> Self:
        request = cls(scope, receive)
        request._service_body, request._service_json = body, parsed
        return request

    async def body(self) -> bytes:
        if self._service_body is None:
            self._service_body = await read_body(self)
        return self._service_body  # type: ignore[return-value]  # a buffer, read as bytes are

    async def json(self) -> Any:
        if self._service_json is _UNREAD:
            body = await self.body()
            if len(body) > _THREAD_THRESHOLD_BYTES:
                self._service_json = await to_thread.run_sync(_parse, self.model, body, self.fast)
            else:
                self._service_json = _parse(self.model, body, self.fast)
        return self._service_json


def _query_value(text: str) -> Any:
    try:
        return json.loads(text)  # 2, 1e-7, true ...
    except ValueError:
        return text  # e, keras ...


Model = TypeVar("Model", bound=BaseModel)


def options_from_query(model: type[Model], query: dict[str, str], **placeholders: Any) -> Model:
    """``model`` validated from query parameters (``?base=2&normalize=true``), for bodies
    that are not JSON; ``placeholders`` fill the fields the body brings. Errors name
    ``["query", <parameter>]``."""
    options = {name: _query_value(value) for name, value in query.items()}
    try:
        return model.model_validate({**options, **placeholders})
    except ValidationError as error:
        raise RequestValidationError(
            [{**e, "loc": ("query", *e["loc"])} for e in error.errors(include_url=False)]
        ) from None


class ModelBodyRoute(APIRoute):
    """An APIRoute whose single pydantic body is parsed by pydantic from the raw bytes.

    Routes with a body also document the answers every body can get: 413, 415 and 422.
    Subclasses add media types (:meth:`readers`) and a faster JSON reader
    (:meth:`json_reader`) for the routes that want them.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.body_field is not None:
            self.responses = {**BODY_ERROR_RESPONSES, **self.responses}

    def readers(self) -> dict[str, BodyReader]:
        """The media types other than JSON this route reads into its model: none."""
        return {}

    def json_reader(self) -> JSONReader | None:
        """A reader tried before pydantic's parser on this route's JSON bodies: none."""
        return None

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        body = self.body_field
        model = body.field_info.annotation if body is not None else None
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            return handler
        fast = self.json_reader()
        json_request: type[_ModelJSONRequest] = type(
            f"{model.__name__}JSONRequest",
            (_ModelJSONRequest,),
            {"model": model, "fast": (fast,) if fast else ()},
        )
        readers = self.readers()
        accepted = ["application/json", *readers]

        async def route_handler(request: Request) -> Response:
            content_type = request.headers.get("content-type")
            if _is_json(content_type):
                return await handler(json_request(request.scope, request.receive))
            reader = readers.get(media_type(content_type))
            if reader is None:
                raise UnsupportedMediaType(content_type, accepted)
            body = await read_body(request)
            query = dict(request.query_params)
            parsed = await to_thread.run_sync(reader, model, body, query)
            # FastAPI reads a body it takes for JSON through request.json(): this request
            # answers that call with the model already read from the body.
            headers = [(k, v) for k, v in request.scope["headers"] if k != b"content-type"]
            scope = {**request.scope, "headers": [*headers, (b"content-type", b"application/json")]}
            return await handler(json_request.given(scope, request.receive, body, parsed))

        return route_handler
