"""Tensors of the Open Inference Protocol (KServe V2 REST): the request and response
models, reading input tensors (JSON data or the binary tensor data extension) and writing
output tensors. The protocol itself (routes, models, errors) is in :mod:`service.interop.v2`.
"""

import math
from typing import Any, Literal

import numpy as np
import pydantic_core
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictFloat,
    StrictInt,
    TypeAdapter,
    ValidationError,
)

from service.divergences.inputs import PROBABILITIES, Format
from service.interop.v2_quoting import quoted, quoted_all, quoted_loc

# The header that says how many leading bytes of a body are its JSON part (binary tensor
# data extension), as Triton and tritonclient spell it.
HEADER_LENGTH = "Inference-Header-Content-Length"
BINARY_SIZE = "binary_data_size"

# Datatypes an input may have, and the little-endian numpy type of each.
INPUT_TYPES: dict[str, np.dtype[Any]] = {"FP64": np.dtype("<f8"), "FP32": np.dtype("<f4")}
OUTPUT_TYPES: dict[str, np.dtype[Any]] = {
    "FP64": np.dtype("<f8"),
    "BOOL": np.dtype("?"),
    "INT64": np.dtype("<i8"),
}

# What a JSON FP64 tensor holds where the value is infinite (JSON has no Infinity).
INFINITE_SENTINEL = float(np.finfo(np.float64).max)
# Sizes in a shape are int64, as Triton's are.
MAX_SIZE = 2**63 - 1

Parameter = bool | int | float | str


class TensorError(Exception):
    """The request breaks the protocol (answered 400 with ``{"error": message}``)."""


class V2InputTensor(BaseModel):
    """An input tensor: its data inline (flat or nested, row-major), or its byte length
    in ``parameters.binary_data_size`` with the bytes after the JSON header."""

    name: str
    shape: list[StrictInt]
    datatype: str
    parameters: dict[str, Parameter] = Field(default_factory=dict)
    data: list[Any] | None = None


class V2RequestedOutput(BaseModel):
    """An output to return; ``parameters.binary_data: true`` returns it as raw bytes."""

    name: str
    parameters: dict[str, Parameter] = Field(default_factory=dict)


_P: Any = [[0.1, 0.4, 0.5], [0.8, 0.15, 0.05]]
_Q: Any = [0.8, 0.15, 0.05]


class V2InferenceRequest(BaseModel):
    """An inference request: inputs ``P`` (rows) and ``Q`` (one row, or one per P row)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "inputs": [
                        {"name": "P", "shape": [2, 3], "datatype": "FP64", "data": _P},
                        {"name": "Q", "shape": [1, 3], "datatype": "FP64", "data": _Q},
                    ],
                    "parameters": {"base": 2},
                },
            ]
        },
    )

    id: str | None = None
    parameters: dict[str, Parameter] = Field(default_factory=dict)
    inputs: list[V2InputTensor]
    outputs: list[V2RequestedOutput] | None = None


class V2TensorMetadata(BaseModel):
    """A tensor a model takes or gives: name, datatype, shape (-1: any size)."""

    name: str
    datatype: str
    shape: list[int]
    parameters: dict[str, Any] | None = None


class V2OutputTensor(BaseModel):
    """An output tensor: data inline, or ``parameters.binary_data_size`` bytes after the
    JSON header."""

    name: str
    shape: list[int]
    datatype: Literal["FP64", "BOOL", "INT64"]
    parameters: dict[str, Parameter] | None = None
    data: list[float] | list[bool] | list[int] | None = None


class V2InferenceResponse(BaseModel):
    """An inference answer (its JSON part, when outputs are binary)."""

    model_name: str
    model_version: str
    id: str | None = None
    parameters: dict[str, Parameter] | None = None
    outputs: list[V2OutputTensor]


_FLAT = TypeAdapter(list[StrictFloat | None])
_NESTED = TypeAdapter(list[list[StrictFloat | None]])


def parse_request(header: bytes | bytearray) -> V2InferenceRequest:
    """The JSON part of a request as a model; 400 when it is not one."""
    try:
        return V2InferenceRequest.model_validate_json(header)
    except ValidationError as error:
        first = error.errors(include_url=False)[0]
        where = quoted_loc(first["loc"])
        if first["type"] == "json_invalid":
            raise TensorError(f"the request is not valid JSON: {first['msg']}") from None
        raise TensorError(f"invalid inference request: {where}: {first['msg']}") from None


def _elements(shape: list[int]) -> int:
    return math.prod(shape)


def _json_data(tensor: V2InputTensor, data: list[Any], label: str, format: Format) -> np.ndarray:
    """JSON data as a float64 array of the tensor's shape; ``null`` is ``-inf`` (JSON has
    no -Infinity) in an input given as log-probabilities or logits, refused otherwise."""
    nested = bool(data) and isinstance(data[0], list)
    try:
        values = (_NESTED if nested else _FLAT).validate_python(data)
    except ValidationError as error:
        first = error.errors(include_url=False)[0]
        where = "][".join(str(part) for part in first["loc"][: 2 if nested else 1])
        raise TensorError(
            f"{label}: data[{where}] is {quoted(first['input'])}; "
            f"{tensor.datatype} data must be numbers"
        ) from None
    try:
        array = np.asarray(values, dtype=np.float64)  # None reads as NaN
    except ValueError:
        raise TensorError(f"{label}: nested data rows differ in length") from None
    for at in map(tuple, np.argwhere(np.isnan(array))):
        row: Any = values[at[0]]
        if (row[at[1]] if nested else row) is None:
            if format == PROBABILITIES:
                place = "][".join(map(str, at))
                raise TensorError(
                    f"{label}: data[{place}] is null; null stands for -inf in log_probabilities "
                    "and logits only (parameter p_format or q_format)"
                )
            array[at] = -np.inf
    if array.size != _elements(tensor.shape):
        raise TensorError(
            f"{label}: shape {tensor.shape} needs {_elements(tensor.shape)} "
            f"elements but data holds {array.size}"
        )
    if nested and list(array.shape) != tensor.shape:
        raise TensorError(f"{label}: nested data has shape {list(array.shape)}, not {tensor.shape}")
    return array.reshape(tensor.shape)


def _check_shape(tensor: V2InputTensor, label: str) -> None:
    """A model's input is a matrix: two sizes, each from 0 to :data:`MAX_SIZE`."""
    if len(tensor.shape) != 2:
        raise TensorError(f"{label} must have shape [rows, n]; got {quoted(tensor.shape)}")
    if any(d < 0 for d in tensor.shape):
        raise TensorError(f"{label}: shape {quoted(tensor.shape)} has a negative size")
    if any(d > MAX_SIZE for d in tensor.shape):
        raise TensorError(f"{label}: shape {quoted(tensor.shape)} has a size over {MAX_SIZE}")


def read_inputs(
    request: V2InferenceRequest, binary: memoryview, formats: dict[str, Format] | None = None
) -> dict[str, np.ndarray]:
    """Every input as a float64 array of its shape, [rows, n]; ``binary`` holds the bytes
    after the JSON header, the binary inputs' data in input order. ``formats`` says which
    inputs are log-probabilities or logits (where JSON's null is -inf)."""
    arrays: dict[str, np.ndarray] = {}
    offset = 0
    for tensor in request.inputs:
        label = f"input {quoted(tensor.name)}"
        if tensor.name in arrays:
            raise TensorError(f"{label} is given twice")
        dtype = INPUT_TYPES.get(tensor.datatype)
        if dtype is None:
            raise TensorError(
                f"{label} has datatype {quoted(tensor.datatype)}; "
                f"send one of {', '.join(INPUT_TYPES)}"
            )
        _check_shape(tensor, label)
        unknown = set(tensor.parameters) - {BINARY_SIZE}
        if unknown:
            raise TensorError(
                f"{label}: unsupported parameters {quoted_all(sorted(unknown))} "
                f"(only {BINARY_SIZE} is; no shared memory)"
            )
        size = tensor.parameters.get(BINARY_SIZE)
        if size is None:
            if tensor.data is None:
                raise TensorError(f"{label} has neither data nor {BINARY_SIZE}")
            format = (formats or {}).get(tensor.name, PROBABILITIES)
            arrays[tensor.name] = _json_data(tensor, tensor.data, label, format)
            continue
        if tensor.data is not None:
            raise TensorError(f"{label} has both data and {BINARY_SIZE}")
        expected = _elements(tensor.shape) * dtype.itemsize
        if isinstance(size, bool) or not isinstance(size, int) or size != expected:
            raise TensorError(
                f"{label}: {BINARY_SIZE} is {quoted(size)} but shape {tensor.shape} "
                f"of {tensor.datatype} takes {expected} bytes"
            )
        if offset + size > len(binary):
            raise TensorError(
                f"{label}: the body ends {offset + size - len(binary)} bytes "
                f"before its binary data does ({HEADER_LENGTH} may be wrong)"
            )
        chunk = np.frombuffer(binary, dtype=dtype, count=size // dtype.itemsize, offset=offset)
        # FP64 stays a view of the body (no copy); FP32 is widened.
        arrays[tensor.name] = chunk.astype(np.float64, copy=False).reshape(tensor.shape)
        offset += size
    if offset != len(binary):
        raise TensorError(
            f"the body has {len(binary) - offset} bytes after the JSON header that no input's "
            f"{BINARY_SIZE} accounts for"
        )
    return arrays


def write_outputs(
    response: V2InferenceResponse, tensors: list[tuple[np.ndarray, bool]]
) -> tuple[bytes, int | None]:
    """The answer's body, and the length of its JSON part when some outputs are binary
    (None: the body is all JSON). ``tensors`` are the outputs' arrays, in order, each
    with whether it goes binary; an infinite FP64 value is ``inf`` in binary and
    :data:`INFINITE_SENTINEL` in JSON."""
    blobs: list[bytes] = []
    for output, (array, binary) in zip(response.outputs, tensors, strict=True):
        typed = array.astype(OUTPUT_TYPES[output.datatype], copy=False)
        if binary:
            blob = typed.tobytes()
            output.parameters = {**(output.parameters or {}), BINARY_SIZE: len(blob)}
            blobs.append(blob)
        elif output.datatype == "FP64":
            output.data = np.where(np.isinf(typed), INFINITE_SENTINEL, typed).tolist()
        else:
            output.data = typed.tolist()
    header = pydantic_core.to_json(response.model_dump(exclude_none=True))
    if not blobs:
        return header, None
    return b"".join([header, *blobs]), len(header)


def inline_schema(model: type[BaseModel]) -> dict[str, Any]:
    """``model``'s JSON schema with its ``$defs`` written in place, for an OpenAPI
    request body that is documented but read by hand."""
    schema = model.model_json_schema()
    defs = schema.pop("$defs", {})

    def inline(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref", "")
            if ref.startswith("#/$defs/"):
                return inline(defs[ref.removeprefix("#/$defs/")])
            return {key: inline(value) for key, value in node.items()}
        if isinstance(node, list):
            return [inline(item) for item in node]
        return node

    inlined: dict[str, Any] = inline(schema)
    return inlined
