"""A negative zero is a zero, for every member and in every format a client can send it:
JSON (single and batch), Arrow, V2 binary tensors and NDJSON streams. The answer to a
request holding -0.0 is the answer to the same request holding +0.0."""

import json
from typing import Any

import httpx
import numpy as np
import pyarrow as pa
import pytest

from service.divergences.catalog import DIVERGENCES

NAMES = list(DIVERGENCES)
# p positive where q holds the zero (infinite for KL and kin), and the reverse.
PAIRS = [([0.5, 0.5], [0.0, 1.0]), ([0.0, 1.0], [0.5, 0.5])]


def negated_zeros(values: list[float]) -> list[float]:
    return [-0.0 if v == 0 else v for v in values]


def options(name: str) -> dict[str, Any]:
    return {parameter.name: 0.5 for parameter in DIVERGENCES[name].parameters}


def arrow_body(p: list[float], q: list[float]) -> bytes:
    width = len(p)
    table = pa.table(
        {
            name: pa.FixedSizeListArray.from_arrays(pa.array(np.array(row), pa.float64()), width)
            for name, row in (("p", p), ("q", q))
        }
    )
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def v2_binary_body(p: list[float], q: list[float], name: str) -> tuple[bytes, dict[str, str]]:
    tensors = {"P": np.array([p], "<f8"), "Q": np.array([q], "<f8")}
    header = {
        "inputs": [
            {"name": key, "shape": list(t.shape), "datatype": "FP64"}
            | {"parameters": {"binary_data_size": t.nbytes}}
            for key, t in tensors.items()
        ],
        "parameters": options(name),
    }
    text = json.dumps(header).encode()
    body = text + b"".join(t.tobytes() for t in tensors.values())
    return body, {"Inference-Header-Content-Length": str(len(text))}


def answer(client: httpx.Client, how: str, name: str, p: list[float], q: list[float]) -> Any:
    """The answer to one pair sent ``how``, as JSON."""
    query = {k: str(v) for k, v in options(name).items()}
    if how == "json":
        response = client.post(f"/divergences/{name}", json={"p": p, "q": q, **options(name)})
    elif how == "json batch":
        body = {"p": [p], "q": [q], **options(name)}
        response = client.post(f"/divergences/{name}/batch", json=body)
    elif how == "arrow":
        response = client.post(
            f"/divergences/{name}/batch",
            content=arrow_body(p, q),
            params=query,
            headers={"content-type": "application/vnd.apache.arrow.stream"},
        )
    elif how == "v2 binary":
        body, headers = v2_binary_body(p, q, name)
        response = client.post(f"/v2/models/{name}/infer", content=body, headers=headers)
        assert response.status_code == 200, response.text
        return json.loads(response.content)["outputs"]
    else:
        line = json.dumps({"p": p, "q": q}).encode() + b"\n"
        response = client.post(
            f"/divergences/{name}/stream",
            content=line,
            params=query,
            headers={"content-type": "application/x-ndjson"},
        )
        assert response.status_code == 200, response.text
        return [json.loads(row) for row in response.text.splitlines()]
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.parametrize("how", ["json", "json batch", "arrow", "v2 binary", "ndjson"])
@pytest.mark.parametrize("name", NAMES)
def test_a_negative_zero_is_answered_as_a_zero(client: httpx.Client, name: str, how: str) -> None:
    for p, q in PAIRS:
        positive = answer(client, how, name, p, q)
        negative = answer(client, how, name, negated_zeros(p), negated_zeros(q))
        assert negative == positive, (p, q)


@pytest.mark.parametrize("name", ["kl", "cross_entropy", "jeffreys", "renyi"])
def test_a_negative_zero_in_q_names_its_index_as_the_cause_of_infinity(
    client: httpx.Client, name: str
) -> None:
    body = {"p": [0.5, 0.5], "q": [-0.0, 1.0], **({"alpha": 2} if name == "renyi" else {})}
    found = client.post(f"/divergences/{name}", json=body).json()
    assert found["finite"] is False and found["infinite_at"] == 0, found


def test_renyi_below_order_one_with_a_negative_zero_is_finite(client: httpx.Client) -> None:
    body = {"p": [0.5, 0.5], "q": [-0.0, 1.0], "alpha": 0.5}
    found = client.post("/divergences/renyi", json=body).json()
    assert found["finite"] is True and found["value"] == pytest.approx(np.log(2), rel=1e-15)
