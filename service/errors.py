"""Domain exceptions, and the handlers that turn them into one error shape.

Every client error is answered as FastAPI answers a 422: ``{"detail": [{"type", "loc",
"msg", ...}]}`` where ``loc`` names the place in the request (``["body", "p", 3]``), or
``{"detail": "<reason>"}`` for errors about the request as a whole (404, 413, 415).
"""

import math
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from redis.exceptions import ConnectionError as RedisConnectionError
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from starlette.exceptions import HTTPException as StarletteHTTPException

Loc = tuple[str | int, ...]

# A hostile body can hold millions of bad elements; the answer names the first ones.
MAX_REPORTED_ERRORS = 20


class InvalidInput(Exception):
    """A value in the request breaks the numerics contract (answered with 422)."""

    status_code = 422

    def __init__(self, loc: Loc, msg: str, type: str = "value_error") -> None:
        super().__init__(msg)
        self.loc = loc
        self.msg = msg
        self.type = type

    def as_detail(self) -> dict[str, Any]:
        return {"type": self.type, "loc": list(self.loc), "msg": self.msg}


class InputTooLarge(InvalidInput):
    """A vector or batch is over a configured limit (answered with 413)."""

    status_code = 413

    def __init__(self, loc: Loc, msg: str) -> None:
        super().__init__(loc, msg, "too_large")


class UnsupportedMediaType(Exception):
    """The body is not in a format the endpoint reads (answered with 415)."""

    def __init__(self, content_type: str | None, accepted: Sequence[str]) -> None:
        got = content_type or "no Content-Type"
        super().__init__(f"Unsupported Content-Type {got!r}; send one of: {', '.join(accepted)}")


class NotFound(Exception):
    """No such resource (answered with 404)."""


class Conflict(Exception):
    """The resource is in a state that forbids the request (answered with 409)."""


def _public_error(error: dict[str, Any]) -> dict[str, Any]:
    """Pydantic's error without the parts that can be huge or not JSON (input, url, ctx)."""
    public = {"type": error["type"], "loc": list(error["loc"]), "msg": error["msg"]}
    if error["type"] == "json_invalid":
        public["msg"] += f": {error.get('ctx', {}).get('error', 'not valid JSON')}"
    value = error.get("input")
    # JSON has no NaN or Infinity: a non-finite input is not echoed (msg says what it was).
    finite = not isinstance(value, float) or math.isfinite(value)
    small = isinstance(value, int | float | bool | None) and (
        not isinstance(value, int) or abs(value) < 10**15
    )
    if (small and finite) or (isinstance(value, str) and len(value) < 80):
        public["input"] = value
    return public


def _detail_response(status_code: int, detail: object) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status_code)


async def _invalid_input(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, InvalidInput)
    return _detail_response(exc.status_code, [exc.as_detail()])


async def _request_validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [_public_error(e) for e in exc.errors()[:MAX_REPORTED_ERRORS]]
    return _detail_response(422, errors)


async def _unsupported_media_type(request: Request, exc: Exception) -> JSONResponse:
    return _detail_response(415, str(exc))


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    return JSONResponse({"detail": exc.detail}, exc.status_code, headers=exc.headers)


async def _not_found(request: Request, exc: Exception) -> JSONResponse:
    return _detail_response(404, str(exc))


async def _conflict(request: Request, exc: Exception) -> JSONResponse:
    return _detail_response(409, str(exc))


class Unauthorized(Exception):
    """No valid API key (answered with 401)."""


class TooManyRequests(Exception):
    """A client is over a limit (answered with 429 and Retry-After)."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


async def _unauthorized(request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse({"detail": str(exc)}, 401, headers={"WWW-Authenticate": "Bearer"})


async def _too_many(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, TooManyRequests)
    return JSONResponse({"detail": str(exc)}, 429, headers={"Retry-After": str(exc.retry_after)})


class Unavailable(Exception):
    """A dependency (job database, queue) cannot be reached (answered with 503)."""


async def _unavailable(request: Request, exc: Exception) -> JSONResponse:
    what = "job database" if isinstance(exc, SQLAlchemyError) else "queue"
    reason = (
        str(exc)
        if isinstance(exc, Unavailable)
        else (f"the {what} is unreachable ({type(exc).__name__}); try again shortly")
    )
    return JSONResponse({"detail": reason}, 503, headers={"Retry-After": "5"})


# The Open Inference Protocol's routes (service/interop/v2.py) answer every error, a 500
# too, in V2's shape.
V2_PREFIX = "/v2"


def error_body(path: str, message: str) -> dict[str, str]:
    """The body of an error about the request as a whole, answered before or outside its
    route: V2's ``{"error"}`` on V2's routes, ``{"detail"}`` elsewhere."""
    key = "error" if path == V2_PREFIX or path.startswith(V2_PREFIX + "/") else "detail"
    return {key: message}


INTERNAL_ERROR = "Internal server error"


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    # Only for errors outside the request observer, which answers (and logs) the others
    # with the request's id. The traceback goes to the log, never to the client.
    return JSONResponse(error_body(request.url.path, INTERNAL_ERROR), 500)


def install_error_handlers(app: FastAPI) -> None:
    """Map every domain exception to its status and the one error shape."""
    app.add_exception_handler(InvalidInput, _invalid_input)
    app.add_exception_handler(RequestValidationError, _request_validation)
    app.add_exception_handler(UnsupportedMediaType, _unsupported_media_type)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(NotFound, _not_found)
    app.add_exception_handler(Conflict, _conflict)
    app.add_exception_handler(Unauthorized, _unauthorized)
    app.add_exception_handler(TooManyRequests, _too_many)
    for unavailable in (Unavailable, OperationalError, RedisConnectionError):
        app.add_exception_handler(unavailable, _unavailable)
    app.add_exception_handler(Exception, _unexpected)


class ErrorItem(BaseModel):
    """One thing wrong with the request, and where (``["body", "p", 3]``)."""

    type: str
    loc: list[str | int]
    msg: str
    input: Any = None


class ValidationErrorBody(BaseModel):
    detail: list[ErrorItem]


class MessageErrorBody(BaseModel):
    detail: str | list[ErrorItem]


BODY_ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    413: {"model": MessageErrorBody, "description": "Body, vector or batch over a limit"},
    415: {"model": MessageErrorBody, "description": "Body is not JSON"},
    422: {"model": ValidationErrorBody, "description": "Invalid values; loc says where"},
}
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": MessageErrorBody, "description": "No such job"}
}
UNAUTHORIZED: dict[int | str, dict[str, Any]] = {
    401: {"model": MessageErrorBody, "description": "API key missing or not valid"}
}
TOO_MANY: dict[int | str, dict[str, Any]] = {
    429: {"model": MessageErrorBody, "description": "Over the client's job limits"}
}
UNAVAILABLE: dict[int | str, dict[str, Any]] = {
    503: {"model": MessageErrorBody, "description": "Job database or queue unreachable"}
}


def _json_error(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/MessageErrorBody"}}
        },
    }


# For routes whose own answers are not JSON (the HTML report, the PNG curves): their errors
# still are, and a model would be documented in the route's media type.
JSON_ERRORS_OF_NON_JSON_ROUTES: dict[int | str, dict[str, Any]] = {
    401: _json_error("API key missing or not valid"),
    404: _json_error("No such job"),
    503: _json_error("Job database or queue unreachable"),
}
