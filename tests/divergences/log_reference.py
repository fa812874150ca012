"""The exact values of divergences of distributions given as logits or log-probabilities:
the inputs exponentiated and normalised in mpmath (80 digits), then tests/exact_values.py's
oracle; and the service's own value of the same inputs, by ``score`` as the routes call it."""

import math
from collections.abc import Sequence

import mpmath
import numpy as np

from service.divergences.catalog import DIVERGENCES
from service.divergences.inputs import Limits
from service.divergences.scoring import score
from tests.exact_values import DIGITS, EXACT, NOISE, M

LIMITS = Limits(max_vector_length=1000, max_batch_rows=5000, sum_tolerance=1e-6)
RTOL = 1e-12


def exact_distribution(values: Sequence[float], format: str, temperature: float = 1.0) -> list:
    """The distribution ``values`` stand for, exactly (call inside ``mpmath.workdps``)."""
    if format == "probabilities":
        weights = [M(float(v)) for v in values]
    else:
        scale = M(temperature) if format == "logits" else M(1)
        weights = [mpmath.exp(M(float(v)) / scale) if v > -math.inf else M(0) for v in values]
    total = mpmath.fsum(weights)
    return [w / total for w in weights]


def _spread_digits(vectors: list[Sequence[float]], formats: tuple[str, str], t: float) -> int:
    spread = 0.0
    for values, format in zip(vectors, formats, strict=True):
        logs = np.array(values, dtype=np.float64)
        if format == "probabilities":
            with np.errstate(divide="ignore"):
                logs = np.log(logs)
        logs = logs[np.isfinite(logs)] / (t if format == "logits" else 1.0)
        spread = max(spread, float(logs.max() - logs.min()) if logs.size else 0.0)
    # Past 1000 digits (a spread of 2300), what is lost is below float64's range anyway.
    return min(math.ceil(spread / math.log(10)), 1000)


def expected(
    name: str,
    p: Sequence[float],
    q: Sequence[float],
    formats: tuple[str, str],
    temperature: float | None = None,
) -> float:
    """The exact value (rounded, held to the member's range) of ``name`` (an ``EXACT`` key:
    ``renyi_2`` is renyi of order 2) for p and q given in ``formats``.

    Logits spread over L make probabilities as small as e^-L beside ones near 1 - e^-L:
    ``DIGITS`` more than L / ln 10 keep both."""
    with mpmath.workdps(DIGITS + _spread_digits([p, q], formats, temperature or 1.0)):
        p_exact = exact_distribution(p, formats[0], temperature or 1.0)
        q_exact = exact_distribution(q, formats[1], temperature or 1.0)
        # Elements where both are 0 add nothing to any member (and would divide by 0).
        kept = [(a, b) for a, b in zip(p_exact, q_exact, strict=True) if a or b]
        p_exact, q_exact = [a for a, _ in kept], [b for _, b in kept]
        entropy = -mpmath.fsum(a * mpmath.log(a) for a in p_exact if a > 0)
        if name == "entropy":
            return float(entropy)
        exact, low, high = EXACT[name]
        if name == "cross_entropy":
            low = entropy
        try:
            return float(min(max(exact(p_exact, q_exact), low), high))
        except ZeroDivisionError:  # p_i / q_i with q_i = 0 < p_i: infinite
            return math.inf


def service_value(
    name: str,
    p: np.ndarray,
    q: np.ndarray,
    backend: str,
    formats: tuple[str, str],
    temperature: float | None = None,
) -> np.ndarray:
    """The service's value of ``name`` (as in :func:`expected`) on ``backend``."""
    member, _, order = (name, "", "") if name in DIVERGENCES else name.rpartition("_")
    return score(
        DIVERGENCES[member],
        p=p,
        q=q,
        limits=LIMITS,
        alpha=float(order) if order else None,
        backend=backend,  # type: ignore[arg-type]
        p_format=formats[0],  # type: ignore[arg-type]
        q_format=formats[1],  # type: ignore[arg-type]
        temperature=temperature,
    ).values


def assert_accurate(got: float, want: float, name: str, context: object = None) -> None:
    """``got`` within 1e-12 of ``want`` relative (infinities equal); a value the reference
    cannot tell from 0 (below its own rounding: its square root for the distances whose
    squares it sums) answered below that too."""
    if math.isinf(want):
        assert got == want, (name, context, got, want)
        return
    noise = math.sqrt(NOISE) if name in ("js_distance", "hellinger") else NOISE
    if abs(want) < noise:
        assert abs(got) < noise, (name, context, got, want)
        return
    tolerance = RTOL * abs(want) + 4 * np.finfo(np.float64).tiny
    assert abs(got - want) <= tolerance, (name, context, got, want)
