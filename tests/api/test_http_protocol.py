"""The service's HTTP protocol reads a large body straight into the app's buffer, and
holds its header limits on every request of a connection.

A real uvicorn server (the service's protocol) in a thread runs a small ASGI app
that reads each body with the ``READ_BODY_INTO`` extension, falling back to ``receive``
when it says no, and answers whether the direct read was taken and the body's SHA-256.
"""

import hashlib
import json
import socket
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from service.http import protocol as http_protocol
from service.web.asgi import READ_BODY_INTO
from tests.conftest import served_in_thread

MIB = 1 << 20


async def echo_digest(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """POST: reads the body into a buffer of its declared length, or of ?buffer=N bytes
    (directly, unless ?receive-first, which takes one message through ``receive`` first;
    through ``receive`` where the direct read says no); answers {"direct", "sha256",
    "bytes"}."""
    if scope["type"] != "http":
        return
    query = scope["query_string"]
    size = query[7:] if query.startswith(b"buffer=") else None
    buffer = bytearray(int(size or dict(scope["headers"]).get(b"content-length", b"0")))
    parts, more = [], True
    if query == b"receive-first":
        message = await receive()
        parts, more = [message["body"]], message.get("more_body", False)
    direct = bool(await scope["extensions"][READ_BODY_INTO](memoryview(buffer)))
    while not direct and more:
        message = await receive()
        if message["type"] == "http.disconnect":
            return
        parts.append(message["body"])
        more = message.get("more_body", False)
    body = bytes(buffer) if direct else b"".join(parts)
    answer = json.dumps(
        {"direct": direct, "sha256": hashlib.sha256(body).hexdigest(), "bytes": len(body)}
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", b"%d" % len(answer)),
            ],
        }
    )
    await send({"type": "http.response.body", "body": answer})


@pytest.fixture(scope="module", params=["uvloop", "asyncio"])
def server(request: pytest.FixtureRequest) -> Iterator[str]:
    """The service's protocol on uvloop (as served) and on asyncio's own event loop."""
    with served_in_thread(echo_digest, loop=request.param) as url:
        yield url


def body_of(size: int, seed: int = 0) -> bytes:
    return bytes((i * 7 + seed) % 251 for i in range(size))


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def head(length: int, extra: bytes = b"") -> bytes:
    return (
        f"POST / HTTP/1.1\r\nHost: test\r\nContent-Length: {length}\r\n".encode() + extra + b"\r\n"
    )


def read_answers(sock: socket.socket, count: int) -> list[dict[str, Any]]:
    """The JSON bodies of the next ``count`` answers on ``sock`` (each has a length)."""
    sock.settimeout(20)
    data, answers = b"", []
    while len(answers) < count:
        end = data.find(b"\r\n\r\n")
        if end >= 0:
            headers = dict(line.split(b": ", 1) for line in data[:end].lower().split(b"\r\n")[1:])
            size = int(headers[b"content-length"])
            if len(data) >= end + 4 + size:
                answers.append(json.loads(data[end + 4 : end + 4 + size]))
                data = data[end + 4 + size :]
                continue
        chunk = sock.recv(65536)
        assert chunk, f"connection closed after {len(answers)} answers"
        data += chunk
    return answers


def address(server: str) -> tuple[str, int]:
    return "127.0.0.1", int(server.rsplit(":", 1)[1])


def test_large_bodies_on_one_connection_are_read_directly_and_whole(server: str) -> None:
    with httpx.Client(base_url=server, timeout=30) as client:
        for seed, size in enumerate((3 * MIB, 5 * MIB + 17, 2 * MIB)):
            data = body_of(size, seed)
            answer = client.post("/", content=data).json()
            assert answer == {"direct": True, "sha256": digest(data), "bytes": size}
        small = client.post("/", content=b"tiny").json()
        assert small["sha256"] == digest(b"tiny")


def test_a_request_pipelined_behind_a_large_body_is_parsed_and_answered(server: str) -> None:
    first, second = body_of(3 * MIB, 1), body_of(1000, 2)
    with socket.create_connection(address(server)) as sock:
        sock.sendall(head(len(first)) + first + head(len(second)) + second)
        answers = read_answers(sock, 2)
    assert [a["sha256"] for a in answers] == [digest(first), digest(second)]
    assert answers[0]["direct"] is True


def test_expect_100_continue_is_answered_before_the_body_is_read(server: str) -> None:
    data = body_of(2 * MIB, 3)
    with socket.create_connection(address(server)) as sock:
        sock.sendall(head(len(data), b"Expect: 100-continue\r\n"))
        sock.settimeout(10)
        assert sock.recv(100).startswith(b"HTTP/1.1 100 Continue")
        sock.sendall(data)
        (answer,) = read_answers(sock, 1)
    assert answer == {"direct": True, "sha256": digest(data), "bytes": len(data)}


def test_a_body_partly_received_already_is_left_to_receive(server: str) -> None:
    data = body_of(4 * MIB, 4)
    answer = httpx.post(f"{server}/?receive-first", content=data, timeout=30).json()
    assert answer == {"direct": False, "sha256": digest(data), "bytes": len(data)}


def test_a_chunked_body_is_left_to_receive(server: str) -> None:
    """Even into a buffer of the body's size: the socket's bytes hold the chunks' framing."""
    data = body_of(3 * MIB, 6)
    chunks = (data[i : i + MIB] for i in range(0, len(data), MIB))
    url = f"{server}/?buffer={len(data)}"
    answer = httpx.post(url, content=chunks, timeout=30).json()  # no Content-Length
    assert answer == {"direct": False, "sha256": digest(data), "bytes": len(data)}


def test_a_client_gone_in_the_middle_of_a_body_leaves_the_server_serving(server: str) -> None:
    with socket.create_connection(address(server)) as sock:
        sock.sendall(head(4 * MIB) + body_of(MIB))
        time.sleep(0.2)  # the app has switched to the direct read
    data = body_of(2 * MIB, 5)
    assert httpx.post(server, content=data, timeout=30).json()["sha256"] == digest(data)


# Header limits: every request of a connection, as nginx applies its header buffers.

BIG_HEADER = b"X-Big: " + b"a" * 130_000 + b"\r\n"
MANY_HEADERS = b"".join(b"X-Many-%d: v\r\n" % i for i in range(10_000))


def read_status_then_close(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection."""
    sock.settimeout(20)
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data


@pytest.mark.parametrize("headers", [BIG_HEADER, MANY_HEADERS], ids=["130 kB", "10,000"])
def test_oversize_headers_on_a_later_request_of_a_connection_are_431(
    server: str, headers: bytes
) -> None:
    with socket.create_connection(address(server)) as sock:
        sock.sendall(head(4) + b"tiny")
        assert read_answers(sock, 1)[0]["sha256"] == digest(b"tiny")
        sock.sendall(head(4, headers) + b"more")
        answer = read_status_then_close(sock)
    assert answer.startswith(b"HTTP/1.1 431 "), answer[:200]


@pytest.mark.parametrize("headers", [BIG_HEADER, MANY_HEADERS], ids=["130 kB", "10,000"])
def test_oversize_headers_pipelined_behind_a_request_are_431_after_its_answer(
    server: str, headers: bytes
) -> None:
    with socket.create_connection(address(server)) as sock:
        sock.sendall(head(4) + b"tiny" + head(4, headers) + b"more")
        answer = read_status_then_close(sock)
    first, _, rest = answer.partition(b"HTTP/1.1 431 ")
    assert first.startswith(b"HTTP/1.1 200 ") and digest(b"tiny").encode() in first, answer[:300]
    assert rest.startswith(b"Request Header Fields Too Large"), answer[:300]


@pytest.mark.parametrize("pipelined", [False, True], ids=["keep-alive", "pipelined"])
def test_a_later_request_whose_headers_stall_is_answered_408(
    server: str, pipelined: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(http_protocol, "HEADER_TIMEOUT", 1.0)
    stalled = b"POST / HTTP/1.1\r\nHost: test\r\nX-Slow: a"
    with socket.create_connection(address(server)) as sock:
        if pipelined:
            sock.sendall(head(4) + b"tiny" + stalled)
        else:
            sock.sendall(head(4) + b"tiny")
            assert read_answers(sock, 1)[0]["sha256"] == digest(b"tiny")
            sock.sendall(stalled)
        started = time.monotonic()
        answer = read_status_then_close(sock)
    assert time.monotonic() - started < 10
    assert b"HTTP/1.1 408 Request Timeout" in answer, answer[:300]
    assert answer.startswith(b"HTTP/1.1 200 ") or not pipelined
