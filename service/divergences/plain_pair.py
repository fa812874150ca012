"""The common single pair of ``POST /kl``, scored in a handful of numpy calls."""

import math
from collections.abc import Sequence

import numpy as np

from service.divergences.inputs import Limits
from service.divergences.near_zero import NEAR_ZERO

# The least element of a plain pair: with every element at least this and each vector
# summing to at most 2 (the tolerance is below 1), every ratio p_i / q_i is a normal
# float64 and none overflows.
_PLAIN_FLOOR = 2 * np.finfo(np.float64).tiny


def plain_kl(
    p: Sequence[float | None],
    q: Sequence[float | None],
    *,
    limits: Limits,
    normalize: bool = False,
) -> float | None:
    """KL(p || q) in nats of two vectors that need no detailed checks, or None.

    The common single pair in a handful of numpy calls (against about twenty through
    :func:`~.scoring.score`): two vectors of one length within ``limits``, each summing to 1 within
    the tolerance (or scaled to 1 with ``normalize``), every element then a positive normal
    float64. Anything else (a zero, which may make the value infinite; a negative, NaN or
    infinite element; a sum off 1; subnormal numbers; lengths that differ) returns None,
    and :func:`~.scoring.score` checks it, scores it or says what is wrong. Where it answers, the
    value is bit for bit :func:`~.scoring.score`'s (exact mode): the same sums, ratios, logarithms
    and summation order.
    """
    if len(p) != len(q) or not 0 < len(p) <= limits.max_vector_length:
        return None
    try:
        pq = np.array((p, q), dtype=np.float64)
    except (TypeError, ValueError, OverflowError):
        return None
    sums = pq.sum(axis=-1)
    low, high = sorted(sums.tolist())
    if normalize:
        if not 0 < low <= high < math.inf:
            return None
        pq /= sums[:, np.newaxis]
    elif not (abs(low - 1) <= limits.sum_tolerance and abs(high - 1) <= limits.sum_tolerance):
        return None
    if not pq.min() >= _PLAIN_FLOOR:  # NaN fails too
        return None
    p_arr, q_arr = pq
    value = float((p_arr * np.log(p_arr / q_arr)).sum())
    # Below NEAR_ZERO the plain sum may have lost digits: scoring.score() recomputes it.
    return value if value >= NEAR_ZERO else None
