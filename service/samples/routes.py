"""Routes of the sample estimators: parse both samples, estimate, shape the answer."""

from typing import Annotated

from fastapi import APIRouter, Depends, Path

from service.samples import schemas
from service.samples.deps import divergence_limits
from service.samples.estimators import ESTIMATORS, estimate
from service.samples.methods import Estimate, Options, json_number
from service.samples.parsing import check_pair, parse_sample
from service.web.deps import SettingsDep, require_api_key_for_divergences
from service.web.json_body import ModelBodyRoute

router = APIRouter(
    route_class=ModelBodyRoute,
    tags=["samples"],
    dependencies=[Depends(require_api_key_for_divergences)],
)

SampleDivergenceName = Annotated[
    str,
    Path(
        description="A divergence of GET /divergences, or wasserstein or energy.",
        examples=["kl"],
    ),
]


@router.get(
    "/samples/methods",
    response_model=list[schemas.EstimatorInfo],
    summary="The sample estimators and what each supports",
)
async def list_methods() -> list[schemas.EstimatorInfo]:
    """Each method: the samples it takes, the divergences it estimates, its options."""
    return [
        schemas.EstimatorInfo(
            method=e.method,
            title=e.title,
            samples=e.samples,
            divergences=list(e.divergences),
            options=list(e.options),
            interval=e.interval,
            permutation=e.permutation,
        )
        for e in ESTIMATORS.values()
    ]


@router.post(
    "/samples/divergences/{name}",
    response_model=schemas.SampleDivergenceResponse,
    summary="A divergence estimated from two samples",
)
def sample_divergence(
    name: SampleDivergenceName, body: schemas.SampleDivergenceRequest, settings: SettingsDep
) -> schemas.SampleDivergenceResponse:
    """D(P || Q) estimated from draws x of P and y of Q, with an interval and a p-value
    on request."""
    rows = settings.max_sample_rows
    categorical = body.categorical or body.method == "categorical"
    x = parse_sample(body.x, "x", categorical=categorical, max_rows=rows)
    y = parse_sample(body.y, "y", categorical=categorical, max_rows=rows)
    check_pair(x, y)
    options = Options(
        base=body.base,
        alpha=body.alpha,
        bins=body.bins,
        bin_count=body.bin_count,
        prior=body.prior,
        k=body.k,
        bootstrap=body.bootstrap,
        confidence=body.confidence,
        permutations=body.permutations,
        seed=body.seed,
        max_bins=min(schemas.MAX_BINS, settings.max_vector_length),
    )
    found = estimate(name, body.method, x, y, options, divergence_limits(settings))
    return _answer(name, found, x.size, y.size)


def _answer(name: str, found: Estimate, n_x: int, n_y: int) -> schemas.SampleDivergenceResponse:
    interval = found.interval
    details = found.details
    return schemas.SampleDivergenceResponse(
        divergence=name,
        method=found.method,
        value=json_number(found.value),
        finite=json_number(found.value) is not None,
        infinite_at=found.infinite_at,
        unit=found.unit,
        n_x=n_x,
        n_y=n_y,
        interval=None
        if interval is None
        else schemas.Interval(
            low=json_number(interval.low),
            high=json_number(interval.high),
            confidence=interval.confidence,
            scheme=interval.scheme,
            resamples=interval.resamples,
        ),
        p_value=found.p_value,
        edges=details.get("edges"),
        categories=details.get("categories"),
        counts_x=details.get("counts_x"),
        counts_y=details.get("counts_y"),
        prior=details.get("prior"),
        k=details.get("k"),
        dimension=details.get("dimension"),
    )
