"""The fast reader of POST /distributions/kl bodies decides nothing but the speed: plain
bodies get their parameters as numpy arrays with the very numbers the other parsers read;
anything else is read as Python objects, or left to pydantic's parser."""

import json
from typing import Any

import httpx
import numpy as np
import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.distributions.json_reader import read_json
from service.distributions.schemas import DistributionKLRequest

PLAIN: dict[str, Any] = {
    "p": {
        "family": "multivariate_normal",
        "loc": [[0.0, 1.0]],
        "scale_tril": [[1.0, 0.0], [0.5, 2.0]],
    },
    "q": {
        "family": "multivariate_normal",
        "loc": [0.0, 0.0],
        "covariance_matrix": [[2, 0], [0, 2]],
    },
    "base": 2,
}


def read(body: dict[str, Any] | bytes) -> Any:
    return read_json(DistributionKLRequest, body if isinstance(body, bytes) else orjson.dumps(body))


def test_a_plain_body_gets_its_parameters_as_arrays_of_the_same_numbers() -> None:
    request = read(PLAIN)
    assert request.base == 2
    for side in ("p", "q"):
        for name, value in PLAIN[side].items():
            got = request.model_dump()[side][name]
            if isinstance(value, list):
                assert isinstance(got, np.ndarray)
                np.testing.assert_array_equal(got, np.array(value, dtype=float))
            else:
                assert got == value


@given(st.lists(st.floats(allow_nan=False, allow_infinity=False, width=64), min_size=1, max_size=8))
def test_numbers_are_read_exactly_as_python_reads_them(values: list[float]) -> None:
    body = {"p": {"family": "normal", "loc": values, "scale": 1.0}, "q": PLAIN["q"]}
    got = read(json.dumps(body).encode()).p.root["loc"]
    np.testing.assert_array_equal(got, np.array(values))


@pytest.mark.parametrize(
    "loc",
    [[[1.0, 2.0], [3.0, 4.0, 5.0], [6.0]], [1.0, True], [[1.0], 2.0]],
    ids=["ragged-with-the-count-of-a-rectangle", "boolean", "number-among-lists"],
)
def test_a_body_that_is_not_plain_is_read_as_python_objects(loc: list[Any]) -> None:
    body = {"p": {"family": "normal", "loc": loc, "scale": 1.0}, "q": PLAIN["q"]}
    assert read(body).p.root["loc"] == loc


def test_a_mixture_and_a_repeated_key_are_read_as_python_objects() -> None:
    mixture = {
        "family": "mixture",
        "weights": [0.5, 0.5],
        "components": [{"family": "normal", "loc": 0.0, "scale": 1.0}] * 2,
    }
    assert read({"p": mixture, "q": PLAIN["q"]}).p.root == mixture
    repeated = b'{"p": {"family": "normal", "loc": [1.0], "loc": [2.0], "scale": 1}, "q": {}}'
    assert read(repeated).p.root["loc"] == [2.0]  # the last one, as pydantic's parser keeps


def test_text_no_parser_takes_is_left_to_pydantic() -> None:
    assert read(b'{"p": {"family": "normal", "loc": NaN, "scale": 1}, "q": {}}') is None


def test_a_ragged_list_is_still_a_422_naming_the_parameter(client: httpx.Client) -> None:
    body = {"p": {"family": "normal", "loc": [[1.0, 2.0], [3.0, 4.0, 5.0], [6.0]], "scale": 1.0}}
    answer = client.post(
        "/distributions/kl", json={**body, "q": {"family": "normal", "loc": 0, "scale": 1}}
    )
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["loc"] == ["body", "p", "loc"]
