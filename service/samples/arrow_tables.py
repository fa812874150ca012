"""Arrow and Parquet bodies as Arrow tables, and columns as checked arrays.

The checks of a column's values run over whole arrays (numpy, pyarrow.compute), never a
Python loop over rows, so that a million rows of 25 columns read in well under a second.
Errors are :class:`~service.core.errors.InvalidInput` whose ``loc`` ends in the column's
name and, where one row is to blame, its row (the first one).
"""

import math
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from service.core.errors import InputTooLarge, InvalidInput, Loc
from service.web import arrow_ipc

MISSING = "drop or impute missing values before profiling (the service does not guess them)"


def refuse_missing(loc: Loc, row: int, what: str) -> InvalidInput:
    """The error for a missing value (``what``: null, NaN, Infinity) at ``row``."""
    return InvalidInput((*loc, row), f"column {loc[-1]!r}, row {row}, is {what}; {MISSING}")


def not_finite(value: float) -> str:
    """How JSON's extensions write a number that is not finite."""
    return "NaN" if math.isnan(value) else "Infinity" if value > 0 else "-Infinity"


def finite(numbers: np.ndarray, loc: Loc) -> np.ndarray:
    """``numbers`` (float64), refused at the first NaN or infinite row."""
    bad = ~np.isfinite(numbers)
    if bad.any():
        row = int(np.argmax(bad))
        raise refuse_missing(loc, row, not_finite(float(numbers[row])))
    return numbers


def _first_null(column: pa.ChunkedArray, loc: Loc) -> None:
    if pa.types.is_dictionary(column.type):
        flags = pc.is_null(column)  # a dictionary's nulls may be in its values too
        if not pc.any(flags).as_py():
            return
    elif column.null_count:
        flags = pc.is_null(column)
    else:
        return
    row = int(np.argmax(flags.to_numpy(zero_copy_only=False)))
    raise refuse_missing(loc, row, "null")


def numbers(column: pa.ChunkedArray, loc: Loc) -> np.ndarray:
    """An integer or floating column as float64 (a view of the body's memory where it is
    one chunk of float64), refused at its first null, NaN or infinite row."""
    _first_null(column, loc)
    parts = [chunk.to_numpy(zero_copy_only=False) for chunk in column.chunks]
    joined = parts[0] if len(parts) == 1 else np.concatenate(parts)
    return finite(joined.astype(np.float64, copy=False), loc)


def booleans(column: pa.ChunkedArray, loc: Loc) -> tuple[tuple[str, ...], np.ndarray]:
    """A boolean column's labels ("false", "true": those present) and their counts."""
    _first_null(column, loc)
    trues = int(pc.sum(column).as_py() or 0)
    counts = np.array([len(column) - trues, trues], dtype=np.int64)
    present = counts > 0
    labels = tuple(label for label, kept in zip(("false", "true"), present, strict=True) if kept)
    return labels, counts[present]


def _dictionary_counts(column: pa.ChunkedArray) -> tuple[pa.Array, np.ndarray]:
    # Each chunk's own dictionary, counted by its indices: pyarrow's value_counts unifies
    # the chunks' dictionaries and miscounts when one repeats a value (pyarrow 26).
    values, counts = [], []
    for chunk in column.chunks:
        indices = chunk.indices.to_numpy(zero_copy_only=False).astype(np.intp, copy=False)
        values.append(chunk.dictionary.cast(pa.large_string()))
        counts.append(np.bincount(indices, minlength=len(chunk.dictionary)))
    return pa.concat_arrays(values), np.concatenate(counts)


def labels(column: pa.ChunkedArray, loc: Loc) -> tuple[tuple[str, ...], np.ndarray]:
    """A string (or dictionary-of-string) column's distinct labels, sorted by code point,
    and the count of each. A dictionary may repeat a value or hold unused ones: counts are
    of the values the rows take."""
    _first_null(column, loc)
    if pa.types.is_dictionary(column.type):
        values, counts = _dictionary_counts(column)
    else:
        counted = pc.value_counts(column)
        values = counted.field("values").cast(pa.large_string())
        counts = counted.field("counts").to_numpy()
    grouped = (
        pa.table({"label": values, "count": pa.array(counts, pa.int64())})
        .group_by("label")
        .aggregate([("count", "sum")])
        .filter(pc.field("count_sum") > 0)
        .sort_by("label")
    )
    totals = grouped.column("count_sum").to_numpy().astype(np.int64, copy=False)
    return tuple(grouped.column("label").to_pylist()), totals


def _validated(table: pa.Table, what: str) -> pa.Table:
    try:
        table.validate(full=True)  # offsets within their values, UTF-8 strings, names
    except pa.ArrowException as error:
        raise InvalidInput(("body",), f"not a valid {what}: {error}", "arrow_invalid") from None
    except UnicodeDecodeError:
        raise InvalidInput(
            ("body",), f"not a valid {what}: a column name is not UTF-8", "arrow_invalid"
        ) from None
    return table


def read_stream(body: bytes | bytearray | memoryview) -> pa.Table:
    """An Arrow IPC stream's table, validated in full; compressed buffers are refused."""
    return _validated(arrow_ipc.read_stream(body), "Arrow IPC stream")


def _decoded_size(metadata: pq.FileMetaData) -> int:
    """What a Parquet file's columns take once read, from its footer: per column chunk its
    pages' decoded size, or 8 bytes a row (numbers as float64, or the indices of a
    dictionary) where that is more (a value repeated encodes to almost nothing)."""
    total = 0
    for i in range(metadata.num_row_groups):
        group = metadata.row_group(i)
        for j in range(group.num_columns):
            total += max(group.column(j).total_uncompressed_size, 8 * group.num_rows)
    return total


def open_parquet(
    body: bytes | bytearray | memoryview, *, max_rows: int, max_decoded: int | None = None
) -> pq.ParquetFile:
    """A Parquet file, its footer checked: more rows than ``max_rows`` (413, at its first
    column) or more than ``max_decoded`` bytes once decoded (413) are refused before any
    page is decoded. A few kilobytes of Parquet can decode to gigabytes (a value repeated,
    zstd): strings are read dictionary-encoded, as they are stored."""
    with _parquet_errors():
        schema = pq.read_schema(pa.BufferReader(pa.py_buffer(body)))
        strings = [
            f.name for f in schema if pa.types.is_string(f.type) or pa.types.is_large_string(f.type)
        ]
        file = pq.ParquetFile(pa.BufferReader(pa.py_buffer(body)), read_dictionary=strings)
        metadata, names = file.metadata, file.schema_arrow.names
    if metadata.num_rows > max_rows and names:
        raise InputTooLarge(
            ("body", names[0]),
            f"column {names[0]!r} has {metadata.num_rows} rows; the limit is {max_rows}",
        )
    decoded = _decoded_size(metadata)
    if max_decoded is not None and decoded > max_decoded:
        raise InputTooLarge(
            ("body",),
            f"the Parquet file decodes to about {decoded} bytes; the limit is {max_decoded}"
            " (twice the body limit): send the table in parts",
        )
    return file


def read_parquet_columns(file: pq.ParquetFile, names: list[str] | None = None) -> pa.Table:
    """The columns ``names`` (all by default) of an opened Parquet file, validated."""
    with _parquet_errors():
        table = file.read(columns=names)
    return _validated(table, "Parquet file")


def read_parquet(
    body: bytes | bytearray | memoryview, *, max_rows: int, max_decoded: int | None = None
) -> pa.Table:
    """A whole Parquet file's table (:func:`open_parquet`'s checks first)."""
    return read_parquet_columns(open_parquet(body, max_rows=max_rows, max_decoded=max_decoded))


@contextmanager
def _parquet_errors() -> Iterator[None]:
    """pyarrow's errors of a body that is not a (valid) Parquet file, as 422s."""
    try:
        yield
    except (pa.ArrowException, OSError) as error:
        raise InvalidInput(("body",), f"not a Parquet file: {error}", "parquet_invalid") from None
    except UnicodeDecodeError:
        raise InvalidInput(
            ("body",), "not a valid Parquet file: a column name is not UTF-8", "parquet_invalid"
        ) from None
