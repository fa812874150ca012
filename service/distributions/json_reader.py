"""Bodies of ``POST /distributions/kl`` read with their numbers straight into numpy.

p and q are free-form objects whose parameters are nested lists of numbers, checked later
by :mod:`.parsing`. Building them as Python lists (pydantic's parser or orjson) is most of
a large batch's time; simdjson writes each list's numbers into one float64 buffer instead.

:func:`read_json` takes that path for the plain shape only: a JSON object (first byte
``{``) whose p and q are objects without repeated keys, every list-valued parameter a
rectangular nest of numbers (the length of every list at every depth checked). Anything
else (mixtures, booleans or nulls in a list, ragged lists, repeated keys, text simdjson
refuses) is read by orjson into Python objects instead, and a body orjson refuses too
(NaN, Infinity, malformed JSON) is left to pydantic's parser, whose errors name the place.
So the reader decides nothing a client can see but the speed.
"""

from typing import Any

import numpy as np
import orjson
import simdjson
from pydantic import BaseModel, ValidationError

_REFUSED = (ValueError, TypeError, RuntimeError, KeyError, IndexError)


class _NotPlain(Exception):
    """The body is not of the plain shape: read it the other way."""


def _shape(value: simdjson.Array) -> tuple[int, ...]:
    """The lengths of a rectangular nest of lists, every list checked."""
    rows = list(value)
    if not rows or not isinstance(rows[0], simdjson.Array):
        return (len(rows),)
    inner = _shape(rows[0])
    for row in rows[1:]:
        if not isinstance(row, simdjson.Array) or _shape(row) != inner:
            raise _NotPlain
    return (len(rows), *inner)


def _array(value: simdjson.Array) -> np.ndarray:
    shape = _shape(value)
    flat = np.frombuffer(value.as_buffer(of_type="d"), dtype=np.float64)
    if flat.size != np.prod(shape) or 0 in shape:
        raise _NotPlain  # a list among the numbers, or an empty one
    return flat.reshape(shape)


def _side(value: object) -> dict[str, Any]:
    """p or q with its list-valued parameters as arrays."""
    if not isinstance(value, simdjson.Object):
        raise _NotPlain
    keys = list(value.keys())
    if len(set(keys)) != len(keys):
        raise _NotPlain  # a repeated key: the other readers keep the last one
    side: dict[str, Any] = {}
    for key in keys:
        item = value[key]
        if isinstance(item, simdjson.Object):
            raise _NotPlain  # no family has a parameter that is an object
        side[key] = _array(item) if isinstance(item, simdjson.Array) else item
    return side


def _python(value: object) -> object:
    if isinstance(value, simdjson.Object):
        return value.as_dict()
    return value.as_list() if isinstance(value, simdjson.Array) else value


def _with_simdjson(model: type[BaseModel], body: bytes | bytearray | memoryview) -> BaseModel:
    if not bytes(memoryview(body)[:64]).lstrip(b" \t\r\n").startswith(b"{"):
        raise _NotPlain
    document = simdjson.Parser().parse(body)
    if not isinstance(document, simdjson.Object):
        raise _NotPlain
    keys = list(document.keys())
    if len(set(keys)) != len(keys):
        raise _NotPlain
    read = {
        key: _side(document[key]) if key in ("p", "q") else _python(document[key]) for key in keys
    }
    return model.model_validate(read)


def read_json(model: type[BaseModel], body: bytes | bytearray | memoryview) -> BaseModel | None:
    """``model`` from the body (see above), or None where pydantic's parser must read it."""
    try:
        return _with_simdjson(model, body)
    except (_NotPlain, ValidationError, *_REFUSED):
        pass
    try:
        return model.model_validate(orjson.loads(body))
    except (orjson.JSONDecodeError, ValidationError):
        return None
