"""Per-element terms: for the members that are a sum over elements, what each element
contributes to the value, in nats (``terms: true``, ``top: k``).

Each kernel takes what the member's value kernel takes (``p`` and ``q`` as probabilities,
or log-weights: :mod:`.log_terms`) and returns an array of p's shape whose last axis sums
to the value up to rounding. A term is the summand of the member's formula as
``GET /divergences`` writes it, signed (a KL term is negative where q_i > p_i); an element
that makes the value infinite has an infinite term, and every other term is its own finite
contribution. Members that are not a sum (a square root, a logarithm of a sum) have none.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from service.core.errors import InvalidInput
from service.divergences import formulas, log_terms, near_zero

if TYPE_CHECKING:  # the catalog declares its members' terms with this module's kernels
    from service.divergences.catalog import Divergence

Array = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Terms:
    """A member's per-element kernels: on probabilities, and on log-weights (logits,
    log-probabilities) with the arguments of its ``log_numpy`` kernel."""

    numpy: Callable[..., Any]
    log_numpy: Callable[..., Any]


def _log_ratio(p: Array, q: Array) -> Array:
    _, s = near_zero.halves(p, q)
    return near_zero.log_ratio(p, q, s)


def kl(p: Array, q: Array) -> Array:
    """``p_i log(p_i / q_i)``: 0 where ``p_i = 0``, ``inf`` where ``p_i > 0 = q_i``."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(p > 0, p * _log_ratio(p, q), 0.0)


def reverse_kl(p: Array, q: Array) -> Array:
    """``q_i log(q_i / p_i)``."""
    return kl(q, p)


def cross_entropy(p: Array, q: Array) -> Array:
    """``-p_i log q_i``, never negative: 0 where ``p_i = 0``."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(p > 0, -p * np.log(np.abs(q)), 0.0)  # a negative zero is a zero


def entropy(p: Array, q: Array | None = None) -> Array:
    """``-p_i log p_i`` (q is ignored)."""
    return cross_entropy(p, p)


def total_variation(p: Array, q: Array) -> Array:
    """``|p_i - q_i| / 2``."""
    return 0.5 * np.abs(p - q)


def alpha(p: Array, q: Array, alpha: float) -> Array:
    """Amari's ``[p_i^a q_i^(1-a) - a p_i - (1 - a) q_i] / (a (a - 1))``, never negative
    (order 1: ``p_i log(p_i/q_i) - p_i + q_i``); the summand is unchanged by swapping p
    and q with a and 1 - a, which orders below 1/2 do."""
    if alpha < 0.5:
        return formulas.amari_terms(q, p, 1.0 - alpha)
    return formulas.amari_terms(p, q, alpha)


KL = Terms(kl, log_terms.kl)
REVERSE_KL = Terms(reverse_kl, log_terms.reverse_kl)
JEFFREYS = Terms(near_zero.jeffreys_terms, log_terms.jeffreys)
JS = Terms(near_zero.js_terms, log_terms.js)
CROSS_ENTROPY = Terms(cross_entropy, log_terms.cross_entropy)
ENTROPY = Terms(entropy, log_terms.entropy)
TOTAL_VARIATION = Terms(total_variation, log_terms.total_variation)
CHI_SQUARE = Terms(formulas.chi_square_terms, log_terms.chi_square)
ALPHA = Terms(alpha, log_terms.alpha)
TRIANGULAR = Terms(formulas.triangular_terms, log_terms.triangular)


def check_wanted(divergence: "Divergence", *, wanted: bool, top: int | None, place: str) -> bool:
    """Whether terms are to be computed (``wanted``, or a ``top``) for ``divergence`` (a
    catalog member); raises for a member without terms, naming ``top`` where only it was
    asked for, else ``terms``, in ``place`` ("body" or "query")."""
    if not wanted and top is None:
        return False
    if divergence.terms is None:
        field = "terms" if wanted else "top"
        raise InvalidInput(
            (place, field),
            f"{divergence.name} has no per-element terms: its value, {divergence.formula}, "
            "is not a sum over elements (GET /divergences says which members have terms)",
        )
    return True


def ranked(terms: Array, k: int) -> tuple[npt.NDArray[np.intp], Array]:
    """The indices and values of the ``k`` largest terms along the last axis (all of them
    where fewer): by value, most positive first (an infinite term before every finite
    one), ties by the lower index."""
    order = np.argsort(-terms, axis=-1, kind="stable")[..., :k]
    return order, np.take_along_axis(terms, order, axis=-1)
