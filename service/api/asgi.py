"""Helpers for the pure ASGI middleware, which runs on every request (kept cheap)."""

from collections.abc import Mapping
from typing import Any


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
