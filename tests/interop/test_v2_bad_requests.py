"""V2 requests that break the protocol in odd ways get a 400 in V2's error shape that says
what and where, never a 500, and never an error that repeats a large input back."""

import json
from typing import Any

import httpx
import pytest

from tests.interop.test_v2 import raw_binary_request

INFER = "/v2/models/kl/infer"
PQ = [
    {"name": "P", "shape": [1, 2], "datatype": "FP64", "data": [0.5, 0.5]},
    {"name": "Q", "shape": [1, 2], "datatype": "FP64", "data": [0.5, 0.5]},
]


def assert_v2_error(answer: httpx.Response, status: int, *words: str) -> str:
    assert answer.status_code == status, answer.text[:500]
    assert list(answer.json()) == ["error"]
    message: str = answer.json()["error"]
    for word in words:
        assert word in message, message
    return message


@pytest.mark.parametrize(
    "declared",
    ["\u00b2", "1" * 4301, "12 x", "-12", "+12"],
    ids=["superscript-two", "4301-digits", "junk", "negative", "plus-sign"],
)
def test_an_inference_header_length_that_is_not_a_plain_byte_count_is_400_naming_it(
    client: httpx.Client, declared: str
) -> None:
    body, _ = raw_binary_request()
    answer = client.post(
        INFER,
        content=body,
        headers=[(b"Inference-Header-Content-Length", declared.encode("latin-1", "replace"))],
    )
    message = assert_v2_error(answer, 400, "Inference-Header-Content-Length")
    assert len(message) < 400


def test_a_long_run_of_leading_zeros_still_reads_as_the_byte_count(client: httpx.Client) -> None:
    body, headers = raw_binary_request()
    length = headers["Inference-Header-Content-Length"]
    zeros = {"Inference-Header-Content-Length": "0" * 5000 + length}
    assert client.post(INFER, content=body, headers=zeros).status_code == 200


FEW_MB = 400_000  # elements: about 2 MB of JSON, under the test server's 4 MiB limit


def big_requests() -> dict[str, dict[str, Any]]:
    """Requests of a few megabytes, each wrong in one big place."""
    long_name = "P" * 2_000_000
    return {
        "list-in-flat-data": {
            "inputs": [{**PQ[0], "data": [0.5, [0.25] * FEW_MB]}, PQ[1]],
        },
        "long-input-name": {"inputs": [{**PQ[0], "name": long_name}, PQ[1]]},
        "long-datatype": {"inputs": [{**PQ[0], "datatype": "F" * 2_000_000}, PQ[1]]},
        "long-shape": {"inputs": [{**PQ[0], "shape": [1] * FEW_MB}, PQ[1]]},
        "long-base": {"inputs": PQ, "parameters": {"base": "x" * 2_000_000}},
        "long-parameter-name": {"inputs": PQ, "parameters": {"y" * 2_000_000: 1}},
        "long-output-name": {"inputs": PQ, "outputs": [{"name": "K" * 2_000_000}]},
        "long-id-and-bad-data": {"id": "i" * 2_000_000, "inputs": [{**PQ[0], "data": ["x"]}]},
    }


BIG = big_requests()


@pytest.mark.parametrize("name", list(BIG))
def test_an_error_about_a_large_request_stays_small_and_names_the_place(
    client: httpx.Client, name: str
) -> None:
    body = json.dumps(BIG[name]).encode()
    assert len(body) > 1_000_000
    answer = client.post(INFER, content=body, headers={"content-type": "application/json"})
    assert answer.status_code == 400, answer.text[:500]
    assert len(answer.content) < 2_000, answer.text[:500]
    message = answer.json()["error"]
    where = {
        "list-in-flat-data": "data[1]",
        "long-input-name": "unknown inputs 'PPPP",
        "long-datatype": "datatype 'FFFF",
        "long-shape": "input 'P'",
        "long-base": "parameter 'base'",
        "long-parameter-name": "unknown parameter 'yyyy",
        "long-output-name": "unknown output 'KKKK",
        "long-id-and-bad-data": "data[0]",
    }[name]
    assert where in message, message


@pytest.mark.parametrize("value", ["yes", 1, 0, "true"])
def test_a_binary_data_output_that_is_not_a_boolean_is_400_naming_it(
    client: httpx.Client, value: object
) -> None:
    request = {"inputs": PQ, "parameters": {"binary_data_output": value}}
    assert_v2_error(client.post(INFER, json=request), 400, "'binary_data_output'", "true or false")


def test_a_binary_data_per_output_that_is_not_a_boolean_is_400_naming_the_output(
    client: httpx.Client,
) -> None:
    request = {"inputs": PQ, "outputs": [{"name": "KL", "parameters": {"binary_data": "yes"}}]}
    assert_v2_error(client.post(INFER, json=request), 400, "output 'KL'", "'binary_data'")


def test_an_output_requested_twice_is_400_naming_it(client: httpx.Client) -> None:
    request = {"inputs": PQ, "outputs": [{"name": "KL"}, {"name": "FINITE"}, {"name": "KL"}]}
    assert_v2_error(client.post(INFER, json=request), 400, "output 'KL'", "twice")


def test_a_tensor_of_more_dimensions_than_numpy_holds_is_400(client: httpx.Client) -> None:
    request = {"inputs": [{**PQ[0], "shape": [1] * 70 + [2]}, PQ[1]]}
    assert_v2_error(client.post(INFER, json=request), 400, "input 'P'", "[rows, n]")


@pytest.mark.parametrize(
    "shape",
    [[10**3000, 10**3000], [2**63, 1], [1, -(2**70)], [1, -(10**4000)]],
    ids=["3001-digits", "2^63", "-2^70", "-4001-digits"],
)
def test_a_shape_with_sizes_beyond_int64_is_400_naming_the_input(
    client: httpx.Client, shape: list[int]
) -> None:
    request = {"inputs": [{**PQ[0], "shape": shape}, PQ[1]]}
    message = assert_v2_error(client.post(INFER, json=request), 400, "input 'P'", "shape")
    assert len(message) < 400


def test_boolean_binary_data_settings_still_pick_binary_or_json(client: httpx.Client) -> None:
    request = {
        "inputs": PQ,
        "parameters": {"binary_data_output": True},
        "outputs": [{"name": "KL"}, {"name": "FINITE", "parameters": {"binary_data": False}}],
    }
    answer = client.post(INFER, json=request)
    assert answer.status_code == 200, answer.text
    length = int(answer.headers["inference-header-content-length"])
    kl, finite = json.loads(answer.content[:length])["outputs"]
    assert kl["parameters"] == {"binary_data_size": 8} and finite["data"] == [True]


@pytest.mark.parametrize(
    ("parameters", "words"),
    [
        ({"base": 0.5}, ("'base'", "greater than 1")),
        ({"base": 1.0}, ("'base'", "greater than 1")),
        ({"mode": "keras", "epsilon": "NaN"}, ("'epsilon'",)),
    ],
    ids=["base-below-1", "base-1", "epsilon-string"],
)
def test_v2_options_follow_the_json_options_rules(
    client: httpx.Client, parameters: dict[str, Any], words: tuple[str, ...]
) -> None:
    answer = client.post(INFER, json={"inputs": PQ, "parameters": parameters})
    assert_v2_error(answer, 400, *words)


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/v2/no/such/route", 404),
        ("POST", "/v2/models/kl", 405),
        ("DELETE", INFER, 405),
    ],
)
def test_any_error_under_v2_is_in_v2_shape_even_outside_its_routes(
    client: httpx.Client, method: str, path: str, status: int
) -> None:
    answer = client.request(method, path)
    assert_v2_error(answer, status)
    if status == 405:
        assert answer.headers["allow"]


def test_the_service_routes_keep_their_own_error_shape_beside_v2(client: httpx.Client) -> None:
    answer = client.get("/v2x/models")
    assert answer.status_code == 404
    assert answer.json() == {"detail": "Not Found"}
