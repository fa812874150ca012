"""A failure no handler expected is still an answer a client can use: 500 in the route's
error shape (V2's on /v2, answered by V2's sub-application), with the request's id, and the
traceback only in the log, under that id. The service has no such failure to offer, so the
app and its V2 sub-application are each given a route that fails, and served by uvicorn
with the service's own protocol."""

import logging
from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI

from service.app import create_app
from service.core.config import Settings
from service.http.mounts import SubApplication
from service.http.observability import RequestIdFilter
from tests.conftest import served_in_thread


class Unexpected(RuntimeError):
    """What a bug raises."""


@pytest.fixture(scope="module")
def failing_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    settings = Settings(data_dir=tmp_path_factory.mktemp("data"), warm_tensorflow=False)
    app = create_app(settings)

    @app.get("/fails")
    def fails() -> None:
        raise Unexpected("a bug in a route")

    v2 = next(route.app for route in app.routes if isinstance(route, SubApplication))
    assert isinstance(v2, FastAPI)

    @v2.post("/v2/models/kl/fails")
    def v2_fails() -> None:
        raise Unexpected("a bug in a V2 route")

    with served_in_thread(app) as url:
        yield url


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/fails", {"detail": "Internal server error"}),
        ("POST", "/v2/models/kl/fails", {"error": "Internal server error"}),
    ],
)
def test_an_unexpected_error_is_a_500_in_the_routes_shape_with_the_request_id(
    failing_server: str,
    caplog: pytest.LogCaptureFixture,
    method: str,
    path: str,
    body: dict[str, str],
) -> None:
    caplog.handler.addFilter(RequestIdFilter())
    with caplog.at_level(logging.ERROR):
        answer = httpx.request(
            method, failing_server + path, headers={"X-Request-ID": "trace-me-42"}, timeout=10
        )
    assert answer.status_code == 500
    assert answer.json() == body
    assert answer.headers["x-request-id"] == "trace-me-42"
    assert "Traceback" not in answer.text and "bug" not in answer.text
    logged = [r for r in caplog.records if r.exc_info and r.exc_info[0] is Unexpected]
    assert len(logged) == 1, [r.getMessage() for r in caplog.records]
    assert getattr(logged[0], "request_id", None) == "trace-me-42"
    assert path in logged[0].getMessage()


def test_the_server_serves_on_after_an_unexpected_error(failing_server: str) -> None:
    with httpx.Client(base_url=failing_server, timeout=10) as client:
        assert client.get("/fails").status_code == 500
        assert client.post("/kl", json={"p": [0.5, 0.5], "q": [0.5, 0.5]}).json()["kl"] == 0
