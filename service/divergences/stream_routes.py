"""The divergence routes over NDJSON streams: rows in, answers out line by line."""

import functools
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse

from service.core.config import Settings
from service.core.errors import UnsupportedMediaType
from service.divergences import schemas
from service.divergences.catalog import DIVERGENCES, Divergence
from service.divergences.codecs.ndjson import NDJSON, DuplexStreamingResponse, scored_lines
from service.divergences.inputs import Limits, check_formats
from service.divergences.metrics import rows_scored
from service.divergences.routes import DivergenceName, checked_alpha, member
from service.divergences.streaming import ArrayRow, parse_row, score_rows
from service.divergences.terms import check_wanted
from service.web.asgi import media_type
from service.web.deps import require_api_key_for_divergences
from service.web.json_body import options_from_query
from service.web.responses import MessageErrorBody, ValidationErrorBody

router = APIRouter(tags=["divergences"], dependencies=[Depends(require_api_key_for_divergences)])

STREAM_DOC: dict[str, Any] = {
    "openapi_extra": {
        "requestBody": {"required": True, "content": {NDJSON: schemas.STREAM_ROW_DOC}}
    },
    "response_class": DuplexStreamingResponse,
    "responses": {
        200: {
            "content": {NDJSON: {"schema": {"type": "string"}}},
            "description": "One JSON object per input row, in order, as they are scored; "
            'a row that breaks the contract ends the stream with {"error": {...}}.',
        },
        415: {"model": MessageErrorBody, "description": "Body is not NDJSON"},
        422: {"model": ValidationErrorBody, "description": "Invalid query options"},
    },
}


async def _stream(request: Request, divergence: Divergence, key: str) -> StreamingResponse:
    content_type = request.headers.get("content-type")
    if media_type(content_type) not in (NDJSON, "application/jsonl"):
        raise UnsupportedMediaType(content_type, [NDJSON])
    options = options_from_query(schemas.DivergenceOptions, dict(request.query_params))
    alpha = checked_alpha(divergence, options.alpha)
    terms = check_wanted(divergence, wanted=options.terms, top=options.top, place="query")
    # Refused at once (422), not at the first chunk (an error line).
    formats = check_formats(
        options.p_format, options.q_format if divergence.needs_q else None, options.temperature
    )
    settings: Settings = request.app.state.settings
    limits: Limits = request.app.state.limits

    async def score_chunk(rows: list[ArrayRow]) -> list[dict[str, Any]]:
        answers = await run_in_threadpool(
            score_rows, divergence, rows, options, limits, alpha, key, terms
        )
        rows_scored(divergence.name, "tensorflow").inc(len(rows))
        return answers

    lines = scored_lines(
        request.stream(),
        functools.partial(
            parse_row,
            max_vector_length=limits.max_vector_length,
            formats=(formats[0], formats[1] or formats[0]),
        ),
        score_chunk,
        chunk_rows=settings.stream_chunk_rows,
        chunk_bytes=settings.stream_chunk_bytes,
        max_line_bytes=settings.max_body_bytes,
    )
    return DuplexStreamingResponse(lines, media_type=NDJSON)


@router.post("/kl/stream", summary="KL divergence of a stream of rows (NDJSON)", **STREAM_DOC)
async def kl_stream(request: Request) -> StreamingResponse:
    """KL for each NDJSON line {"p", "q"}, answered line by line as chunks are scored.

    Options as query parameters (base, mode, epsilon, normalize, p_format, q_format,
    temperature, terms, top); memory is bounded by a chunk of rows, so a stream may be far
    larger than one request body.
    """
    return await _stream(request, DIVERGENCES["kl"], "kl")


@router.post(
    "/divergences/{name}/stream",
    summary="One divergence of a stream of rows (NDJSON)",
    **STREAM_DOC,
)
async def divergence_stream(name: DivergenceName, request: Request) -> StreamingResponse:
    """One divergence for each NDJSON line, answered line by line (see /kl/stream)."""
    return await _stream(request, member(name), "value")
