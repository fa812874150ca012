"""The Open Inference Protocol's sub-application: the routes of :mod:`.v2`, and handlers
that answer every error, a 500 too, in V2's shape ``{"error": "<message>"}``."""

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException as StarletteHTTPException

from service.core.config import Settings
from service.core.errors import InvalidInput, Unauthorized
from service.divergences.inputs import Limits
from service.interop.v2 import V2Failure, router
from service.interop.v2_tensors import TensorError
from service.web.responses import INTERNAL_ERROR

# Messages quote request values briefly (v2_quoting); this bounds any that would not.
MAX_MESSAGE_CHARACTERS = 1000


def error(status: int, message: str) -> JSONResponse:
    """A V2 error answer: ``{"error": message}``, cut short where it is long."""
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    if len(message) > MAX_MESSAGE_CHARACTERS:
        message = f"{message[:MAX_MESSAGE_CHARACTERS]}... (cut short)"
    return JSONResponse({"error": message}, status, headers=headers)


def _message(invalid: InvalidInput) -> str:
    """The service's message, naming the V2 input (P or Q) it is about."""
    field = invalid.loc[1] if len(invalid.loc) > 1 else None
    if field in ("p", "q"):
        return f"input {str(field).upper()!r}: {invalid.msg}"
    return invalid.msg


async def _failure(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, V2Failure)
    return error(exc.status, str(exc))


async def _bad_tensors(request: Request, exc: Exception) -> Response:
    return error(400, str(exc))


async def _invalid_input(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, InvalidInput)
    return error(413 if exc.status_code == 413 else 400, _message(exc))


async def _unauthorized(request: Request, exc: Exception) -> Response:
    return error(401, str(exc))


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)  # an unknown path, a method, a body limit
    answer = error(exc.status_code, str(exc.detail))
    answer.headers.update(exc.headers or {})
    return answer


async def _request_validation(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    first = exc.errors()[0]
    return error(400, f"{'/'.join(map(str, first['loc']))}: {first['msg']}")


async def _unexpected(request: Request, exc: Exception) -> Response:
    # The traceback goes to the log (the service's request observer), never to the client.
    return error(500, INTERNAL_ERROR)


def create_app(settings: Settings, limits: Limits) -> FastAPI:
    """The V2 sub-application: its routes under ``/v2``, every error in V2's shape.

    It is served under the service's app (its requests pass the service's middleware) and
    its routes are documented in the service's OpenAPI; the app factory gives it a body
    limit of its own, answered by :func:`error`."""
    app = FastAPI(
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
        generate_unique_id_function=_operation_id,
    )
    app.state.settings, app.state.limits = settings, limits
    app.include_router(router)
    app.add_exception_handler(V2Failure, _failure)
    app.add_exception_handler(TensorError, _bad_tensors)
    app.add_exception_handler(InvalidInput, _invalid_input)
    app.add_exception_handler(Unauthorized, _unauthorized)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _request_validation)
    app.add_exception_handler(Exception, _unexpected)
    return app


def _operation_id(route: APIRoute) -> str:
    return route.name
