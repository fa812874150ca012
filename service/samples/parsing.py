"""Samples as JSON gives them (numbers, strings, rows of numbers) checked into arrays.

Every rule is here once; a broken one raises :class:`~service.core.errors.InvalidInput`
whose ``loc`` names the field and the row (and the element of a row), e.g.
``("body", "x", 12, 1)``. Over the row limit the answer is 413.
"""

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from service.core.errors import InputTooLarge, InvalidInput, Loc

_NUMBERS = frozenset({int, float})


@dataclass(frozen=True)
class Sample:
    """A checked sample: ``values`` is float64 of shape (n, d) for numbers, or a 1-D array
    of categories (str or int64) for categorical samples."""

    values: np.ndarray
    categorical: bool

    @property
    def size(self) -> int:
        return int(self.values.shape[0])

    @property
    def dimension(self) -> int:
        return 0 if self.categorical else int(self.values.shape[1])


def _kind(value: object) -> str:
    if isinstance(value, bool) or value is None:
        return "a boolean" if isinstance(value, bool) else "null"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a row"
    return "an object"


def _refuse_mixed(values: Sequence[object], loc: Loc, field: str) -> None:
    """Name the first row whose kind differs from row 0's (or is not a sample at all)."""
    first = _kind(values[0])
    for row, value in enumerate(values):
        kind = _kind(value)
        if kind in ("null", "a boolean", "an object"):
            raise InvalidInput(
                (*loc, row),
                f"{field}[{row}] is {kind}; samples are numbers, strings or rows of numbers",
            )
        if kind != first:
            raise InvalidInput(
                (*loc, row),
                f"{field} mixes kinds: row 0 is {first} but row {row} is {kind}",
            )


def _finite(array: np.ndarray, loc: Loc, field: str) -> np.ndarray:
    bad = ~np.isfinite(array)
    if bad.any():
        where = tuple(int(i) for i in np.argwhere(bad)[0])
        raise InvalidInput(
            (*loc, *where),
            f"{field}{list(where)} is {array[where]}; samples must be finite numbers "
            "(no NaN, Infinity or literals beyond float64)",
        )
    return array


def _rows(values: Sequence[list[object]], loc: Loc, field: str) -> np.ndarray:
    width = len(values[0])
    for row, value in enumerate(values):
        if not value:
            raise InvalidInput((*loc, row), f"row {row} of {field} is empty", "too_short")
        if len(value) != width:
            raise InvalidInput(
                (*loc, row),
                f"row {row} of {field} has {len(value)} elements but row 0 has {width}; "
                "rows must be of one length",
            )
    if not set(map(type, itertools.chain.from_iterable(values))) <= _NUMBERS:
        for row, value in enumerate(values):
            for column, element in enumerate(value):
                if type(element) not in _NUMBERS:
                    raise InvalidInput(
                        (*loc, row, column),
                        f"{field}[{row}][{column}] is {_kind(element)}; rows hold numbers",
                    )
    return _floats(values, loc, field)


def _integers(values: Sequence[object], loc: Loc, field: str) -> np.ndarray:
    for row, value in enumerate(values):
        if type(value) is not int:
            raise InvalidInput(
                (*loc, row), f"{field}[{row}] = {value!r}: categorical numbers must be integers"
            )
        if not -(2**63) <= value < 2**63:
            raise InvalidInput((*loc, row), f"{field}[{row}] does not fit 64 bits")
    return np.asarray(values, dtype=np.int64)


def _floats(values: Sequence[object], loc: Loc, field: str) -> np.ndarray:
    try:
        array = np.asarray(values, dtype=np.float64)
    except OverflowError:  # an integer literal beyond float64: Python will not round it
        array = np.array(
            [[_float(v) for v in row] if isinstance(row, list) else _float(row) for row in values]
        )
    return _finite(array, loc, field)


def _float(value: object) -> float:
    try:
        return float(value)  # type: ignore[arg-type]
    except OverflowError:
        return math.inf


def parse_sample(
    values: Sequence[object], field: str, *, categorical: bool, max_rows: int
) -> Sample:
    """``values`` (one field of the body) as a :class:`Sample`.

    Strings are categories; integers are categories with ``categorical``; other numbers
    are a 1-D sample (shape (n, 1)) and lists of numbers are rows (shape (n, d)). Refused:
    an empty sample, more than ``max_rows`` rows (413), null, booleans and objects, kinds
    mixed within the sample, ragged or empty rows, and non-finite numbers.
    """
    loc: Loc = ("body", field)
    if not values:
        raise InvalidInput(loc, f"{field} is empty; a sample needs at least one row", "too_short")
    if len(values) > max_rows:
        raise InputTooLarge(loc, f"{field} has {len(values)} rows; the limit is {max_rows}")
    types = set(map(type, values))
    if types <= _NUMBERS:
        if categorical:
            return Sample(_integers(values, loc, field), True)
        return Sample(_floats(values, loc, field).reshape(-1, 1), False)
    if types == {str}:
        return Sample(np.asarray(values, dtype=str), True)
    if types == {list}:
        if categorical:
            raise InvalidInput((*loc, 0), f"{field} holds rows; categories are strings or integers")
        return Sample(_rows(values, loc, field), False)  # type: ignore[arg-type]
    _refuse_mixed(values, loc, field)
    raise AssertionError("unreachable: mixed kinds are refused above")  # pragma: no cover


def check_pair(x: Sample, y: Sample) -> None:
    """x and y must be of one kind: both categorical, or numbers of one dimension."""
    if x.categorical != y.categorical:
        kinds = {True: "categories", False: "numbers"}
        raise InvalidInput(
            ("body", "y"), f"y holds {kinds[y.categorical]} but x holds {kinds[x.categorical]}"
        )
    if x.categorical and x.values.dtype.kind != y.values.dtype.kind:
        raise InvalidInput(("body", "y"), "x and y must both be strings or both be integers")
    if x.dimension != y.dimension:
        raise InvalidInput(
            ("body", "y", 0),
            f"rows of y have {y.dimension} elements but rows of x have {x.dimension}",
        )
