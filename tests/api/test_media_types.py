"""Bodies are taken by their media type, matched whole (parameters aside), and as sent:
an encoded body (gzip, br, ...) is refused with 415 naming the encoding, never decoded."""

import gzip
import json

import httpx
import pyarrow as pa
import pytest

from service.divergences.codecs.arrow import ARROW_STREAM

PAIR = {"p": [0.25, 0.75], "q": [0.5, 0.5]}
ROW = json.dumps(PAIR).encode() + b"\n"


def arrow_body() -> bytes:
    table = pa.table({"p": [PAIR["p"]], "q": [PAIR["q"]]})
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


@pytest.mark.parametrize(
    ("path", "content_type", "body"),
    [
        ("/kl/batch", ARROW_STREAM + "x", "arrow"),
        ("/kl/batch", ARROW_STREAM + ".v2", "arrow"),
        ("/kl/stream", "application/x-ndjsonfoo", "ndjson"),
        ("/kl/stream", "application/jsonlines-not", "ndjson"),
    ],
)
def test_a_media_type_that_only_begins_like_an_accepted_one_is_415(
    client: httpx.Client, path: str, content_type: str, body: str
) -> None:
    content = arrow_body() if body == "arrow" else ROW
    answer = client.post(path, content=content, headers={"content-type": content_type})
    assert answer.status_code == 415, answer.text
    assert content_type in answer.json()["detail"]


@pytest.mark.parametrize(
    ("path", "content_type", "body"),
    [
        ("/kl/batch", ARROW_STREAM, "arrow"),
        ("/kl/batch", "Application/Vnd.Apache.Arrow.Stream ; version=1", "arrow"),
        ("/kl/stream", "application/x-ndjson; charset=utf-8", "ndjson"),
        ("/kl/stream", "APPLICATION/JSONL", "ndjson"),
    ],
)
def test_an_accepted_media_type_is_taken_in_any_case_and_with_parameters(
    client: httpx.Client, path: str, content_type: str, body: str
) -> None:
    content = arrow_body() if body == "arrow" else ROW
    answer = client.post(path, content=content, headers={"content-type": content_type})
    assert answer.status_code == 200, answer.text


@pytest.mark.parametrize(
    ("path", "encoding", "content", "shape"),
    [
        ("/kl", "gzip", gzip.compress(json.dumps(PAIR).encode()), "detail"),
        ("/kl", "br", json.dumps(PAIR).encode(), "detail"),
        ("/kl/batch", "deflate", json.dumps(PAIR).encode(), "detail"),
        ("/kl/stream", "gzip", gzip.compress(ROW), "detail"),
        ("/v2/models/kl/infer", "gzip", b"{}", "error"),
    ],
    ids=["gzip", "br", "deflate", "stream-gzip", "v2-gzip"],
)
def test_an_encoded_body_is_415_naming_its_encoding(
    client: httpx.Client, path: str, encoding: str, content: bytes, shape: str
) -> None:
    content_type = "application/x-ndjson" if path.endswith("/stream") else "application/json"
    answer = client.post(
        path,
        content=content,
        headers={"content-type": content_type, "content-encoding": encoding},
    )
    assert answer.status_code == 415, answer.text
    message = answer.json()[shape]
    assert repr(encoding) in message and "unencoded" in message
    assert "x-request-id" in answer.headers


def test_an_identity_encoding_is_read_as_sent(client: httpx.Client) -> None:
    answer = client.post("/kl", json=PAIR, headers={"content-encoding": "identity"})
    assert answer.status_code == 200 and answer.json()["finite"] is True
