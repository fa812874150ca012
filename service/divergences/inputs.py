"""Checks that turn request values into arrays the formulas accept: the numerics contract.

Every rule lives here, once, for single pairs and batches alike. A broken rule raises
:class:`~service.core.errors.InvalidInput` whose ``loc`` names the field, the row (for
matrices) and the element, e.g. ``("body", "p", 3, 7)`` for row 3, element 7 of p.

p and q each come in a :data:`Format`: probabilities (checked by
:func:`check_distributions`), or log-probabilities and logits (checked by
:func:`log_weights`), where JSON's ``null`` stands for ``-inf``, an exact zero probability.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from service.core.errors import InputTooLarge, InvalidInput, Loc

Format = Literal["probabilities", "log_probabilities", "logits"]
PROBABILITIES: Format = "probabilities"
# Log-weights (logits over the temperature) up to this magnitude: a few differences and
# sums of them stay within float64 (about 1.8e308), with room to spare.
LARGEST_LOG_WEIGHT = 1e307


@dataclass(frozen=True)
class Limits:
    """How large inputs may be, and how far from 1 an unnormalized sum may stray."""

    max_vector_length: int
    max_batch_rows: int
    sum_tolerance: float


def _first(mask: np.ndarray) -> tuple[int, ...]:
    return tuple(int(i) for i in np.argwhere(mask)[0])


def to_array(
    values: Sequence[object] | np.ndarray,
    field: str,
    limits: Limits,
    format: Format = PROBABILITIES,
) -> np.ndarray:
    """``values`` (a list of numbers, or a list of rows) as a float64 array, shape checked;
    a ``null`` (None) is ``-inf`` in the log formats, and refused in probabilities.

    Raises on ragged rows, on empty rows and on sizes over ``limits``.
    """
    loc: Loc = ("body", field)
    try:
        array = np.asarray(values, dtype=np.float64)  # None reads as NaN: see _nulls_read
    except ValueError:
        lengths = [len(row) for row in values]  # type: ignore[arg-type]
        row = next(i for i, n in enumerate(lengths) if n != lengths[0])
        raise InvalidInput(
            (*loc, row),
            f"row {row} of {field} has {lengths[row]} elements but row 0 has {lengths[0]}; "
            "all rows must have the same length",
        ) from None
    if array.ndim == 2:
        if array.shape[0] > limits.max_batch_rows:
            raise InputTooLarge(
                loc, f"{field} has {array.shape[0]} rows; the limit is {limits.max_batch_rows}"
            )
        if array.shape[1] == 0:
            raise InvalidInput(
                (*loc, 0),
                f"rows of {field} are empty; a distribution needs at least one element",
                "too_short",
            )
    if array.shape[-1] > limits.max_vector_length:
        raise InputTooLarge(
            loc,
            f"{field} has {array.shape[-1]} elements per distribution; "
            f"the limit is {limits.max_vector_length}",
        )
    if not isinstance(values, np.ndarray):
        _nulls_read(array, values, field, format)
    return array


def _nulls_read(array: np.ndarray, values: Sequence[object], field: str, format: Format) -> None:
    """Set ``-inf`` where ``values`` held None (read as NaN into ``array``), or raise for a
    None in probabilities. Only NaN elements are looked at: none, in the common case."""
    for found in np.argwhere(np.isnan(array)):
        where = tuple(int(i) for i in found)
        element: object = values
        for index in where:
            element = element[index]  # type: ignore[index]
        if element is not None:
            continue
        if format == PROBABILITIES:
            raise InvalidInput(
                ("body", field, *where),
                f"{field} holds null at {_place(where)}; null stands for -inf in "
                "log_probabilities and logits only, probabilities must be numbers",
                "float_type",
            )
        array[where] = -np.inf


def check_formats(
    p_format: Format, q_format: Format | None, temperature: float | None
) -> tuple[Format, Format | None]:
    """The formats of p and q (q_format None: q is not used); a temperature needs a side
    given as logits (it divides logits, and means nothing to probabilities)."""
    if temperature is not None and "logits" not in (p_format, q_format):
        raise InvalidInput(
            ("body", "temperature"),
            "temperature applies to logits only; give p_format or q_format as logits, "
            "or leave temperature out",
        )
    return p_format, q_format


def log_weights(
    array: np.ndarray,
    field: str,
    format: Format,
    *,
    normalize: bool,
    limits: Limits,
    temperature: float | None = None,
) -> np.ndarray:
    """``array`` of log-probabilities or logits (``format``) as log-weights along its last
    axis: log-probabilities up to a constant per vector, ``-inf`` for a zero probability
    (the log kernels normalise them).

    They may hold ``-inf`` but not NaN or ``+inf``, each vector needs a finite element, and
    finite ones (logits, and logits divided by ``temperature``) are at most
    :data:`LARGEST_LOG_WEIGHT` in magnitude. Logits are returned undivided (the callers
    divide: see ``scoring``).
    Log-probabilities must log-sum-exp to 0 within ``limits.sum_tolerance`` (their
    probabilities summing to 1 within it) unless ``normalize`` is set; they are normalised
    either way, by the kernels.
    """
    # The common case in two reductions of the whole array (a row's are 5 times slower):
    # NaN reaches both, +inf the top, and without -inf every row has a finite element.
    low, high = (array.min(), array.max()) if array.size else (np.nan, np.nan)
    if not (np.isfinite(low) and np.isfinite(high)):
        top = array.max(axis=-1)  # -inf is the top of no finite row
        if not np.isfinite(top).all():
            _refuse_log_weights(array, top, field, format)
        low = np.min(array, where=np.isfinite(array), initial=0.0)
    # Within the bound both as given and divided by the temperature (the kernels take
    # differences of either).
    scale = min(temperature, 1.0) if format == "logits" and temperature is not None else 1.0
    if max(-float(low), float(high)) > LARGEST_LOG_WEIGHT * scale:
        _refuse_large(array, field, format, scale)
    if format == "logits":
        return array
    if not normalize:
        top = array.max(axis=-1)
        with np.errstate(under="ignore"):
            log_sums = top + np.log(np.exp(array - top[..., np.newaxis]).sum(axis=-1))
        off = np.abs(np.expm1(log_sums)) > limits.sum_tolerance
        if off.any():
            row = _first(off) if off.ndim else ()
            total = float(np.exp(log_sums[row]))
            raise InvalidInput(
                ("body", field, *row),
                f"{field} log-sum-exps to {float(log_sums[row]):.17g}{_in_row(row)} (its "
                f"probabilities sum to {total:.17g}), not 0 (tolerance {limits.sum_tolerance:g} "
                "on the sum); send normalize: true to normalise log-weights",
            )
    return array


def _refuse_large(array: np.ndarray, field: str, format: Format, scale: float) -> None:
    large = np.isfinite(array) & (np.abs(array) > LARGEST_LOG_WEIGHT)
    if not large.any():  # each within, but not once divided by the temperature
        raise InvalidInput(
            ("body", "temperature"),
            f"{field} divided by the temperature {scale:g} passes "
            f"{LARGEST_LOG_WEIGHT:g} in magnitude",
        )
    where = _first(large)
    raise InvalidInput(
        ("body", field, *where),
        f"{field} ({format}) must be at most {LARGEST_LOG_WEIGHT:g} in magnitude (or -inf, "
        f"null in JSON); got {float(array[where]):g} at {_place(where)}",
        "finite_number",
    )


def _refuse_log_weights(array: np.ndarray, top: np.ndarray, field: str, format: Format) -> None:
    loc: Loc = ("body", field)
    nan = np.isnan(array)
    if nan.any():
        where = _first(nan)
        raise InvalidInput(
            (*loc, *where),
            f"{field} ({format}) must hold numbers, or null for -inf; got NaN at {_place(where)}",
            "finite_number",
        )
    positive = array == np.inf
    if positive.any():
        where = _first(positive)
        raise InvalidInput(
            (*loc, *where),
            f"{field} ({format}) must be below +inf; got +inf at {_place(where)}",
            "finite_number",
        )
    empty = ~np.isfinite(top)
    row = _first(empty) if empty.ndim else ()
    raise InvalidInput(
        (*loc, *row),
        f"{field} ({format}) is all -inf{_in_row(row)}: every probability would be 0; "
        "a distribution needs a finite element",
    )


def check_distributions(
    array: np.ndarray, field: str, *, normalize: bool, limits: Limits
) -> np.ndarray:
    """``array`` as distributions along its last axis: finite, non-negative, summing to 1.

    With ``normalize`` each vector is scaled to sum 1 (an all-zero vector is an error);
    without it each must already sum to 1 within ``limits.sum_tolerance`` and is used as
    given, unscaled.
    """
    sums = array.sum(axis=-1)
    if _plainly_valid(array, sums, normalize=normalize, limits=limits):
        return array / sums[..., np.newaxis] if normalize else array
    loc: Loc = ("body", field)
    check_finite(array, field)
    negative = array < 0
    if negative.any():
        where = _first(negative)
        raise InvalidInput(
            (*loc, *where),
            f"{field} must be non-negative; got {float(array[where]):g} at {_place(where)}",
            "greater_than_equal",
        )
    if normalize:
        zero = sums == 0
        if zero.any():
            row = _first(zero) if zero.ndim else ()
            raise InvalidInput(
                (*loc, *row),
                f"{field} is all zeros{_in_row(row)}: it cannot be normalized to a distribution",
            )
        return array / sums[..., np.newaxis]
    off = np.abs(sums - 1) > limits.sum_tolerance
    if off.any():
        row = _first(off) if off.ndim else ()
        raise InvalidInput(
            (*loc, *row),
            f"{field} sums to {float(sums[row]):.17g}"
            f"{_in_row(row)}, not 1 (tolerance {limits.sum_tolerance:g}); "
            "send normalize: true to scale weights to a distribution",
        )
    return array


def _plainly_valid(array: np.ndarray, sums: np.ndarray, *, normalize: bool, limits: Limits) -> bool:
    """Whether ``array`` passes every check, found in two reductions (the common case).

    NaN and infinities fail the comparisons, so False means "check in detail", which
    finds and reports the first offending element.
    """
    if array.size == 0 or not array.min() >= 0:
        return False
    low, high = (sums.min(), sums.max()) if sums.ndim else (float(sums), float(sums))
    if normalize:  # a finite positive sum of non-negative numbers: all finite, not all 0
        return bool(low > 0 and high < math.inf)
    return bool(abs(low - 1) <= limits.sum_tolerance and abs(high - 1) <= limits.sum_tolerance)


def check_finite(array: np.ndarray, field: str) -> None:
    """Every element of ``array`` must be a finite number (the JSON tokens NaN and
    Infinity, and literals such as 1e999 that overflow float64, are not)."""
    finite = np.isfinite(array)
    if not finite.all():
        where = _first(~finite)
        raise InvalidInput(
            ("body", field, *where),
            f"{field} must hold finite numbers; got {float(array[where])} at {_place(where)}",
            "finite_number",
        )


def check_same_length(
    first: np.ndarray, other: np.ndarray, names: tuple[str, str] = ("p", "q")
) -> None:
    """``other`` must have ``first``'s number of elements, and (for a matrix) one row per
    row of ``first`` or a single row."""
    a, b = names
    if first.shape[-1] != other.shape[-1]:
        what = "elements per row" if other.ndim == 2 else "elements"
        raise InvalidInput(
            ("body", b),
            f"{b} has {other.shape[-1]} {what} but {a} has "
            f"{first.shape[-1]}; {a} and {b} must have the same length",
        )
    if other.ndim == 2 and other.shape[0] not in (1, first.shape[0]):
        raise InvalidInput(
            ("body", b),
            f"{b} has {other.shape[0]} rows but {a} has "
            f"{first.shape[0]}; send one {b} row per {a} row, or a single row",
        )


def _place(where: tuple[int, ...]) -> str:
    return f"row {where[0]}, index {where[1]}" if len(where) == 2 else f"index {where[0]}"


def _in_row(row: tuple[int, ...]) -> str:
    return f" in row {row[0]}" if row else ""
