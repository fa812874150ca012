"""p and q as logits and log-probabilities, through HTTP as a user sends them: every member
gets the exact value (mpmath on the softmax of the inputs), the same from every transport
(POST /kl, single, batch JSON and Arrow, NDJSON stream, V2 JSON and binary tensors), with
null (JSON) or -inf (binary) for a zero probability, a temperature, and bad input named."""

import json
import math
from typing import Any

import httpx
import numpy as np
import pyarrow as pa
import pytest

from service.divergences.catalog import DIVERGENCES
from tests.divergences.log_reference import assert_accurate, expected

NAMES = list(DIVERGENCES)
ARROW = "application/vnd.apache.arrow.stream"
HOW = ["single", "batch json", "batch arrow", "stream", "v2 json", "v2 binary"]
# softmax([0, 0]) against softmax([0, -800]): e^-800 underflows float64.
UNDERFLOW = ([0.0, 0.0], [0.0, -800.0])
MASKED = ([1.5, -math.inf, 0.25], [-0.5, -math.inf, 2.0])


def as_json(values: list[float]) -> list[float | None]:
    """JSON has no -Infinity: null stands for it."""
    return [None if v == -math.inf else v for v in values]


def parameters(name: str, **options: Any) -> dict[str, Any]:
    member = {p.name: 0.5 for p in DIVERGENCES[name].parameters}
    return {"p_format": "logits", "q_format": "logits", **member, **options}


def arrow_body(p: list[float], q: list[float]) -> bytes:
    table = pa.table(
        {
            key: pa.FixedSizeListArray.from_arrays(pa.array(np.array(row), pa.float64()), len(row))
            for key, row in (("p", p), ("q", q))
        }
    )
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def v2_binary(p: list, q: list, options: dict[str, Any], output: str) -> tuple[bytes, dict]:
    """A V2 request with binary P and Q (-inf as itself), asking for one binary output."""
    tensors = {"P": np.array([p], "<f8"), "Q": np.array([q], "<f8")}
    header = {
        "inputs": [
            {"name": key, "shape": list(t.shape), "datatype": "FP64"}
            | {"parameters": {"binary_data_size": t.nbytes}}
            for key, t in tensors.items()
        ],
        "outputs": [{"name": output, "parameters": {"binary_data": True}}],
        "parameters": options,
    }
    text = json.dumps(header).encode()
    body = text + b"".join(t.tobytes() for t in tensors.values())
    return body, {"Inference-Header-Content-Length": str(len(text))}


def value(client: httpx.Client, how: str, name: str, p: list, q: list, **options: Any) -> float:
    """The value of one pair sent ``how`` (``inf`` where infinite)."""
    options = parameters(name, **options)
    query = {k: v if isinstance(v, str) else json.dumps(v) for k, v in options.items()}
    body = {"p": as_json(p), "q": as_json(q), **options}
    if how == "single":
        response = client.post(f"/divergences/{name}", json=body)
    elif how == "batch json":
        response = client.post(f"/divergences/{name}/batch", json={**body, "p": [body["p"]]})
    elif how == "batch arrow":
        response = client.post(
            f"/divergences/{name}/batch",
            content=arrow_body(p, q),
            params=query,
            headers={"content-type": ARROW, "accept": ARROW},
        )
        assert response.status_code == 200, response.text
        return float(pa.ipc.open_stream(response.content).read_all().column("value")[0].as_py())
    elif how == "stream":
        line = json.dumps({"p": body["p"], "q": body["q"]}).encode() + b"\n"
        response = client.post(
            f"/divergences/{name}/stream",
            content=line,
            params=query,
            headers={"content-type": "application/x-ndjson"},
        )
        assert response.status_code == 200, response.text
        row = json.loads(response.text.splitlines()[0])
        return math.inf if row["value"] is None else float(row["value"])
    elif how == "v2 json":
        inputs = [
            {"name": key, "shape": [1, len(v)], "datatype": "FP64", "data": as_json(v)}
            for key, v in (("P", p), ("Q", q))
        ]
        response = client.post(
            f"/v2/models/{name}/infer", json={"inputs": inputs, "parameters": options}
        )
        assert response.status_code == 200, response.text
        outputs = {o["name"]: o["data"] for o in response.json()["outputs"]}
        return float(outputs[name.upper()][0]) if outputs["FINITE"][0] else math.inf
    else:
        content, headers = v2_binary(p, q, options, name.upper())
        response = client.post(f"/v2/models/{name}/infer", content=content, headers=headers)
        assert response.status_code == 200, response.text
        return float(np.frombuffer(response.content[-8:], "<f8")[0])
    assert response.status_code == 200, response.text
    answer = response.json()
    found = answer["value"][0] if how == "batch json" else answer["value"]
    return math.inf if found is None else float(found)


@pytest.mark.parametrize("how", HOW)
@pytest.mark.parametrize("name", NAMES)
def test_every_member_and_transport_gives_the_exact_value_of_logits(
    client: httpx.Client, name: str, how: str
) -> None:
    reference = f"{name}_0.5" if DIVERGENCES[name].parameters else name
    for p, q in (UNDERFLOW, UNDERFLOW[::-1], MASKED):
        got = value(client, how, name, list(p), list(q))
        assert_accurate(got, expected(reference, p, q, ("logits", "logits")), name, (how, p, q))


def test_kl_of_logits_whose_probabilities_underflow_is_finite_on_post_kl(
    client: httpx.Client,
) -> None:
    p, q = UNDERFLOW
    body = {"p": p, "q": q, "p_format": "logits", "q_format": "logits"}
    answer = client.post("/kl", json=body).json()
    assert answer["finite"] is True
    assert answer["kl"] == 400 - math.log(2)  # 399.30685281944005, correctly rounded
    softmax = client.post("/kl", json={"p": [0.5, 0.5], "q": [1.0, 0.0]}).json()
    assert softmax["finite"] is False  # what softmax-then-KL says


@pytest.mark.parametrize("how", HOW)
def test_temperature_divides_logits_in_every_transport(client: httpx.Client, how: str) -> None:
    p, q = [2.0, -1.0, 0.5], [0.0, 1.0, 3.0]
    got = value(client, how, "kl", p, q, temperature=2.5)
    assert_accurate(got, expected("kl", p, q, ("logits", "logits"), 2.5), "kl", how)


@pytest.mark.parametrize("how", ["single", "batch json", "batch arrow", "stream", "v2 json"])
def test_log_probabilities_with_normalize_are_normalised(client: httpx.Client, how: str) -> None:
    p, q = np.log([2.0, 6.0]).tolist(), np.log([1.0, 3.0]).tolist()
    options = {"p_format": "log_probabilities", "q_format": "log_probabilities"}
    got = value(client, how, "js", p, q, normalize=True, **options)
    assert got == pytest.approx(0.0, abs=1e-30)


def test_probabilities_against_logits_mix_formats(client: httpx.Client) -> None:
    body = {"p": [0.25, 0.75], "q": [0.0, math.log(3)], "q_format": "logits"}
    answer = client.post("/divergences/jeffreys", json=body).json()
    assert answer["value"] == pytest.approx(0.0, abs=1e-15)


def test_keras_mode_exponentiates_logits_then_clips(client: httpx.Client) -> None:
    z, w = [0.0, 0.0], [0.0, -800.0]
    logits = {"p": z, "q": w, "p_format": "logits", "q_format": "logits", "mode": "keras"}
    softmax = {"p": [0.5, 0.5], "q": [1.0, 0.0], "mode": "keras"}
    got, want = client.post("/kl", json=logits).json(), client.post("/kl", json=softmax).json()
    assert got["finite"] is True
    assert got["kl"] == pytest.approx(want["kl"], rel=1e-15)


def post(client: httpx.Client, path: str, body: Any) -> httpx.Response:
    if isinstance(body, bytes):
        return client.post(path, content=body, headers={"content-type": "application/json"})
    return client.post(path, json=body)


LOGITS = {"p_format": "logits", "q_format": "logits"}
HALF = math.log(0.5)
LOG_PROBABILITIES = {"p_format": "log_probabilities", "q_format": "log_probabilities"}


@pytest.mark.parametrize(
    ("path", "body", "loc", "says"),
    [
        ("/kl", {"p": [0.5, None], "q": [0.5, 0.5]}, ["body", "p", 1], "null"),
        ("/kl/batch", {"p": [[0.5, 0.5], [0.5, None]], "q": [0.5, 0.5]}, ["body", "p", 1, 1],
         "null"),
        ("/kl", b'{"p": [0, NaN], "q": [0, 0], "p_format": "logits", "q_format": "logits"}',
         ["body", "p", 1], "NaN"),
        ("/kl", b'{"p": [0, 0], "q": [Infinity, 0], "p_format": "logits", "q_format": "logits"}',
         ["body", "q", 0], "+inf"),
        ("/kl/batch", {"p": [[0, 0], [None, None]], "q": [0, 0], **LOGITS}, ["body", "p", 1],
         "all -inf"),
        ("/kl", {"p": [0, 0], "q": [0, 0, 0], **LOGITS}, ["body", "q"], "same length"),
        ("/kl", {"p": [0.5, 0.5], "q": [0.5, 0.5], "temperature": 2}, ["body", "temperature"],
         "logits only"),
        ("/kl", {"p": [0, 0], "q": [0, 0], "temperature": 0, **LOGITS}, ["body", "temperature"],
         "greater than 0"),
        ("/kl", {"p": [0, 0], "q": [0, 0], "p_format": "logs"}, ["body", "p_format"], "logits"),
        ("/kl", {"p": [0, 1e308], "q": [0, 0], **LOGITS}, ["body", "p", 1], "at most 1e+307"),
        ("/kl", {"p": [0, 1e300], "q": [0, 0], "temperature": 1e-10, **LOGITS},
         ["body", "temperature"], "temperature"),
        ("/kl/batch", {"p": [[HALF, HALF], [-0.1, -0.1]], "q": [HALF, HALF], **LOG_PROBABILITIES},
         ["body", "p", 1], "normalize"),
    ],
)  # fmt: skip
def test_bad_log_inputs_are_named_with_their_row_and_element(
    client: httpx.Client, path: str, body: Any, loc: list, says: str
) -> None:
    response = post(client, path, body)
    assert response.status_code == 422, response.text
    detail = response.json()["detail"][0]
    assert detail["loc"] == loc, detail
    assert says in detail["msg"], detail


def test_a_bad_logit_in_a_stream_names_the_streams_row(client: httpx.Client) -> None:
    lines = b'{"p": [0, 1], "q": [1, 0]}\n{"p": [0, 1], "q": [1, Infinity]}\n'
    response = client.post(
        "/kl/stream",
        content=lines,
        params=LOGITS,
        headers={"content-type": "application/x-ndjson"},
    )
    # Both rows are one chunk: the error line ends the stream before it is answered.
    rows = [json.loads(line) for line in response.text.splitlines()]
    assert rows[-1]["error"]["loc"] == ["body", 1, "q", 1], rows
    assert "+inf" in rows[-1]["error"]["msg"]


def test_a_stream_with_a_temperature_and_no_logits_is_refused_at_once(
    client: httpx.Client,
) -> None:
    response = client.post(
        "/kl/stream",
        content=b'{"p": [0.5, 0.5], "q": [0.5, 0.5]}\n',
        params={"temperature": "2"},
        headers={"content-type": "application/x-ndjson"},
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][-1] == "temperature"


def test_a_nan_logit_in_arrow_names_its_row_and_element(client: httpx.Client) -> None:
    response = client.post(
        "/kl/batch",
        content=arrow_body([0.0, math.nan], [0.0, 0.0]),
        params=LOGITS,
        headers={"content-type": ARROW},
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "p", 0, 1]


@pytest.mark.parametrize(
    ("data", "options", "says"),
    [
        ([0.5, None], {}, "null"),
        ([0.0, None], {"p_format": "logits", "temperature": -1}, "temperature"),
        ([None, None], {"p_format": "logits", "q_format": "logits"}, "all -inf"),
    ],
)
def test_v2_refuses_bad_log_inputs_with_400(
    client: httpx.Client, data: list, options: dict, says: str
) -> None:
    inputs = [
        {"name": "P", "shape": [1, 2], "datatype": "FP64", "data": data},
        {"name": "Q", "shape": [1, 2], "datatype": "FP64", "data": [0.5, 0.5]},
    ]
    response = client.post("/v2/models/kl/infer", json={"inputs": inputs, "parameters": options})
    assert response.status_code == 400, response.text
    assert says in response.json()["error"]
