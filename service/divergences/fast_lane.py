"""The hot path: ``POST /kl`` with a small JSON body, answered without FastAPI's machinery.

For two short vectors the KL itself takes microseconds; FastAPI's per-request work
(its middleware, routing, dependency solving, response validation and encoding) costs
several times that. The lane answers the common case itself, with the route's own request
model, scoring function (:func:`service.divergences.routes.kl_answer`) and answer model:

- ``POST /kl``, ``Content-Type: application/json``, a declared ``Content-Length`` of at
  most :data:`MAX_BYTES`, no API key required on the divergence endpoints, and the fast
  paths on (``DIVERGENCE_FAST_PATHS``, true by default; off, the route answers everything);
  a body asking for terms or top goes to the route.

Every other request goes to the full application untouched. So does every request the
lane cannot answer with 200 (a body that fails validation or breaks the numerics
contract, or anything unexpected), with its body replayed: the full route then answers
it, so errors come from one place in one format, and the lane never answers differently
from the route. The lane is the innermost middleware: its requests pass CORS, the request
observer (request ids, metrics, access log) and the body limit like any other.
"""

from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.divergences.inputs import Limits
from service.divergences.routes import kl_answer
from service.divergences.schemas import KLRequest

PATH = "/kl"
MAX_BYTES = 64 * 1024


def _takes(scope: Scope) -> bool:
    """Whether ``scope`` is a request the lane answers (its body still unread)."""
    if scope["type"] != "http" or scope["path"] != PATH or scope["method"] != "POST":
        return False
    json_body = small = False
    for name, value in scope["headers"]:
        if name == b"content-type":
            json_body = value == b"application/json" or value.startswith(b"application/json;")
        elif name == b"content-length":
            small = value.isdigit() and int(value) <= MAX_BYTES
        elif name == b"transfer-encoding":
            return False
    return json_body and small


def _answer(body: bytes, limits: Limits) -> bytes | None:
    """The JSON answer to ``body``, or None where the full route must answer."""
    try:
        request = KLRequest.model_validate_json(body)
        if request.terms or request.top is not None:
            return None  # the full route answers terms
        return kl_answer(request, limits).model_dump_json(exclude_unset=True).encode()
    except Exception:
        return None


class KLFastLane:
    """Pure ASGI: answers the common ``POST /kl`` itself, passes everything else to ``app``."""

    def __init__(self, app: ASGIApp, limits: Limits, route: Any, enabled: bool = True) -> None:
        self.app = app
        self.limits = limits
        self.route = route  # the /kl route, for the metrics' route label
        self.enabled = enabled

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not (self.enabled and _takes(scope)):
            await self.app(scope, receive, send)
            return
        received: list[Message] = []
        more = True
        while more:
            message = await receive()
            received.append(message)
            more = message["type"] == "http.request" and message.get("more_body", False)
        body = b"".join(m.get("body", b"") for m in received)
        answer = _answer(body, self.limits) if received[-1]["type"] == "http.request" else None
        if answer is None:
            await self.app(scope, _replay(received, receive), send)
            return
        scope["route"] = self.route
        headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(answer))]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": answer})


def _replay(messages: list[Message], receive: Receive) -> Receive:
    """A ``receive`` that gives ``messages`` again, then what ``receive`` gives."""
    pending = list(messages)

    async def replayed() -> Message:
        return pending.pop(0) if pending else await receive()

    return replayed
