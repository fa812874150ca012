"""Bad samples and options over HTTP: 422 naming the field, the row and the reason (413
over the row limit), never a 500."""

import json
from typing import Any

import httpx
import pytest

X = [0.1, 0.5, 0.9]
# (name, body, status, loc, a fragment of the message)
CASES: list[tuple[str, dict[str, Any], int, list[Any], str]] = [
    ("kl", {"x": [], "y": X}, 422, ["body", "x"], "x is empty"),
    ("kl", {"x": X, "y": [0.2, float("nan")]}, 422, ["body", "y", 1], "y[1] is nan"),
    ("kl", {"x": [1.0, float("inf")], "y": X}, 422, ["body", "x", 1], "must be finite"),
    ("kl", {"x": [1.0, "a", 2.0], "y": X}, 422, ["body", "x", 1], "row 0 is a number but row 1"),
    ("kl", {"x": ["a", "b"], "y": X}, 422, ["body", "y"], "y holds numbers but x holds categ"),
    ("kl", {"x": [1.0, 10**400], "y": X}, 422, ["body", "x", 1], "beyond float64"),
    ("kl", {"x": [[1.0, 2.0], [1.0, -(10**400)]], "y": X}, 422, ["body", "x", 1, 1], "finite"),
    ("kl", {"x": [-1e308, 1e308], "y": X}, 422, ["body", "bins"], "span more than float64"),
    ("kl", {"x": [1.0, None], "y": X}, 422, ["body", "x", 1], "x[1] is null"),
    ("kl", {"x": [True, 1.0], "y": X}, 422, ["body", "x", 0], "x[0] is a boolean"),
    ("kl", {"x": [[1.0, 2.0], [3.0]], "y": X}, 422, ["body", "x", 1], "row 1 of x has 1"),
    ("kl", {"x": [[1.0, 2.0], [3.0, "a"]], "y": X}, 422, ["body", "x", 1, 1], "x[1][1] is a s"),
    (
        "kl",
        {"x": [[1.0, 2.0]] * 9, "y": [[1.0, 2.0, 3.0]] * 9, "method": "knn"},
        422,
        ["body", "y", 0],
        "rows of y have 3 elements but rows of x have 2",
    ),
    ("kl", {"x": [1, 2.5], "y": [1, 2], "categorical": True}, 422, ["body", "x", 1], "integers"),
    ("kl", {"x": X, "y": [0.5, 1.5], "bins": [0, 1]}, 422, ["body", "y", 1], "outside the edges"),
    ("kl", {"x": X, "y": X, "bins": [0, 1, 1, 2]}, 422, ["body", "bins", 2], "increase strictly"),
    ("kl", {"x": X, "y": X, "bins": "fancy"}, 422, ["body", "bins"], ""),
    ("kl", {"x": X, "y": X, "prior": -1}, 422, ["body", "prior"], ""),
    ("nope", {"x": X, "y": X}, 422, ["path", "name"], "unknown divergence 'nope'"),
    ("js", {"x": X, "y": X, "method": "knn"}, 422, ["body", "method"], "knn estimates kl"),
    ("wasserstein", {"x": X, "y": X, "method": "binned"}, 422, ["body", "method"], "not wass"),
    ("renyi", {"x": X, "y": X}, 422, ["body", "alpha"], "alpha is required for renyi"),
    ("kl", {"x": ["a"], "y": ["b"], "method": "binned"}, 422, ["body", "x"], "binned takes n"),
    (
        "wasserstein",
        {"x": [[1.0, 2.0]], "y": [[1.0, 2.0]]},
        422,
        ["body", "x", 0],
        "exact takes 1-D samples",
    ),
    ("kl", {"x": X, "y": X, "method": "knn"}, 422, ["body", "x"], "needs k + 1 = 6"),
    ("kl", {"x": [1.0] * 9, "y": X * 3, "method": "knn", "k": 2}, 422, ["body", "x"], "distinct"),
    ("entropy", {"x": X, "y": X, "permutations": 9}, 422, ["body", "permutations"], "x alone"),
    ("kl", {"x": X, "y": X, "bins": 10**6}, 413, ["body", "bins"], "the limit is"),
    # A spread near float64's largest, with a width under its resolution (schemathesis).
    (
        "kl",
        {"x": [-1.7976931348623157e308, 0.0, 1.0000000000000002, 0.0], "y": [1e-05]},
        413,
        ["body", "bins"],
        "more than 1e308 bins",
    ),
    (
        "kl",
        {"x": X, "y": X, "bins": 2000, "bootstrap": 10_000},
        413,
        ["body", "bootstrap"],
        "limit",
    ),
    ("kl", {"x": [0.0] * 50_001, "y": X}, 413, ["body", "x"], "50001 rows; the limit is 50000"),
    (
        "energy",
        {"x": [0.5] * 20_000, "y": X, "permutations": 10_000},
        413,
        ["body", "permutations"],
        "the limit is",
    ),
]


@pytest.mark.parametrize(("name", "body", "status", "loc", "message"), CASES)
def test_bad_samples_are_refused_naming_the_field_row_and_reason(
    client: httpx.Client, name: str, body: dict[str, Any], status: int, loc: list[Any], message: str
) -> None:
    # NaN and Infinity are tokens JSON does not have but clients send (json.dumps does).
    response = client.post(
        f"/samples/divergences/{name}",
        content=json.dumps(body),
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == status, response.text
    detail = response.json()["detail"][0]
    # pydantic's errors for a union (bins, prior) go on to name the alternative tried.
    assert detail["loc"] == loc or (not message and detail["loc"][: len(loc)] == loc)
    assert message in detail["msg"]


def test_far_off_values_cannot_ask_numpy_for_millions_of_bins(client: httpx.Client) -> None:
    x = [0.0, 1e-9, 2e-9, 3e-9] * 10 + [1e9]
    response = client.post("/samples/divergences/kl", json={"x": x, "y": x, "bins": "fd"})
    assert response.status_code == 413
    assert "the 'fd' rule gives" in response.json()["detail"][0]["msg"]
