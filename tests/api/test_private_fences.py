"""Fences: where the service relies on a library's internals, a test that fails, naming the
library and what to check, as soon as an upgrade changes them (docs/private-internals.md).

uvicorn's and httptools' internals are fenced in tests/api/test_http_protocol.py, and
TensorFlow's in tests/divergences/test_tensorflow_private_api.py."""

import asyncio
import signal
import threading
from collections.abc import Callable, Coroutine
from typing import Any

import fastapi
import httpx
import huey
from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.routing import APIRoute
from huey.consumer import Consumer
from pydantic import BaseModel

from service.jobs.worker import _QuietConsumer
from service.web.json_body import _ModelJSONRequest


class _Item(BaseModel):
    x: int


class _GivenRoute(APIRoute):
    """Hands FastAPI a request whose body is not JSON and whose ``json()`` is an _Item,
    as the service's Arrow path does (service/web/json_body.py)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        given = type("ItemJSONRequest", (_ModelJSONRequest,), {"model": _Item, "arrays": False})

        async def route_handler(request: Request) -> Response:
            parsed = _Item(x=7)
            return await handler(given.given(request.scope, request.receive, b"\xff", parsed))

        return route_handler


def test_fastapi_reads_a_json_body_through_the_requests_body_and_json_methods() -> None:
    router = APIRouter(route_class=_GivenRoute)

    @router.post("/item")
    def item(body: _Item) -> _Item:
        return body

    app = FastAPI()
    app.include_router(router)

    async def post() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://fence") as client:
            return await client.post("/item", json={"x": 1})

    answer = asyncio.run(post())
    assert answer.status_code == 200 and answer.json() == {"x": 7}, (
        f"FastAPI {fastapi.__version__} no longer reads a JSON body through the request's "
        "body() and json() (answered "
        f"{answer.status_code} {answer.text[:200]}): check how fastapi/routing.py's "
        "get_request_handler reads the body; service/web/json_body.py's ModelBodyRoute "
        "(pydantic's parser, Arrow bodies) depends on it. pyproject.toml bounds fastapi."
    )


_SIGNALS = [signal.SIGTERM, signal.SIGINT, signal.SIGHUP]


def _quiet_consumer(name: str) -> Consumer:
    return _QuietConsumer(
        huey.MemoryHuey(name),
        workers=1,
        worker_type="thread",
        periodic=False,
        check_worker_health=False,
        max_delay=0.1,
    )


def _changed(what: str) -> str:
    return (
        f"huey {huey.__version__} changed how its consumer installs signal handlers ({what}): "
        "service/jobs/worker.py's _QuietConsumer overrides Consumer._set_signal_handlers so "
        "that uvicorn (or the worker command) keeps SIGTERM and SIGINT, and so that the "
        "consumer can start off the main thread (the jobs connector retries there); check "
        "Consumer.start in huey/consumer.py. pyproject.toml bounds huey."
    )


def test_huey_sets_its_signal_handlers_only_in_the_method_the_worker_overrides() -> None:
    assert callable(getattr(Consumer, "_set_signal_handlers", None)), _changed("no method")
    before = [signal.getsignal(number) for number in _SIGNALS]
    consumer = _quiet_consumer("fence-main")
    try:
        consumer.start()
    finally:
        consumer.stop(graceful=True)
    after = [signal.getsignal(number) for number in _SIGNALS]
    assert after == before, _changed("the handlers changed")


def test_the_worker_consumer_starts_off_the_main_thread() -> None:
    consumer = _quiet_consumer("fence-thread")
    errors: list[BaseException] = []

    def start() -> None:
        try:
            consumer.start()
        except BaseException as error:  # signal.signal off the main thread: ValueError
            errors.append(error)

    starter = threading.Thread(target=start)
    starter.start()
    starter.join(10)
    consumer.stop(graceful=True)
    assert errors == [], _changed(f"starting off the main thread raised {errors[0]!r}")


def test_a_stock_huey_consumer_still_takes_the_signals_so_the_override_matters() -> None:
    """Should huey stop installing handlers, the override (and its fence) can go."""
    stock = Consumer(huey.MemoryHuey("stock"), workers=1, worker_type="thread", periodic=False)
    set_handlers = getattr(stock, "_set_signal_handlers", None)
    assert callable(set_handlers), _changed("no method")
    before = {number: signal.getsignal(number) for number in _SIGNALS}
    try:
        set_handlers()
        taken = [number for number in _SIGNALS if signal.getsignal(number) != before[number]]
    finally:
        for number, handler in before.items():
            signal.signal(number, handler)
    assert taken, (
        f"huey {huey.__version__}'s consumer no longer takes SIGTERM, SIGINT or SIGHUP: "
        "service/jobs/worker.py's _QuietConsumer override may be removed, with this fence."
    )
