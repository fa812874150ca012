"""Bad parameters over HTTP: a 422 in FastAPI's shape whose loc names the side, the
parameter and (where one is to blame) the element, and whose message says why."""

import json
from typing import Any

import httpx
import pytest

from tests.distributions.test_closed_forms import spec

NORMAL = spec("normal", loc=0.0, scale=1.0)
EYE = [[1.0, 0.0], [0.0, 1.0]]

# (p, q, loc, a fragment of the message)
CASES: list[tuple[str, Any, Any, list[Any], str]] = [
    (
        "unknown family",
        spec("normale", loc=0.0),
        NORMAL,
        ["body", "p", "family"],
        "unknown family 'normale'; known: normal, multivariate_normal, ",
    ),
    (
        "no family",
        {"loc": 0.0, "scale": 1.0},
        NORMAL,
        ["body", "p", "family"],
        "family is required",
    ),
    (
        "scale zero",
        NORMAL,
        spec("normal", loc=0.0, scale=0.0),
        ["body", "q", "scale"],
        "scale must be greater than 0; got 0",
    ),
    (
        "scale negative in a batch",
        spec("normal", loc=0.0, scale=[1.0, -2.0]),
        NORMAL,
        ["body", "p", "scale", 1],
        "scale must be greater than 0; got -2 at [1]",
    ),
    (
        "missing parameter",
        spec("normal", loc=0.0),
        NORMAL,
        ["body", "p", "scale"],
        "scale is required for normal",
    ),
    (
        "unknown parameter",
        spec("normal", mean=0.0, scale=1.0),
        NORMAL,
        ["body", "p", "mean"],
        "normal has no parameter 'mean'; its parameters: loc, scale",
    ),
    (
        "not symmetric",
        spec("multivariate_normal", loc=[0.0, 0.0], covariance_matrix=[[1.0, 0.5], [0.0, 1.0]]),
        spec("multivariate_normal", loc=[0.0, 0.0], covariance_matrix=EYE),
        ["body", "p", "covariance_matrix"],
        "must be symmetric positive definite; it is not symmetric",
    ),
    (
        "not positive definite",
        spec("multivariate_normal", loc=[0.0, 0.0], covariance_matrix=EYE),
        spec("multivariate_normal", loc=[0.0, 0.0], covariance_matrix=[[1.0, 2.0], [2.0, 1.0]]),
        ["body", "q", "covariance_matrix"],
        "must be symmetric positive definite; it is not (smallest eigenvalue -1)",
    ),
    (
        "not positive definite in a batch",
        spec(
            "multivariate_normal", loc=[0.0, 0.0], precision_matrix=[EYE, [[1.0, 0.0], [0.0, -1.0]]]
        ),
        spec("multivariate_normal", loc=[0.0, 0.0], covariance_matrix=EYE),
        ["body", "p", "precision_matrix", 1],
        "it is not at [1]",
    ),
    (
        "scale_tril not triangular",
        spec("multivariate_normal", loc=[0.0, 0.0], scale_tril=[[1.0, 0.3], [0.0, 1.0]]),
        spec("multivariate_normal", loc=[0.0, 0.0], covariance_matrix=EYE),
        ["body", "p", "scale_tril"],
        "lower triangular with a positive diagonal",
    ),
    (
        "dimensions differ",
        spec(
            "multivariate_normal",
            loc=[0.0, 0.0],
            covariance_matrix=[[1.0, 0, 0], [0, 1.0, 0], [0, 0, 1.0]],
        ),
        spec("multivariate_normal", loc=[0.0, 0.0], covariance_matrix=EYE),
        ["body", "p", "covariance_matrix"],
        "covariance_matrix is 3 x 3 but loc has 2 elements",
    ),
    (
        "two covariances",
        spec("multivariate_normal", loc=[0.0, 0.0], covariance_matrix=EYE, scale_tril=EYE),
        spec("multivariate_normal", loc=[0.0, 0.0], covariance_matrix=EYE),
        ["body", "p", "scale_tril"],
        "takes exactly one of covariance_matrix | precision_matrix | scale_tril",
    ),
    (
        "probs not summing to 1",
        spec("categorical", probs=[0.5, 0.6]),
        spec("categorical", probs=[0.5, 0.5]),
        ["body", "p", "probs"],
        "probs sums to 1.1, not 1 (tolerance 1e-06)",
    ),
    (
        "probs of one row not summing to 1",
        spec("categorical", probs=[0.5, 0.5]),
        spec("categorical", probs=[[0.5, 0.5], [0.5, 0.4]]),
        ["body", "q", "probs", 1],
        "sums to 0.9 at [1]",
    ),
    (
        "probs over 1",
        spec("bernoulli", probs=1.5),
        spec("bernoulli", probs=0.5),
        ["body", "p", "probs"],
        "probs must be in [0, 1]; got 1.5",
    ),
    (
        "probs and logits",
        spec("bernoulli", probs=0.5, logits=0.0),
        spec("bernoulli", probs=0.5),
        ["body", "p", "logits"],
        "bernoulli takes exactly one of probs | logits; got probs and logits",
    ),
    (
        "neither probs nor logits",
        spec("geometric"),
        spec("geometric", probs=0.5),
        ["body", "p"],
        "geometric takes exactly one of probs | logits; got neither",
    ),
    (
        "total_count fractional",
        spec("binomial", total_count=2.5, probs=0.5),
        spec("binomial", total_count=2, probs=0.5),
        ["body", "p", "total_count"],
        "total_count must be a non-negative integer (at most 2^53); got 2.5",
    ),
    (
        "total_count negative",
        spec("binomial", total_count=3, probs=0.5),
        spec("binomial", total_count=-1, probs=0.5),
        ["body", "q", "total_count"],
        "non-negative integer (at most 2^53); got -1",
    ),
    (
        "parameters whose batches do not broadcast",
        spec("normal", loc=[0.0, 1.0, 2.0], scale=[1.0, 2.0]),
        NORMAL,
        ["body", "p", "scale"],
        "scale's batch shape [2] does not broadcast with the others' [3]",
    ),
    (
        "low not below high",
        spec("uniform", low=1.0, high=1.0),
        NORMAL,
        ["body", "p", "high"],
        "high must be greater than low; got low 1, high 1",
    ),
    (
        "event shapes differ",
        NORMAL,
        spec("multivariate_normal", loc=[0.0, 0.0], covariance_matrix=EYE),
        ["body", "q"],
        "q's draws have shape [2] (multivariate_normal) but p's have [] (normal)",
    ),
    (
        "categories differ",
        spec("categorical", probs=[0.5, 0.5]),
        spec("categorical", probs=[0.2, 0.3, 0.5]),
        ["body", "q"],
        "q has 3 categories but p has 2",
    ),
    (
        "a string",
        spec("normal", loc="zero", scale=1.0),
        NORMAL,
        ["body", "p", "loc"],
        "loc must be a number or nested lists of numbers",
    ),
    (
        "ragged lists",
        spec("dirichlet", concentration=[[1.0, 2.0], [1.0]]),
        spec("dirichlet", concentration=[1.0, 1.0]),
        ["body", "p", "concentration"],
        "lists of different lengths",
    ),
    (
        "an empty list",
        spec("normal", loc=[], scale=1.0),
        NORMAL,
        ["body", "p", "loc"],
        "must not be empty",
    ),
    (
        "a vector where a matrix belongs",
        spec("multivariate_normal", loc=[0.0], covariance_matrix=[1.0]),
        NORMAL,
        ["body", "p", "covariance_matrix"],
        "must be a matrix",
    ),
    (
        "mixture weights not summing to 1",
        spec("mixture", weights=[0.5, 0.6], components=[NORMAL, NORMAL]),
        NORMAL,
        ["body", "p", "weights"],
        "weights sums to",
    ),
    (
        "mixture of the wrong length",
        spec("mixture", weights=[1.0], components=[NORMAL, NORMAL]),
        NORMAL,
        ["body", "p", "components"],
        "components must be a list of 1 distributions",
    ),
    (
        "mixture of mixtures",
        NORMAL,
        spec(
            "mixture",
            weights=[1.0],
            components=[spec("mixture", weights=[1.0], components=[NORMAL])],
        ),
        ["body", "q", "components", 0, "family"],
        "cannot be mixtures",
    ),
    (
        "mixture of kinds",
        spec("mixture", weights=[0.5, 0.5], components=[NORMAL, spec("poisson", rate=1.0)]),
        NORMAL,
        ["body", "p", "components", 1],
        "component 1 (poisson) is not of the kind",
    ),
    (
        "bad parameter in a component",
        spec("mixture", weights=[1.0], components=[spec("normal", loc=0.0, scale=-1.0)]),
        NORMAL,
        ["body", "p", "components", 0, "scale"],
        "scale must be greater than 0",
    ),
]


@pytest.mark.parametrize(
    ("p", "q", "loc", "msg"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_bad_parameters_are_a_422_naming_side_parameter_and_reason(
    client: httpx.Client, p: Any, q: Any, loc: list[Any], msg: str
) -> None:
    response = client.post("/distributions/kl", json={"p": p, "q": q})
    assert response.status_code == 422, response.text
    (error,) = response.json()["detail"]
    assert set(error) >= {"type", "loc", "msg"}
    assert error["loc"] == loc
    assert msg in error["msg"]


def test_non_finite_numbers_are_named_by_element(client: httpx.Client) -> None:
    body = {"p": spec("normal", loc=[0.0, float("nan")], scale=1.0), "q": NORMAL}
    response = client.post(
        "/distributions/kl", content=json.dumps(body), headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    (error,) = response.json()["detail"]
    assert (
        error["loc"] == ["body", "p", "loc", 1] and "finite numbers; got nan at [1]" in error["msg"]
    )


def test_forcing_a_closed_form_the_pair_lacks_is_refused(client: httpx.Client) -> None:
    body = {"p": NORMAL, "q": spec("laplace", loc=0.0, scale=1.0), "method": "closed_form"}
    response = client.post("/distributions/kl", json=body)
    assert response.status_code == 422
    (error,) = response.json()["detail"]
    assert (
        error["loc"] == ["body", "method"]
        and "no closed form for normal || laplace" in error["msg"]
    )


@pytest.mark.parametrize("base", [1, 0.5, "two", True])
def test_a_bad_base_is_refused(client: httpx.Client, base: object) -> None:
    response = client.post("/distributions/kl", json={"p": NORMAL, "q": NORMAL, "base": base})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "base"]


def test_a_distribution_numpy_cannot_sample_is_a_422_not_a_500(client: httpx.Client) -> None:
    body = {"p": spec("poisson", rate=1e20), "q": spec("geometric", probs=0.5)}
    response = client.post("/distributions/kl", json=body)
    assert response.status_code == 422
    (error,) = response.json()["detail"]
    assert error["loc"] == ["body", "p"] and "cannot be sampled" in error["msg"]
