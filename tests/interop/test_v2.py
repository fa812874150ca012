"""The Open Inference Protocol (KServe V2 REST) with Triton's own client, tritonclient."""

import json
from typing import Any

import httpx
import numpy as np
import pytest
from scipy import special

from service.divergences import formulas
from service.divergences.catalog import DIVERGENCES

pytest.importorskip(
    "tritonclient.http",
    reason="tritonclient[http] (a test dependency) is not installed: pip install -e .[test]",
)
import tritonclient.http as triton
from tritonclient.utils import InferenceServerException

rng = np.random.default_rng(11)
P = rng.dirichlet(np.ones(5), size=4)
Q = rng.dirichlet(np.ones(5), size=4)
SENTINEL = float(np.finfo(np.float64).max)


def tensor(name: str, array: np.ndarray, binary: bool) -> triton.InferInput:
    datatype = {np.float64: "FP64", np.float32: "FP32"}[array.dtype.type]
    given = triton.InferInput(name, list(array.shape), datatype)
    given.set_data_from_numpy(array, binary_data=binary)
    return given


def infer(
    client: triton.InferenceServerClient,
    model: str,
    p: np.ndarray,
    q: np.ndarray | None,
    binary: bool,
    outputs: list[str] | None = None,
    **parameters: object,
) -> triton.InferResult:
    """``model`` of p and q with tensors in JSON or binary, both ways (every output of the
    model unless ``outputs`` says which)."""
    inputs = [tensor("P", p, binary), *([tensor("Q", q, binary)] if q is not None else [])]
    names = outputs or [model.upper(), "FINITE", "INFINITE_AT"]
    wanted = [triton.InferRequestedOutput(name, binary_data=binary) for name in names]
    return client.infer(model, inputs, outputs=wanted, parameters=parameters or None)


def expected(name: str, p: np.ndarray, q: np.ndarray, **options: float) -> np.ndarray:
    p, q = np.broadcast_arrays(p.astype(np.float64), q.astype(np.float64))
    values: np.ndarray = getattr(formulas, name)(p, q, **options)
    return values


def test_server_is_live_and_ready_and_describes_itself(v2: triton.InferenceServerClient) -> None:
    assert v2.is_server_live()
    assert v2.is_server_ready()
    metadata = v2.get_server_metadata()
    assert metadata["name"] == "divergence-service"
    assert "binary_tensor_data" in metadata["extensions"]


def test_every_divergence_is_a_ready_model_with_p_q_and_its_output(
    v2: triton.InferenceServerClient,
) -> None:
    for name, divergence in DIVERGENCES.items():
        assert v2.is_model_ready(name)
        assert v2.is_model_ready(name, model_version="1")
        metadata = v2.get_model_metadata(name)
        assert metadata["name"] == name
        assert metadata["versions"] == ["1"]
        inputs = {t["name"]: t for t in metadata["inputs"]}
        assert set(inputs) == ({"P", "Q"} if divergence.needs_q else {"P"})
        for given in inputs.values():
            assert (given["datatype"], given["shape"]) == ("FP64", [-1, -1])
            assert given["parameters"]["accepted_datatypes"] == ["FP64", "FP32"]
        outputs = [(t["name"], t["datatype"], t["shape"]) for t in metadata["outputs"]]
        assert outputs == [
            (name.upper(), "FP64", [-1]),
            ("FINITE", "BOOL", [-1]),
            ("INFINITE_AT", "INT64", [-1]),
        ]


@pytest.mark.parametrize("binary", [False, True], ids=["json", "binary"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("q_rows", [1, 4], ids=["single-q-row", "q-per-row"])
def test_kl_of_every_row_matches_the_formula(
    v2: triton.InferenceServerClient, binary: bool, dtype: type, q_rows: int
) -> None:
    p: np.ndarray = P.astype(dtype)
    q: np.ndarray = Q[:q_rows].astype(dtype)
    result = infer(v2, "kl", p, q, binary, normalize=True)
    values = result.as_numpy("KL")
    assert values.dtype == np.float64 and values.shape == (4,)
    wide_p, wide_q = p.astype(np.float64), q.astype(np.float64)
    normalized = wide_p / wide_p.sum(-1, keepdims=True), wide_q / wide_q.sum(-1, keepdims=True)
    np.testing.assert_allclose(values, expected("kl", *normalized), rtol=1e-12)
    np.testing.assert_array_equal(result.as_numpy("FINITE"), [True] * 4)
    np.testing.assert_array_equal(result.as_numpy("INFINITE_AT"), [-1] * 4)
    assert result.get_response()["parameters"]["unit"] == "nat"


@pytest.mark.parametrize("binary", [False, True], ids=["json", "binary"])
def test_every_member_of_the_family_matches_its_formula(
    v2: triton.InferenceServerClient, binary: bool
) -> None:
    for name, divergence in DIVERGENCES.items():
        options = {parameter.name: 0.7 for parameter in divergence.parameters}
        q = Q if divergence.needs_q else None
        result = infer(v2, name, P, q, binary, outputs=[name.upper()], **options)
        want = expected(name, P, Q if q is not None else P, **options)
        np.testing.assert_allclose(result.as_numpy(name.upper()), want, rtol=1e-12, err_msg=name)


def test_kl_matches_scipy_in_bits(v2: triton.InferenceServerClient) -> None:
    result = infer(v2, "kl", P, Q[:1], binary=True, base=2)
    want = special.rel_entr(P, Q[:1]).sum(axis=1) / np.log(2)
    np.testing.assert_allclose(result.as_numpy("KL"), want, rtol=1e-12)
    assert result.get_response()["parameters"]["unit"] == "bit"


def test_keras_mode_clips_like_the_batch_route(
    v2: triton.InferenceServerClient, client: httpx.Client
) -> None:
    p, q = np.array([[0.1, 0.4, 0.5]]), np.array([[0.8, 0.2, 0.0]])
    result = infer(v2, "kl", p, q, binary=False, mode="keras", epsilon=1e-7)
    batch = client.post(
        "/kl/batch", json={"p": p.tolist(), "q": q.tolist(), "mode": "keras"}
    ).json()
    assert result.as_numpy("KL").tolist() == batch["kl"]


def test_infinite_values_are_inf_in_binary_and_a_flagged_sentinel_in_json(
    v2: triton.InferenceServerClient,
) -> None:
    p = np.array([[0.2, 0.3, 0.5], [0.5, 0.5, 0.0]])
    q = np.array([[0.5, 0.5, 0.0]])
    as_binary = infer(v2, "kl", p, q, binary=True)
    as_json = infer(v2, "kl", p, q, binary=False)
    assert as_binary.as_numpy("KL").tolist() == [np.inf, 0.0]
    assert as_json.as_numpy("KL").tolist() == [SENTINEL, 0.0]
    assert as_json.get_output("KL")["data"] == [SENTINEL, 0.0]
    assert "binary_data_size" in as_binary.get_output("KL")["parameters"]
    for result in (as_binary, as_json):
        assert result.as_numpy("FINITE").tolist() == [False, True]
        assert result.as_numpy("INFINITE_AT").tolist() == [2, -1]


def test_without_outputs_listed_tritonclient_gets_every_output_in_binary(
    v2: triton.InferenceServerClient,
) -> None:
    result = v2.infer("js", [tensor("P", P, False), tensor("Q", Q, False)])
    assert [o["name"] for o in result.get_response()["outputs"]] == ["JS", "FINITE", "INFINITE_AT"]
    assert all("binary_data_size" in o["parameters"] for o in result.get_response()["outputs"])
    np.testing.assert_allclose(result.as_numpy("JS"), expected("js", P, Q), rtol=1e-12)


def test_outputs_can_mix_binary_and_json(v2: triton.InferenceServerClient) -> None:
    outputs = [
        triton.InferRequestedOutput("KL", binary_data=True),
        triton.InferRequestedOutput("FINITE", binary_data=False),
    ]
    result = v2.infer("kl", [tensor("P", P, False), tensor("Q", Q, True)], outputs=outputs)
    np.testing.assert_allclose(result.as_numpy("KL"), expected("kl", P, Q), rtol=1e-12)
    assert result.as_numpy("FINITE").tolist() == [True] * 4
    assert result.as_numpy("INFINITE_AT") is None
    assert result.get_output("FINITE")["data"] == [True] * 4


def test_a_versioned_model_infers_and_an_unknown_version_is_404(
    v2: triton.InferenceServerClient,
) -> None:
    inputs = [tensor("P", P, True), tensor("Q", Q, True)]
    result = v2.infer("kl", inputs, model_version="1")
    np.testing.assert_allclose(result.as_numpy("KL"), expected("kl", P, Q), rtol=1e-12)
    with pytest.raises(InferenceServerException, match="no version '2'") as raised:
        v2.infer("kl", inputs, model_version="2")
    assert raised.value.status() == "404"


def test_an_unknown_model_is_404(v2: triton.InferenceServerClient) -> None:
    assert not v2.is_model_ready("kullback")
    for call in (
        lambda: v2.get_model_metadata("kullback"),
        lambda: v2.infer("kullback", [tensor("P", P, True)]),
    ):
        with pytest.raises(InferenceServerException, match="unknown model 'kullback'") as raised:
            call()
        assert raised.value.status() == "404"


@pytest.mark.parametrize(
    ("p", "q", "parameters", "message"),
    [
        (-P, Q, {}, "input 'P': p must be non-negative"),
        (P, Q * 2, {}, "input 'Q': q sums to "),
        (P, Q[:, :3], {"normalize": True}, "q has 3 elements per row but p has 5"),
        (P, Q[:2], {}, "q has 2 rows but p has 4"),
        (P, Q, {"base": 1}, "parameter 'base': base must be"),
        (P, Q, {"mode": "fast"}, "parameter 'mode'"),
        (P, Q, {"nomalize": True}, "unknown parameter 'nomalize'"),
        (P[0], Q[0], {}, "input 'P' must have shape [rows, n]"),
    ],
    ids=["negative", "sum", "length", "rows", "base", "mode", "typo", "rank"],
)
@pytest.mark.parametrize("binary", [False, True], ids=["json", "binary"])
def test_bad_requests_raise_a_clean_exception_with_the_reason(
    v2: triton.InferenceServerClient,
    p: np.ndarray,
    q: np.ndarray,
    parameters: dict[str, Any],
    message: str,
    binary: bool,
) -> None:
    with pytest.raises(InferenceServerException) as raised:
        infer(v2, "kl", p, q, binary, **parameters)
    assert raised.value.status() == "400"
    assert message in raised.value.message()


def test_renyi_needs_alpha(v2: triton.InferenceServerClient) -> None:
    required = "parameter 'alpha': alpha is required for renyi"
    with pytest.raises(InferenceServerException, match=required) as raised:
        infer(v2, "renyi", P, Q, binary=True)
    assert raised.value.status() == "400"


def test_integer_tensors_are_refused(v2: triton.InferenceServerClient) -> None:
    counts = np.array([[1, 2, 3]], dtype=np.int64)
    inputs = [triton.InferInput("P", [1, 3], "INT64"), triton.InferInput("Q", [1, 3], "INT64")]
    for given in inputs:
        given.set_data_from_numpy(counts)
    with pytest.raises(InferenceServerException, match="datatype 'INT64'") as raised:
        v2.infer("kl", inputs)
    assert raised.value.status() == "400"


def test_a_batch_over_the_row_limit_is_413(v2: triton.InferenceServerClient) -> None:
    p = np.full((50_001, 2), 0.5)  # the test server allows 50,000 rows
    with pytest.raises(InferenceServerException, match="the limit is 50000") as raised:
        infer(v2, "kl", p, p[:1], binary=True)
    assert raised.value.status() == "413"


def raw_binary_request(model: str = "kl") -> tuple[bytes, dict[str, str]]:
    p, q = P[:2], Q[:1]
    header = json.dumps(
        {
            "inputs": [
                {"name": "P", "shape": [2, 5], "datatype": "FP64"}
                | {"parameters": {"binary_data_size": p.nbytes}},
                {"name": "Q", "shape": [1, 5], "datatype": "FP32"}
                | {"parameters": {"binary_data_size": q.astype("<f4").nbytes}},
            ],
            "outputs": [{"name": "KL", "parameters": {"binary_data": True}}, {"name": "FINITE"}],
        }
    ).encode()
    body = header + p.astype("<f8").tobytes() + q.astype("<f4").tobytes()
    return body, {"Inference-Header-Content-Length": str(len(header))}


def test_raw_binary_tensor_data_in_and_out(client: httpx.Client) -> None:
    body, headers = raw_binary_request()
    answer = client.post("/v2/models/kl/infer", content=body, headers=headers)
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/octet-stream"
    length = int(answer.headers["inference-header-content-length"])
    header = json.loads(answer.content[:length])
    kl, finite = header["outputs"]
    assert (kl["name"], kl["datatype"], kl["shape"]) == ("KL", "FP64", [2])
    assert kl["parameters"] == {"binary_data_size": 16} and "data" not in kl
    assert finite == {"name": "FINITE", "shape": [2], "datatype": "BOOL", "data": [True, True]}
    assert len(answer.content) == length + 16
    values = np.frombuffer(answer.content[length:], dtype="<f8")
    q32 = Q[:1].astype(np.float32).astype(np.float64)
    np.testing.assert_allclose(values, expected("kl", P[:2], q32), rtol=1e-12)


def test_json_answers_carry_no_binary_header(client: httpx.Client) -> None:
    request = {"inputs": [{"name": "P", "shape": [1, 2], "datatype": "FP64", "data": [0.5, 0.5]}]}
    answer = client.post("/v2/models/entropy/infer", json=request)
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/json"
    assert "inference-header-content-length" not in answer.headers
    assert answer.json()["outputs"][0] == {
        "name": "ENTROPY",
        "shape": [1],
        "datatype": "FP64",
        "data": [float(np.log(2))],
    }


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda b, h: (b, {"Inference-Header-Content-Length": "x"}), "must be a byte count"),
        (lambda b, h: (b[:-4], h), "the body ends 4 bytes before"),
        (lambda b, h: (b + b"\0" * 8, h), "8 bytes after the JSON header"),
        (lambda b, h: (b, {"Inference-Header-Content-Length": "10"}), "not valid JSON"),
        (lambda b, h: (b, {}), "not valid JSON"),
    ],
    ids=["length-not-a-number", "short-body", "extra-bytes", "header-cut", "no-header"],
)
def test_malformed_binary_bodies_are_400_in_the_v2_error_shape(
    client: httpx.Client, change: object, message: str
) -> None:
    body, headers = change(*raw_binary_request())  # type: ignore[operator]
    answer = client.post("/v2/models/kl/infer", content=body, headers=headers)
    assert answer.status_code == 400
    assert list(answer.json()) == ["error"]
    assert message in answer.json()["error"]


@pytest.mark.parametrize(
    ("tensor_json", "message"),
    [
        ({"shape": [1, 3], "data": [0.5, 0.5]}, "needs 3 elements but data holds 2"),
        ({"shape": [1, 2], "data": [0.5, "0.5"]}, "data[1] is '0.5'"),
        ({"shape": [1, 2], "data": [0.5, True]}, "data[1] is True"),
        ({"shape": [1, 2], "data": [[0.5], [0.5]]}, "nested data has shape [2, 1]"),
        ({"shape": [1, 2], "data": [[0.5, 0.5, 0.0]]}, "needs 2 elements"),
        ({"shape": [1, -2], "data": []}, "negative size"),
        ({"shape": [1, 2]}, "neither data nor binary_data_size"),
    ],
    ids=["count", "string", "bool", "nested-shape", "nested-count", "negative", "no-data"],
)
def test_bad_json_tensors_are_400(
    client: httpx.Client, tensor_json: dict[str, object], message: str
) -> None:
    request = {"inputs": [{"name": "P", "datatype": "FP64", **tensor_json}]}
    answer = client.post("/v2/models/entropy/infer", json=request)
    assert (answer.status_code, list(answer.json())) == (400, ["error"])
    assert message in answer.json()["error"]


def test_a_body_over_the_size_limit_is_413_in_the_v2_error_shape(
    v2: triton.InferenceServerClient,
) -> None:
    p = np.full((300_000, 2), 0.5)  # 4.8 MB of binary data; the test server takes 4 MiB
    with pytest.raises(InferenceServerException, match="Request body too large") as raised:
        infer(v2, "entropy", p, None, binary=True)
    assert raised.value.status() == "413"
