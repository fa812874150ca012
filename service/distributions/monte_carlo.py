"""KL(p || q) by Monte Carlo: the mean of ``log p(x) - log q(x)`` over draws x of p.

Draws come from numpy's ``Generator`` seeded by the request, so a seeded request repeats
exactly. The standard error is the sample standard deviation over sqrt(samples). A draw
of p where q's density is 0 is not an estimate but a proof: q's support misses a region
of positive p-probability, so the value is infinite (exactly).
"""

import math
from dataclasses import dataclass

import numpy as np

from service.core.errors import InputTooLarge, InvalidInput
from service.distributions.distribution import Mixture, Side
from service.distributions.tensors import Array, Mask, Shape


@dataclass(frozen=True)
class Estimate:
    """Values and standard errors in nats over the batch (``inf`` / ``nan`` where the
    value is infinite), and the draws with where q has density 0 at them, to say why."""

    values: Array
    standard_errors: Array
    draws: Array
    missed: Mask

    def why(self, index: Shape) -> str | None:
        """Why the value at batch ``index`` is infinite: the first draw of p there at
        which q has density 0 (None where there is none)."""
        column = np.moveaxis(self.missed, 0, -1)[index]
        if not column.any():
            return None
        draw = np.moveaxis(self.draws, 0, len(index))[index][column.argmax()]
        shown = np.array2string(np.asarray(draw), precision=6) if draw.ndim else f"{draw:.6g}"
        return f"q has density 0 at {shown}, a draw of p: q's support does not cover p's"


def draws_needed(p: Side, samples: int) -> int:
    """Numbers drawn for ``samples`` draws of p over its batch (mixtures draw every
    component)."""
    components = len(p.components) if isinstance(p, Mixture) else 1
    return samples * components * math.prod(p.batch_shape) * math.prod(p.event_shape)


def estimate(p: Side, q: Side, *, samples: int, seed: int, max_draws: int) -> Estimate:
    """Estimate KL(p || q) from ``samples`` draws of p per batch element (p and q spread
    to one batch shape)."""
    needed = draws_needed(p, samples)
    if needed > max_draws:
        raise InputTooLarge(
            ("body", "monte_carlo", "samples"),
            f"{samples} samples of this batch draw {needed:,} numbers; the limit is "
            f"{max_draws:,}: ask for fewer samples or a smaller batch",
        )
    rng = np.random.default_rng(seed)
    # Overflows and NaN from extreme parameters end as values that are not finite, which
    # the answer reports as such.
    with np.errstate(all="ignore"):
        try:
            x = p.sample(rng, samples)
        except (ValueError, OverflowError) as error:  # numpy refuses some extremes
            raise InvalidInput(("body", "p"), f"p cannot be sampled: {error}") from None
        log_p, log_q = p.log_density(x), q.log_density(x)
        missed = np.isneginf(log_q) & (log_p > -np.inf)
        terms = np.where(missed, 0.0, log_p - log_q)
        values = terms.mean(axis=0)
        errors = terms.std(axis=0, ddof=1) / math.sqrt(samples)
    infinite = missed.any(axis=0)
    return Estimate(
        np.where(infinite, np.inf, values), np.where(infinite, np.nan, errors), x, missed
    )
