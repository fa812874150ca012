"""Hostile input against the running service: every one is a clear 4xx (or, for broken
transfers, a closed connection), never a 5xx nor a traceback, and the server still answers
/healthz afterwards.

The table below is applied to every POST endpoint it makes sense for.

Decisions recorded here:

- Duplicate keys (``{"p": [...], "p": [...]}``): RFC 8259 leaves the meaning to the
  parser. The service's two parsers (pydantic's on the fast path, its fallback for error
  reports) both keep the last value, as ``json.loads`` and ``JSON.parse`` do, and the
  limits and checks apply to the value kept; rejecting duplicates would cost a second
  parse of every body. The test pins "the last one counts", on both paths.
- ``-0.0`` is zero: a valid probability and a valid real; the answer equals the one for
  ``0.0``.
- ``application/json; charset=latin-1``: application/json has no charset parameter (RFC
  8259 section 11), so it is ignored and the body must be UTF-8: non-UTF-8 bytes are 422.
"""

import copy
import json
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from tests.conftest import Server, start_server, stop_server

# The session server's limits (tests/conftest.py); the buggy server gets the same.
MAX_BODY_BYTES = 4 * 1024 * 1024
MAX_VECTOR_LENGTH = 100_000
MAX_BATCH_ROWS = 50_000

ENDPOINTS = [
    "/kl",
    "/kl/batch",
    "/divergences/kl",
    "/divergences/kl/batch",
    "/kl/gaussian",
    "/kl/gaussian/batch",
    "/jobs",
]
DIVERGENCE_ENDPOINTS = [e for e in ENDPOINTS if e != "/jobs"]
BATCH_ENDPOINTS = ["/kl/batch", "/divergences/kl/batch", "/kl/gaussian/batch"]

P = [0.0, 0.5, 0.5]
Q = [0.25, 0.25, 0.5]
MU = [0.0, 0.5]
LOGVAR = [0.1, -0.3]

# A valid body per endpoint. The job is never valid for long: every case below breaks it
# (a job the session server accepted would try to download CIFAR-10).
VALID: dict[str, dict[str, Any]] = {
    "/kl": {"p": P, "q": Q},
    "/kl/batch": {"p": [P, P], "q": Q},
    "/divergences/kl": {"p": P, "q": Q},
    "/divergences/kl/batch": {"p": [P, P], "q": Q},
    "/kl/gaussian": {"mu": MU, "logvar": LOGVAR},
    "/kl/gaussian/batch": {"mu": [MU, MU], "logvar": [LOGVAR, LOGVAR]},
    "/jobs": {"epochs": 1, "runs": 1, "losses": ["kl"]},
}
# The array of each endpoint, and where its first number (or, for /jobs, string) is.
ARRAY = {e: ("mu" if "gaussian" in e else "p") for e in DIVERGENCE_ENDPOINTS} | {"/jobs": "losses"}
ELEMENT: dict[str, tuple[str | int, ...]] = {
    e: (ARRAY[e], 0, 0) if e in BATCH_ENDPOINTS else (ARRAY[e], 0) for e in ENDPOINTS
}
# A numeric option of each endpoint (its value in the case "numbers as strings" would be
# valid if the string were taken for the number it spells).
OPTION = {
    "/kl": ("epsilon", "0.001"),
    "/kl/batch": ("epsilon", "0.001"),
    "/divergences/kl": ("alpha", "2"),
    "/divergences/kl/batch": ("alpha", "2"),
    "/kl/gaussian": ("base", "2"),
    "/kl/gaussian/batch": ("base", "2"),
    "/jobs": ("epochs", "1"),
}
# A boolean that would be a valid number if taken as 0 or 1.
BOOLEAN = {
    "/kl": ("base", True),  # 1 is not a valid base either way: a control
    "/kl/batch": ("base", True),
    "/divergences/kl": ("alpha", False),
    "/divergences/kl/batch": ("alpha", False),
    "/kl/gaussian": ("base", True),
    "/kl/gaussian/batch": ("base", True),
    "/jobs": ("runs", True),
}
# A string option of each endpoint.
STRING = {e: "mode" for e in ENDPOINTS} | {
    "/kl/gaussian": "base",
    "/kl/gaussian/batch": "base",
    "/jobs": "experiment",
}

_SENTINEL = "\x00raw\x00"


def with_raw(endpoint: str, at: tuple[str | int, ...], literal: str | bytes) -> bytes:
    """The endpoint's valid body with the value at ``at`` replaced by a raw JSON literal
    (which may be no valid JSON value at all)."""
    body = copy.deepcopy(VALID[endpoint])
    node: Any = body
    for key in at[:-1]:
        node = node[key]
    node[at[-1]] = _SENTINEL
    raw = literal.encode() if isinstance(literal, str) else literal
    return json.dumps(body).encode().replace(json.dumps(_SENTINEL).encode(), raw)


def with_value(endpoint: str, at: tuple[str | int, ...], value: object) -> bytes:
    return with_raw(endpoint, at, json.dumps(value, ensure_ascii=False).encode())


def nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def long_vector(n: int) -> bytes:
    return b"[" + b"0.0," * (n - 1) + b"1.0]"


def duplicate(endpoint: str, first: bytes, last: bytes) -> bytes:
    """The valid body with its array given twice, ``first`` and then ``last``."""
    name = ARRAY[endpoint].encode()
    rest = {k: v for k, v in VALID[endpoint].items() if k != ARRAY[endpoint]}
    return b'{"%s": %s, "%s": %s, %s' % (name, first, name, last, json.dumps(rest)[1:].encode())


def _rows(endpoint: str, row: bytes) -> bytes:
    """``row`` as the endpoint's array: itself, or (for a batch) its only row."""
    return b"[" + row + b"]" if endpoint in BATCH_ENDPOINTS else row


INVALID_ROW = b'[1.0, "x", 1.0]'


@dataclass(frozen=True)
class Hostile:
    """One hostile body, applied to each endpoint that ``body`` does not answer None for."""

    name: str
    body: Callable[[str], bytes | None]
    status: int | Callable[[str], int]
    # The error's loc starts with this (for the first error), where it can be said.
    loc: Callable[[str], list[str | int]] | None = None
    content_type: str | None = "application/json"


def _option_loc(endpoint: str) -> list[str | int]:
    return ["body", OPTION[endpoint][0]]


HOSTILE = [
    # Deep nesting: the parser's recursion limit (about 200) answers, not the stack.
    Hostile("100000 nested [ as the body", lambda e: b"[" * 100_000, 422),
    Hostile(
        "100000 nested [] in the array", lambda e: with_raw(e, (ARRAY[e],), nested(100_000)), 422
    ),
    Hostile("50000 nested objects", lambda e: b'{"a":' * 50_000 + b"1" + b"}" * 50_000, 422),
    # Huge numbers.
    Hostile(
        "1e308*10 literal in the array",
        lambda e: with_raw(e, ELEMENT[e], "1e309"),
        422,
        loc=lambda e: ["body", ARRAY[e]],
    ),
    Hostile(
        "1e308*10 literal in an option",
        lambda e: with_raw(e, (OPTION[e][0],), "1e309"),
        422,
        loc=_option_loc,
    ),
    Hostile(
        "NaN token in an option",
        lambda e: with_raw(e, (OPTION[e][0],), "NaN"),
        422,
        loc=_option_loc,
    ),
    Hostile(
        "-Infinity token as an unknown field",
        lambda e: with_raw(e, ("unknown",), "-Infinity"),
        422,
        loc=lambda e: ["body", "unknown"],
    ),
    Hostile(
        "10**400 integer literal in the array",
        lambda e: with_raw(e, ELEMENT[e], str(10**400)),
        422,
        loc=lambda e: ["body", ARRAY[e]],
    ),
    Hostile(
        "10**400 integer literal in an option",  # the Gaussians' option is the base: below
        lambda e: None if "gaussian" in e else with_raw(e, (OPTION[e][0],), str(10**400)),
        422,
        loc=_option_loc,
    ),
    Hostile(
        "10**400 integer literal as the base",
        lambda e: None if e == "/jobs" else with_raw(e, ("base",), str(10**400)),
        422,
        loc=lambda e: ["body", "base"],
    ),
    Hostile(
        "5000-digit integer literal (over Python's int-to-str limit)",
        lambda e: with_raw(e, ELEMENT[e], "1" + "0" * 5000),
        422,
    ),
    # Over the limits.
    Hostile(
        f"vector of {MAX_VECTOR_LENGTH + 1} numbers",
        lambda e: with_raw(e, (ARRAY[e],), _rows(e, long_vector(MAX_VECTOR_LENGTH + 1))),
        lambda e: 422 if e == "/jobs" else 413,  # losses has at most 2 items
        loc=lambda e: ["body", ARRAY[e]],
    ),
    Hostile(
        f"batch of {MAX_BATCH_ROWS + 1} rows",
        lambda e: (
            with_raw(e, (ARRAY[e],), b"[" + b"[1.0]," * MAX_BATCH_ROWS + b"[1.0]]")
            if e in BATCH_ENDPOINTS
            else None
        ),
        413,
        loc=lambda e: ["body", ARRAY[e]],
    ),
    Hostile(
        "body over the byte limit",
        lambda e: with_raw(e, (ARRAY[e],), long_vector(MAX_BODY_BYTES // 4 + 10)),
        413,
    ),
    # Unicode.
    Hostile(
        "emoji field name",
        lambda e: with_value(e, ("\U0001f4a5",), 1),
        422,
        loc=lambda e: ["body", "\U0001f4a5"],
    ),
    Hostile(
        "emoji string value",
        lambda e: with_value(e, (STRING[e],), "\U0001f4a5"),
        422,
        loc=lambda e: ["body", STRING[e]],
    ),
    Hostile(
        "emoji string in the array",
        lambda e: with_value(e, ELEMENT[e], "\U0001f4a5"),
        422,
        loc=lambda e: ["body", ARRAY[e]],
    ),
    Hostile(
        "NUL escape in a string value",
        lambda e: with_raw(e, (STRING[e],), '"\\u0000"'),
        422,
        loc=lambda e: ["body", STRING[e]],
    ),
    Hostile(
        "NUL escape in a field name",
        lambda e: with_raw(e, ("\x01",), b"1").replace(b'"\\u0001"', b'"\\u0000"'),
        422,
        loc=lambda e: ["body", "\x00"],
    ),
    Hostile("raw NUL byte in a string", lambda e: with_raw(e, (STRING[e],), b'"a\x00b"'), 422),
    Hostile(
        "lone surrogate \\ud800 in a string", lambda e: with_raw(e, (STRING[e],), '"\\ud800"'), 422
    ),
    Hostile(
        "lone surrogate \\udfff in a string",
        lambda e: with_raw(e, (STRING[e],), '"x\\udfffx"'),
        422,
    ),
    Hostile(
        "lone surrogate \\ud800 in a field name",
        lambda e: with_raw(e, ("\x01",), b"1").replace(b'"\\u0001"', b'"\\ud800"'),
        422,
    ),
    Hostile("invalid UTF-8 in a string", lambda e: with_raw(e, (STRING[e],), b'"\xff\xfe"'), 422),
    Hostile(
        "latin-1 body declared as charset=latin-1",
        lambda e: with_raw(e, (STRING[e],), '"caf\xe9"'.encode("latin-1")),
        422,
        content_type="application/json; charset=latin-1",
    ),
    # Duplicate keys: the last one counts (the valid-last variant is in its own test).
    Hostile(
        "duplicate key, the last one invalid",
        lambda e: (
            duplicate(e, b'["kl"]', b'["kl", "kl"]')
            if e == "/jobs"
            else duplicate(e, json.dumps(VALID[e][ARRAY[e]]).encode(), _rows(e, INVALID_ROW))
        ),
        422,
        loc=lambda e: ["body", ARRAY[e]],
    ),
    # Wrong types.
    Hostile(
        "object where the array belongs",
        lambda e: with_value(e, (ARRAY[e],), {"0": 1}),
        422,
        loc=lambda e: ["body", ARRAY[e]],
    ),
    Hostile(
        "null where the array belongs",
        lambda e: with_value(e, (ARRAY[e],), None),
        422,
        loc=lambda e: ["body", ARRAY[e]],
    ),
    Hostile(
        "numbers as strings in the array",
        lambda e: None if e == "/jobs" else with_value(e, ELEMENT[e], "0.0"),
        422,
        loc=lambda e: ["body", ARRAY[e]],
    ),
    Hostile(
        "a number as a string in a numeric option",
        lambda e: with_value(e, (OPTION[e][0],), OPTION[e][1]),
        422,
        loc=_option_loc,
    ),
    Hostile(
        "a boolean where a number belongs",
        lambda e: with_value(e, (BOOLEAN[e][0],), BOOLEAN[e][1]),
        422,
        loc=lambda e: ["body", BOOLEAN[e][0]],
    ),
    Hostile("null as the body", lambda e: b"null", 422, loc=lambda e: ["body"]),
    Hostile("an array as the body", lambda e: b"[1, 2]", 422, loc=lambda e: ["body"]),
    Hostile("an empty body", lambda e: b"", 422, loc=lambda e: ["body"]),
    # Wrong content types (an unknown field too: a body taken by mistake is still refused).
    *(
        Hostile(
            f"Content-Type {content_type}",
            lambda e: with_value(e, ("unknown",), 1),
            415,
            content_type=content_type,
        )
        for content_type in (
            "text/plain",
            "multipart/form-data; boundary=xyz",
            "application/x-www-form-urlencoded",
            "application/jsonx",
            None,
        )
    ),
]

CASES = [
    pytest.param(
        case,
        endpoint,
        id=f"{endpoint} {case.name}",
    )
    for case in HOSTILE
    for endpoint in ENDPOINTS
    if case.body(endpoint) is not None
]


def post(base_url: str, path: str, body: bytes, content_type: str | None) -> httpx.Response:
    """One request on a connection of its own (a crash closes the connection it used)."""
    headers = {"connection": "close"}
    if content_type is not None:
        headers["content-type"] = content_type
    return httpx.post(f"{base_url}{path}", content=body, headers=headers, timeout=60)


def assert_clear_client_error(response: httpx.Response, status: int) -> Any:
    """``status``, in the service's JSON error shape, without a trace; the detail."""
    assert "Traceback" not in response.text
    assert response.status_code == status, response.text[:500]
    assert response.headers["content-type"] == "application/json"
    return response.json()["detail"]


def assert_still_serving(base_url: str) -> None:
    assert httpx.get(f"{base_url}/healthz", timeout=10).status_code == 200


@pytest.mark.parametrize(("case", "endpoint"), CASES)
def test_hostile_body_is_a_clear_4xx(client: httpx.Client, case: Hostile, endpoint: str) -> None:
    base_url = str(client.base_url).rstrip("/")
    body = case.body(endpoint)
    assert body is not None
    response = post(base_url, endpoint, body, case.content_type)
    status = case.status(endpoint) if callable(case.status) else case.status
    detail = assert_clear_client_error(response, status)
    if case.loc is not None:
        expected = case.loc(endpoint)
        assert detail[0]["loc"][: len(expected)] == expected, detail
    assert_still_serving(base_url)


def _answer(base_url: str, endpoint: str, body: bytes) -> Any:
    response = post(base_url, endpoint, body, "application/json")
    assert response.status_code == 200, response.text[:500]
    return response.json()


@pytest.mark.parametrize("endpoint", DIVERGENCE_ENDPOINTS)
def test_duplicate_keys_keep_the_last_value(client: httpx.Client, endpoint: str) -> None:
    base_url = str(client.base_url).rstrip("/")
    name = ARRAY[endpoint]
    last = json.dumps(VALID[endpoint][name]).encode()
    invalid = _rows(endpoint, INVALID_ROW)
    expected = _answer(base_url, endpoint, json.dumps(VALID[endpoint]).encode())
    assert _answer(base_url, endpoint, duplicate(endpoint, invalid, last)) == expected


@pytest.mark.parametrize("endpoint", DIVERGENCE_ENDPOINTS)
def test_negative_zero_is_zero(client: httpx.Client, endpoint: str) -> None:
    base_url = str(client.base_url).rstrip("/")
    body = json.dumps(VALID[endpoint]).encode()
    assert b"0.0" in body
    negative = with_raw(endpoint, ELEMENT[endpoint], "-0.0")
    assert _answer(base_url, endpoint, negative) == _answer(base_url, endpoint, body)


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_chunked_body_over_the_byte_limit_is_413(client: httpx.Client, endpoint: str) -> None:
    base_url = str(client.base_url).rstrip("/")

    def chunks() -> Iterator[bytes]:
        yield b'{"p": ['
        for _ in range(MAX_BODY_BYTES // (64 * 1024) + 2):
            yield b"0.0," * (16 * 1024)
        yield b"1.0]}"

    response = httpx.post(
        f"{base_url}{endpoint}",
        content=chunks(),
        headers={"content-type": "application/json", "connection": "close"},
        timeout=60,
    )
    assert_clear_client_error(response, 413)
    assert_still_serving(base_url)


# Raw HTTP/1.1, for what httpx will not send: lying lengths, slow and huge headers.


def _address(base_url: str) -> tuple[str, int]:
    host, port = base_url.split("//", 1)[1].rsplit(":", 1)
    return host, int(port)


def _head(endpoint: str, length: int, extra: bytes = b"") -> bytes:
    return (
        f"POST {endpoint} HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
        f"Content-Length: {length}\r\nConnection: close\r\n"
    ).encode() + extra


def _read_until_closed(sock: socket.socket, timeout: float) -> bytes | None:
    """What the server sends until it closes the connection; None if it is still open
    after ``timeout`` seconds."""
    sock.settimeout(timeout)
    received = b""
    try:
        while chunk := sock.recv(65536):
            received += chunk
    except TimeoutError:
        return None
    except ConnectionResetError:
        pass
    return received


def _status(answer: bytes) -> int | None:
    """The status code of a raw HTTP/1.1 answer; None for no answer."""
    return int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/1.1 ") else None


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_truncated_body_then_close_is_dropped_quietly(client: httpx.Client, endpoint: str) -> None:
    """Content-Length says 1000, 12 bytes come, and the client closes its side: the server
    closes the connection (answering, if at all, with a 4xx) and keeps serving."""
    base_url = str(client.base_url).rstrip("/")
    with socket.create_connection(_address(base_url), timeout=10) as sock:
        sock.sendall(_head(endpoint, 1000) + b'\r\n{"p": [0.5, ')
        sock.shutdown(socket.SHUT_WR)
        answer = _read_until_closed(sock, timeout=10)
    assert answer is not None, "the server kept a half-closed connection open"
    status = _status(answer)
    assert status is None or 400 <= status < 500, answer[:300]
    assert b"Traceback" not in answer
    assert_still_serving(base_url)


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize(
    ("what", "headers"),
    [
        ("a 100 kB header value", b"X-Big: " + b"a" * 100_000 + b"\r\n"),
        ("10000 headers", b"".join(b"X-Many-%d: v\r\n" % i for i in range(10_000))),
    ],
)
def test_oversize_headers_are_refused(
    client: httpx.Client, endpoint: str, what: str, headers: bytes
) -> None:
    """A 4xx (431, or uvicorn's 400) or a closed connection; never a served request."""
    base_url = str(client.base_url).rstrip("/")
    body = json.dumps({"unknown": 1}).encode()
    with socket.create_connection(_address(base_url), timeout=10) as sock:
        try:
            sock.sendall(_head(endpoint, len(body), headers) + b"\r\n" + body)
        except (BrokenPipeError, ConnectionResetError):
            answer: bytes | None = b""  # refused before it was all sent
        else:
            answer = _read_until_closed(sock, timeout=10)
    assert answer is not None
    status = _status(answer)
    assert status is None or status in (400, 413, 431), f"{what}: {answer[:300]!r}"
    assert_still_serving(base_url)


SLOW_LIMIT_SECONDS = 15


def _trickle(base_url: str, first: bytes, rest: bytes, outcome: dict[str, str], key: str) -> None:
    """Send ``first``, then ``rest`` one byte a second; record as ``outcome[key]`` how the
    server ended it."""
    started = time.monotonic()
    with socket.create_connection(_address(base_url), timeout=10) as sock:
        sock.sendall(first)
        sock.settimeout(1)
        for byte in rest:
            if time.monotonic() - started > SLOW_LIMIT_SECONDS:
                outcome[key] = "still open"
                return
            try:
                sock.sendall(bytes([byte]))
                received = sock.recv(4096)
            except TimeoutError:
                continue  # nothing from the server this second: go on trickling
            except OSError as error:
                outcome[key] = f"cut off ({type(error).__name__})"
                return
            outcome[key] = f"answered {_status(received)}" if received else "cut off"
            return
        outcome[key] = "sent it all"


def test_a_client_sending_a_byte_a_second_is_cut_off(client: httpx.Client) -> None:
    """Headers, a body and a large body (read straight into its buffer), each sent one byte
    a second (in parallel): the server must cut all three off within 15 s (or answer 408)."""
    base_url = str(client.base_url).rstrip("/")
    body = b'{"p": [0.5, 0.5], "q": [0.5, 0.5]}' + b" " * 64
    large = 2 << 20
    outcome: dict[str, str] = {}
    threads = [
        threading.Thread(
            target=_trickle,
            args=(
                base_url,
                b"POST /kl HTTP/1.1\r\n",
                b"Host: test\r\nX-Slow: " + b"a" * 64,
                outcome,
                "headers",
            ),
        ),
        threading.Thread(
            target=_trickle,
            args=(base_url, _head("/kl", len(body)) + b"\r\n", body, outcome, "body"),
        ),
        threading.Thread(
            target=_trickle,
            args=(base_url, _head("/kl/batch", large) + b"\r\n{", b" " * 64, outcome, "large"),
        ),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(SLOW_LIMIT_SECONDS + 5)
    assert_still_serving(base_url)
    for part in ("headers", "body", "large"):
        assert outcome.get(part, "still open").startswith(("cut off", "answered 408")), outcome


# Query and path parameters of the job endpoints.


def test_job_list_offset_beyond_64_bits_is_422(client: httpx.Client) -> None:
    response = client.get("/jobs", params={"offset": 2**63}, timeout=10)
    detail = assert_clear_client_error(response, 422)
    assert detail[0]["loc"] == ["query", "offset"]


JOB_PATHS = [
    ("GET", "/jobs/{id}"),
    ("DELETE", "/jobs/{id}"),
    ("GET", "/jobs/{id}/report"),
    ("GET", "/jobs/{id}/curves/loss.png"),
]
ODD_IDS = ["%00", "a%00b", "%F0%9F%92%A5", "%ED%A0%80", "x" * 10_000]


@pytest.mark.parametrize("job_id", ODD_IDS)
@pytest.mark.parametrize(("method", "path"), JOB_PATHS)
def test_odd_job_ids_are_404(client: httpx.Client, method: str, path: str, job_id: str) -> None:
    url = f"{str(client.base_url).rstrip('/')}{path.format(id=job_id)}"
    response = httpx.request(method, url, headers={"connection": "close"}, timeout=10)
    assert_clear_client_error(response, 404)


POSTGRES = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


@pytest.fixture(scope="module")
def postgres_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The service with its jobs in PostgreSQL (a database of its own), as scaled out."""
    name = f"divergence_hostile_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    base = POSTGRES.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
    tmp: Path = tmp_path_factory.mktemp("hostile-postgres")
    try:
        running = start_server(
            tmp,
            env={
                "DIVERGENCE_DATA_DIR": str(tmp),
                "DIVERGENCE_DATABASE_URL": f"{base}/{name}",
                "DIVERGENCE_WARM_TENSORFLOW": "false",
                "DIVERGENCE_EMBEDDED_WORKER": "false",
            },
        )
        yield running
        stop_server(running)
    finally:
        with psycopg.connect(POSTGRES, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.mark.parametrize(("method", "path"), JOB_PATHS)
def test_job_ids_with_nul_are_404_on_postgresql(
    postgres_server: Server, method: str, path: str
) -> None:
    url = f"{postgres_server.url}{path.format(id='a%00b')}"
    response = httpx.request(method, url, headers={"connection": "close"}, timeout=10)
    assert_clear_client_error(response, 404)
    assert_still_serving(postgres_server.url)


def test_job_list_offset_beyond_64_bits_is_422_on_postgresql(postgres_server: Server) -> None:
    response = httpx.get(f"{postgres_server.url}/jobs", params={"offset": 2**63}, timeout=10)
    detail = assert_clear_client_error(response, 422)
    assert detail[0]["loc"] == ["query", "offset"]
