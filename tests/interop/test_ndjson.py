"""NDJSON streams: rows in, one answer line per row out, in order, a chunk at a time."""

import json

import httpx
import numpy as np
import pytest
from scipy import special

NDJSON = {"content-type": "application/x-ndjson"}


def ndjson(rows: list[dict[str, object]]) -> bytes:
    return b"".join(json.dumps(row).encode() + b"\n" for row in rows)


def answers(response: httpx.Response) -> list[dict[str, object]]:
    return [json.loads(line) for line in response.text.splitlines()]


def test_a_stream_of_rows_is_answered_row_by_row_in_order(client: httpx.Client) -> None:
    rng = np.random.default_rng(9)
    p = rng.dirichlet(np.ones(5), size=10_000)  # several chunks of 4,096 rows
    q = rng.dirichlet(np.ones(5), size=10_000)
    body = ndjson([{"p": a.tolist(), "q": b.tolist()} for a, b in zip(p, q, strict=True)])
    response = client.post("/kl/stream", content=body, headers=NDJSON, params={"base": 2})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/x-ndjson")
    lines = answers(response)
    expected = special.rel_entr(p, q).sum(axis=1) / np.log(2)
    assert len(lines) == 10_000
    assert np.allclose([line["kl"] for line in lines], expected, rtol=1e-12)


def test_rows_may_differ_in_length_and_infinities_are_null_with_their_index(
    client: httpx.Client,
) -> None:
    rows = [
        {"p": [0.5, 0.5], "q": [0.25, 0.75]},
        {"p": [0.2, 0.3, 0.5], "q": [0.5, 0.5, 0]},
        {"p": [1.0], "q": [1.0]},
    ]
    lines = answers(client.post("/divergences/kl/stream", content=ndjson(rows), headers=NDJSON))
    assert [line["finite"] for line in lines] == [True, False, True]
    assert lines[1] == {"value": None, "finite": False, "infinite_at": 2}
    assert lines[2]["value"] == 0.0


def test_a_bad_row_ends_the_stream_with_an_error_line_naming_it(client: httpx.Client) -> None:
    good = {"p": [0.5, 0.5], "q": [0.25, 0.75]}
    rows = [good] * 5000 + [{"p": [0.5, -0.5], "q": [0.25, 0.75]}] + [good] * 10
    lines = answers(client.post("/kl/stream", content=ndjson(rows), headers=NDJSON))
    assert len(lines) == 4097  # the first chunk, then the error (its chunk is not answered)
    error = lines[-1]["error"]
    assert error["loc"] == ["body", 5000, "p", 1] and "non-negative" in error["msg"]
    assert "row" not in error["msg"]


@pytest.mark.parametrize(
    ("bad", "params", "msg"),
    [
        (
            {"p": [0.5, 0.6], "q": [0.5, 0.5]},
            {},
            "p sums to 1.1000000000000001, not 1 (tolerance 1e-06); "
            "send normalize: true to scale weights to a distribution",
        ),
        (
            {"p": [0, 0], "q": [1, 1]},
            {"normalize": "true"},
            "p is all zeros: it cannot be normalized to a distribution",
        ),
    ],
)
def test_an_error_line_says_what_is_wrong_without_the_chunk_s_row(
    client: httpx.Client, bad: dict[str, object], params: dict[str, str], msg: str
) -> None:
    good: dict[str, object] = {"p": [0.5, 0.5], "q": [0.25, 0.75]}
    body = ndjson([good] * 4100 + [good, bad])  # row 4101: row 5 of the second chunk
    lines = answers(client.post("/kl/stream", content=body, headers=NDJSON, params=params))
    assert lines[-1] == {"error": {"type": "value_error", "loc": ["body", 4101, "p"], "msg": msg}}


def test_a_line_that_is_not_a_row_is_an_error_line(client: httpx.Client) -> None:
    body = b'{"p": [1], "q": [1]}\n{"p": [0.5, "x"], "q": [0.5, 0.5]}\n'
    lines = answers(client.post("/kl/stream", content=body, headers=NDJSON))
    assert lines[-1]["error"]["loc"] == ["body", 1, "p", 1]


def test_a_stream_may_be_larger_than_the_body_limit(client: httpx.Client) -> None:
    row = {"p": [0.1] * 10, "q": [0.1] * 10}
    body = ndjson([row] * 60_000)  # about 6 MB; the test server's body limit is 4 MiB
    assert len(body) > 4 * 1024 * 1024
    response = client.post("/kl/stream", content=body, headers=NDJSON)
    assert response.status_code == 200 and response.text.count("\n") == 60_000


def test_options_come_as_query_parameters_and_other_media_types_are_refused(
    client: httpx.Client,
) -> None:
    bad = client.post(
        "/kl/stream", content=b'{"p": [1], "q": [1]}\n', headers=NDJSON, params={"mode": "fast"}
    )
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["query", "mode"]
    refused = client.post("/kl/stream", json={"p": [1], "q": [1]})
    assert refused.status_code == 415
