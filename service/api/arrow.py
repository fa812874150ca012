"""Apache Arrow IPC stream bodies and answers for the batch endpoints.

A request body (``Content-Type: application/vnd.apache.arrow.stream``) is a table whose
column ``p`` holds the rows as fixed-size lists of float64 (float32 is widened), and
column ``q`` likewise, one row per p row. For a single q row compared with every p row,
leave the column out and put the row in the schema's metadata under ``q``, as a JSON list
(``pa.schema([...], metadata={"q": json.dumps(row)})``). The options (``base``, ``mode``,
``epsilon``, ``normalize``, ``alpha``) come as query parameters. The arrays reach the
checks of the numerics contract without a copy into Python objects.

An answer in Arrow (``Accept: application/vnd.apache.arrow.stream``) is a table of one
row per input row: the value (float64; ``inf`` where infinite, which Arrow can hold),
``finite`` (bool) and ``infinite_at`` (int64, null where finite or nobody is to blame).
"""

import json
from typing import Any

import numpy as np
import pyarrow as pa

from service.errors import InvalidInput

ARROW_STREAM = "application/vnd.apache.arrow.stream"
ARROW_BODY_DOC: dict[str, Any] = {"schema": {"type": "string", "format": "binary"}}


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
    array = values.to_numpy(zero_copy_only=False).astype(np.float64, copy=False)
    return _in_place(array, body).reshape(len(column), width)


def read_arrow(body: bytes | bytearray | memoryview) -> tuple[np.ndarray, np.ndarray | None]:
    """p and q from an Arrow IPC stream (q None when the table has neither)."""
    try:
        table = pa.ipc.open_stream(pa.py_buffer(body)).read_all()
    except (pa.ArrowInvalid, pa.ArrowTypeError, OSError) as error:
        raise InvalidInput(
            ("body",), f"not an Arrow IPC stream: {error}", "arrow_invalid"
        ) from None
    if "p" not in table.column_names:
        raise InvalidInput(("body", "p"), "the Arrow table has no column p", "missing")
    view = memoryview(body)
    p = _matrix(table, "p", view)
    if "q" in table.column_names:
        return p, _matrix(table, "q", view)
    metadata = table.schema.metadata or {}
    if b"q" in metadata:
        try:
            row = np.asarray(json.loads(metadata[b"q"]), dtype=np.float64)
        except (ValueError, TypeError):
            raise InvalidInput(
                ("body", "q"), "the schema metadata q must be a JSON list of numbers"
            ) from None
        if row.ndim != 1:
            raise InvalidInput(("body", "q"), "the schema metadata q must be one row")
        return p, row
    return p, None


def write_arrow(name: str, values: np.ndarray, infinite_at: np.ndarray) -> bytes:
    """The answer table as an Arrow IPC stream."""
    at = pa.array(infinite_at, type=pa.int64(), mask=infinite_at < 0)
    table = pa.table(
        {
            name: pa.array(values, type=pa.float64()),
            "finite": pa.array(np.isfinite(values)),
            "infinite_at": at,
        }
    )
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return bytes(sink.getvalue())


def wants_arrow(accept: str | None) -> bool:
    return accept is not None and ARROW_STREAM in accept
