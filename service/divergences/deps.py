"""The divergence routes' dependency: the input limits of the numerics contract."""

from typing import Annotated

from fastapi import Depends, Request

from service.core.config import Settings
from service.divergences.inputs import Limits


def limits_from(settings: Settings) -> Limits:
    """The input limits of the numerics contract, from the settings."""
    return Limits(
        max_vector_length=settings.max_vector_length,
        max_batch_rows=settings.max_batch_rows,
        sum_tolerance=settings.sum_tolerance,
    )


async def get_limits(request: Request) -> Limits:
    """The limits the app was created with (made once, at start-up)."""
    limits: Limits = request.app.state.limits
    return limits


LimitsDep = Annotated[Limits, Depends(get_limits)]
