"""The Open Inference Protocol (KServe V2 REST, as Triton speaks it) for the divergence
family: every member of ``GET /divergences`` is a model, scored row by row on TensorFlow
through the same checks and limits as ``POST /divergences/{name}/batch``.

Models take ``P`` (FP64 or FP32, shape ``[rows, n]``) and ``Q`` (``[1, n]``, compared
with every P row, or ``[rows, n]``; ``entropy`` takes no Q and ignores one) and give, one
per P row: ``<NAME>`` (the value, FP64, named after the divergence in capitals: ``KL``,
``JS_DISTANCE``, ...), ``FINITE`` (BOOL) and ``INFINITE_AT`` (INT64: the first index to
blame for an infinite value, -1 where finite or no single index is). Without ``outputs``
in the request all three are returned.

Infinite values: binary outputs hold IEEE ``inf``. JSON tensors cannot hold Infinity, so
a JSON ``<NAME>`` holds the largest float64 (``1.7976931348623157e308``) there and
``FINITE`` says which values are infinite: a number every V2 client parses, that still
compares as the largest value. Nothing is ever NaN.

Request ``parameters`` (all optional, as for the service's batch routes): ``base`` ("e",
2, 10 or any positive number other than 1), ``mode`` ("exact" or "keras"), ``epsilon``
(keras' clipping floor, 0 < epsilon < 1), ``normalize`` (bool: scale weights to sum 1),
``alpha`` (the order of ``renyi``, required there), ``p_format`` and ``q_format``
("probabilities", "log_probabilities" or "logits": how P and Q are given; ``-inf`` in
binary tensors, ``null`` in JSON data, for a zero probability), ``temperature`` (divides
logits); ``binary_data_output`` (bool: every
output binary unless an output says otherwise) and Triton's scheduling parameters
(``priority``, ``timeout``, ``sequence_*``, ``triton_*``) are accepted and ignored by the
scoring; anything else is a 400, as is a flag that is not true or false. Per output,
``binary_data`` (bool) picks binary or JSON; an output listed twice is a 400.
The answer's ``parameters.unit`` names the unit of the values (nat, bit, ...).

Binary tensor data (Triton's extension): ``Inference-Header-Content-Length: N`` (ASCII
digits) says the first N bytes of the body are the JSON request; each binary input gives
its byte length in ``parameters.binary_data_size`` and its little-endian data follow, in
input order. An answer with binary outputs carries the same header and
``application/octet-stream``.

Errors are V2's ``{"error": "<message>"}``: 400 for requests that break the protocol or
the numerics contract, 401 without a valid API key (when divergences need one), 404 for an
unknown model or version, 413 over the vector or batch limits. A message quotes what the
request sent briefly (a long string's start and length, a list's first items and size).
"""

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel

from service import __version__
from service.core.config import Settings
from service.divergences.catalog import DIVERGENCES, Divergence
from service.divergences.inputs import Limits
from service.interop.v2_model import OCTET_STREAM, VERSION, V2ModelMetadata, infer, metadata
from service.interop.v2_quoting import quoted
from service.interop.v2_tensors import (
    HEADER_LENGTH,
    V2InferenceRequest,
    V2InferenceResponse,
    inline_schema,
)
from service.web.json_body import read_body
from service.web.security import check_api_key

PREFIX = "/v2"
router = APIRouter(prefix=PREFIX, tags=["open inference protocol (v2)"])

EXTENSIONS = ["binary_tensor_data", "parameters"]


class V2Error(BaseModel):
    """A V2 error: what went wrong, in words."""

    error: str


class V2ServerMetadata(BaseModel):
    """The server's name, version and protocol extensions."""

    name: str
    version: str
    extensions: list[str]


class V2Failure(Exception):
    """A request V2 answers with ``status`` (an unknown model or version: 404)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _model(name: str, version: str | None = None) -> Divergence:
    divergence = DIVERGENCES.get(name)
    if divergence is None:
        raise V2Failure(404, f"unknown model {quoted(name)}; models: {', '.join(DIVERGENCES)}")
    if version not in (None, VERSION):
        raise V2Failure(404, f"model {name!r} has no version {quoted(version)}; it has {VERSION!r}")
    return divergence


ModelName = Annotated[
    str, Path(description="A divergence listed by GET /divergences, e.g. kl.", examples=["kl"])
]
ModelVersion = Annotated[str, Path(description="The model's version: 1.", examples=["1"])]
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": V2Error, "description": "Unknown model or version"}
}
EMPTY_OK: dict[int | str, dict[str, Any]] = {200: {"description": "Yes", "content": None}}


@router.get("", response_model=V2ServerMetadata, summary="V2 server metadata")
async def v2_server_metadata() -> V2ServerMetadata:
    """The server's name, version and the V2 extensions it speaks."""
    return V2ServerMetadata(name="divergence-service", version=__version__, extensions=EXTENSIONS)


@router.get("/health/live", summary="V2 server liveness", responses=EMPTY_OK)
async def v2_server_live() -> Response:
    """200 (empty) while the server can answer requests."""
    return Response()


@router.get("/health/ready", summary="V2 server readiness", responses=EMPTY_OK)
async def v2_server_ready() -> Response:
    """200 (empty) when every model can infer (they need no database or queue)."""
    return Response()


@router.get(
    "/models/{name}",
    response_model=V2ModelMetadata,
    summary="V2 model metadata",
    responses=NOT_FOUND,
)
async def v2_model_metadata(name: ModelName) -> V2ModelMetadata:
    """The model's inputs, outputs, versions and the request parameters it reads."""
    return metadata(_model(name))


@router.get(
    "/models/{name}/versions/{version}",
    response_model=V2ModelMetadata,
    summary="V2 model metadata, by version",
    responses=NOT_FOUND,
)
async def v2_model_version_metadata(name: ModelName, version: ModelVersion) -> V2ModelMetadata:
    """The metadata of one version of the model (there is one: 1)."""
    return metadata(_model(name, version))


@router.get(
    "/models/{name}/ready", summary="V2 model readiness", responses={**EMPTY_OK, **NOT_FOUND}
)
async def v2_model_ready(name: ModelName) -> Response:
    """200 (empty) when the model can infer; 404 for an unknown model."""
    _model(name)
    return Response()


@router.get(
    "/models/{name}/versions/{version}/ready",
    summary="V2 model readiness, by version",
    responses={**EMPTY_OK, **NOT_FOUND},
)
async def v2_model_version_ready(name: ModelName, version: ModelVersion) -> Response:
    """200 (empty) when the version can infer; 404 for an unknown model or version."""
    _model(name, version)
    return Response()


INFER_DOC: dict[str, Any] = {
    "openapi_extra": {
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": inline_schema(V2InferenceRequest)},
                OCTET_STREAM: {
                    "schema": {"type": "string", "format": "binary"},
                    "description": f"Binary tensor data: {HEADER_LENGTH} bytes of JSON "
                    "request, then each binary input's bytes in input order.",
                },
            },
        }
    },
    "responses": {
        200: {
            "model": V2InferenceResponse,
            "description": "The outputs, one value per P row; with binary outputs the body "
            f"is {HEADER_LENGTH} bytes of JSON then the outputs' bytes.",
            "content": {OCTET_STREAM: {"schema": {"type": "string", "format": "binary"}}},
        },
        400: {"model": V2Error, "description": "Bad tensors, parameters or values"},
        401: {"model": V2Error, "description": "API key missing or not valid"},
        **NOT_FOUND,
        413: {"model": V2Error, "description": "A vector or the batch over a limit"},
    },
}


async def _answer(request: Request, name: str, version: str | None) -> Response:
    settings: Settings = request.app.state.settings
    if settings.require_key_for_divergences:
        check_api_key(request, settings)
    divergence = _model(name, version)
    body = await read_body(request)  # encoded bodies were refused by the body limit
    limits: Limits = request.app.state.limits
    declared = request.headers.get(HEADER_LENGTH)
    return await run_in_threadpool(infer, divergence, body, declared, limits)


@router.post("/models/{name}/infer", summary="V2 inference", **INFER_DOC)
async def v2_model_infer(name: ModelName, request: Request) -> Response:
    """Score every row of P against Q (JSON tensors or binary tensor data)."""
    return await _answer(request, name, None)


@router.post(
    "/models/{name}/versions/{version}/infer", summary="V2 inference, by version", **INFER_DOC
)
async def v2_model_version_infer(
    name: ModelName, version: ModelVersion, request: Request
) -> Response:
    """The same as /v2/models/{name}/infer, for one version of the model (there is one: 1)."""
    return await _answer(request, name, version)
