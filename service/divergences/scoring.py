"""Scoring: checked inputs in, divergence values out, for one pair or a batch of rows.

Keyword-only functions over arrays and plain options; the routes shape their answers.
"""

import functools
import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol, TypeVar, cast

import numpy as np

from service.core.errors import InvalidInput
from service.divergences.catalog import DIVERGENCES, Divergence, formula
from service.divergences.gaussian import kl_diagonal_gaussians
from service.divergences.inputs import (
    PROBABILITIES,
    Format,
    Limits,
    check_distributions,
    check_finite,
    check_formats,
    check_same_length,
    log_weights,
    to_array,
)
from service.divergences.log_space import log_probabilities
from service.divergences.terms import check_wanted

Mode = Literal["exact", "keras"]
Backend = Literal["numpy", "tensorflow"]
# None: JSON's null, -inf in the log formats.
Values = Sequence[float | None] | Sequence[Sequence[float | None]] | np.ndarray
InNats = TypeVar("InNats", float, np.ndarray)


@dataclass(frozen=True)
class Scores:
    """Values in the requested unit (``inf`` where infinite) and, per value, the first
    index that makes it infinite (-1 where it is finite or no single index is to blame);
    with ``terms``, each element's term in that unit (p's shape, ``inf`` where infinite)."""

    values: np.ndarray
    infinite_at: np.ndarray
    unit: str
    terms: np.ndarray | None = None


def unit_name(divergence: Divergence, base: float | str) -> str:
    """The unit of ``divergence``'s values in ``base``: nat, bit, hartley, or ``log<b>-unit``
    with b written as the shortest decimal that reads back as it (``log3.7-unit``,
    ``log16-unit``, ``log1.0000000000000002-unit``), or none."""
    if not divergence.uses_base:
        return "none"
    name = log_unit(base)
    return f"sqrt({name})" if divergence.base_power == 0.5 else name


def log_unit(base: float | str) -> str:
    """The unit of an information quantity in logarithms of ``base``: nat, bit, hartley,
    or ``log<b>-unit`` (the parametric families' KL is in it too)."""
    names: dict[float | str, str] = {"e": "nat", 2.0: "bit", 10.0: "hartley"}
    return names.get(base) or f"log{repr(float(base)).removesuffix('.0')}-unit"


def in_base(values: InNats, divergence: Divergence, base: float | str) -> InNats:
    """``values`` of ``divergence`` computed in nats, in the unit of ``base`` (unchanged
    for ``"e"`` and for divergences whose values have no unit)."""
    if divergence.uses_base and base != "e":
        return values / math.log(float(base)) ** divergence.base_power
    return values


def score(
    divergence: Divergence,
    *,
    p: Values,
    q: Values | None,
    limits: Limits,
    mode: Mode = "exact",
    epsilon: float = 1e-7,
    normalize: bool = False,
    base: float | str = "e",
    alpha: float | None = None,
    backend: Backend = "numpy",
    p_format: Format = PROBABILITIES,
    q_format: Format = PROBABILITIES,
    temperature: float | None = None,
    terms: bool = False,
) -> Scores:
    """Check ``p`` and ``q`` (lists or arrays, 1-D or 2-D, each in its format) and score
    ``divergence``.

    Where either is given as log-probabilities or logits, both are taken as log-weights
    and the member's log-space kernel scores them (``log_space``): a probability that
    underflows float64 stays positive. In ``keras`` mode both are clipped to
    ``[epsilon, 1]`` after the checks (log formats first exponentiated: Keras' numbers for
    the softmax of the logits), as ``keras.losses.kl_divergence`` does, so no value is
    infinite. ``q`` is ignored by divergences of p alone (entropy). With ``terms``, each
    element's term too (:mod:`.terms`; for members that are a sum over elements).
    """
    terms = check_wanted(divergence, wanted=terms, top=None, place="body")
    check_formats(p_format, q_format if divergence.needs_q else None, temperature)
    if not divergence.needs_q:
        q_format = p_format
    # Logits on both sides: the kernel divides their difference by the temperature, not
    # each logit, which keeps the digits of nearly equal ones.
    shared = temperature if p_format == q_format == "logits" else None
    checked = functools.partial(
        _checked, normalize=normalize, limits=limits, temperature=temperature
    )
    p_arr = checked(p, "p", p_format)
    if divergence.needs_q:
        if q is None:
            raise InvalidInput(("body", "q"), f"q is required for {divergence.name}", "missing")
        q_arr = checked(q, "q", q_format)
        check_same_length(p_arr, q_arr)
    else:
        q_arr = p_arr
    args: tuple[float | None, ...] = (alpha,) if divergence.parameters else ()
    logs = p_format != PROBABILITIES or q_format != PROBABILITIES
    if logs and (mode == "keras" or divergence.log_numpy is None):
        # Keras' numbers (or a member without a log kernel): on the probabilities.
        p_arr = p_arr if p_format == PROBABILITIES else _exp(p_arr, p_format, temperature)
        q_arr = q_arr if q_format == PROBABILITIES else _exp(q_arr, q_format, temperature)
        logs = False
    elif logs:
        p_arr = _log(p_arr) if p_format == PROBABILITIES else p_arr
        q_arr = _log(q_arr) if q_format == PROBABILITIES else q_arr
        if not shared:  # a temperature for one side of logits: divided here
            p_arr = _divided(p_arr, temperature) if p_format == "logits" else p_arr
            q_arr = _divided(q_arr, temperature) if q_format == "logits" else q_arr
        args = (*args, shared or 1.0)
    if mode == "keras":
        p_arr, q_arr = np.clip(p_arr, epsilon, 1), np.clip(q_arr, epsilon, 1)
    if mode == "keras" and divergence.keras is not None:  # Keras' own numbers, on either path
        nats = np.asarray(divergence.keras(p_arr, q_arr), dtype=np.float64)
    else:
        nats = _compute(divergence, p_arr, q_arr, args, backend, logs)
    values = in_base(nats, divergence, base)
    infinite_at = _infinite_at(divergence, p_arr, q_arr, values, alpha, logs)
    element_terms = None
    if terms and divergence.terms is not None:
        kernel = divergence.terms.log_numpy if logs else divergence.terms.numpy
        element_terms = in_base(np.asarray(kernel(p_arr, q_arr, *args)), divergence, base)
    return Scores(values, infinite_at, unit_name(divergence, base), element_terms)


def _checked(
    values: Values,
    field: str,
    format: Format,
    *,
    normalize: bool,
    limits: Limits,
    temperature: float | None,
) -> np.ndarray:
    """One of p and q checked in its format: probabilities, or log-weights."""
    if format == PROBABILITIES:
        array = to_array(values, field, limits)
        return check_distributions(array, field, normalize=normalize, limits=limits)
    array = to_array(values, field, limits, format)
    return log_weights(
        array, field, format, normalize=normalize, limits=limits, temperature=temperature
    )


def _divided(logits: np.ndarray, temperature: float | None) -> np.ndarray:
    return logits if temperature is None else logits / temperature


def _exp(log_weights: np.ndarray, format: Format, temperature: float | None) -> np.ndarray:
    """The probabilities of ``log_weights`` (logits divided by ``temperature``), normalised."""
    divided = _divided(log_weights, temperature) if format == "logits" else log_weights
    with np.errstate(under="ignore"):
        return np.exp(log_probabilities(divided))


def _log(probabilities: np.ndarray) -> np.ndarray:
    """Log-weights of checked ``probabilities``: ``-inf`` for a zero (a negative one too)."""
    with np.errstate(divide="ignore"):
        return np.log(np.abs(probabilities))


_fast_paths = True


def use_fast_paths(on: bool) -> bool:
    """Turn the fast paths on or off for the whole process, and return ``on``.

    ``create_app`` applies ``Settings.fast_paths`` (``DIVERGENCE_FAST_PATHS``) with it. Off,
    ``POST /kl`` skips :func:`plain_kl` for :func:`score`'s full checks, and the TensorFlow
    kernels run every batch on their plain graph (``tf.math.log``), never on the
    XLA-compiled chunks: the plain paths that the fast ones are checked against. The switch
    is process-wide: of several apps in one process, the last one created sets it.
    """
    global _fast_paths
    _fast_paths = on
    return on


def fast_paths() -> bool:
    """Whether the fast paths are on (:func:`use_fast_paths`; on unless turned off)."""
    return _fast_paths


# One batch at a time on TensorFlow: each call already uses every core (intra-op
# threads); concurrent calls from the thread pool only fight over them, which multiplied
# tail latency under load (p99 245 ms against 16 concurrent small batches).
_TENSORFLOW_TURN = threading.Lock()


class _BatchKernel(Protocol):
    """What :mod:`service.divergences.tf.kernels` gives (not imported here: TensorFlow)."""

    def values(self, p: np.ndarray, q: np.ndarray, *args: object, xla: bool) -> np.ndarray: ...


def _compute(
    divergence: Divergence,
    p: np.ndarray,
    q: np.ndarray,
    args: tuple[object, ...],
    backend: Backend,
    log_weights: bool = False,
) -> np.ndarray:
    fn = formula(divergence, backend, log_weights)
    if backend == "numpy":
        return np.asarray(fn(p, q, *args), dtype=np.float64)
    # A single q row stays one row: the kernel compares it with every p row. Arrays in,
    # array out: no tensor round trip of the answer.
    with _TENSORFLOW_TURN:
        out = cast(_BatchKernel, fn).values(
            np.atleast_2d(p), np.atleast_2d(q), *args, xla=_fast_paths
        )
    return np.asarray(out, dtype=np.float64).reshape(np.shape(p)[:-1])


def _infinite_at(
    divergence: Divergence,
    p: np.ndarray,
    q: np.ndarray,
    values: np.ndarray,
    alpha: float | None,
    log_weights: bool = False,
) -> np.ndarray:
    infinite = np.isinf(values)
    if not infinite.any():
        return np.full(values.shape, -1)
    if log_weights:  # positive where finite, whether or not the probability underflows
        p, q = (p > -np.inf).astype(np.float64), (q > -np.inf).astype(np.float64)
    mask = divergence.infinite_mask(p, q, alpha)
    if mask is None:
        return np.full(values.shape, -1)
    return np.where(infinite & mask.any(axis=-1), mask.argmax(axis=-1), -1)


def score_gaussians(
    *,
    mu: Values,
    logvar: Values,
    mu2: Values | None,
    logvar2: Values | None,
    limits: Limits,
    base: float | str = "e",
) -> Scores:
    """KL between diagonal Gaussians (rows of ``mu``/``logvar``) and a second Gaussian,
    the standard normal where ``mu2``/``logvar2`` are left out."""
    arrays = {"mu": to_array(mu, "mu", limits), "logvar": to_array(logvar, "logvar", limits)}
    check_same_length(arrays["mu"], arrays["logvar"], ("mu", "logvar"))
    if arrays["mu"].shape != arrays["logvar"].shape:
        raise InvalidInput(("body", "logvar"), "logvar must have one row per mu row")
    for name, values in (("mu2", mu2), ("logvar2", logvar2)):
        array = (
            np.zeros(arrays["mu"].shape[-1]) if values is None else to_array(values, name, limits)
        )
        check_same_length(arrays["mu"], array, ("mu", name))
        arrays[name] = array
    for name, array in arrays.items():
        check_finite(array, name)
    values_ = in_base(
        kl_diagonal_gaussians(arrays["mu"], arrays["logvar"], arrays["mu2"], arrays["logvar2"]),
        DIVERGENCES["kl"],
        base,
    )
    return Scores(
        np.asarray(values_), np.full(np.shape(values_), -1), unit_name(DIVERGENCES["kl"], base)
    )
