"""Routes of the divergence family over JSON and Arrow bodies: parse, score, shape the
answer (:mod:`.answers`). NDJSON streams have routes of their own (:mod:`.stream_routes`)."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Response

from service.core.errors import InvalidInput
from service.divergences import answers, gaussian_routes, schemas
from service.divergences.catalog import DIVERGENCES, Divergence
from service.divergences.codecs.arrow import ARROW_BODY_DOC, ARROW_STREAM, wants_arrow
from service.divergences.codecs.bodies import ArrayBodyRoute
from service.divergences.deps import LimitsDep
from service.divergences.inputs import Limits
from service.divergences.metrics import rows_scored
from service.divergences.offload import off_loop_when_large
from service.divergences.plain_pair import plain_kl
from service.divergences.scoring import (
    Backend,
    Scores,
    fast_paths,
    in_base,
    score,
    unit_name,
)
from service.divergences.terms import check_wanted
from service.web.deps import require_api_key_for_divergences

router = APIRouter(
    route_class=ArrayBodyRoute,
    tags=["divergences"],
    dependencies=[Depends(require_api_key_for_divergences)],
)

DivergenceName = Annotated[
    str,
    Path(description="A divergence listed by GET /divergences, e.g. kl or js.", examples=["kl"]),
]


def member(name: str) -> Divergence:
    """The member of the family named in the path; 422 naming it when there is none."""
    try:
        return DIVERGENCES[name]
    except KeyError:
        known = ", ".join(DIVERGENCES)
        raise InvalidInput(
            ("path", "name"), f"unknown divergence {name!r}; known: {known}", "enum"
        ) from None


AcceptHeader = Annotated[
    str | None,
    Header(description=f"{ARROW_STREAM} for an Arrow IPC stream answer; JSON otherwise."),
]
ARROW_IN_AND_OUT: dict[str, Any] = {
    "openapi_extra": {"requestBody": {"content": {ARROW_STREAM: ARROW_BODY_DOC}}},
    "responses": {
        200: {
            "content": {ARROW_STREAM: ARROW_BODY_DOC},
            "description": "The values per row, as JSON or as an Arrow table.",
        }
    },
}

# Terms and top appear in an answer only when asked for (every other field is always set).
ASKED_ONLY: dict[str, Any] = {"response_model_exclude_unset": True}


def checked_alpha(divergence: Divergence, alpha: float | None) -> float | None:
    """The member's parameter, checked by its declaration; None for members without one."""
    for parameter in divergence.parameters:
        problem = parameter.problem(alpha, divergence.name)
        if problem is not None:
            kind = "missing" if alpha is None else "value_error"
            raise InvalidInput(("body", parameter.name), problem, kind)
        return alpha
    return None


def _score(
    divergence: Divergence,
    body: schemas.KLRequest
    | schemas.KLBatchRequest
    | schemas.DivergenceRequest
    | schemas.DivergenceBatchRequest,
    limits: Limits,
    backend: Backend = "numpy",
) -> Scores:
    """Score ``body`` with its options, and count the rows scored for the metrics."""
    alpha = getattr(body, "alpha", None) if divergence.parameters else None
    terms = check_wanted(divergence, wanted=body.terms, top=body.top, place="body")
    scores = score(
        divergence,
        p=body.p,
        q=body.q,
        limits=limits,
        mode=body.mode,
        epsilon=body.epsilon,
        normalize=body.normalize,
        base=body.base,
        alpha=checked_alpha(divergence, alpha),
        backend=backend,
        p_format=body.p_format,
        q_format=body.q_format,
        temperature=body.temperature,
        terms=terms,
    )
    rows_scored(divergence.name, backend).inc(scores.values.size)
    return scores


@router.post(
    "/kl",
    response_model=schemas.KLResponse,
    summary="KL divergence of two distributions",
    **ASKED_ONLY,
)
@off_loop_when_large
def kl(body: schemas.KLRequest, limits: LimitsDep) -> schemas.KLResponse:
    """KL(p || q) of two distributions, computed in numpy, float64."""
    return kl_answer(body, limits)


def kl_answer(body: schemas.KLRequest, limits: Limits) -> schemas.KLResponse:
    """The answer of ``POST /kl`` (the route's and the fast lane's); raises on bad input.

    With the fast paths off, every pair takes :func:`score`'s full checks, none the plain
    pair's shortcut (:func:`plain_kl`): the same values, the slower way. So do pairs given
    as log-probabilities or logits (the shortcut takes probabilities only), and pairs
    asking for terms."""
    plain = body.p_format == body.q_format == "probabilities" and body.temperature is None
    plain = plain and not body.terms and body.top is None
    if plain and body.mode == "exact" and fast_paths():
        value = plain_kl(body.p, body.q, limits=limits, normalize=body.normalize)
        if value is not None:
            rows_scored("kl", "numpy").inc()
            kl_ = DIVERGENCES["kl"]
            return schemas.KLResponse(
                kl=in_base(value, kl_, body.base),
                finite=True,
                infinite_at=None,
                unit=unit_name(kl_, body.base),
            )
    scores = _score(DIVERGENCES["kl"], body, limits)
    value, finite, at = answers.one(scores)
    return schemas.KLResponse(
        kl=value,
        finite=finite,
        infinite_at=at,
        unit=scores.unit,
        **answers.terms(scores.terms, body.terms, body.top),
    )


@router.post(
    "/kl/batch",
    response_model=schemas.KLBatchResponse,
    **ASKED_ONLY,
    summary="KL divergence, row by row",
    **ARROW_IN_AND_OUT,
)
def kl_batch(
    body: schemas.KLBatchRequest, limits: LimitsDep, accept: AcceptHeader = None
) -> schemas.KLBatchResponse | Response:
    """KL(p_i || q_i) for every row, vectorised on TensorFlow, float64.

    The body may also be an Arrow IPC stream (options as query parameters), and the answer
    is one when asked for with ``Accept: application/vnd.apache.arrow.stream``.
    """
    scores = _score(DIVERGENCES["kl"], body, limits, "tensorflow")
    if wants_arrow(accept):
        return answers.arrow("kl", scores, body.terms, body.top)
    values, finite, at = answers.rows(scores)
    return schemas.KLBatchResponse(
        kl=values,
        finite=finite,
        infinite_at=at,
        unit=scores.unit,
        summary=answers.summary(scores),
        **answers.terms(scores.terms, body.terms, body.top),
    )


@router.get(
    "/divergences", response_model=list[schemas.DivergenceInfo], summary="The divergence family"
)
async def list_divergences() -> list[schemas.DivergenceInfo]:
    """The divergence family: formula, range, parameters and unit of each member."""
    return [
        schemas.DivergenceInfo(
            name=d.name,
            title=d.title,
            formula=d.formula,
            range=d.range,
            symmetric=d.symmetric,
            infinite_when=d.infinite_rule,
            parameters=[parameter.name for parameter in d.parameters],
            uses_base=d.uses_base,
            needs_q=d.needs_q,
            terms=d.terms is not None,
            unit=unit_name(d, "e"),
        )
        for d in DIVERGENCES.values()
    ]


@router.post(
    "/divergences/{name}",
    response_model=schemas.DivergenceResponse,
    summary="One divergence",
    **ASKED_ONLY,
)
@off_loop_when_large
def divergence(
    name: DivergenceName, body: schemas.DivergenceRequest, limits: LimitsDep
) -> schemas.DivergenceResponse:
    """One divergence of the family for one pair, computed in numpy, float64."""
    d = member(name)
    scores = _score(d, body, limits)
    value, finite, at = answers.one(scores)
    return schemas.DivergenceResponse(
        divergence=d.name,
        value=value,
        finite=finite,
        infinite_at=at,
        unit=scores.unit,
        **answers.terms(scores.terms, body.terms, body.top),
    )


@router.post(
    "/divergences/{name}/batch",
    response_model=schemas.DivergenceBatchResponse,
    **ASKED_ONLY,
    summary="One divergence, row by row",
    **ARROW_IN_AND_OUT,
)
def divergence_batch(
    name: DivergenceName,
    body: schemas.DivergenceBatchRequest,
    limits: LimitsDep,
    accept: AcceptHeader = None,
) -> schemas.DivergenceBatchResponse | Response:
    """One divergence of the family for every row, vectorised on TensorFlow, float64.

    Arrow IPC stream bodies and answers as for /kl/batch.
    """
    d = member(name)
    scores = _score(d, body, limits, "tensorflow")
    if wants_arrow(accept):
        return answers.arrow("value", scores, body.terms, body.top)
    values, finite, at = answers.rows(scores)
    return schemas.DivergenceBatchResponse(
        divergence=d.name,
        value=values,
        finite=finite,
        infinite_at=at,
        unit=scores.unit,
        summary=answers.summary(scores),
        **answers.terms(scores.terms, body.terms, body.top),
    )


# The diagonal Gaussians' routes, after the family's (their place in the OpenAPI document).
router.include_router(gaussian_routes.router)
