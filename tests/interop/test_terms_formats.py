"""Per-element terms in batches and the other formats: JSON batches answer terms and top
per row, Arrow answers carry them as list columns, NDJSON streams per line; V2 refuses
them (its outputs are one value per row), naming the parameter."""

import json
import math
from typing import Any

import httpx
import numpy as np
import pyarrow as pa
import pytest

from service.divergences.catalog import DIVERGENCES
from tests.api.test_log_formats import arrow_body

ARROW = "application/vnd.apache.arrow.stream"
SUMMABLE = [name for name, d in DIVERGENCES.items() if d.terms is not None]
RNG = np.random.default_rng(7)
P = RNG.dirichlet(np.ones(5), size=4)
Q = RNG.dirichlet(np.ones(5), size=4)
P[1, 2] = 0.0  # zeros: infinite rows for some members
Q[2, 3] = 0.0
P /= P.sum(axis=1, keepdims=True)
Q /= Q.sum(axis=1, keepdims=True)


def member(name: str) -> dict[str, float]:
    return {parameter.name: 0.5 for parameter in DIVERGENCES[name].parameters}


def single(client: httpx.Client, name: str, p: np.ndarray, q: np.ndarray) -> dict[str, Any]:
    body = {"p": p.tolist(), "q": q.tolist(), "terms": True, "top": 2, **member(name)}
    answer = client.post(f"/divergences/{name}", json=body)
    assert answer.status_code == 200, answer.text
    found: dict[str, Any] = answer.json()
    return found


def assert_row_sums(terms: list[float | None], value: float | None) -> None:
    if value is None:
        assert None in terms
        return
    total = math.fsum(t for t in terms if t is not None)
    assert None not in terms and abs(total - value) <= max(1e-15, 1e-12 * abs(value))


@pytest.mark.parametrize("name", SUMMABLE)
def test_a_json_batch_answers_terms_and_top_per_row_as_single_pairs_do(
    client: httpx.Client, name: str
) -> None:
    body = {"p": P.tolist(), "q": Q.tolist(), "terms": True, "top": 2, **member(name)}
    answer = client.post(f"/divergences/{name}/batch", json=body)
    assert answer.status_code == 200, answer.text
    found = answer.json()
    assert len(found["terms"]) == len(found["top"]) == len(P)
    for row, (terms, top, value) in enumerate(
        zip(found["terms"], found["top"], found["value"], strict=True)
    ):
        assert_row_sums(terms, value)
        alone = single(client, name, P[row], Q[row])
        np.testing.assert_allclose(
            np.array(terms, dtype=float), np.array(alone["terms"], dtype=float), rtol=1e-13
        )
        assert [t["index"] for t in top] == [t["index"] for t in alone["top"]]


def test_kl_batch_with_a_single_q_row_answers_terms_per_p_row(client: httpx.Client) -> None:
    body = {"p": P.tolist(), "q": Q[0].tolist(), "terms": True}
    found = client.post("/kl/batch", json=body).json()
    expected = np.where(P > 0, P * np.log(np.where(P > 0, P, 1) / Q[0]), 0.0)
    np.testing.assert_allclose(np.array(found["terms"], dtype=float), expected, rtol=1e-13)
    for terms, value in zip(found["terms"], found["kl"], strict=True):
        assert_row_sums(terms, value)
    assert "top" not in found


def test_a_batch_of_logits_answers_their_exact_terms(client: httpx.Client) -> None:
    logits = {"p_format": "logits", "q_format": "logits", "temperature": 2.0}
    body = {"p": [[0, 0], [1, 2]], "q": [[0, -1600], [1, 2]], "terms": True, **logits}
    found = client.post("/kl/batch", json=body).json()
    # softmax([0, -800]) underflows; the terms are those of its exact logarithm.
    assert found["terms"][0] == pytest.approx([0.5 * math.log(0.5), 0.5 * math.log(0.5) + 400])
    assert found["terms"][1] == [0.0, 0.0]
    assert math.fsum(found["terms"][0]) == pytest.approx(found["kl"][0], rel=1e-14)


def test_an_arrow_answer_carries_terms_and_top_as_list_columns(client: httpx.Client) -> None:
    table = pa.table(
        {
            key: pa.FixedSizeListArray.from_arrays(pa.array(m.ravel()), m.shape[1])
            for key, m in (("p", P), ("q", Q))
        }
    )
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    answer = client.post(
        "/kl/batch",
        content=sink.getvalue().to_pybytes(),
        params={"terms": "true", "top": "3"},
        headers={"content-type": ARROW, "accept": ARROW},
    )
    assert answer.status_code == 200, answer.text
    read = pa.ipc.open_stream(answer.content).read_all()
    assert read.column_names == ["kl", "finite", "infinite_at", "terms", "top"]
    terms = np.array(read.column("terms").to_pylist())
    json_answer = client.post(
        "/kl/batch", json={"p": P.tolist(), "q": Q.tolist(), "terms": True, "top": 3}
    ).json()
    as_json = np.array(json_answer["terms"], dtype=float)
    np.testing.assert_array_equal(terms, np.where(np.isnan(as_json), np.inf, as_json))
    top = read.column("top").to_pylist()
    assert [[t["index"] for t in row] for row in top] == [
        [t["index"] for t in row] for row in json_answer["top"]
    ]
    assert all(len(row) == 3 for row in top)


def test_an_arrow_answer_without_terms_has_no_terms_columns(client: httpx.Client) -> None:
    answer = client.post(
        "/divergences/js/batch",
        content=arrow_body(P[0].tolist(), Q[0].tolist()),
        headers={"content-type": ARROW, "accept": ARROW},
    )
    read = pa.ipc.open_stream(answer.content).read_all()
    assert read.column_names == ["value", "finite", "infinite_at"]


def test_a_stream_answers_terms_and_top_per_line(client: httpx.Client) -> None:
    rows = [([0.7, 0.3], [0.5, 0.5]), ([0.25, 0.25, 0.5], [0.5, 0.5, 0.0]), ([1.0], [1.0])]
    body = b"".join(json.dumps({"p": p, "q": q}).encode() + b"\n" for p, q in rows)
    answer = client.post(
        "/divergences/kl/stream",
        content=body,
        params={"terms": "true", "top": "1", "base": "2"},
        headers={"content-type": "application/x-ndjson"},
    )
    assert answer.status_code == 200, answer.text
    lines = [json.loads(line) for line in answer.text.splitlines()]
    assert len(lines) == 3
    first = lines[0]
    expected = [0.7 * math.log2(0.7 / 0.5), 0.3 * math.log2(0.3 / 0.5)]
    assert first["terms"] == pytest.approx(expected, rel=1e-15)
    assert first["top"] == [{"index": 0, "term": first["terms"][0]}]
    assert_row_sums(first["terms"], first["value"])
    assert lines[1]["value"] is None and lines[1]["terms"][2] is None
    assert lines[1]["top"] == [{"index": 2, "term": None}]
    assert lines[2]["terms"] == [0.0]


def test_a_stream_of_a_member_that_is_not_a_sum_refuses_terms_at_once(
    client: httpx.Client,
) -> None:
    answer = client.post(
        "/divergences/hellinger/stream",
        content=b'{"p": [0.5, 0.5], "q": [0.9, 0.1]}\n',
        params={"top": "2"},
        headers={"content-type": "application/x-ndjson"},
    )
    assert answer.status_code == 422, answer.text
    assert answer.json()["detail"][0]["loc"] == ["query", "top"]


@pytest.mark.parametrize("parameters", [{"terms": True}, {"top": 3}])
def test_v2_refuses_terms_naming_the_parameter(
    client: httpx.Client, parameters: dict[str, Any]
) -> None:
    inputs = [
        {"name": key, "shape": [1, 2], "datatype": "FP64", "data": row}
        for key, row in (("P", [0.5, 0.5]), ("Q", [0.9, 0.1]))
    ]
    answer = client.post("/v2/models/kl/infer", json={"inputs": inputs, "parameters": parameters})
    assert answer.status_code == 400, answer.text
    (name,) = parameters
    assert f"parameter '{name}'" in answer.json()["error"]
    assert "not available in V2" in answer.json()["error"]


def test_a_batch_asking_for_terms_is_held_to_the_batch_limits_as_any_other(
    client: httpx.Client,
) -> None:
    # The answer holds one term per element of p: the limits on p bound it (50,000 rows here).
    rows = [[1.0]] * 50_001
    answer = client.post("/kl/batch", json={"p": rows, "q": [1.0], "terms": True})
    assert answer.status_code == 413, answer.text
    assert answer.json()["detail"][0]["loc"] == ["body", "p"]
    within = client.post("/kl/batch", json={"p": rows[:50_000], "q": [1.0], "terms": True})
    assert within.status_code == 200 and len(within.json()["terms"]) == 50_000
