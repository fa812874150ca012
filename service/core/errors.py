"""The service's exceptions: what went wrong, in the domain's terms.

Raised by the domains and answered by the HTTP layer's handlers
(:mod:`service.http.handlers`), which give each its status and the one error shape.
"""

from collections.abc import Sequence
from typing import Any

Loc = tuple[str | int, ...]


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


class Unauthorized(Exception):
    """No valid API key (answered with 401)."""


class TooManyRequests(Exception):
    """A client is over a limit (answered with 429 and Retry-After)."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Unavailable(Exception):
    """A dependency (job database, queue) cannot be reached (answered with 503)."""
