"""Arrow streams that are empty, malformed or hostile get a 422 naming the place, never a
500, whichever answer (JSON or Arrow) the client asks for."""

import json

import httpx
import numpy as np
import pyarrow as pa
import pytest

from tests.interop.test_arrow import ARROW, rows, stream

BATCH_ROUTES = ["/kl/batch", "/divergences/js/batch", "/divergences/entropy/batch"]
ACCEPTS = {"json": {}, "arrow": {"accept": ARROW}}
HALVES = np.full((2, 2), 0.5)


def schema_only(table: pa.Table) -> bytes:
    """A stream with the table's schema and no record batch at all."""
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema):
        pass
    return bytes(sink.getvalue())


def with_metadata_q(text: str) -> bytes:
    schema = pa.schema([("p", pa.list_(pa.float64(), 2))], metadata={"q": text})
    return stream(pa.table({"p": rows(HALVES)}, schema=schema))


def post(client: httpx.Client, path: str, body: bytes, accept: str = "json") -> httpx.Response:
    return client.post(path, content=body, headers={"content-type": ARROW, **ACCEPTS[accept]})


EMPTY = pa.table({"p": rows(np.empty((0, 2))), "q": rows(np.empty((0, 2)))})


@pytest.mark.parametrize("accept", list(ACCEPTS))
@pytest.mark.parametrize(
    "body", [stream(EMPTY), schema_only(EMPTY)], ids=["zero-rows", "no-record-batch"]
)
@pytest.mark.parametrize("path", BATCH_ROUTES)
def test_an_arrow_batch_without_rows_is_422_too_short_like_an_empty_json_batch(
    client: httpx.Client, path: str, body: bytes, accept: str
) -> None:
    answer = post(client, path, body, accept)
    assert answer.status_code == 422, answer.text
    error = answer.json()["detail"][0]
    as_json = client.post(path, json={"p": [], "q": []}, headers=ACCEPTS[accept])
    assert as_json.status_code == 422
    assert (error["type"], error["loc"]) == ("too_short", ["body", "p"])
    assert (error["type"], error["loc"]) == tuple(
        as_json.json()["detail"][0][key] for key in ("type", "loc")
    )
    assert "no rows" in error["msg"]


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("[1" + "0" * 400 + ", 1]", "finite"),  # an integer beyond float64: infinite
        ("[" * 100_000 + "]" * 100_000, "not valid JSON"),  # nested past any parser's depth
        ("[true, false]", "number"),  # JSON refuses booleans as numbers; so does Arrow
        ('["0.5", "0.5"]', "number"),
        ("[]", "at least one"),
        ('{"a": 1}', "list"),
        ("[[0.5, 0.5]]", "number"),
    ],
    ids=["huge-integer", "deep-nesting", "booleans", "strings", "empty", "object", "nested"],
)
def test_a_bad_q_in_the_schema_metadata_is_422_naming_it(
    client: httpx.Client, text: str, words: str
) -> None:
    answer = post(client, "/kl/batch", with_metadata_q(text))
    assert answer.status_code == 422, answer.text
    error = answer.json()["detail"][0]
    assert error["loc"][:2] == ["body", "q"] and words in error["msg"], error
    assert len(answer.content) < 2_000


def patched_offsets(offsets: list[int]) -> bytes:
    """A stream of two rows of a variable-size list column p whose offsets (0, 2, 4) are
    overwritten in the bytes with ``offsets``, as a broken or hostile writer could."""
    p = pa.array(HALVES.tolist(), type=pa.list_(pa.float64()))
    body = stream(pa.table({"p": p}, schema=pa.schema([("p", p.type)], metadata={"q": "[1, 0]"})))
    honest = np.array([0, 2, 4], dtype="<i4").tobytes()
    assert body.count(honest) == 1
    return body.replace(honest, np.array(offsets, dtype="<i4").tobytes())


@pytest.mark.parametrize(
    "offsets",
    [[0, 3, 6], [0, 2, 40], [0, 2, 1], [2, 4, 6]],
    ids=["rows-past-the-values", "last-past-the-values", "decreasing", "shifted"],
)
def test_list_offsets_that_break_the_format_are_422(
    client: httpx.Client, offsets: list[int]
) -> None:
    answer = post(client, "/kl/batch", patched_offsets(offsets))
    assert answer.status_code == 422, answer.text
    error = answer.json()["detail"][0]
    assert error["loc"] == ["body"] and "not a valid Arrow" in error["msg"], error


def test_the_metadata_q_used_by_these_tests_is_itself_accepted(client: httpx.Client) -> None:
    answer = post(client, "/kl/batch", with_metadata_q(json.dumps([0.5, 0.5])))
    assert answer.status_code == 200 and answer.json()["kl"] == [0.0, 0.0]


def test_a_compressed_stream_is_422_before_it_is_decompressed(client: httpx.Client) -> None:
    sink = pa.BufferOutputStream()
    table = pa.table({"p": rows(np.full((10_000, 100), 0.01))})  # 8 MB once decompressed
    options = pa.ipc.IpcWriteOptions(compression="zstd")
    with pa.ipc.new_stream(sink, table.schema, options=options) as writer:
        writer.write_table(table)
    body = bytes(sink.getvalue())
    assert len(body) < 100_000  # a few kilobytes: the body limit alone would bound nothing
    answer = post(client, "/kl/batch", body)
    assert answer.status_code == 422, answer.text
    error = answer.json()["detail"][0]
    assert error["loc"] == ["body"] and "compressed" in error["msg"], error


def test_a_field_name_that_is_not_utf8_is_422(client: httpx.Client) -> None:
    body = stream(pa.table({"p": rows(HALVES), "q": rows(HALVES)}))
    name_q = b"\x01\x00\x00\x00q\x00"  # the flatbuffer string "q": its length, then bytes
    assert body.count(name_q) == 1
    answer = post(client, "/kl/batch", body.replace(name_q, b"\x01\x00\x00\x00\x80\x00"))
    assert answer.status_code == 422, answer.text
    error = answer.json()["detail"][0]
    assert error["loc"] == ["body"] and "UTF-8" in error["msg"], error
