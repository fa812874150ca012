"""Helpers for pure ASGI code, which runs on every request (kept cheap), and the scope
extension by which the server offers to read a body straight into a buffer."""

from collections.abc import Mapping
from typing import Any

# The key in the ASGI scope's "extensions" of ``async read_into(buffer) -> bool``: it fills
# ``buffer`` (writable, the length of the whole body) with the request's body straight
# from the socket and returns True; or returns False, having read nothing, where it cannot
# (a chunked body, a buffer not of the declared length, some of the body already received
# through ``receive``, the request already read or gone): the app then reads the body
# through ``receive`` as usual.
READ_BODY_INTO = "divergence.read_body_into"


def header(scope: Mapping[str, Any], name: bytes) -> bytes | None:
    """The first value of the request header ``name`` (lower case, as ASGI servers give
    names) in an ASGI ``scope``, or None when the request has none.

    A scan of the raw header list: a fraction of the cost of building a
    ``starlette.datastructures.Headers`` for one look-up.
    """
    for key, value in scope["headers"]:
        if key == name:
            value_: bytes = value
            return value_
    return None


def media_type(content_type: str | None) -> str:
    """The media type of a ``Content-Type`` value, lower case, without its parameters
    (``"application/x-ndjson; charset=utf-8"`` is ``"application/x-ndjson"``); ``""`` for
    none. Compared whole: ``application/x-ndjsonfoo`` is not NDJSON."""
    return (content_type or "").split(";", 1)[0].strip().lower()
