"""A divergence as a V2 model: its metadata, and one inference request read, scored
(on TensorFlow, through the service's checks and limits) and answered. The protocol's
routes and errors are in :mod:`service.interop.v2`, which documents the behaviour."""

from typing import Any

import numpy as np
from fastapi import Response
from pydantic import BaseModel, ConfigDict, Field

from service.divergences.catalog import Divergence
from service.divergences.inputs import Limits
from service.divergences.metrics import rows_scored
from service.divergences.scoring import score, unit_name
from service.interop.v2_options import flag, options_from
from service.interop.v2_quoting import quoted, quoted_all
from service.interop.v2_tensors import (
    HEADER_LENGTH,
    INPUT_TYPES,
    TensorError,
    V2InferenceRequest,
    V2InferenceResponse,
    V2OutputTensor,
    V2TensorMetadata,
    parse_request,
    read_inputs,
    write_outputs,
)
from service.web.json_body import Body

VERSION = "1"
PLATFORM = "tensorflow"
OCTET_STREAM = "application/octet-stream"


class V2ModelMetadata(BaseModel):
    """A model's versions, platform, inputs and outputs."""

    model_config = ConfigDict(protected_namespaces=())

    name: str
    versions: list[str]
    platform: str
    inputs: list[V2TensorMetadata]
    outputs: list[V2TensorMetadata]
    parameters: dict[str, Any] = Field(
        description="The request parameters the model reads, each with its meaning."
    )


def output_name(divergence: Divergence) -> str:
    return divergence.name.upper()


def parameters_doc(divergence: Divergence) -> dict[str, str]:
    doc = {"binary_data_output": "bool: outputs as binary tensor data unless one says not"}
    if divergence.uses_base:
        doc["base"] = '"e" (default), 2, 10 or any finite number greater than 1'
    doc |= {
        "mode": '"exact" (default) or "keras" (clip both to [epsilon, 1] first)',
        "epsilon": "keras' clipping floor, 0 < epsilon < 1 (default 1e-7)",
        "normalize": "bool: scale each row (non-negative weights) to sum 1; normalise "
        "log-probabilities",
        "p_format": '"probabilities" (default), "log_probabilities" or "logits": how P is '
        "given (-inf, or null in JSON data, for a zero probability)",
    }
    if divergence.needs_q:
        doc["q_format"] = "how Q is given (see p_format)"
    doc["temperature"] = "divides the logits before the softmax, > 0 (logits only)"
    for parameter in divergence.parameters:
        doc[parameter.name] = f"{parameter.description} (required)"
    return doc


def metadata(divergence: Divergence) -> V2ModelMetadata:
    accepted = {"accepted_datatypes": list(INPUT_TYPES)}
    inputs = [V2TensorMetadata(name="P", datatype="FP64", shape=[-1, -1], parameters=accepted)]
    if divergence.needs_q:
        inputs.append(
            V2TensorMetadata(name="Q", datatype="FP64", shape=[-1, -1], parameters=accepted)
        )
    outputs = [
        V2TensorMetadata(
            name=output_name(divergence),
            datatype="FP64",
            shape=[-1],
            parameters={"unit": unit_name(divergence, "e"), "title": divergence.title},
        ),
        V2TensorMetadata(name="FINITE", datatype="BOOL", shape=[-1]),
        V2TensorMetadata(name="INFINITE_AT", datatype="INT64", shape=[-1]),
    ]
    return V2ModelMetadata(
        name=divergence.name,
        versions=[VERSION],
        platform=PLATFORM,
        inputs=inputs,
        outputs=outputs,
        parameters=parameters_doc(divergence),
    )


def split(body: Body, declared: str | None) -> tuple[bytes | bytearray, memoryview]:
    """The JSON header and the binary data after it (a view: tensors are not copied).

    ``declared`` is :data:`HEADER_LENGTH`'s value: ASCII digits only (not ``²``, which
    ``str.isdigit`` takes and ``int`` refuses; no sign), leading zeros allowed, at most
    the body's length (so never more digits than that length has: ``int`` refuses over
    4,300)."""
    if declared is None:  # all JSON
        return body.tobytes() if isinstance(body, memoryview) else body, memoryview(b"")
    text = declared.strip()
    digits = text.lstrip("0") or "0"
    if not (
        text.isascii()
        and text.isdigit()
        and len(digits) <= len(str(len(body)))
        and int(digits) <= len(body)
    ):
        raise TensorError(
            f"{HEADER_LENGTH} must be a byte count within the body's {len(body)} bytes; "
            f"got {quoted(declared)}"
        )
    view = memoryview(body)
    return bytes(view[: int(digits)]), view[int(digits) :]


def _requested(
    request: V2InferenceRequest, names: list[str], divergence: Divergence
) -> list[tuple[str, bool]]:
    """The outputs to return, each with whether it goes binary: every one of ``names``
    unless the request lists some. 400 for an unknown output, one listed twice, or a
    ``binary_data`` / ``binary_data_output`` that is not a boolean."""
    every_binary = flag(request.parameters, "binary_data_output", False)
    if request.outputs is None:
        return [(name, every_binary) for name in names]
    requested: list[tuple[str, bool]] = []
    for wanted in request.outputs:
        label = f"output {quoted(wanted.name)}"
        if wanted.name not in names:
            raise TensorError(f"unknown {label}; {divergence.name} gives {', '.join(names)}")
        if any(wanted.name == name for name, _ in requested):
            raise TensorError(f"{label} is requested twice")
        unsupported = set(wanted.parameters) - {"binary_data"}
        if unsupported:
            raise TensorError(
                f"{label}: unsupported parameters {quoted_all(sorted(unsupported))} "
                "(only binary_data is; no classification or shared memory)"
            )
        binary = flag(wanted.parameters, "binary_data", every_binary, f"{label}: ")
        requested.append((wanted.name, binary))
    return requested


def infer(divergence: Divergence, body: Body, declared: str | None, limits: Limits) -> Response:
    """Read, score and answer one inference request (in a worker thread)."""
    header, binary = split(body, declared)
    request = parse_request(header)
    options = options_from(request.parameters, divergence)
    unknown = [t.name for t in request.inputs if t.name not in ("P", "Q")]
    if unknown:
        raise TensorError(f"unknown inputs {quoted_all(unknown)}; {divergence.name} takes P and Q")
    value_name = output_name(divergence)
    requested = _requested(request, [value_name, "FINITE", "INFINITE_AT"], divergence)
    formats = {"P": options["p_format"], "Q": options["q_format"]}
    arrays = read_inputs(request, binary, formats)  # each [rows, n]
    if "P" not in arrays or (divergence.needs_q and "Q" not in arrays):
        raise TensorError(f"{divergence.name} needs inputs P and Q; got {sorted(arrays)}")
    if arrays["P"].shape[0] == 0:
        raise TensorError("input 'P' has no rows")
    scores = score(
        divergence,
        p=arrays["P"],
        q=arrays.get("Q") if divergence.needs_q else None,
        limits=limits,
        backend="tensorflow",
        **options,
    )
    rows_scored(divergence.name, "tensorflow").inc(scores.values.size)
    values = scores.values.reshape(-1)
    computed = {
        value_name: ("FP64", values),
        "FINITE": ("BOOL", np.isfinite(values)),
        "INFINITE_AT": ("INT64", scores.infinite_at.reshape(-1)),
    }
    outputs, tensors = [], []
    for name, binary_out in requested:
        datatype, array = computed[name]
        outputs.append(V2OutputTensor(name=name, shape=[len(array)], datatype=datatype))
        tensors.append((array, binary_out))
    answer = V2InferenceResponse(
        model_name=divergence.name,
        model_version=VERSION,
        id=request.id,
        parameters={"unit": scores.unit},
        outputs=outputs,
    )
    content, header_length = write_outputs(answer, tensors)
    if header_length is None:
        return Response(content, media_type="application/json")
    return Response(content, media_type=OCTET_STREAM, headers={HEADER_LENGTH: str(header_length)})
