"""The two members added through the registry alone, over HTTP: Amari's alpha-divergence
and the triangular discrimination, checked against TensorFlow Probability's Csiszar
functions (D_f = sum_i q_i f(p_i/q_i), ``tfp.vi.amari_alpha`` self-normalized and
``tfp.vi.triangular``) and against closed forms written here. (Every transport, the V2
models and the near-zero accuracy are covered by the tests parametrized over the registry.)"""

import math

import httpx
import numpy as np
import pytest
import tensorflow_probability as tfp

RNG = np.random.default_rng(20261130)
PAIRS = [(RNG.dirichlet(np.ones(n)), RNG.dirichlet(np.ones(n))) for n in (2, 5, 17)]
ORDERS = [-2.0, -0.5, 0.25, 0.5, 0.9, 1.5, 3.0]


def csiszar(f: object, p: np.ndarray, q: np.ndarray, **kwargs: object) -> float:
    """sum_i q_i f(log(p_i / q_i)), TensorFlow Probability's f evaluated at the log ratio."""
    values = f(np.log(p / q), **kwargs).numpy()  # type: ignore[operator]
    return float(np.sum(q * values))


def closed_amari(p: np.ndarray, q: np.ndarray, alpha: float) -> float:
    return float((np.sum(p**alpha * q ** (1 - alpha)) - 1) / (alpha * (alpha - 1)))


def value(client: httpx.Client, name: str, p: np.ndarray, q: np.ndarray, **options: float) -> float:
    answer = client.post(f"/divergences/{name}", json={"p": p.tolist(), "q": q.tolist(), **options})
    assert answer.status_code == 200, answer.text
    found: float = answer.json()["value"]
    return found


@pytest.mark.parametrize("alpha", ORDERS)
@pytest.mark.parametrize("pair", PAIRS, ids=["2", "5", "17"])
def test_the_alpha_divergence_is_tfps_self_normalized_amari_alpha_and_the_closed_form(
    client: httpx.Client, pair: tuple[np.ndarray, np.ndarray], alpha: float
) -> None:
    p, q = pair
    got = value(client, "alpha", p, q, alpha=alpha)
    reference = csiszar(tfp.vi.amari_alpha, p, q, alpha=alpha, self_normalized=True)
    assert got == pytest.approx(reference, rel=1e-10)
    assert got == pytest.approx(closed_amari(p, q, alpha), rel=1e-10)


@pytest.mark.parametrize("pair", PAIRS, ids=["2", "5", "17"])
def test_the_alpha_divergence_of_orders_one_and_zero_is_kl_and_reverse_kl(
    client: httpx.Client, pair: tuple[np.ndarray, np.ndarray]
) -> None:
    p, q = pair
    kl, reverse = value(client, "kl", p, q), value(client, "reverse_kl", p, q)
    assert value(client, "alpha", p, q, alpha=1.0) == pytest.approx(kl, rel=1e-12)
    assert value(client, "alpha", p, q, alpha=0.0) == pytest.approx(reverse, rel=1e-12)
    # Approached, not divided by zero: the value moves by about the order's step.
    for step in (1e-6, 1e-9, 1e-12):
        assert value(client, "alpha", p, q, alpha=1 + step) == pytest.approx(kl, rel=10 * step)
        assert value(client, "alpha", p, q, alpha=-step) == pytest.approx(reverse, rel=10 * step)


@pytest.mark.parametrize(
    ("alpha", "p", "q", "infinite_at"),
    [
        (2.0, [0.5, 0.5], [0.0, 1.0], 0),  # from order 1 on: p_i > 0 = q_i
        (1.0, [0.5, 0.5], [0.0, 1.0], 0),
        (-1.0, [0.0, 1.0], [0.5, 0.5], 0),  # from order 0 down: q_i > 0 = p_i
        (0.0, [0.0, 1.0], [0.5, 0.5], 0),
        (0.5, [0.5, 0.5], [0.0, 1.0], None),  # in between: finite
        (0.5, [0.0, 1.0], [0.5, 0.5], None),
    ],
)
def test_the_alpha_divergence_is_infinite_where_the_formula_is(
    client: httpx.Client, alpha: float, p: list[float], q: list[float], infinite_at: int | None
) -> None:
    found = client.post("/divergences/alpha", json={"p": p, "q": q, "alpha": alpha}).json()
    assert found["infinite_at"] == infinite_at
    if infinite_at is None:
        assert found["finite"] is True
        exact = sum(
            (a**alpha * b ** (1 - alpha) - alpha * a - (1 - alpha) * b) / (alpha * (alpha - 1))
            for a, b in zip(p, q, strict=True)
        )
        assert found["value"] == pytest.approx(exact, rel=1e-14)
    else:
        assert (found["finite"], found["value"]) == (False, None)


@pytest.mark.parametrize(
    ("body", "words"),
    [("", "alpha is required"), (', "alpha": "2"', "valid number"), (', "alpha": NaN', "finite")],
)
def test_the_alpha_divergence_needs_a_finite_order(
    client: httpx.Client, body: str, words: str
) -> None:
    raw = '{"p": [0.5, 0.5], "q": [0.5, 0.5]' + body + "}"
    answer = client.post(
        "/divergences/alpha", content=raw, headers={"content-type": "application/json"}
    )
    assert answer.status_code == 422
    (first,) = answer.json()["detail"][:1]
    assert first["loc"] == ["body", "alpha"] and words in first["msg"], first


def test_renyi_still_refuses_a_negative_order_which_alpha_takes(client: httpx.Client) -> None:
    body = {"p": [0.5, 0.5], "q": [0.25, 0.75], "alpha": -1}
    assert client.post("/divergences/alpha", json=body).status_code == 200
    refused = client.post("/divergences/renyi", json=body)
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["loc"] == ["body", "alpha"]
    assert "at least 0 for renyi" in refused.json()["detail"][0]["msg"]


@pytest.mark.parametrize("pair", PAIRS, ids=["2", "5", "17"])
def test_the_triangular_discrimination_is_tfps_triangular_and_the_closed_form(
    client: httpx.Client, pair: tuple[np.ndarray, np.ndarray]
) -> None:
    p, q = pair
    got = value(client, "triangular", p, q)
    assert got == pytest.approx(csiszar(tfp.vi.triangular, p, q), rel=1e-12)
    assert got == pytest.approx(float(np.sum((p - q) ** 2 / (p + q))), rel=1e-14)


def test_the_triangular_discrimination_counts_joint_zeros_as_nothing(client: httpx.Client) -> None:
    p, q = np.array([0.0, 0.5, 0.5, 0.0]), np.array([0.0, 0.25, 0.25, 0.5])
    expected = 0.25**2 / 0.75 * 2 + 0.5
    assert value(client, "triangular", p, q) == pytest.approx(expected, rel=1e-15)
    disjoint = value(client, "triangular", np.array([0.0, 0.0, 1.0]), np.array([0.0, 1.0, 0.0]))
    assert disjoint == 2.0


def test_the_family_lists_both_with_their_parameters_and_rules(client: httpx.Client) -> None:
    listed = {d["name"]: d for d in client.get("/divergences").json()}
    assert listed["alpha"]["parameters"] == ["alpha"]
    assert "alpha >= 1" in listed["alpha"]["infinite_when"]
    assert listed["triangular"]["parameters"] == [] and listed["triangular"]["symmetric"]
    assert listed["triangular"]["infinite_when"] == "never"
    assert math.isclose(
        value(client, "alpha", np.array([0.2, 0.8]), np.array([0.2, 0.8]), alpha=3.0), 0.0
    )
