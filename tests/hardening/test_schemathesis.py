"""Schemathesis against the published OpenAPI document and a running server.

Every operation of ``openapi/openapi.json`` goes through schemathesis' examples, coverage
and fuzzing phases, with positive and negative cases (including methods the document does
not list): no answer may be a 5xx, and every answer must be one the document promises: a
documented status code, with a documented content type, a body that matches the
documented schema, and the documented headers. The run is derandomized with a fixed seed,
so a failure reproduces exactly.

A request the fuzzer makes malformed (an empty Content-Length) is answered 400 by the server
before any route: checked as such, not against the document.

Two bugs it found are pinned as plain regression tests at the end (an offset past 64 bits
was a 500; the report's errors were documented as HTML).
"""

import json
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.conftest import ROOT, Server, start_server, stop_server

# Fuzzing examples per operation (the examples and coverage phases add their own cases,
# about 100 more for each body operation); the whole file takes about a minute on 2 cores.
EXAMPLES_PER_OPERATION = 300
SEED = 20261124

CONFIG = schemathesis.Config.from_dict(
    {
        "seed": SEED,
        "generation": {
            "mode": "all",  # positive and negative cases
            "max-examples": EXAMPLES_PER_OPERATION,
            "deterministic": True,
            "database": "none",  # no .hypothesis/ replay: every run is the same run
        },
    }
)


@schemathesis.serializer("application/vnd.apache.arrow.stream", "application/vnd.apache.parquet")
def _arrow_bytes(ctx: Any, value: Any) -> bytes:
    """Arrow and Parquet bodies are binary: schemathesis' bytes go as they are (mostly
    neither)."""
    return value if isinstance(value, bytes) else json.dumps(value).encode()


@schemathesis.serializer("application/x-ndjson")
def _ndjson_lines(ctx: Any, value: Any) -> bytes:
    """One generated row as one NDJSON line."""
    return value if isinstance(value, bytes) else json.dumps(value).encode() + b"\n"


SCHEMA = schemathesis.openapi.from_path(ROOT / "openapi" / "openapi.json", config=CONFIG)

CONFORMANCE = [
    not_a_server_error,
    status_code_conformance,
    response_headers_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def _server_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return {
        "DIVERGENCE_DATA_DIR": str(tmp_path_factory.mktemp("fuzzed-data")),
        "DIVERGENCE_WARM_TENSORFLOW": "false",
        "DIVERGENCE_MAX_BODY_BYTES": "1048576",
        # A job schemathesis manages to submit fails at once: no data, tiny bounds.
        "DIVERGENCE_MAX_EPOCHS": "1",
        "DIVERGENCE_MAX_RUNS": "1",
        "DIVERGENCE_CIFAR10_DIR": str(tmp_path_factory.mktemp("empty-cifar10")),
    }


@pytest.fixture(scope="module")
def fuzzed_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = start_server(tmp_path_factory.mktemp("fuzzed"), env=_server_env(tmp_path_factory))
    yield running
    stop_server(running)
    assert "Traceback" not in running.log.read_text(), "the server logged a traceback"


def _is_http(case: schemathesis.Case) -> bool:
    """Whether the request is HTTP at all: a Content-Length header the fuzzer sends empty
    or not as digits makes it a malformed message, which the server refuses (400, plain
    text) before any route, so the document's promises do not apply to it."""
    headers = {name.lower(): value for name, value in (case.headers or {}).items()}
    length = headers.get("content-length")
    return length is None or str(length).strip().isdigit()


def _call(case: schemathesis.Case, server: Server, checks: list[Any]) -> None:
    if not _is_http(case):
        assert case.call(base_url=server.url, timeout=60).status_code == 400
        return
    case.call_and_validate(base_url=server.url, checks=checks, timeout=60)


@SCHEMA.parametrize()
def test_every_answer_is_documented_and_never_a_server_error(
    case: schemathesis.Case, fuzzed_server: Server
) -> None:
    _call(case, fuzzed_server, CONFORMANCE)


def test_job_list_offset_past_64_bits_is_a_documented_422(fuzzed_server: Server) -> None:
    case = SCHEMA["/jobs"]["GET"].Case(query={"offset": 2**63})
    _call(case, fuzzed_server, CONFORMANCE)
    response = case.call(base_url=fuzzed_server.url, timeout=60)
    assert response.status_code == 422


def test_report_errors_are_documented_as_json(fuzzed_server: Server) -> None:
    case = SCHEMA["/jobs/{job_id}/report"]["GET"].Case(path_parameters={"job_id": "0" * 32})
    _call(case, fuzzed_server, CONFORMANCE)
    response = case.call(base_url=fuzzed_server.url, timeout=60)
    assert response.status_code == 404
