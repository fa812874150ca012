"""Apache Arrow IPC stream bodies and answers for the batch endpoints.

A request body (``Content-Type: application/vnd.apache.arrow.stream``) is a table whose
column ``p`` holds the rows as fixed-size lists of float64 (float32 is widened), and
column ``q`` likewise, one row per p row. For a single q row compared with every p row,
leave the column out and put the row in the schema's metadata under ``q``, as a JSON list
(``pa.schema([...], metadata={"q": json.dumps(row)})``), read by the rules of a JSON
body's q row: numbers only (no booleans, no strings), at least one. The options (``base``,
``mode``, ``epsilon``, ``normalize``, ``alpha``, ``p_format``, ``q_format``,
``temperature``) come as query parameters. In the log formats a column holds ``-inf``
itself for a zero probability (a null value is refused, as NaN). The arrays reach
the checks of the numerics contract without a copy into Python objects.

A stream is validated in full (list offsets within their values, ...) before it is read;
one that is not valid, one with compressed buffers (a few kilobytes of zstd can claim
gigabytes: the body limit would bound nothing), a table without column ``p`` and a table
of no rows (a schema and no record batch, or batches of zero rows) are 422s, as an empty
JSON batch is.

An answer in Arrow (``Accept: application/vnd.apache.arrow.stream``) is a table of one
row per input row: the value (float64; ``inf`` where infinite, which Arrow can hold),
``finite`` (bool) and ``infinite_at`` (int64, null where finite or nobody is to blame);
with ``terms``, ``terms`` (a fixed-size list of float64 per row, ``inf`` where infinite),
with ``top``, ``top`` (a fixed-size list of structs ``{index: int64, term: float64}``).
"""

from typing import Any

import numpy as np
import pyarrow as pa
from pydantic import TypeAdapter, ValidationError

from service.core.errors import InvalidInput
from service.divergences.schemas import Vector
from service.web.arrow_ipc import ARROW_STREAM, read_stream

ARROW_BODY_DOC: dict[str, Any] = {"schema": {"type": "string", "format": "binary"}}
_METADATA_ROW = TypeAdapter(Vector)


def _in_place(array: np.ndarray, body: memoryview) -> np.ndarray:
    """``array``, a read-only view pyarrow gives of ``body``'s memory, as a writable view
    of the same memory where ``body`` is writable (TensorFlow reads only writable arrays
    in place: a read-only batch of 100,000 x 100 cost it a copy, about 10 ms); else as is."""
    if body.readonly or not array.flags.c_contiguous:
        return array
    whole = np.frombuffer(body, dtype=np.uint8)
    offset = array.ctypes.data - whole.ctypes.data
    if not 0 <= offset <= whole.nbytes - array.nbytes:
        return array  # not in the body: pyarrow copied it (chunks joined, float32 widened)
    view = np.frombuffer(body, dtype=array.dtype, count=array.size, offset=offset)
    return view.reshape(array.shape)


def _matrix(table: pa.Table, name: str, body: memoryview) -> np.ndarray:
    chunks = table.column(name)  # one chunk is used in place; several are joined (a copy)
    column = chunks.chunk(0) if chunks.num_chunks == 1 else chunks.combine_chunks()
    if column.null_count:
        raise InvalidInput(("body", name), f"column {name} holds nulls; every row needs values")
    if pa.types.is_fixed_size_list(column.type):
        width = column.type.list_size
    elif pa.types.is_list(column.type) or pa.types.is_large_list(column.type):
        lengths = column.value_lengths().to_numpy(zero_copy_only=False)
        if len(lengths) and (lengths != lengths[0]).any():
            row = int(np.argmax(lengths != lengths[0]))
            raise InvalidInput(
                ("body", name, row),
                f"row {row} of {name} has {lengths[row]} elements but row 0 has {lengths[0]}",
            )
        width = int(lengths[0]) if len(lengths) else 0
    else:
        raise InvalidInput(
            ("body", name),
            f"column {name} must be a (fixed-size) list of float64; got {column.type}",
        )
    values = column.flatten()
    if not (pa.types.is_float64(values.type) or pa.types.is_float32(values.type)):
        raise InvalidInput(
            ("body", name),
            f"column {name} must hold float64 (or float32) values; got {values.type}",
        )
    with np.errstate(invalid="ignore"):  # a float32 signalling NaN: NaN, refused later
        array = values.to_numpy(zero_copy_only=False).astype(np.float64, copy=False)
    return _in_place(array, body).reshape(len(column), width)


def _table(body: bytes | bytearray | memoryview) -> pa.Table:
    """The stream's table, validated in full: its offsets, lengths and buffers agree."""
    table = read_stream(body)
    try:
        table.validate(full=True)  # reads every field's name too
    except pa.ArrowException as error:
        raise InvalidInput(
            ("body",), f"not a valid Arrow IPC stream: {error}", "arrow_invalid"
        ) from None
    except UnicodeDecodeError:
        raise InvalidInput(
            ("body",), "not a valid Arrow IPC stream: a field name is not UTF-8", "arrow_invalid"
        ) from None
    return table


def _metadata_row(text: bytes) -> list[float | None]:
    """The schema metadata ``q`` as a row, by the rules of a JSON body's q row (a ``null``
    is -inf where q is given in a log format, as in JSON bodies: the checks decide).

    An integer beyond float64 reads as infinite (refused later, as not finite); nesting
    deeper than the JSON parser goes is not valid JSON. Errors name ``["body", "q"]``,
    and the element where one is to blame.
    """
    try:
        row: list[float | None] = _METADATA_ROW.validate_json(text)
        return row
    except ValidationError as error:
        first = error.errors(include_url=False)[0]
    kind, where = first["type"], tuple(first["loc"])
    if kind == "json_invalid":
        reason = f"is not valid JSON ({first.get('ctx', {}).get('error', first['msg'])})"
    elif kind == "too_short":
        reason = "is empty; a distribution needs at least one element"
    elif kind == "list_type":
        reason = "must be a JSON list of numbers"
    elif where:
        reason = f"must hold numbers only (no booleans or strings): element {where[0]} is not one"
    else:
        reason = f"is not a list of numbers: {first['msg']}"
    raise InvalidInput(("body", "q", *where[:1]), f"the schema metadata q {reason}", kind)


def read_arrow(
    body: bytes | bytearray | memoryview,
) -> tuple[np.ndarray, np.ndarray | list[float | None] | None]:
    """p and q from an Arrow IPC stream (q None when the table has neither; a list when
    it is the schema metadata's row)."""
    table = _table(body)
    if "p" not in table.column_names:
        raise InvalidInput(("body", "p"), "the Arrow table has no column p", "missing")
    if table.num_rows == 0:
        raise InvalidInput(
            ("body", "p"), "the Arrow table has no rows; a batch needs at least one", "too_short"
        )
    view = memoryview(body)
    p = _matrix(table, "p", view)
    if "q" in table.column_names:
        return p, _matrix(table, "q", view)
    metadata = table.schema.metadata or {}
    if b"q" in metadata:
        return p, _metadata_row(metadata[b"q"])
    return p, None


def _rows(flat: pa.Array, width: int) -> pa.Array:
    return pa.FixedSizeListArray.from_arrays(flat, width)


def write_arrow(
    name: str,
    values: np.ndarray,
    infinite_at: np.ndarray,
    terms: np.ndarray | None = None,
    top: tuple[np.ndarray, np.ndarray] | None = None,
) -> bytes:
    """The answer table as an Arrow IPC stream; ``terms`` (rows of float64) and ``top``
    (rows of indices and terms, as lists of ``{index, term}``) where given."""
    at = pa.array(infinite_at, type=pa.int64(), mask=infinite_at < 0)
    columns = {
        name: pa.array(values, type=pa.float64()),
        "finite": pa.array(np.isfinite(values)),
        "infinite_at": at,
    }
    if terms is not None:
        columns["terms"] = _rows(pa.array(terms.ravel(), type=pa.float64()), terms.shape[-1])
    if top is not None:
        index, term = (pa.array(part.ravel()) for part in top)
        pairs = pa.StructArray.from_arrays([index, term], names=["index", "term"])
        columns["top"] = _rows(pairs, top[0].shape[-1])
    table = pa.table(columns)
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return bytes(sink.getvalue())


def wants_arrow(accept: str | None) -> bool:
    return accept is not None and ARROW_STREAM in accept
