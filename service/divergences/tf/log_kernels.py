"""The members on log-weights (log-probabilities up to a constant per row, ``-inf`` for a
zero: :mod:`service.divergences.log_space`) in TensorFlow, for batches of logits and
log-probabilities.

Each row is normalised in the kernel itself (its maximum, ``exp`` of the shifted row, the
row sum): no pass over the batch in numpy. KL, reverse KL, Jeffreys, cross-entropy and
entropy are written in log space (``sum p (log p - log q)`` with ``log p = x - log s``, x
the shifted row, s its sum of exponentials); the other members run their probability
bodies (:mod:`service.divergences.tf.kernels`) on ``p = exp(x) / s``. As there, a row
TensorFlow cannot decide as the numpy path would is marked NaN and computed by
:mod:`service.divergences.log_space`: a probability that underflows below the smallest
normal float64 (its term is then not exact), a value below ``NEAR_ZERO``, and an infinite
one (a probability body may overflow where the log-space value is finite).
"""

from collections.abc import Callable
from typing import Any

import numpy as np
import tensorflow as tf

from service.divergences import log_space
from service.divergences.near_zero import NEAR_ZERO
from service.divergences.tf import kernels
from service.divergences.tf.engine import BatchKernel, Body, Log
from service.divergences.tf.fast_log import TINY

_NAN = float("nan")
_NEG_INF = float("-inf")
_INF = float("inf")


def _normalised(a: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
    """The row shifted to a maximum of 0, its probabilities, and the log of the sum of its
    exponentials (per row, as a column)."""
    shifted = a - tf.reduce_max(a, axis=-1, keepdims=True)
    weights = tf.exp(shifted)
    sums = kernels.row_sums(weights)[..., tf.newaxis]
    return shifted, weights * (1 / sums), tf.math.log(sums)


def _underflowed(shifted: tf.Tensor, probabilities: tf.Tensor) -> tf.Tensor:
    """Where a positive probability is below the smallest normal float64 (flushed to 0, or
    subnormal): its term is not exact here."""
    return (shifted > _NEG_INF) & (probabilities < TINY)


def _marked(values: tf.Tensor) -> tf.Tensor:
    """``values`` with NaN (numpy decides the row) below NEAR_ZERO, or infinite (an
    overflow in a probability body, or a zero: numpy's rules decide; rare)."""
    doubt = (values < NEAR_ZERO) | (values == _INF)
    return tf.where(doubt, tf.constant(_NAN, tf.float64), values)


def _kl(a: tf.Tensor, b: tf.Tensor) -> tf.Tensor:
    x, p, log_s = _normalised(a)
    y, _, log_t = _normalised(b)
    # log p - log q; +inf where q_i = 0 < p_i, and terms with p_i = 0 dropped. A NaN term
    # (an underflowed p_i) makes its row's sum NaN: marked without a pass of its own.
    terms = tf.where(x > _NEG_INF, p * ((x - y) - (log_s - log_t)), tf.zeros_like(p))
    terms = tf.where(_underflowed(x, p), tf.constant(_NAN, tf.float64), terms)
    return _marked(kernels.row_sums(terms))


def _entropy(a: tf.Tensor) -> tf.Tensor:
    x, p, log_s = _normalised(a)
    terms = tf.where(x > _NEG_INF, p * (log_s - x), tf.zeros_like(p))
    terms = tf.where(_underflowed(x, p), tf.constant(_NAN, tf.float64), terms)
    return _marked(kernels.row_sums(terms))


def _on_probabilities(body: Body) -> Body:
    """A probability body of :mod:`.kernels` on the normalised rows."""

    def on_log_weights(a: tf.Tensor, b: tf.Tensor, *scalars: tf.Tensor, log: Log) -> tf.Tensor:
        x, p, _ = _normalised(a)
        y, q, _ = _normalised(b)
        values = body(p, q, *scalars, log=log)
        doubt = tf.reduce_any(_underflowed(x, p), axis=-1) | tf.reduce_any(
            _underflowed(y, q), axis=-1
        )
        return _marked(tf.where(doubt, tf.constant(_NAN, tf.float64), values))

    return on_log_weights


def _tempered(body: Body) -> Body:
    """``body`` on ``a`` and ``b`` divided by the temperature, the last scalar (as the
    numpy kernels take it: their last argument)."""

    def tempered(a: tf.Tensor, b: tf.Tensor, *scalars: tf.Tensor, log: Log) -> tf.Tensor:
        *others, temperature = scalars
        # A product, not a quotient (several times faster): an ulp apart, where only rows
        # far from NEAR_ZERO are kept (the numpy kernel divides the others exactly).
        inverse = 1 / temperature
        return body(a * inverse, b * inverse, *others, log=log)

    return tempered


def _kernel(name: str, body: Body, reference: Callable[..., Any], parameters: int = 0) -> Any:
    """The member ``name`` on log-weights; compiled chunks are cached by name, so the name
    is not the probability kernel's."""
    kind = _Renyi if name == "renyi" else BatchKernel
    return kind(f"{name}@log", _tempered(body), reference, scalars=parameters + 1)


class _Renyi(BatchKernel):
    """Renyi divergence of order ``alpha``; order 1 is KL."""

    def values(self, p: Any, q: Any, *args: float, xla: bool = True) -> np.ndarray:
        if args[0] == 1:
            return kl.values(p, q, *args[1:], xla=xla)
        return super().values(p, q, *args, xla=xla)


kl = _kernel("kl", lambda a, b, log: _kl(a, b), log_space.kl)
reverse_kl = _kernel("reverse_kl", lambda a, b, log: _kl(b, a), log_space.reverse_kl)
jeffreys = _kernel("jeffreys", lambda a, b, log: _kl(a, b) + _kl(b, a), log_space.jeffreys)
entropy = _kernel("entropy", lambda a, b, log: _entropy(a), log_space.entropy)
cross_entropy = _kernel(
    "cross_entropy", lambda a, b, log: _entropy(a) + _kl(a, b), log_space.cross_entropy
)
js = _kernel("js", _on_probabilities(kernels._js), log_space.js)
js_distance = _kernel(
    "js_distance",
    _on_probabilities(lambda p, q, log: tf.sqrt(kernels._js(p, q, log))),
    log_space.js_distance,
)
hellinger = _kernel("hellinger", _on_probabilities(kernels._hellinger), log_space.hellinger)
total_variation = _kernel(
    "total_variation", _on_probabilities(kernels._total_variation), log_space.total_variation
)
bhattacharyya = _kernel(
    "bhattacharyya", _on_probabilities(kernels._bhattacharyya), log_space.bhattacharyya
)
chi_square = _kernel("chi_square", _on_probabilities(kernels._chi_square), log_space.chi_square)
renyi = _kernel("renyi", _on_probabilities(kernels._renyi), log_space.renyi, parameters=1)
alpha = _kernel("alpha", _on_probabilities(kernels._alpha), log_space.alpha, parameters=1)
triangular = _kernel("triangular", _on_probabilities(kernels._triangular), log_space.triangular)
