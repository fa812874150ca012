"""GET /distributions and the OpenAPI examples of POST /distributions/kl."""

import httpx
import pytest

from service.distributions.closed_forms import CLOSED_FORMS

TORCH_FAMILIES = {
    "normal": ["loc", "scale"],
    "multivariate_normal": ["loc", "covariance_matrix", "precision_matrix", "scale_tril"],
    "low_rank_multivariate_normal": ["loc", "cov_factor", "cov_diag"],
    "categorical": ["probs", "logits"],
    "bernoulli": ["probs", "logits"],
    "binomial": ["total_count", "probs", "logits"],
    "geometric": ["probs", "logits"],
    "poisson": ["rate"],
    "beta": ["concentration1", "concentration0"],
    "dirichlet": ["concentration"],
    "gamma": ["concentration", "rate"],
    "exponential": ["rate"],
    "laplace": ["loc", "scale"],
    "uniform": ["low", "high"],
    "gumbel": ["loc", "scale"],
    "half_normal": ["scale"],
    "log_normal": ["loc", "scale"],
    "pareto": ["scale", "alpha"],
}


def test_the_listing_names_every_family_with_torchs_parameters(client: httpx.Client) -> None:
    listing = client.get("/distributions").json()
    families = {f["name"]: f for f in listing["families"]}
    assert {
        name: [p["name"] for p in f["parameters"]] for name, f in families.items()
    } == TORCH_FAMILIES
    normal = families["normal"]
    assert normal["support"] == "(-inf, inf)" and normal["kind"] == "continuous"
    assert normal["parameters"][1] == {
        "name": "scale",
        "meaning": "scale (the standard deviation of a normal)",
        "constraint": "> 0",
        "rank": 0,
        "alternatives": None,
    }
    probs = families["categorical"]["parameters"][0]
    assert probs["alternatives"] == "probs | logits" and probs["rank"] == 1
    assert families["dirichlet"]["kind"] == "simplex" and families["dirichlet"]["event_rank"] == 1
    assert families["pareto"]["support"] == "[scale, inf)"


def test_the_listing_gives_the_closed_form_pairs_and_the_rules(client: httpx.Client) -> None:
    listing = client.get("/distributions").json()
    pairs = {(c["p"], c["q"]) for c in listing["closed_forms"]}
    assert pairs == set(CLOSED_FORMS)
    assert {("exponential", "gamma"), ("uniform", "normal"), ("gamma", "exponential")} <= pairs
    assert ("normal", "laplace") not in pairs
    pareto = next(c for c in listing["closed_forms"] if (c["p"], c["q"]) == ("pareto", "normal"))
    assert "alpha <= 2" in pareto["infinite_when"]
    assert listing["monte_carlo"] == {
        "default_samples": 100_000,
        "max_samples": 1_000_000,
        "max_draws": 10_000_000,
    }
    assert any("support does not cover" in rule for rule in listing["infinite_when"])


@pytest.fixture(scope="module")
def examples(client: httpx.Client) -> dict[str, dict[str, object]]:
    operation = client.get("/openapi.json").json()["paths"]["/distributions/kl"]["post"]
    found: dict[str, dict[str, object]] = operation["requestBody"]["content"]["application/json"][
        "examples"
    ]
    return found


def test_the_openapi_document_has_an_example_per_family(
    examples: dict[str, dict[str, object]],
) -> None:
    assert set(TORCH_FAMILIES) <= set(examples)
    assert {"mixture", "monte_carlo", "batch", "infinite"} <= set(examples)


def test_every_openapi_example_is_answered(
    client: httpx.Client, examples: dict[str, dict[str, object]]
) -> None:
    for name, example in examples.items():
        response = client.post("/distributions/kl", json=example["value"])
        assert response.status_code == 200, (name, response.text)


def test_a_side_is_documented_as_one_schema_per_family(client: httpx.Client) -> None:
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    titles = [alternative["title"] for alternative in schemas["DistributionSpec"]["oneOf"]]
    assert titles == [*TORCH_FAMILIES, "mixture"]
