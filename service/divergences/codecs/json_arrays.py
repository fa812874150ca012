"""Batch bodies read from JSON text straight into numpy arrays.

pydantic's parser, like orjson, builds one Python float per number, which the route then
copies into an array: for 10,000 rows of 100 numbers that is most of a request's time.
simdjson (pysimdjson) parses the text and writes the numbers of a nested list straight
into a float64 buffer, several times faster.

:func:`read_arrays` takes the plain shape only: a JSON object (its first byte, after
whitespace, ``{``: simdjson would also skip a byte-order mark, which pydantic refuses)
without repeated keys whose list-valued fields are non-empty lists of numbers, or non-empty
lists of equally long, non-empty lists of numbers, with nothing nested deeper and no other
``[`` byte anywhere (one in a string sends the body to the fallback too). It returns None
for anything else, and for any text simdjson refuses (malformed JSON, the tokens NaN and
Infinity, numbers beyond float64 or beyond 64-bit integers, ...): the caller
then takes the usual path, whose errors name the field, the row and the reason. So this
reader decides nothing a client can see but the speed. The numbers are the doubles
pydantic's parser reads (both round correctly, subnormals included; tested).
"""

from typing import TypeVar

import numpy as np
import orjson
import simdjson
from pydantic import BaseModel, ValidationError

Model = TypeVar("Model", bound=BaseModel)

_REFUSED = (ValueError, TypeError, RuntimeError, KeyError, IndexError)


def _array(value: simdjson.Array) -> np.ndarray | None:
    """The list as a float64 vector or matrix; None unless it is one of plain numbers."""
    try:
        if len(value) == 0:
            return None
        flat = np.frombuffer(value.as_buffer(of_type="d"), dtype=np.float64)
        if not isinstance(value[0], simdjson.Array):
            return flat if flat.size == len(value) else None
        lengths = [len(row) for row in value if isinstance(row, simdjson.Array)]
    except _REFUSED:
        return None
    rows, width = len(value), lengths[0]
    if width == 0 or lengths.count(width) != rows or flat.size != width * rows:
        return None  # ragged, empty, or numbers among the rows
    return flat.reshape(rows, width)


def _count(body: bytes | bytearray | memoryview, byte: int, step: int = 1 << 20) -> int:
    """How many times ``byte`` occurs in ``body``, a megabyte at a time (no temporary the
    size of the body, whose pages would be faulted in afresh for every request)."""
    data = np.frombuffer(body, dtype=np.uint8)
    return sum(int(np.count_nonzero(data[i : i + step] == byte)) for i in range(0, data.size, step))


def read_arrays(model: type[Model], body: bytes | bytearray | memoryview) -> Model | None:
    """``model`` from a JSON body with its lists as numpy arrays (in fields the model
    types as lists: set without validation, as the Arrow path does), or None (see above)."""
    if not bytes(memoryview(body)[:64]).lstrip(b" \t\r\n").startswith(b"{"):
        return None
    try:
        document = simdjson.Parser().parse(body)
        if not isinstance(document, simdjson.Object):
            return None
        keys = list(document.keys())
        values = {key: document[key] for key in keys}
    except _REFUSED:
        return None
    if len(values) != len(keys):  # a repeated key: pydantic's parser keeps the last one
        return None
    arrays: dict[str, np.ndarray] = {}
    options: dict[str, object] = {}
    lists = 0  # the lists the arrays were read from; any other "[" is deeper, or in a string
    for key, value in values.items():
        if isinstance(value, simdjson.Array):
            array = _array(value)
            if array is None:
                return None
            arrays[key] = array
            lists += 1 if array.ndim == 1 else 1 + len(array)
        else:
            options[key] = value
    if not arrays or _count(body, ord("[")) != lists:
        return None
    # The options and the shape of each field, checked by the model itself: a 1 x 1
    # stand-in for each array (every number is checked later, by the numerics contract).
    stand_ins = {key: [[1.0]] if array.ndim == 2 else [1.0] for key, array in arrays.items()}
    try:
        checked = model.model_validate_json(orjson.dumps({**options, **stand_ins}))
    except (ValidationError, TypeError):  # TypeError: an option orjson cannot write
        return None
    return checked.model_copy(update=arrays)
