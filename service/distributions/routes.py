"""Routes of the parametric families: parse both sides, compute, shape the answer."""

import math
from typing import Annotated, Any

import numpy as np
from fastapi import APIRouter, Body, Depends

from service.core.config import Settings
from service.distributions import examples, schemas
from service.distributions import kl as divergence
from service.distributions.closed_forms import CLOSED_FORMS
from service.distributions.distribution import Side
from service.distributions.families import FAMILIES
from service.distributions.gaussian_distances import distances
from service.distributions.json_reader import read_json
from service.distributions.parsing import Limits, parse
from service.distributions.tensors import Array, Mask
from service.divergences.scoring import log_unit
from service.web.deps import SettingsDep, require_api_key_for_divergences
from service.web.json_body import JSONReader, ModelBodyRoute

# Monte Carlo draws at most this many numbers for one request (about 80 MB of float64
# per array it holds).
MAX_DRAWS = 10_000_000


class DistributionsRoute(ModelBodyRoute):
    """Bodies read by :func:`.json_reader.read_json` first (numbers straight into numpy)."""

    def json_reader(self) -> JSONReader | None:
        return read_json


router = APIRouter(
    route_class=DistributionsRoute,
    tags=["distributions"],
    dependencies=[Depends(require_api_key_for_divergences)],
)

_INFINITE_WHEN = [
    "p and q are of different kinds (continuous, discrete, R^n, the simplex): no common density",
    "q's support does not cover p's (scalar families, element by element)",
    "the closed form's own rule (for example q gives probability 0 to an outcome of p)",
    "Monte Carlo: a draw of p falls where q's density is 0",
]


@router.get(
    "/distributions",
    response_model=schemas.DistributionsInfo,
    summary="The parametric families and their closed forms",
)
async def list_distributions() -> schemas.DistributionsInfo:
    """The families (parameters, constraints, supports) and the pairs with closed forms."""
    return schemas.DistributionsInfo(
        families=[
            schemas.FamilyInfo(
                name=family.name,
                title=family.title,
                parameters=[
                    schemas.ParameterInfo(
                        name=parameter.name,
                        meaning=parameter.meaning,
                        constraint=parameter.constraint.text,
                        rank=parameter.rank,
                        alternatives=parameter.choice,
                    )
                    for parameter in family.parameters
                ],
                support=family.support.text,
                kind=family.support.kind.value,
                event_rank=family.event_rank,
                example=family.example,
            )
            for family in FAMILIES.values()
        ],
        closed_forms=[
            schemas.ClosedFormInfo(p=p, q=q, infinite_when=form.infinite_when or None)
            for (p, q), form in CLOSED_FORMS.items()
        ],
        infinite_when=_INFINITE_WHEN,
        monte_carlo=schemas.MonteCarloInfo(
            default_samples=schemas.MonteCarloOptions().samples,
            max_samples=schemas.MAX_SAMPLES,
            max_draws=MAX_DRAWS,
        ),
    )


def limits_from(settings: Settings) -> Limits:
    return Limits(
        max_batch=settings.max_batch_rows,
        max_dimension=settings.max_vector_length,
        sum_tolerance=settings.sum_tolerance,
    )


@router.post(
    "/distributions/kl",
    response_model=schemas.DistributionKLResponse,
    response_model_exclude_unset=True,
    summary="KL divergence of two parametric distributions",
)
def distributions_kl(
    body: Annotated[schemas.DistributionKLRequest, Body(openapi_examples=examples.EXAMPLES)],
    settings: SettingsDep,
) -> schemas.DistributionKLResponse:
    """KL(p || q) in closed form where known, else by seeded Monte Carlo; batches broadcast."""
    limits = limits_from(settings)
    p, q = _sides(body, limits)
    options = divergence.Options(
        method=body.method,
        samples=body.monte_carlo.samples,
        seed=body.monte_carlo.seed,
        max_batch=limits.max_batch,
        max_draws=MAX_DRAWS,
    )
    result = divergence.kl(p, q, options)
    values = in_base(result.values, body.base)
    finite = np.isfinite(values)
    answer: dict[str, Any] = {
        "kl": _json(values, finite),
        "finite": finite.tolist(),
        "method": result.method,
        "unit": log_unit(body.base),
    }
    if result.reason is not None:
        answer["reason"] = result.reason
    if result.standard_errors is not None:
        errors = in_base(result.standard_errors, body.base)
        answer["standard_error"] = _json(errors, finite & np.isfinite(errors))
        answer["samples"] = result.samples
    return schemas.DistributionKLResponse(**answer)


@router.post(
    "/distributions/gaussian-distances",
    response_model=schemas.GaussianDistancesResponse,
    summary="Hellinger, Bhattacharyya and 2-Wasserstein distances between Gaussians",
)
def gaussian_distances(
    body: schemas.GaussianDistancesRequest, settings: SettingsDep
) -> schemas.GaussianDistancesResponse:
    """Closed forms between Gaussians (normal or multivariate); batches broadcast."""
    found = distances(*_sides(body, limits_from(settings)))
    everywhere = np.ones(found.hellinger.shape, dtype=bool)
    return schemas.GaussianDistancesResponse(
        hellinger=_json(found.hellinger, everywhere),
        bhattacharyya=_json(in_base(found.bhattacharyya, body.base), everywhere),
        wasserstein2=_json(found.wasserstein2, everywhere),
        unit=log_unit(body.base),
    )


def _sides(
    body: schemas.DistributionKLRequest | schemas.GaussianDistancesRequest, limits: Limits
) -> tuple[Side, Side]:
    return parse(body.p.root, ("body", "p"), limits), parse(body.q.root, ("body", "q"), limits)


def _json(values: Array, finite: Mask) -> Any:
    """``values`` as a number or nested lists, null where not finite (JSON has no inf)."""
    if values.ndim == 0:
        return float(values) if finite else None
    if finite.all():
        return values.tolist()
    boxed = values.astype(object)
    boxed[~finite] = None
    return boxed.tolist()


def in_base(nats: Array, base: float | str) -> Array:
    """``nats`` in logarithms of ``base`` (unchanged for ``"e"``)."""
    return nats if base == "e" else nats / math.log(float(base))
