"""POST /distributions/kl in closed form, over HTTP: every pair of the table against
TensorFlow Probability's kl_divergence where TFP registers the pair, and against numerical
integration of p log(p / q) (scipy's quad, or a sum over outcomes) where it does not."""

import math
from typing import Any

import httpx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from service.distributions.closed_forms import CLOSED_FORMS
from service.distributions.examples import EXAMPLE_Q
from service.distributions.families import FAMILIES
from tests.distributions.references import reference_kl, tfp_kl

Spec = dict[str, Any]


def spec(family: str, **params: Any) -> Spec:
    return {"family": family, **params}


def post_kl(client: httpx.Client, p: Spec, q: Spec, **options: Any) -> dict[str, Any]:
    response = client.post("/distributions/kl", json={"p": p, "q": q, **options})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


SAME_FAMILY = [
    (spec(name, **family.example), spec(name, **EXAMPLE_Q[name]))
    for name, family in FAMILIES.items()
]
VARIANTS = [
    (spec("bernoulli", logits=-2.0), spec("bernoulli", probs=0.9)),
    (spec("categorical", logits=[3.0, -1.0, 0.5]), spec("categorical", probs=[0.1, 0.1, 0.8])),
    (spec("binomial", total_count=4, logits=0.3), spec("binomial", total_count=9, probs=0.2)),
    (spec("geometric", logits=-1.0), spec("geometric", probs=1e-3)),
    (
        spec("multivariate_normal", loc=[1.0, 2.0], precision_matrix=[[2.0, 0.3], [0.3, 1.0]]),
        spec("multivariate_normal", loc=[0.0, 0.0], covariance_matrix=[[1.0, 0.2], [0.2, 3.0]]),
    ),
    (spec("normal", loc=3.0, scale=1e-3), spec("normal", loc=3.0, scale=1e-3 * (1 + 1e-7))),
]
GAUSSIAN_MIXED = [
    (
        spec("multivariate_normal", loc=[0.0, 1.0], covariance_matrix=[[2.0, 0.5], [0.5, 1.0]]),
        spec(
            "low_rank_multivariate_normal",
            loc=[1.0, 0.0],
            cov_factor=[[1.0], [0.5]],
            cov_diag=[1.0, 2.0],
        ),
    ),
    (
        spec(
            "low_rank_multivariate_normal",
            loc=[1.0, 0.0],
            cov_factor=[[1.0], [0.5]],
            cov_diag=[1.0, 2.0],
        ),
        spec("multivariate_normal", loc=[0.0, 1.0], scale_tril=[[1.0, 0.0], [0.4, 0.7]]),
    ),
]
_BETA = {"concentration1": 2.0, "concentration0": 5.0}
_GAMMA = {"concentration": 2.0, "rate": 1.5}
CROSS_FAMILY = [
    (spec("bernoulli", probs=0.3), spec("poisson", rate=0.7)),
    (spec("beta", **_BETA), spec("exponential", rate=1.5)),
    (spec("beta", **_BETA), spec("gamma", concentration=2.0, rate=3.0)),
    (spec("beta", **_BETA), spec("normal", loc=0.3, scale=0.5)),
    (spec("beta", **_BETA), spec("uniform", low=-0.5, high=1.5)),
    (spec("exponential", rate=2.0), spec("gamma", concentration=1.5, rate=1.0)),
    (spec("exponential", rate=2.0), spec("gumbel", loc=0.5, scale=1.5)),
    (spec("exponential", rate=2.0), spec("normal", loc=0.2, scale=1.0)),
    (spec("gamma", **_GAMMA), spec("exponential", rate=0.7)),
    (spec("gamma", **_GAMMA), spec("gumbel", loc=1.0, scale=2.0)),
    (spec("gamma", **_GAMMA), spec("normal", loc=1.0, scale=2.0)),
    (spec("gumbel", loc=1.0, scale=2.0), spec("normal", loc=0.0, scale=3.0)),
    (spec("laplace", loc=0.5, scale=1.0), spec("normal", loc=0.0, scale=2.0)),
    (spec("normal", loc=0.0, scale=1.0), spec("gumbel", loc=0.5, scale=2.0)),
    (spec("pareto", scale=1.0, alpha=3.0), spec("exponential", rate=0.5)),
    (spec("pareto", scale=1.0, alpha=3.0), spec("gamma", concentration=2.0, rate=1.0)),
    (spec("pareto", scale=1.0, alpha=4.0), spec("normal", loc=1.0, scale=2.0)),
    (spec("uniform", low=0.2, high=0.7), spec("beta", concentration1=2.0, concentration0=3.0)),
    (spec("uniform", low=0.5, high=2.0), spec("exponential", rate=1.0)),
    (spec("uniform", low=0.5, high=2.0), spec("gamma", concentration=2.0, rate=1.0)),
    (spec("uniform", low=-1.0, high=2.0), spec("gumbel", loc=0.0, scale=1.0)),
    (spec("uniform", low=-1.0, high=2.0), spec("normal", loc=0.5, scale=1.5)),
    (spec("uniform", low=1.5, high=3.0), spec("pareto", scale=1.0, alpha=2.0)),
]
PAIRS = SAME_FAMILY + VARIANTS + GAUSSIAN_MIXED + CROSS_FAMILY


def pair_id(pair: tuple[Spec, Spec]) -> str:
    return f"{pair[0]['family']}-{pair[1]['family']}"


def test_every_pair_of_the_table_is_checked_here() -> None:
    assert {(p["family"], q["family"]) for p, q in PAIRS} == set(CLOSED_FORMS)


@pytest.mark.parametrize("pair", PAIRS, ids=[pair_id(pair) for pair in PAIRS])
def test_each_closed_form_matches_tfp_or_numerical_integration(
    client: httpx.Client, pair: tuple[Spec, Spec]
) -> None:
    p, q = pair
    body = post_kl(client, p, q)
    assert body["method"] == "closed_form" and body["finite"] is True
    assert body["unit"] == "nat" and "standard_error" not in body and "reason" not in body
    expected, source = reference_kl(p, q)
    tolerance = 1e-9 if source == "tfp" else 1e-7
    assert body["kl"] == pytest.approx(expected, rel=tolerance, abs=1e-12), source


def test_tfp_is_the_reference_for_the_pairs_it_registers() -> None:
    # Keeps the reference honest: the common families are checked against TFP itself.
    for family in ("normal", "multivariate_normal", "beta", "gamma", "categorical", "dirichlet"):
        p, q = next(pair for pair in SAME_FAMILY if pair[0]["family"] == family)
        assert tfp_kl(p, q) is not None, family


def test_nearly_equal_normals_keep_their_relative_accuracy(client: httpx.Client) -> None:
    # (r^2 - 1 - log r^2) / 2 for r = 1 + 1e-7: about 1e-14, computed without cancellation.
    p, q = spec("normal", loc=0.0, scale=1.0), spec("normal", loc=0.0, scale=1 + 1e-7)
    r2 = (1 / (1 + 1e-7)) ** 2
    exact = 0.5 * (math.expm1(math.log(r2)) - math.log(r2))
    assert post_kl(client, p, q)["kl"] == pytest.approx(exact, rel=1e-6)


def test_a_distribution_against_itself_is_zero(client: httpx.Client) -> None:
    for name, family in FAMILIES.items():
        p = spec(name, **family.example)
        assert post_kl(client, p, p)["kl"] == pytest.approx(0, abs=1e-12), name


def test_the_base_gives_bits_or_any_unit(client: httpx.Client) -> None:
    p, q = SAME_FAMILY[0]
    nats = post_kl(client, p, q)["kl"]
    bits = post_kl(client, p, q, base=2)
    assert bits["unit"] == "bit" and bits["kl"] == pytest.approx(nats / math.log(2), rel=1e-15)
    other = post_kl(client, p, q, base=3.5)
    assert other["unit"] == "log3.5-unit"
    assert other["kl"] == pytest.approx(nats / math.log(3.5), rel=1e-15)


positive = st.floats(1e-2, 1e2)


@settings(max_examples=25, deadline=None)
@given(loc=st.floats(-50, 50), scale=positive, loc_q=st.floats(-50, 50), scale_q=positive)
def test_normal_pairs_match_tfp(
    client: httpx.Client, loc: float, scale: float, loc_q: float, scale_q: float
) -> None:
    p, q = spec("normal", loc=loc, scale=scale), spec("normal", loc=loc_q, scale=scale_q)
    expected = tfp_kl(p, q)
    assert expected is not None
    assert post_kl(client, p, q)["kl"] == pytest.approx(expected, rel=1e-9, abs=1e-12)


@settings(max_examples=25, deadline=None)
@given(a=positive, b=positive, a_q=positive, b_q=positive)
def test_gamma_pairs_match_tfp_and_are_never_negative(
    client: httpx.Client, a: float, b: float, a_q: float, b_q: float
) -> None:
    p = spec("gamma", concentration=a, rate=b)
    q = spec("gamma", concentration=a_q, rate=b_q)
    got = post_kl(client, p, q)["kl"]
    assert got >= 0
    assert got == pytest.approx(tfp_kl(p, q), rel=1e-8, abs=1e-10)


@settings(max_examples=15, deadline=None)
@given(st.integers(1, 6), st.integers(0, 2**32 - 1))
def test_random_full_covariance_gaussians_match_tfp(
    client: httpx.Client, n: int, seed: int
) -> None:
    rng = np.random.default_rng(seed)

    def random_gaussian() -> Spec:
        a = rng.normal(size=(n, n))
        covariance = a @ a.T + 0.5 * np.eye(n)
        return spec(
            "multivariate_normal",
            loc=rng.normal(size=n).tolist(),
            covariance_matrix=covariance.tolist(),
        )

    p, q = random_gaussian(), random_gaussian()
    assert post_kl(client, p, q)["kl"] == pytest.approx(tfp_kl(p, q), rel=1e-9)
