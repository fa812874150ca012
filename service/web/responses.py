"""The error answers routes document in OpenAPI, in the shape of
:mod:`service.http.handlers`."""

from typing import Any

from pydantic import BaseModel

INTERNAL_ERROR = "Internal server error"  # all a client is told of an unexpected error


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
