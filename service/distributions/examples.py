"""The OpenAPI examples of POST /distributions/kl: one pair per family (p the family's own
example, q another member), and one per feature (cross-family, infinite, batch, Monte
Carlo, mixture). The tests post every one of them.
"""

from typing import Any

from service.distributions.families import FAMILIES

# q of each family's example pair (p is the family's own example).
EXAMPLE_Q: dict[str, dict[str, Any]] = {
    "normal": {"loc": 1.0, "scale": 2.0},
    "multivariate_normal": {"loc": [1.0, 0.0], "scale_tril": [[1.0, 0.0], [0.3, 1.2]]},
    "low_rank_multivariate_normal": {
        "loc": [0.5, 0.0],
        "cov_factor": [[0.2], [1.0]],
        "cov_diag": [2.0, 1.0],
    },
    "categorical": {"logits": [0.0, 1.0, 1.0]},
    "bernoulli": {"logits": 1.5},
    "binomial": {"total_count": 10, "probs": 0.5},
    "geometric": {"probs": 0.5},
    "poisson": {"rate": 2.5},
    "beta": {"concentration1": 1.0, "concentration0": 1.0},
    "dirichlet": {"concentration": [1.0, 1.0, 1.0]},
    "gamma": {"concentration": 3.0, "rate": 1.0},
    "exponential": {"rate": 0.5},
    "laplace": {"loc": 0.5, "scale": 2.0},
    "uniform": {"low": -1.0, "high": 3.0},
    "gumbel": {"loc": 0.0, "scale": 1.0},
    "half_normal": {"scale": 2.0},
    "log_normal": {"loc": 0.5, "scale": 1.0},
    "pareto": {"scale": 0.5, "alpha": 2.0},
}


def _example(p: str, q: str, **options: Any) -> dict[str, Any]:
    p_params = FAMILIES[p].example
    q_params = EXAMPLE_Q[q] if p == q else FAMILIES[q].example
    return {"p": {"family": p, **p_params}, "q": {"family": q, **q_params}, **options}


EXAMPLES: dict[str, dict[str, Any]] = {
    **{
        name: {"summary": f"{family.title}, same family", "value": _example(name, name)}
        for name, family in FAMILIES.items()
    },
    "cross_family": {
        "summary": "Exponential against gamma (closed form)",
        "value": _example("exponential", "gamma"),
    },
    "infinite": {
        "summary": "Uniform on [0, 2] against beta on [0, 1]: infinite, with the reason",
        "value": _example("uniform", "beta"),
    },
    "batch": {
        "summary": "A batch of three normals against one (broadcast)",
        "value": {
            "p": {"family": "normal", "loc": [0.0, 1.0, 2.0], "scale": 1.0},
            "q": {"family": "normal", "loc": 0.0, "scale": [1.0, 2.0, 3.0]},
        },
    },
    "monte_carlo": {
        "summary": "Normal against Laplace: no closed form, a seeded Monte Carlo estimate",
        "value": _example("normal", "laplace", base=2, monte_carlo={"samples": 100_000, "seed": 7}),
    },
    "mixture": {
        "summary": "A mixture of two normals against a normal",
        "value": {
            "p": {
                "family": "mixture",
                "weights": [0.3, 0.7],
                "components": [
                    {"family": "normal", "loc": -1.0, "scale": 0.5},
                    {"family": "normal", "loc": 1.0, "scale": 1.0},
                ],
            },
            "q": {"family": "normal", "loc": 0.0, "scale": 1.5},
        },
    },
}
