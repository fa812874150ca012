"""Every member on logits and log-probabilities, on both backends, against 80-digit
arithmetic (mpmath) on the softmax of the very float64 inputs: 1e-12 relative, where the
probabilities underflow float64, near p = q, and with a temperature."""

import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from service.core.errors import InvalidInput
from service.divergences import log_space
from service.divergences.catalog import DIVERGENCES
from service.divergences.scoring import score
from service.divergences.tf import engine
from tests.divergences.log_reference import LIMITS, assert_accurate, expected, service_value
from tests.exact_values import EXACT

NAMES = [*EXACT, "entropy"]
BACKENDS = ["numpy", "tensorflow"]
LOGITS = ("logits", "logits")
UNDERFLOWING = (np.array([0.0, 0.0]), np.array([0.0, -800.0]))


def values(name: str, p: np.ndarray, q: np.ndarray, backend: str, **kwargs: object) -> list[float]:
    return np.atleast_1d(service_value(name, p, q, backend, **kwargs)).tolist()  # type: ignore[arg-type]


@pytest.mark.parametrize("backend", BACKENDS)
def test_kl_of_logits_whose_probabilities_underflow_is_exact(backend: str) -> None:
    p, q = UNDERFLOWING
    got = values("kl", np.array([p]), np.array([q]), backend, formats=LOGITS)[0]
    assert got == pytest.approx(400 - math.log(2), rel=1e-15)  # 399.30685281944005


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", NAMES)
def test_every_member_of_underflowing_logits_matches_the_exact_value(
    name: str, backend: str
) -> None:
    p, q = UNDERFLOWING
    for a, b in ((p, q), (q, p)):
        got = values(name, np.array([a]), np.array([b]), backend, formats=LOGITS)[0]
        assert_accurate(got, expected(name, a, b, LOGITS), name, (a, b))


logit = st.floats(-1000, 1000)


@st.composite
def logit_rows(
    draw: st.DrawFn, rows: int = 1, nearly_equal: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Rows of logits z and w of one width: drawn freely, or w = z shifted by a constant
    (the same distribution) and moved by a few ulps, 1e-8 or 1e-4 (nearly equal)."""
    n = draw(st.integers(1, 8))
    z = draw(hnp.arrays(np.float64, (rows, n), elements=logit))
    how = draw(st.sampled_from(["free", "ulps", "1e-8", "1e-4"] if nearly_equal else ["free"]))
    if how == "free":
        return z, draw(hnp.arrays(np.float64, (rows, n), elements=logit))
    shift = draw(st.floats(-1000, 1000))
    if how == "ulps":
        w = z + shift
        steps = draw(hnp.arrays(np.int64, (rows, n), elements=st.integers(-4, 4)))
        return z, np.nextafter(w, np.inf) * (steps > 0) + w * (steps == 0) + np.nextafter(
            w, -np.inf
        ) * (steps < 0)
    moves = draw(hnp.arrays(np.float64, (rows, n), elements=st.floats(-1, 1)))
    return z, z + shift + float(how) * moves


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=40, deadline=None)
@given(pair=logit_rows(), temperature=st.sampled_from([None, 0.5, 3.0]))
def test_logits_match_the_exact_value_on_numpy(
    name: str, pair: tuple[np.ndarray, np.ndarray], temperature: float | None
) -> None:
    z, w = pair[0][0], pair[1][0]
    got = values(name, z, w, "numpy", formats=LOGITS, temperature=temperature)[0]
    assert_accurate(got, expected(name, z, w, LOGITS, temperature), name, (z, w, temperature))


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=15, deadline=None)
@given(pair=logit_rows(rows=3), temperature=st.sampled_from([None, 0.5]))
def test_logits_match_the_exact_value_on_tensorflow(
    name: str, pair: tuple[np.ndarray, np.ndarray], temperature: float | None
) -> None:
    z, w = pair
    got = values(name, z, w, "tensorflow", formats=LOGITS, temperature=temperature)
    for row, value in enumerate(got):
        want = expected(name, z[row], w[row], LOGITS, temperature)
        assert_accurate(value, want, name, (z[row], w[row]))


def scored(name: str, p: np.ndarray, q: np.ndarray, backend: str, **options: object) -> float:
    member, _, order = (name, "", "") if name in DIVERGENCES else name.rpartition("_")
    alpha = float(order) if order else None
    kwargs = {"limits": LIMITS, "alpha": alpha, "backend": backend, **options}
    return float(score(DIVERGENCES[member], p=p, q=q, **kwargs).values[0])  # type: ignore[arg-type]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=10, deadline=None)
@given(pair=logit_rows())
def test_log_probabilities_with_normalize_match_the_exact_value(
    name: str, backend: str, pair: tuple[np.ndarray, np.ndarray]
) -> None:
    """Log-weights that do not log-sum-exp to 0, normalised: as the logits they are."""
    z, w = pair
    options = {"p_format": "log_probabilities", "q_format": "log_probabilities"}
    got = scored(name, z, w, backend, normalize=True, **options)
    assert_accurate(got, expected(name, z[0], w[0], LOGITS), name, (z, w))


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=10, deadline=None)
@given(pair=logit_rows(nearly_equal=False))
def test_log_probabilities_against_probabilities_match_the_exact_value(
    name: str, backend: str, pair: tuple[np.ndarray, np.ndarray]
) -> None:
    """p as log-probabilities (the float64 log-softmax of logits) against q as
    probabilities (the softmax of others), not nearly equal: the probabilities are taken
    to logs in float64, which near p = q costs digits (docs/numerics.md)."""
    p = log_space.log_probabilities(pair[0])
    q = np.exp(log_space.log_probabilities(pair[1]))
    assume(np.abs(np.exp(p) - q).sum() > 1e-3)  # not nearly equal
    options = {"p_format": "log_probabilities", "q_format": "probabilities"}
    got = scored(name, p, q, backend, **options)
    want = expected(name, p[0], q[0], ("log_probabilities", "probabilities"))
    assert_accurate(got, want, name, (p, q))


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", NAMES)
def test_masked_logits_are_zero_probabilities(name: str, backend: str) -> None:
    """-inf at the same places in p and q: those elements are left out; elsewhere the
    value is that of the unmasked elements."""
    z = np.array([[1.5, -math.inf, 0.25, -math.inf]])
    w = np.array([[-0.5, -math.inf, 2.0, -math.inf]])
    got = values(name, z, w, backend, formats=LOGITS)[0]
    want = values(name, z[:, [0, 2]], w[:, [0, 2]], backend, formats=LOGITS)[0]
    assert got == pytest.approx(want, rel=1e-14)
    assert_accurate(got, expected(name, z[0], w[0], LOGITS), name)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", list(DIVERGENCES))
def test_a_zero_on_one_side_follows_the_members_infinite_rule(name: str, backend: str) -> None:
    divergence = DIVERGENCES[name]
    alpha = 0.5 if divergence.parameters else None
    z, w = np.array([0.0, 1.0, 2.0]), np.array([0.0, -math.inf, 2.0])
    scores = score(
        divergence,
        p=z[np.newaxis],
        q=w[np.newaxis],
        limits=LIMITS,
        alpha=alpha,
        backend=backend,  # type: ignore[arg-type]
        p_format="logits",
        q_format="logits",
    )
    mask = divergence.infinite_mask(np.array([1.0, 1, 1]), np.array([1.0, 0, 1]), alpha)
    infinite = mask is not None and bool(mask.any())
    assert math.isinf(scores.values[0]) == infinite, scores
    assert scores.infinite_at[0] == (1 if infinite else -1)


def test_log_probabilities_off_by_more_than_the_tolerance_name_their_row() -> None:
    p = np.log(np.array([[0.5, 0.5], [0.5, 0.6]]))
    with pytest.raises(InvalidInput) as error:
        score(DIVERGENCES["kl"], p=p, q=p, limits=LIMITS, p_format="log_probabilities",
              q_format="log_probabilities")  # fmt: skip
    assert error.value.loc == ("body", "p", 1)
    assert "normalize" in error.value.msg


def test_normalize_subtracts_the_log_sum_exp_of_log_probabilities() -> None:
    p = np.log(np.array([2.0, 6.0]))
    q = np.log(np.array([0.5, 0.5]))
    options = {"p_format": "log_probabilities", "q_format": "log_probabilities"}
    kl = DIVERGENCES["kl"]
    got = score(kl, p=p, q=q, limits=LIMITS, normalize=True, **options).values  # type: ignore[arg-type]
    want = score(DIVERGENCES["kl"], p=[0.25, 0.75], q=[0.5, 0.5], limits=LIMITS).values
    assert float(got) == pytest.approx(float(want), rel=1e-15)


def logit_batch(rows: int, columns: int = 100, seed: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """Logits large enough for the XLA chunks: every 7th row masked (-inf at the same
    place in p and q), every 11th with a probability that underflows (a logit 800 below
    the others), every 13th nearly equal in p and q (a value below NEAR_ZERO)."""
    rng = np.random.default_rng(seed)
    z, w = rng.normal(0, 2, (rows, columns)), rng.normal(0, 2, (rows, columns))
    z[::7, 3] = w[::7, 3] = -math.inf
    z[::11, 5] -= 800
    w[::13] = z[::13] + 1e-6 * rng.standard_normal((len(w[::13]), columns))
    return z, w


@pytest.mark.parametrize("one_q_row", [False, True])
@pytest.mark.parametrize("name", NAMES)
def test_large_batches_of_logits_on_the_xla_chunks_match_the_numpy_kernel(
    name: str, one_q_row: bool
) -> None:
    rows = engine.XLA_MIN_ELEMENTS // 100 + 300  # chunks of both sizes, the last padded
    z, w = logit_batch(rows)
    if one_q_row:
        w = w[:1]
    got = values(name, z, w, "tensorflow", formats=LOGITS, temperature=1.5)
    want = values(name, z, np.broadcast_to(w, z.shape), "numpy", formats=LOGITS, temperature=1.5)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=0)


extreme = st.sampled_from(
    [0.0, 1e-300, 5e-324, 700.0, -745.0, 1e300, -1e300, -2e306, 1e307, -1e307, 1e308, -math.inf]
)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", list(DIVERGENCES))
@settings(max_examples=25, deadline=None)
@given(
    z=st.lists(extreme, min_size=1, max_size=3),
    w=st.lists(extreme, min_size=1, max_size=3),
    temperature=st.sampled_from([None, 1e-300, 1e-10, 1e300]),
    q_format=st.sampled_from(["logits", "log_probabilities"]),
)
def test_extreme_logits_give_a_value_or_a_named_refusal_never_nan(
    name: str, backend: str, z: list, w: list, temperature: float | None, q_format: str
) -> None:
    n = min(len(z), len(w))
    divergence = DIVERGENCES[name]
    try:
        scores = score(
            divergence,
            p=np.array([z[:n]]),
            q=np.array([w[:n]]),
            limits=LIMITS,
            alpha=0.5 if divergence.parameters else None,
            backend=backend,  # type: ignore[arg-type]
            p_format="logits",
            q_format=q_format,  # type: ignore[arg-type]
            temperature=temperature,
            normalize=True,
        )
    except InvalidInput as error:
        assert error.loc[:2] in (("body", "p"), ("body", "q"), ("body", "temperature")), error
        return
    assert not np.isnan(scores.values).any()
    assert (scores.values >= 0).all()
