"""The JSON reader of batch bodies: the same numbers as pydantic's parser, or no answer."""

import json

import httpx
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import special

from service.divergences.codecs.json_arrays import _count, read_arrays
from service.divergences.schemas import DivergenceBatchRequest, KLBatchRequest

# Doubles of every kind: subnormals, the extremes of float64, integers beyond 2**53.
DOUBLES = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False),
    st.floats(min_value=0, max_value=1e-300, allow_subnormal=True),
    st.integers(min_value=-(2**63), max_value=2**64 - 1),
)
# The ways a client may write one: shortest repr, 17 digits with an exponent, few digits.
WRITERS = [repr, lambda x: f"{x:.17e}", lambda x: f"{x:.3g}", lambda x: f"{x:E}"]


def written(value: float | int, style: int) -> str:
    return str(value) if isinstance(value, int) else WRITERS[style](value)


@given(
    rows=st.lists(st.lists(DOUBLES, min_size=3, max_size=3), min_size=1, max_size=8),
    q_row=st.lists(DOUBLES, min_size=3, max_size=3),
    style=st.integers(0, len(WRITERS) - 1),
)
def test_numbers_are_the_doubles_pydantic_reads(
    rows: list[list[float | int]], q_row: list[float | int], style: int
) -> None:
    p_text = ",".join("[" + ",".join(written(x, style) for x in row) + "]" for row in rows)
    q_text = ",".join(written(x, style) for x in q_row)
    body = f'{{"p": [{p_text}], "q": [{q_text}], "base": 2}}'.encode()
    expected = KLBatchRequest.model_validate_json(body)
    read = read_arrays(KLBatchRequest, body)
    if not np.isfinite([*np.ravel(expected.p), *expected.q]).all():
        assert read is None  # written with 3 digits, 1.8e+308 is beyond float64
        return
    assert read is not None
    assert read.p.shape == (len(rows), 3) and read.q.shape == (3,)
    assert read.p.tobytes() == np.asarray(expected.p, dtype=np.float64).tobytes()
    assert read.q.tobytes() == np.asarray(expected.q, dtype=np.float64).tobytes()
    assert read.model_dump(exclude={"p", "q"}) == expected.model_dump(exclude={"p", "q"})


def test_q_as_one_row_per_p_row_is_a_matrix() -> None:
    read = read_arrays(KLBatchRequest, b'{"p": [[0.5, 0.5], [1, 0]], "q": [[0.25, 0.75], [0, 1]]}')
    assert read is not None
    assert read.q.tolist() == [[0.25, 0.75], [0.0, 1.0]]


def test_options_are_checked_by_the_model() -> None:
    body = b'{"p": [[0.5, 0.5]], "q": [0.5, 0.5], "mode": "keras", "epsilon": 0.001, "alpha": 2}'
    read = read_arrays(DivergenceBatchRequest, body)
    assert read is not None
    assert (read.mode, read.epsilon, read.alpha) == ("keras", 0.001, 2.0)


@pytest.mark.parametrize(
    "body",
    [
        b'{"p": [[0.5, 0.5], [1]], "q": [0.5, 0.5]}',  # ragged rows
        b'{"p": [[0.5, [0.5]]], "q": [0.5, 0.5]}',  # nested deeper, same count of numbers
        b'{"p": [[[0.5], [0.5]]], "q": [0.5, 0.5]}',
        b'{"p": [[0.5, 0.5]], "q": [0.5, [0.5]]}',
        b'{"p": [[0.5, 0.5]], "q": [[0.5, 0.5], 1]}',
        b'{"p": [], "q": [0.5, 0.5]}',  # empty
        b'{"p": [[]], "q": [0.5, 0.5]}',
        b'{"p": [[0.5, "0.5"]], "q": [0.5, 0.5]}',  # not numbers
        b'{"p": [[0.5, true]], "q": [0.5, 0.5]}',
        b'{"p": [[0.5, null]], "q": [0.5, 0.5]}',
        b'{"p": [[0.5, NaN]], "q": [0.5, 0.5]}',
        b'{"p": [[0.5, Infinity]], "q": [0.5, 0.5]}',
        b'{"p": [[0.5, 1e999]], "q": [0.5, 0.5]}',  # beyond float64
        b'{"p": [[0.5, 18446744073709551616]], "q": [0.5, 0.5]}',  # beyond 64 bits
        b'{"p": [[0.5, 0.5]], "p": [[1, 0]], "q": [0.5, 0.5]}',  # a repeated key
        b'{"p": [[0.5, 0.5]], "q": [0.5, 0.5], "mode": "[keras"}',  # "[" in a string
        b'{"p": [[0.5, 0.5]], "q": [0.5, 0.5], "mode": {"a": 1}}',
        b'{"p": [[0.5, 0.5]], "q": [0.5, 0.5], "mode": "fast"}',  # an invalid option
        b'{"p": [[0.5, 0.5]], "q": [0.5, 0.5], "extra": 1}',  # an unknown field
        b'{"p": [0.5, 0.5], "q": [0.5, 0.5]}',  # p must be rows
        b'{"q": [0.5, 0.5]}',  # p missing
        b'{"p": [[0.5, 0.5]], "q": [0.5, 0.5]} trailing',
        b'{"p": [[0.5, 0.5]], "q": [0.5, 0.5]',
        b"[[0.5, 0.5]]",
        b'\xef\xbb\xbf{"p": [[0.5, 0.5]], "q": [0.5, 0.5]}',  # a byte-order mark
        b"",
    ],
)
def test_anything_but_the_plain_shape_is_left_to_the_usual_parser(body: bytes) -> None:
    assert read_arrays(DivergenceBatchRequest, body) is None


def test_a_batch_read_as_arrays_scores_like_the_numpy_formula(client: httpx.Client) -> None:
    rng = np.random.default_rng(7)
    p = rng.dirichlet(np.ones(50), size=1_000)
    q = rng.dirichlet(np.ones(50), size=1_000)
    p[0, :2] = [0.0, p[0, 0] + p[0, 1]]  # a zero, written below as the integer 0
    body = json.dumps({"p": p.tolist(), "q": q.tolist(), "base": 2}).replace("[0.0,", "[0,")
    response = client.post("/kl/batch", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 200, response.text
    expected = special.rel_entr(p, q).sum(axis=1) / np.log(2)
    np.testing.assert_allclose(response.json()["kl"], expected, rtol=1e-12)


def test_rows_nested_one_level_deeper_are_422_naming_the_element(client: httpx.Client) -> None:
    response = client.post("/kl/batch", json={"p": [[0.5, [0.5]]], "q": [0.5, 0.5]})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "p", 0, 1]


def test_a_body_with_a_byte_order_mark_is_422_on_batches_as_on_single_pairs(
    client: httpx.Client,
) -> None:
    body = b'\xef\xbb\xbf{"p": [[0.5, 0.5]], "q": [0.5, 0.5]}'
    headers = {"content-type": "application/json"}
    batch = client.post("/kl/batch", content=body, headers=headers)
    pair = body.replace(b"[[0.5, 0.5]]", b"[0.5, 0.5]")
    single = client.post("/kl", content=pair, headers=headers)
    assert batch.status_code == single.status_code == 422
    assert batch.json()["detail"][0]["type"] == "json_invalid"


@given(data=st.binary(max_size=300), step=st.integers(1, 64))
def test_counting_a_byte_a_chunk_at_a_time_counts_it_everywhere(data: bytes, step: int) -> None:
    assert _count(memoryview(bytearray(data)), ord("["), step) == data.count(b"[")
