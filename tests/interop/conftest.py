"""The Open Inference Protocol client the interop tests share."""

from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import Server


@pytest.fixture(scope="module")
def v2(server: Server) -> Iterator[Any]:
    """tritonclient's HTTP client, a real client nobody here wrote, on the test server
    (tests that use it are skipped where tritonclient, a test dependency, is missing)."""
    triton = pytest.importorskip("tritonclient.http")
    with triton.InferenceServerClient(server.url.removeprefix("http://")) as client:
        yield client
