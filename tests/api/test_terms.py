"""Per-element terms (``terms: true``, ``top: k``) over HTTP, as a user asks for them: each
member that is a sum over elements answers its summands, which sum to the value in every
format (probabilities, log-probabilities, logits), are the closed forms written here, come
in the requested base, and are null where they make the value infinite; ``top`` ranks them.
Batches, Arrow, streams and V2 are in ``tests/interop/test_terms_formats.py``."""

import math
from collections.abc import Callable
from typing import Any

import httpx
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from service.divergences.catalog import DIVERGENCES
from tests.strategies import distribution_pairs, positive_pairs

SUMMABLE = [name for name, d in DIVERGENCES.items() if d.terms is not None]
NOT_SUMS = [name for name, d in DIVERGENCES.items() if d.terms is None]
FORMATS = ["probabilities", "log_probabilities", "logits"]
RNG = np.random.default_rng(20261130)
P, Q = RNG.dirichlet(np.ones(6)), RNG.dirichlet(np.ones(6))


def amari(p: np.ndarray, q: np.ndarray, a: float = 0.5) -> np.ndarray:
    if a == 1:
        return p * np.log(p / q) - p + q
    return (p**a * q ** (1 - a) - a * p - (1 - a) * q) / (a * (a - 1))


CLOSED_FORMS: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "kl": lambda p, q: p * np.log(p / q),
    "reverse_kl": lambda p, q: q * np.log(q / p),
    "jeffreys": lambda p, q: (p - q) * np.log(p / q),
    "js": lambda p, q: (p * np.log(2 * p / (p + q)) + q * np.log(2 * q / (p + q))) / 2,
    "cross_entropy": lambda p, q: -p * np.log(q),
    "entropy": lambda p, q: -p * np.log(p),
    "total_variation": lambda p, q: np.abs(p - q) / 2,
    "chi_square": lambda p, q: (p - q) ** 2 / q,
    "alpha": amari,
    "triangular": lambda p, q: (p - q) ** 2 / (p + q),
}


def given_as(values: np.ndarray, format: str) -> list[float | None]:
    """``values`` (probabilities) in ``format``: logs (null for a zero), logits shifted."""
    if format == "probabilities":
        return [float(v) for v in values]
    shift = 3.5 if format == "logits" else 0.0
    return [math.log(v) + shift if v > 0 else None for v in values.tolist()]


def ask(client: httpx.Client, name: str, p: Any, q: Any, **options: Any) -> dict[str, Any]:
    member = {parameter.name: 0.5 for parameter in DIVERGENCES[name].parameters}
    body = {"p": p, "q": q, **member, **options}
    answer = client.post(f"/divergences/{name}", json=body)
    assert answer.status_code == 200, answer.text
    found: dict[str, Any] = answer.json()
    return found


def assert_sums_to(terms: list[float | None], value: float | None) -> None:
    """Terms sum to the value to rounding: 1e-12 relative, or 1e-15 absolute near 0."""
    assert value is not None and None not in terms
    total = math.fsum(t for t in terms if t is not None)
    assert abs(total - value) <= max(1e-15, 1e-12 * abs(value)), (total, value)


@pytest.mark.parametrize("format", FORMATS)
@pytest.mark.parametrize("name", SUMMABLE)
@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(pair=distribution_pairs())
def test_terms_sum_to_the_value_for_every_summable_member_and_format(
    client: httpx.Client, name: str, format: str, pair: tuple[np.ndarray, np.ndarray]
) -> None:
    p, q = pair
    formats = {"p_format": format, "q_format": format}
    answer = ask(client, name, given_as(p, format), given_as(q, format), terms=True, **formats)
    terms = answer["terms"]
    assert len(terms) == len(p)
    if answer["finite"]:
        assert_sums_to(terms, answer["value"])
    else:  # the elements to blame are null, the first of them is infinite_at
        assert answer["value"] is None
        assert terms[answer["infinite_at"]] is None


@pytest.mark.parametrize("format", ["probabilities", "logits"])
@pytest.mark.parametrize("name", SUMMABLE)
@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(pair=positive_pairs(), moved=st.sampled_from([1e-15, 1e-8, 1e-4]), data=st.data())
def test_terms_of_nearly_equal_distributions_sum_to_their_small_value(
    client: httpx.Client,
    name: str,
    format: str,
    pair: tuple[np.ndarray, np.ndarray],
    moved: float,
    data: st.DataObject,
) -> None:
    p, _ = pair
    signs = np.array(
        data.draw(st.lists(st.sampled_from([-1.0, 1.0]), min_size=p.size, max_size=p.size))
    )
    q = p * (1 + moved * signs)
    q /= q.sum()
    formats = {"p_format": format, "q_format": format}
    answer = ask(client, name, given_as(p, format), given_as(q, format), terms=True, **formats)
    assert_sums_to(answer["terms"], answer["value"])


@pytest.mark.parametrize("format", FORMATS)
@pytest.mark.parametrize("name", SUMMABLE)
def test_terms_are_the_closed_form_summands(client: httpx.Client, name: str, format: str) -> None:
    formats = {"p_format": format, "q_format": format}
    answer = ask(client, name, given_as(P, format), given_as(Q, format), terms=True, **formats)
    np.testing.assert_allclose(answer["terms"], CLOSED_FORMS[name](P, Q), rtol=1e-12, atol=1e-16)


@pytest.mark.parametrize("order", [-1.0, 0.0, 0.25, 1.0, 2.5])
def test_amari_terms_follow_the_declared_formula_at_every_order(
    client: httpx.Client, order: float
) -> None:
    for format in FORMATS:
        formats = {"p_format": format, "q_format": format}
        answer = ask(
            client, "alpha", given_as(P, format), given_as(Q, format), terms=True, alpha=order,
            **formats,
        )  # fmt: skip
        expected = amari(Q, P, 1.0) if order == 0 else amari(P, Q, order)
        np.testing.assert_allclose(answer["terms"], expected, rtol=1e-11)
        assert_sums_to(answer["terms"], answer["value"])


def test_logit_terms_are_exact_where_a_probability_underflows(client: httpx.Client) -> None:
    # softmax([0, -800]): e^-800 underflows float64, its logarithm does not.
    body = {"p": [0, 0], "q": [0, -800], "p_format": "logits", "q_format": "logits"}
    answer = client.post("/kl", json={**body, "terms": True}).json()
    half_log_half = 0.5 * math.log(0.5)
    assert answer["terms"] == pytest.approx([half_log_half, half_log_half + 400], rel=1e-15)
    assert math.fsum(answer["terms"]) == pytest.approx(answer["kl"], rel=1e-15)


def test_an_infinite_value_has_null_terms_where_it_is_infinite_and_the_others_as_they_are(
    client: httpx.Client,
) -> None:
    answer = ask(client, "kl", [0.5, 0.25, 0.25], [0.5, 0.5, 0.0], terms=True, top=3)
    assert (answer["value"], answer["finite"], answer["infinite_at"]) == (None, False, 2)
    assert answer["terms"] == [0.0, 0.25 * math.log(0.5), None]
    assert answer["top"] == [
        {"index": 2, "term": None},
        {"index": 0, "term": 0.0},
        {"index": 1, "term": 0.25 * math.log(0.5)},
    ]
    jeffreys = ask(client, "jeffreys", [0.5, 0.5, 0.0], [0.5, 0.0, 0.5], terms=True)
    assert jeffreys["terms"] == [0.0, None, None] and jeffreys["infinite_at"] == 1


def test_top_ranks_the_most_positive_terms_first_and_ties_by_index(client: httpx.Client) -> None:
    # Total variation: |p - q| / 2 = [0.125, 0, 0.125, 0.125, 0.125, 0]: four ties.
    p, q = [0.25, 0.25, 0.0, 0.25, 0.25, 0.0], [0.0, 0.25, 0.25, 0.0, 0.5, 0.0]
    answer = ask(client, "total_variation", p, q, top=4)
    assert answer["top"] == [
        {"index": 0, "term": 0.125},
        {"index": 2, "term": 0.125},
        {"index": 3, "term": 0.125},
        {"index": 4, "term": 0.125},
    ]
    kl = ask(client, "kl", [0.7, 0.2, 0.1], [0.2, 0.3, 0.5], top=2, terms=True)
    terms = kl["terms"]
    assert [t["index"] for t in kl["top"]] == [0, 1]  # the negative term (index 2) is last
    assert [t["term"] for t in kl["top"]] == [terms[0], terms[1]] and terms[2] < terms[1] < 0


def test_top_larger_than_the_vector_lists_every_element(client: httpx.Client) -> None:
    answer = ask(client, "kl", [0.7, 0.3], [0.5, 0.5], top=10)
    assert [t["index"] for t in answer["top"]] == [0, 1]


def test_top_without_terms_answers_only_top_and_neither_appears_unasked(
    client: httpx.Client,
) -> None:
    only_top = ask(client, "js", [0.7, 0.3], [0.5, 0.5], top=1)
    assert "top" in only_top and "terms" not in only_top
    plain = ask(client, "js", [0.7, 0.3], [0.5, 0.5])
    assert set(plain) == {"divergence", "value", "finite", "infinite_at", "unit"}
    kl = client.post("/kl", json={"p": [0.7, 0.3], "q": [0.5, 0.5]}).json()
    assert set(kl) == {"kl", "finite", "infinite_at", "unit"}


def test_post_kl_answers_terms_and_top_through_the_full_route(client: httpx.Client) -> None:
    # A plain pair the fast lane and the plain shortcut would answer without terms.
    answer = client.post("/kl", json={"p": [0.7, 0.3], "q": [0.5, 0.5], "terms": True, "top": 1})
    assert answer.status_code == 200, answer.text
    found = answer.json()
    expected = [0.7 * math.log(0.7 / 0.5), 0.3 * math.log(0.3 / 0.5)]
    assert found["terms"] == pytest.approx(expected, rel=1e-15)
    assert found["top"] == [{"index": 0, "term": found["terms"][0]}]
    assert_sums_to(found["terms"], found["kl"])


@pytest.mark.parametrize("base", [2, 10, 3.7])
def test_terms_are_in_the_requested_base(client: httpx.Client, base: float) -> None:
    p, q = P.tolist(), Q.tolist()
    nats = ask(client, "kl", p, q, terms=True)["terms"]
    in_base = ask(client, "kl", p, q, terms=True, base=base)
    np.testing.assert_allclose(in_base["terms"], np.array(nats) / math.log(base), rtol=1e-15)
    assert_sums_to(in_base["terms"], in_base["value"])
    # Members without a unit take no base: their terms are unchanged.
    plain = ask(client, "chi_square", p, q, terms=True)["terms"]
    assert ask(client, "chi_square", p, q, terms=True, base=base)["terms"] == plain


def test_keras_mode_terms_are_those_of_the_clipped_vectors(client: httpx.Client) -> None:
    p, q = [0.6, 0.4, 0.0], [0.5, 0.0, 0.5]
    answer = client.post("/kl", json={"p": p, "q": q, "mode": "keras", "terms": True}).json()
    clipped_p, clipped_q = np.clip(p, 1e-7, 1), np.clip(q, 1e-7, 1)
    expected = clipped_p * np.log(clipped_p / clipped_q)
    np.testing.assert_allclose(answer["terms"], expected, rtol=1e-14)
    assert_sums_to(answer["terms"], answer["kl"])


@pytest.mark.parametrize("field", ["terms", "top"])
@pytest.mark.parametrize("name", NOT_SUMS)
def test_members_that_are_not_sums_refuse_terms_naming_the_field_and_why(
    client: httpx.Client, name: str, field: str
) -> None:
    member = {parameter.name: 0.5 for parameter in DIVERGENCES[name].parameters}
    asked = {"terms": True} if field == "terms" else {"top": 2}
    body = {"p": [0.7, 0.3], "q": [0.5, 0.5], **member, **asked}
    for path, rows in ((f"/divergences/{name}", body), (f"/divergences/{name}/batch", None)):
        sent = rows or {**body, "p": [body["p"]]}
        answer = client.post(path, json=sent)
        assert answer.status_code == 422, answer.text
        (error,) = answer.json()["detail"]
        assert error["loc"] == ["body", field]
        assert "not a sum over elements" in error["msg"]


def test_the_listing_says_which_members_have_terms(client: httpx.Client) -> None:
    listed = {d["name"]: d["terms"] for d in client.get("/divergences").json()}
    assert listed == {name: name in SUMMABLE for name in DIVERGENCES}
    assert set(NOT_SUMS) == {"js_distance", "hellinger", "bhattacharyya", "renyi"}


@pytest.mark.parametrize("top", [0, -1, 1.5, True, "3", None])
def test_top_must_be_a_positive_integer(client: httpx.Client, top: object) -> None:
    body = {"p": [0.7, 0.3], "q": [0.5, 0.5], "top": top}
    answer = client.post("/divergences/kl", json=body)
    if top is None:  # null is leaving it out
        assert answer.status_code == 200 and "top" not in answer.json()
        return
    assert answer.status_code == 422, answer.text
    assert answer.json()["detail"][0]["loc"] == ["body", "top"]


@pytest.mark.parametrize("terms", [1, "true", None])
def test_terms_must_be_true_or_false(client: httpx.Client, terms: object) -> None:
    answer = client.post("/kl", json={"p": [0.7, 0.3], "q": [0.5, 0.5], "terms": terms})
    assert answer.status_code == 422, answer.text
    assert answer.json()["detail"][0]["loc"] == ["body", "terms"]


@given(data=st.data())
@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_top_is_the_terms_sorted_by_value_descending_then_index(
    client: httpx.Client, data: st.DataObject
) -> None:
    # Repeated values, so that ties happen.
    n = data.draw(st.integers(1, 8))
    p = np.array(data.draw(st.lists(st.sampled_from([0.0, 1.0, 2.0]), min_size=n, max_size=n)))
    q = np.array(data.draw(st.lists(st.sampled_from([1.0, 2.0]), min_size=n, max_size=n)))
    if p.sum() == 0:
        p[0] = 1.0
    k = data.draw(st.integers(1, n + 2))
    answer = ask(
        client, "total_variation", p.tolist(), q.tolist(), normalize=True, terms=True, top=k
    )
    terms = answer["terms"]
    expected = sorted(range(n), key=lambda i: (-terms[i], i))[:k]
    assert answer["top"] == [{"index": i, "term": terms[i]} for i in expected]
