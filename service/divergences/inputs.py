"""Checks that turn request values into arrays the formulas accept: the numerics contract.

Every rule lives here, once, for single pairs and batches alike. A broken rule raises
:class:`~service.core.errors.InvalidInput` whose ``loc`` names the field, the row (for
matrices) and the element, e.g. ``("body", "p", 3, 7)`` for row 3, element 7 of p.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from service.core.errors import InputTooLarge, InvalidInput, Loc


@dataclass(frozen=True)
class Limits:
    """How large inputs may be, and how far from 1 an unnormalized sum may stray."""

    max_vector_length: int
    max_batch_rows: int
    sum_tolerance: float


def _first(mask: np.ndarray) -> tuple[int, ...]:
    return tuple(int(i) for i in np.argwhere(mask)[0])


def to_array(values: Sequence[object] | np.ndarray, field: str, limits: Limits) -> np.ndarray:
    """``values`` (a list of numbers, or a list of rows) as a float64 array, shape checked.

    Raises on ragged rows, on empty rows and on sizes over ``limits``.
    """
    loc: Loc = ("body", field)
    try:
        array = np.asarray(values, dtype=np.float64)
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
    return array


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
