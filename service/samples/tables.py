"""Tables (named columns of one length) from JSON, Arrow IPC streams or Parquet, checked.

A column holds numbers (integers, floats; never booleans) or labels (strings, or booleans
read as "true" / "false"), never a mix. Refused, with a ``loc`` down to the column and the
row (the first one to blame): no columns, an empty column, columns of different lengths,
missing values (null, NaN, +-Infinity: the service does not guess them), nested values,
kinds mixed in a column, Arrow types other than numbers, strings and booleans (422), and
more rows than ``max_rows`` (413). ``loc`` is ``("body", "columns", name, row)`` for JSON
and ``("body", name, row)`` for Arrow and Parquet, whose bodies have no "columns" field.
"""

import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from service.core.errors import InputTooLarge, InvalidInput, Loc
from service.samples import arrow_tables
from service.samples.arrow_tables import finite, not_finite, refuse_missing

_NUMBERS = frozenset({int, float})
_INTEGERS_WRITTEN_IN_FULL = 1e16  # from here on repr(float) writes 1e+16, not "....0"


@dataclass(frozen=True, eq=False)
class Column:
    """One checked column of a table; its arrays are read-only.

    ``numbers`` (float64, finite, 1-D) when it holds numbers, else None; ``labels`` (the
    distinct labels, sorted by code point) and ``counts`` (int64, one per label) when it
    holds strings or booleans, else ``()`` and None. ``integral``: numbers that are all
    integers (an integer type, or floats such as 3.0); False for labels.
    """

    name: str
    numbers: np.ndarray | None
    labels: tuple[str, ...]
    counts: np.ndarray | None
    integral: bool

    def __post_init__(self) -> None:
        for array in (self.numbers, self.counts):
            if array is not None:
                array.flags.writeable = False

    @property
    def rows(self) -> int:
        if self.numbers is not None:
            return int(self.numbers.shape[0])
        return int(self.counts.sum()) if self.counts is not None else 0

    def as_categories(self) -> tuple[tuple[str, ...], np.ndarray]:
        """labels and counts; for numbers, the distinct values (ascending) as labels:
        integers written without '.0' ("3", "-0.0" as "0"), other numbers by repr(float)."""
        if self.numbers is None:
            counts = self.counts if self.counts is not None else np.zeros(0, np.int64)
            return self.labels, counts
        values, counts = np.unique(self.numbers, return_counts=True)
        return tuple(map(_number_label, values.tolist())), counts.astype(np.int64)

    def __eq__(self, other: object) -> bool:
        """Same name, kind, values (in order) and labels with the same counts."""
        if not isinstance(other, Column):
            return NotImplemented
        return (
            (self.name, self.labels, self.integral) == (other.name, other.labels, other.integral)
            and _same(self.numbers, other.numbers)
            and _same(self.counts, other.counts)
        )

    __hash__ = None  # type: ignore[assignment]  # holds arrays: equal by value, unhashable


Table = Mapping[str, Column]  # column name -> Column, in the table's order


def _same(a: np.ndarray | None, b: np.ndarray | None) -> bool:
    return a is b if a is None or b is None else np.array_equal(a, b)


def _number_label(value: float) -> str:
    if value.is_integer() and abs(value) < _INTEGERS_WRITTEN_IN_FULL:
        return str(int(value))
    return repr(value)


def _of_numbers(name: str, numbers: np.ndarray, integral: bool | None = None) -> Column:
    """A column of numbers; ``integral`` None: whether every value is an integer."""
    if integral is None:
        integral = bool((np.trunc(numbers) == numbers).all())
    return Column(name, numbers, (), None, integral)


def _of_labels(name: str, counted: tuple[tuple[str, ...], np.ndarray]) -> Column:
    return Column(name, None, counted[0], counted[1], False)


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return "a list" if isinstance(value, list | tuple) else "an object"


def _refuse_kinds(values: Sequence[object], at: Loc) -> None:
    """Name the first row that is missing, nested or of another kind than row 0."""
    first = _kind(values[0])
    for row, value in enumerate(values):
        kind = _kind(value)
        if kind == "null":
            raise refuse_missing(at, row, "null")
        if isinstance(value, float) and not math.isfinite(value):
            raise refuse_missing(at, row, not_finite(value))
        if kind in ("a list", "an object"):
            raise InvalidInput(
                (*at, row),
                f"column {at[-1]!r}, row {row}, is {kind}; a value is a number, a string "
                "or a boolean, never nested",
            )
        if kind != first:
            raise InvalidInput(
                (*at, row),
                f"column {at[-1]!r} mixes kinds: row 0 is {first} but row {row} is {kind}; "
                "a column holds numbers, strings or booleans",
            )


def _json_numbers(values: Sequence[object], at: Loc) -> np.ndarray:
    try:
        return finite(np.asarray(values, dtype=np.float64), at)
    except OverflowError:  # an integer literal beyond float64: Python will not round it
        for row, value in enumerate(values):
            try:
                float(value)  # type: ignore[arg-type]
            except OverflowError:
                raise InvalidInput(
                    (*at, row), f"column {at[-1]!r}, row {row}, is an integer beyond float64"
                ) from None
        raise  # pragma: no cover  # numpy overflowed on no value that Python would


def _json_column(name: str, values: list[Any], at: Loc) -> Column:
    types = set(map(type, values))
    if types <= _NUMBERS:
        return _of_numbers(name, _json_numbers(values, at), True if types == {int} else None)
    if types == {str}:
        column = pa.chunked_array([pa.array(values, type=pa.string())])
        return _of_labels(name, arrow_tables.labels(column, at))
    if types == {bool}:
        column = pa.chunked_array([pa.array(values, type=pa.bool_())])
        return _of_labels(name, arrow_tables.booleans(column, at))
    _refuse_kinds(values, at)
    raise AssertionError("unreachable: every other column is refused above")  # pragma: no cover


def read_json_columns(
    columns: dict[str, list[Any]], *, max_rows: int, loc: Loc = ("body", "columns")
) -> Table:
    """The table a JSON body gives as ``{name: [values, ...], ...}``, checked.

    The shape first (at least one column, none empty, none over ``max_rows``: 413, all as
    long as the first), then each column's values, in the table's order.
    """
    if not isinstance(columns, dict):
        raise InvalidInput(loc, "columns must be an object of column name -> list of values")
    if not columns:
        raise InvalidInput(loc, "the table has no columns; it needs at least one", "too_short")
    first, length = next((name, len(values)) for name, values in columns.items())
    for name, values in columns.items():
        at = (*loc, name)
        if not isinstance(values, list):
            raise InvalidInput(at, f"column {name!r} must be a list of values")
        if not values:
            raise InvalidInput(
                at, f"column {name!r} is empty; it needs at least one row", "too_short"
            )
        if len(values) > max_rows:
            raise InputTooLarge(
                at, f"column {name!r} has {len(values)} rows; the limit is {max_rows}"
            )
        if len(values) != length:
            raise InvalidInput(
                at,
                f"column {name!r} has {len(values)} rows but the first column, {first!r}, "
                f"has {length}; columns must be of one length",
            )
    return {name: _json_column(name, values, (*loc, name)) for name, values in columns.items()}


def _arrow_column(name: str, column: pa.ChunkedArray) -> Column:
    at: Loc = ("body", name)
    kind = column.type
    if pa.types.is_integer(kind):
        return _of_numbers(name, arrow_tables.numbers(column, at), integral=True)
    if pa.types.is_floating(kind):
        return _of_numbers(name, arrow_tables.numbers(column, at))
    if pa.types.is_boolean(kind):
        return _of_labels(name, arrow_tables.booleans(column, at))
    strings = (pa.types.is_string, pa.types.is_large_string, pa.types.is_string_view)
    if any(is_string(kind) for is_string in strings) or (
        pa.types.is_dictionary(kind) and any(is_string(kind.value_type) for is_string in strings)
    ):
        return _of_labels(name, arrow_tables.labels(column, at))
    if pa.types.is_null(kind):  # a column of nothing but nulls
        raise refuse_missing(at, 0, "null")
    hint = "; cast decimals to float64" if pa.types.is_decimal(kind) else ""
    raise InvalidInput(
        at,
        f"column {name!r} is of type {kind}; a column holds numbers (integers, floats), "
        f"strings (dictionary-encoded or not) or booleans{hint}",
    )


def arrow_columns(table: pa.Table, *, max_rows: int) -> Table:
    """The columns of an Arrow table (read from a stream or a Parquet file), checked."""
    _check_shape(table.column_names, table.num_rows, max_rows)
    return {name: _arrow_column(name, table.column(i)) for i, name in enumerate(table.column_names)}


def _check_shape(names: list[str], rows: int, max_rows: int) -> None:
    """At least one column, no name twice, at least one row, at most ``max_rows``."""
    if not names:
        raise InvalidInput(
            ("body",), "the table has no columns; it needs at least one", "too_short"
        )
    if len(set(names)) < len(names):
        twice = next(name for name in names if names.count(name) > 1)
        raise InvalidInput(("body", twice), f"the table has two columns named {twice!r}")
    if rows == 0:
        raise InvalidInput(
            ("body", names[0]),
            f"column {names[0]!r} is empty; it needs at least one row",
            "too_short",
        )
    if rows > max_rows:
        raise InputTooLarge(
            ("body", names[0]), f"column {names[0]!r} has {rows} rows; the limit is {max_rows}"
        )


def read_arrow_table(body: bytes | bytearray | memoryview, *, max_rows: int) -> Table:
    """The table of an Arrow IPC stream (``application/vnd.apache.arrow.stream``), checked;
    a body that is not one (or has compressed buffers): 422 at ``("body",)``."""
    return arrow_columns(arrow_tables.read_stream(body), max_rows=max_rows)


class ParquetColumns(Mapping[str, Column]):
    """The columns of a Parquet file, each read and checked when it is taken, and not
    kept: profiles and drift take one column at a time, so the decoded columns of a large
    table are never all in memory at once (only the body and one column)."""

    def __init__(self, file: pq.ParquetFile) -> None:
        self._file, self._names = file, file.schema_arrow.names

    def __getitem__(self, name: str) -> Column:
        if name not in self._names:
            raise KeyError(name)
        return _arrow_column(name, arrow_tables.read_parquet_columns(self._file, [name]).column(0))

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)


def read_parquet_table(
    body: bytes | bytearray | memoryview, *, max_rows: int, max_decoded: int | None = None
) -> Table:
    """The table of a Parquet file (``application/vnd.apache.parquet``), by the rules of
    an Arrow stream, its columns read as they are taken (:class:`ParquetColumns`); a body
    that is not one: 422 at ``("body",)``; one that decodes to more than ``max_decoded``
    bytes: 413."""
    file = arrow_tables.open_parquet(body, max_rows=max_rows, max_decoded=max_decoded)
    _check_shape(file.schema_arrow.names, file.metadata.num_rows, max_rows)
    return ParquetColumns(file)
