"""Arrow IPC stream bodies and answers on the batch endpoints, with pyarrow as the client."""

import json

import httpx
import numpy as np
import pyarrow as pa
import pytest
from scipy import special

from service.divergences.codecs.arrow import read_arrow

ARROW = "application/vnd.apache.arrow.stream"
rng = np.random.default_rng(5)
P = rng.dirichlet(np.ones(6), size=8)
Q = rng.dirichlet(np.ones(6), size=8)


def rows(matrix: np.ndarray, dtype: pa.DataType | None = None) -> pa.Array:
    dtype = dtype or pa.float64()
    return pa.FixedSizeListArray.from_arrays(pa.array(matrix.ravel(), type=dtype), matrix.shape[1])


def stream(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return bytes(sink.getvalue())


def post(
    client: httpx.Client,
    path: str,
    table: pa.Table,
    answer_in_arrow: bool = False,
    **params: object,
) -> httpx.Response:
    headers = {"content-type": ARROW, **({"accept": ARROW} if answer_in_arrow else {})}
    return client.post(path, content=stream(table), headers=headers, params=params)


def test_arrow_rows_of_p_and_q_score_like_json(client: httpx.Client) -> None:
    answer = post(client, "/kl/batch", pa.table({"p": rows(P), "q": rows(Q)}))
    assert answer.status_code == 200
    assert np.allclose(answer.json()["kl"], special.rel_entr(P, Q).sum(axis=1), rtol=1e-12)
    as_json = client.post("/kl/batch", json={"p": P.tolist(), "q": Q.tolist()}).json()
    assert answer.json()["kl"] == as_json["kl"]


def test_an_arrow_answer_when_asked_holds_values_finite_and_index(client: httpx.Client) -> None:
    q = Q.copy()
    q[2, 4] = 0
    q[2] /= q[2].sum()
    answer = post(client, "/kl/batch", pa.table({"p": rows(P), "q": rows(q)}), True, base=2)
    assert answer.headers["content-type"] == ARROW
    table = pa.ipc.open_stream(answer.content).read_all()
    assert table.column_names == ["kl", "finite", "infinite_at"]
    values = table.column("kl").to_numpy()
    expected = special.rel_entr(P, q).sum(axis=1) / np.log(2)
    assert np.isinf(values[2]) and np.allclose(
        np.delete(values, 2), np.delete(expected, 2), rtol=1e-12
    )
    assert table.column("finite").to_pylist() == [i != 2 for i in range(8)]
    assert table.column("infinite_at").to_pylist() == [4 if i == 2 else None for i in range(8)]


def test_a_json_body_can_ask_for_an_arrow_answer(client: httpx.Client) -> None:
    answer = client.post(
        "/divergences/js/batch", json={"p": P.tolist(), "q": Q.tolist()}, headers={"accept": ARROW}
    )
    table = pa.ipc.open_stream(answer.content).read_all()
    assert table.num_rows == 8 and table.column_names[0] == "value"


def test_a_single_q_row_rides_in_the_schema_metadata(client: httpx.Client) -> None:
    schema = pa.schema(
        [("p", pa.list_(pa.float64(), 6))], metadata={"q": json.dumps(Q[0].tolist())}
    )
    answer = post(client, "/divergences/kl/batch", pa.table({"p": rows(P)}, schema=schema))
    expected = special.rel_entr(P, Q[0]).sum(axis=1)
    assert np.allclose(answer.json()["value"], expected, rtol=1e-12)


def test_float32_and_variable_size_lists_are_accepted(client: httpx.Client) -> None:
    p32, q32 = P.astype(np.float32), Q.astype(np.float32)
    listed = pa.table(
        {"p": pa.array(p32.tolist(), type=pa.list_(pa.float32())), "q": rows(q32, pa.float32())}
    )
    answer = post(client, "/kl/batch", listed, normalize="true")
    p64, q64 = p32.astype(np.float64), q32.astype(np.float64)
    expected = special.rel_entr(
        p64 / p64.sum(1, keepdims=True), q64 / q64.sum(1, keepdims=True)
    ).sum(axis=1)
    assert np.allclose(answer.json()["kl"], expected, rtol=1e-12)


@pytest.mark.parametrize(
    ("table", "params", "loc", "words"),
    [
        (pa.table({"p": rows(-P), "q": rows(Q)}), {}, ["body", "p", 0, 0], "non-negative"),
        (pa.table({"p": rows(P)}), {}, ["body", "q"], "required"),
        (pa.table({"q": rows(Q)}), {}, ["body", "p"], "no column p"),
        (
            pa.table({"p": pa.array([[0.5, 0.5], [1.0]]), "q": rows(Q[:2, :2])}),
            {},
            ["body", "p", 1],
            "row 1",
        ),
        (pa.table({"p": pa.array(["a", "b"]), "q": rows(Q[:2])}), {}, ["body", "p"], "list"),
        (pa.table({"p": rows(P), "q": rows(Q)}), {"base": 1}, ["query", "base"], "base"),
        (pa.table({"p": rows(P), "q": rows(Q)}), {"colour": "red"}, ["query", "colour"], "Extra"),
    ],
)
def test_bad_arrow_bodies_are_422_naming_the_place(
    client: httpx.Client,
    table: pa.Table,
    params: dict[str, object],
    loc: list[object],
    words: str,
) -> None:
    answer = post(client, "/kl/batch", table, **params)
    assert answer.status_code == 422, answer.text
    assert answer.json()["detail"][0]["loc"] == loc and words in answer.json()["detail"][0]["msg"]


def test_bytes_that_are_not_arrow_are_422_and_arrow_elsewhere_is_415(client: httpx.Client) -> None:
    garbage = client.post("/kl/batch", content=b"not arrow", headers={"content-type": ARROW})
    assert garbage.status_code == 422 and "Arrow" in garbage.json()["detail"][0]["msg"]
    single = client.post(
        "/kl",
        content=stream(pa.table({"p": rows(P), "q": rows(Q)})),
        headers={"content-type": ARROW},
    )
    assert single.status_code == 415


def test_a_stream_of_several_record_batches_scores_like_one(client: httpx.Client) -> None:
    table = pa.table({"p": rows(P), "q": rows(Q)})
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        for batch in table.to_batches(max_chunksize=3):  # rows 0-2, 3-5, 6-7
            writer.write_batch(batch)
    body = sink.getvalue().to_pybytes()
    response = client.post("/kl/batch", content=body, headers={"content-type": ARROW})
    assert response.status_code == 200, response.text
    one = post(client, "/kl/batch", table).json()["kl"]
    assert response.json()["kl"] == one
    assert np.allclose(one, special.rel_entr(P, Q).sum(axis=1), rtol=1e-12)


def test_rows_read_from_a_writable_body_are_writable_views_of_it() -> None:
    body = memoryview(bytearray(stream(pa.table({"p": rows(P), "q": rows(Q, pa.float32())}))))
    p, q = read_arrow(body)
    memory = np.frombuffer(body, dtype=np.uint8)
    assert p.flags.writeable and np.shares_memory(p, memory)  # in place, as TF reads it
    assert q is not None and not np.shares_memory(q, memory)  # float32: widened, a copy
    np.testing.assert_array_equal(p, P)
    read_only, _ = read_arrow(body.tobytes())
    assert not read_only.flags.writeable and np.array_equal(read_only, P)
