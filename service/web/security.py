"""API keys and who a client is.

Keys come in ``Authorization: Bearer <key>`` or ``X-API-Key: <key>``; they are compared in
constant time against every configured key and are never logged or stored (a client is
known by a hash of its key, or by its address when it sends none).
"""

import hashlib
import hmac

from fastapi import Request

from service.core.config import Settings
from service.core.errors import Unauthorized


def presented_key(request: Request) -> str | None:
    """The key the request carries, if any."""
    authorization = request.headers.get("authorization", "")
    scheme, _, credentials = authorization.partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        return credentials.strip()
    return request.headers.get("x-api-key") or None


def _is_known(key: str, keys: list[str]) -> bool:
    known = False
    for candidate in keys:  # every key compared, so the time says nothing about which
        known |= hmac.compare_digest(key.encode(), candidate.encode())
    return known


def check_api_key(request: Request, settings: Settings) -> None:
    """Raise :class:`Unauthorized` when keys are configured and none of them was sent."""
    keys = settings.api_key_list
    if not keys:
        return
    key = presented_key(request)
    if key is None:
        raise Unauthorized(
            "an API key is required: send Authorization: Bearer <key> or X-API-Key: <key>"
        )
    if not _is_known(key, keys):
        raise Unauthorized("the API key is not valid")


def client_identity(request: Request) -> str:
    """A stable, non-secret name for the client: a hash of its key, else its address."""
    key = presented_key(request)
    if key is not None:
        return "key:" + hashlib.sha256(key.encode()).hexdigest()[:16]
    host = request.client.host if request.client else "unknown"
    return f"ip:{host}"
