"""Routes of the closed-form KL between diagonal Gaussians (``/kl/gaussian``), included by
the family's router (:mod:`.routes`), which gives them its tags and API-key dependency."""

from fastapi import APIRouter

from service.divergences import answers, gaussian_schemas
from service.divergences.codecs.bodies import ArrayBodyRoute
from service.divergences.deps import LimitsDep
from service.divergences.inputs import Limits
from service.divergences.metrics import rows_scored
from service.divergences.offload import off_loop_when_large
from service.divergences.scoring import Scores, score_gaussians

router = APIRouter(route_class=ArrayBodyRoute)


def _score_gaussians(
    body: gaussian_schemas.GaussianKLRequest | gaussian_schemas.GaussianKLBatchRequest,
    limits: Limits,
) -> Scores:
    scores = score_gaussians(
        mu=body.mu,
        logvar=body.logvar,
        mu2=body.mu2,
        logvar2=body.logvar2,
        limits=limits,
        base=body.base,
    )
    rows_scored("gaussian_kl", "numpy").inc(scores.values.size)
    return scores


@router.post(
    "/kl/gaussian",
    response_model=gaussian_schemas.GaussianKLResponse,
    summary="KL of diagonal Gaussians",
)
@off_loop_when_large
def kl_gaussian(
    body: gaussian_schemas.GaussianKLRequest, limits: LimitsDep
) -> gaussian_schemas.GaussianKLResponse:
    """Closed-form KL between diagonal Gaussians; against the standard normal by default."""
    scores = _score_gaussians(body, limits)
    value, finite, _ = answers.one(scores)
    return gaussian_schemas.GaussianKLResponse(kl=value, finite=finite, unit=scores.unit)


@router.post(
    "/kl/gaussian/batch",
    response_model=gaussian_schemas.GaussianKLBatchResponse,
    summary="KL of diagonal Gaussians, row by row",
)
@off_loop_when_large
def kl_gaussian_batch(
    body: gaussian_schemas.GaussianKLBatchRequest, limits: LimitsDep
) -> gaussian_schemas.GaussianKLBatchResponse:
    """Closed-form KL between diagonal Gaussians, row by row."""
    scores = _score_gaussians(body, limits)
    values, finite, _ = answers.rows(scores)
    return gaussian_schemas.GaussianKLBatchResponse(
        kl=values, finite=finite, unit=scores.unit, summary=answers.summary(scores)
    )
