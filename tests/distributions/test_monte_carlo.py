"""Monte Carlo over HTTP: estimates within a few standard errors of the closed forms and of
numerical integration, seeded runs that repeat exactly, mixtures on either side, and the
limits on draws."""

from typing import Any

import httpx
import numpy as np
import pytest
from scipy import integrate, special, stats

from tests.distributions.references import integrated_kl
from tests.distributions.test_closed_forms import post_kl, spec

Spec = dict[str, Any]
# |estimate - truth| within this many standard errors (a false alarm about once in 15,000).
SIGMAS = 4.5

CHECKED_AGAINST_CLOSED_FORMS = [
    (spec("normal", loc=0.0, scale=1.0), spec("normal", loc=1.0, scale=2.0)),
    (spec("gamma", concentration=2.0, rate=1.5), spec("exponential", rate=0.7)),
    (
        spec("multivariate_normal", loc=[0.0, 1.0], covariance_matrix=[[2.0, 0.5], [0.5, 1.0]]),
        spec("multivariate_normal", loc=[1.0, 0.0], scale_tril=[[1.0, 0.0], [0.3, 1.2]]),
    ),
    (
        spec("dirichlet", concentration=[1.0, 2.0, 3.0]),
        spec("dirichlet", concentration=[2.0, 2.0, 2.0]),
    ),
    (spec("poisson", rate=4.0), spec("poisson", rate=2.5)),
    (spec("categorical", probs=[0.2, 0.3, 0.5]), spec("categorical", logits=[0.0, 1.0, 1.0])),
    (spec("binomial", total_count=10, probs=0.3), spec("binomial", total_count=12, probs=0.5)),
    (spec("uniform", low=0.5, high=2.0), spec("pareto", scale=0.5, alpha=2.0)),
]


def within_errors(body: dict[str, Any], truth: float) -> None:
    assert body["method"] == "monte_carlo" and body["finite"] is True
    assert 0 < body["standard_error"] < 0.05
    assert abs(body["kl"] - truth) <= SIGMAS * body["standard_error"], (body, truth)


@pytest.mark.parametrize(
    "pair",
    CHECKED_AGAINST_CLOSED_FORMS,
    ids=[f"{p['family']}-{q['family']}" for p, q in CHECKED_AGAINST_CLOSED_FORMS],
)
def test_forced_monte_carlo_agrees_with_the_closed_form(
    client: httpx.Client, pair: tuple[Spec, Spec]
) -> None:
    p, q = pair
    exact = post_kl(client, p, q)["kl"]
    estimate = post_kl(client, p, q, method="monte_carlo", monte_carlo={"samples": 50_000})
    assert estimate["samples"] == 50_000
    within_errors(estimate, exact)


def test_a_pair_without_closed_form_is_estimated_with_its_standard_error(
    client: httpx.Client,
) -> None:
    p, q = spec("normal", loc=0.0, scale=1.0), spec("laplace", loc=0.5, scale=1.0)
    body = post_kl(client, p, q)
    assert body["samples"] == 100_000 and body["unit"] == "nat"
    within_errors(body, integrated_kl(p, q))
    bits = post_kl(client, p, q, base=2)
    assert bits["kl"] == pytest.approx(body["kl"] / np.log(2), rel=1e-14)
    assert bits["standard_error"] == pytest.approx(body["standard_error"] / np.log(2), rel=1e-14)


def test_a_seeded_run_repeats_exactly_and_another_seed_differs(client: httpx.Client) -> None:
    p, q = spec("gamma", concentration=2.0, rate=1.0), spec("log_normal", loc=0.3, scale=0.8)
    options = {"monte_carlo": {"samples": 20_000, "seed": 42}}
    first = post_kl(client, p, q, **options)
    assert post_kl(client, p, q, **options) == first
    other = post_kl(client, p, q, monte_carlo={"samples": 20_000, "seed": 43})
    assert other["kl"] != first["kl"]
    assert abs(other["kl"] - first["kl"]) < 10 * first["standard_error"]


def test_the_default_seed_is_fixed(client: httpx.Client) -> None:
    p, q = spec("normal", loc=0.0, scale=1.0), spec("laplace", loc=0.0, scale=2.0)
    assert post_kl(client, p, q) == post_kl(client, p, q)


MIXTURE = spec(
    "mixture",
    weights=[0.3, 0.7],
    components=[spec("normal", loc=-1.0, scale=0.5), spec("normal", loc=1.0, scale=1.0)],
)


def mixture_log_density(x: np.ndarray) -> np.ndarray:
    terms = [
        np.log(0.3) + stats.norm.logpdf(x, -1.0, 0.5),
        np.log(0.7) + stats.norm.logpdf(x, 1.0, 1.0),
    ]
    result: np.ndarray = special.logsumexp(terms, axis=0)
    return result


def integrated(log_p: Any, log_q: Any) -> float:
    def integrand(x: float) -> float:
        lp = float(log_p(x))
        return float(np.exp(lp) * (lp - log_q(x)))

    return float(integrate.quad(integrand, -np.inf, np.inf, epsabs=1e-12, limit=400)[0])


def test_a_mixture_against_a_normal_agrees_with_integration(client: httpx.Client) -> None:
    q = spec("normal", loc=0.0, scale=1.5)
    body = post_kl(client, MIXTURE, q)
    within_errors(body, integrated(mixture_log_density, lambda x: stats.norm.logpdf(x, 0.0, 1.5)))


def test_a_normal_against_a_mixture_agrees_with_integration(client: httpx.Client) -> None:
    p = spec("normal", loc=0.0, scale=1.5)
    body = post_kl(client, p, MIXTURE)
    within_errors(body, integrated(lambda x: stats.norm.logpdf(x, 0.0, 1.5), mixture_log_density))


def test_a_mixture_of_one_component_estimates_that_component(client: httpx.Client) -> None:
    p, q = spec("exponential", rate=2.0), spec("gamma", concentration=1.5, rate=1.0)
    alone = spec("mixture", weights=[1.0], components=[p])
    within_errors(post_kl(client, alone, q), post_kl(client, p, q)["kl"])


def test_a_draw_where_q_has_no_density_makes_the_estimate_infinite(client: httpx.Client) -> None:
    p = spec("uniform", low=0.0, high=3.0)
    q = spec(
        "mixture",
        weights=[0.5, 0.5],
        components=[spec("uniform", low=0.0, high=1.0), spec("uniform", low=2.0, high=3.0)],
    )
    body = post_kl(client, p, q)
    assert body["kl"] is None and body["finite"] is False and body["method"] == "monte_carlo"
    assert "q has density 0 at 1." in body["reason"] and body["standard_error"] is None


def test_a_batch_is_estimated_element_by_element(client: httpx.Client) -> None:
    p = spec("normal", loc=[0.0, 2.0], scale=1.0)
    q = spec("laplace", loc=0.0, scale=[1.0, 3.0])
    body = post_kl(client, p, q, monte_carlo={"samples": 20_000})
    assert (
        len(body["kl"]) == 2 and len(body["standard_error"]) == 2 and body["finite"] == [True, True]
    )
    for i in range(2):
        pi = spec("normal", loc=[0.0, 2.0][i], scale=1.0)
        qi = spec("laplace", loc=0.0, scale=[1.0, 3.0][i])
        assert abs(body["kl"][i] - integrated_kl(pi, qi)) <= SIGMAS * body["standard_error"][i]


def test_too_many_draws_are_refused_with_413(client: httpx.Client) -> None:
    p = spec("normal", loc=[0.0] * 200, scale=1.0)
    q = spec("laplace", loc=0.0, scale=1.0)
    response = client.post("/distributions/kl", json={"p": p, "q": q})
    assert response.status_code == 413
    (error,) = response.json()["detail"]
    assert error["loc"] == ["body", "monte_carlo", "samples"] and "limit" in error["msg"]


@pytest.mark.parametrize("samples", [1, 1_000_001])
def test_samples_out_of_bounds_are_refused(client: httpx.Client, samples: int) -> None:
    p, q = spec("normal", loc=0.0, scale=1.0), spec("laplace", loc=0.0, scale=1.0)
    body = {"p": p, "q": q, "monte_carlo": {"samples": samples}}
    response = client.post("/distributions/kl", json=body)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "monte_carlo", "samples"]


def test_in_a_batch_the_reason_names_the_element_q_misses(client: httpx.Client) -> None:
    p = spec("uniform", low=0.0, high=[1.0, 3.0])
    q = spec(
        "mixture",
        weights=[0.5, 0.5],
        components=[spec("uniform", low=0.0, high=1.0), spec("uniform", low=2.0, high=3.0)],
    )
    body = post_kl(client, p, q, monte_carlo={"samples": 10_000})
    assert body["kl"][0] == pytest.approx(np.log(2), abs=1e-12) and body["kl"][1] is None
    assert body["finite"] == [True, False] and body["standard_error"][1] is None
    assert body["reason"].startswith("at [1]: q has density 0 at 1.")
