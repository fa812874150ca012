"""Request ids, JSON logs, and the Prometheus metrics of every request.

One pure-ASGI middleware does the per-request work (cheap enough for the /kl hot path):
it takes the client's ``X-Request-ID`` or makes one, returns it in the response header,
makes it visible to every log line written while the request runs, counts and times the
request by route template and status, and queues one JSON access-log line
(:mod:`service.http.access_log` writes them in batches).
"""

import functools
import itertools
import logging
import secrets
import time
from contextvars import ContextVar
from typing import Any

import orjson
from prometheus_client import Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.http.access_log import ACCESS_LOG
from service.web.asgi import header
from service.web.responses import INTERNAL_ERROR

log = logging.getLogger(__name__)

REQUEST_ID: ContextVar[str] = ContextVar("request_id", default="-")
REQUEST_ID_HEADER = b"x-request-id"

REQUESTS = Counter("http_requests_total", "HTTP requests answered", ["method", "route", "status"])
LATENCY = Histogram(
    "http_request_duration_seconds",
    "Time to answer an HTTP request",
    ["method", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)

# The JSON lines carry no thread or process names: spare every record the work of finding
# them (the Logging HOWTO's "Optimization"). The caller's file and line are still looked up
# (about 2 µs a record): the only switch for that is the private ``logging._srcfile``, and
# no request logs a record on its way (the access log is not a logging record).
logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False


# Request ids: a random prefix per process and a counter (unique without a system call
# per request, as uuid4 would make).
_ID_PREFIX = secrets.token_hex(8)
_ID_NUMBERS = itertools.count(1)


def new_request_id() -> str:
    """A request id unique across processes and restarts: 16 random hex digits, a counter."""
    return f"{_ID_PREFIX}{next(_ID_NUMBERS):016x}"


@functools.lru_cache(maxsize=1024)
def _series(method: str, route: str, status: int) -> tuple[Counter, Histogram]:
    """The request counter and latency histogram of one method, route and status."""
    return REQUESTS.labels(method, route, str(status)), LATENCY.labels(method, route)


class RequestIdFilter(logging.Filter):
    """Adds the current request's id to every log record (``-`` outside requests)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = REQUEST_ID.get()
        return True


def log_config(level: str) -> dict[str, Any]:
    """``logging.config.dictConfig`` for uvicorn and the service: one JSON object a line."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": RequestIdFilter}},
        "formatters": {
            "json": {
                # orjson: log lines are formatted on the event loop, as fast as it goes.
                "()": "pythonjsonlogger.orjson.OrjsonFormatter",
                "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
                "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
            }
        },
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "filters": ["request_id"],
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"handlers": ["stderr"], "level": level.upper()},
        "loggers": {
            "uvicorn": {"handlers": [], "level": level.upper(), "propagate": True},
            # The middleware keeps the access log (service.http.access_log), with the
            # request id and the route.
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
        },
    }


def _route(scope: Scope) -> str:
    route = scope.get("route")
    return getattr(route, "path", None) or "unmatched"


class RequestObserver:
    """Pure ASGI middleware: request id, metrics and the access log of each request.

    An exception no handler took is logged here, with the request's id, and answered 500
    (with the id too) in the service's error shape; a sub-application (the Open Inference
    Protocol's) has answered it in its own shape already. Where the answer had begun, it is
    cut short (the server closes the connection of an unfinished answer)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = (header(scope, REQUEST_ID_HEADER) or b"").decode("latin-1")
        request_id = given if 0 < len(given) <= 128 and given.isprintable() else new_request_id()
        token = REQUEST_ID.set(request_id)
        started = time.perf_counter()
        status = 500
        started_answer = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, started_answer
            if message["type"] == "http.response.start":
                status, started_answer = message["status"], True
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (REQUEST_ID_HEADER, request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            log.exception("unexpected error answering %s %s", scope["method"], scope["path"])
            if not started_answer:
                await _send_internal_error(send_with_id)
        finally:
            seconds = time.perf_counter() - started
            route, method = _route(scope), scope["method"]
            requests, latency = _series(method, route, status)
            requests.inc()
            latency.observe(seconds)
            REQUEST_ID.reset(token)
            client = (scope.get("client") or ("-",))[0]
            ACCESS_LOG.add(
                (time.time(), request_id, method, scope["path"], status, route, seconds, client)
            )


async def _send_internal_error(send: Send) -> None:
    body = orjson.dumps({"detail": INTERNAL_ERROR})
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    await send({"type": "http.response.start", "status": 500, "headers": headers})
    await send({"type": "http.response.body", "body": body})
