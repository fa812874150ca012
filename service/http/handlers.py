"""The handlers that turn the service's exceptions into one error shape.

Every client error is answered as FastAPI answers a 422: ``{"detail": [{"type", "loc",
"msg", ...}]}`` where ``loc`` names the place in the request (``["body", "p", 3]``), or
``{"detail": "<reason>"}`` for errors about the request as a whole (404, 413, 415). The app
factory registers them (:func:`install_error_handlers`); the Open Inference Protocol's
sub-application has handlers of its own, in its shape.
"""

import math
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from redis.exceptions import ConnectionError as RedisConnectionError
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from starlette.exceptions import HTTPException as StarletteHTTPException

from service.core.errors import (
    Conflict,
    InvalidInput,
    NotFound,
    TooManyRequests,
    Unauthorized,
    Unavailable,
    UnsupportedMediaType,
)
from service.web.responses import INTERNAL_ERROR

# A hostile body can hold millions of bad elements; the answer names the first ones.
MAX_REPORTED_ERRORS = 20


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


async def _unauthorized(request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse({"detail": str(exc)}, 401, headers={"WWW-Authenticate": "Bearer"})


async def _too_many(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, TooManyRequests)
    return JSONResponse({"detail": str(exc)}, 429, headers={"Retry-After": str(exc.retry_after)})


async def _unavailable(request: Request, exc: Exception) -> JSONResponse:
    what = "database" if isinstance(exc, SQLAlchemyError) else "queue"
    reason = (
        str(exc)
        if isinstance(exc, Unavailable)
        else (f"the {what} is unreachable ({type(exc).__name__}); try again shortly")
    )
    return JSONResponse({"detail": reason}, 503, headers={"Retry-After": "5"})


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    # Only for errors outside the request observer, which answers (and logs) the others
    # with the request's id. The traceback goes to the log, never to the client.
    return JSONResponse({"detail": INTERNAL_ERROR}, 500)


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
