"""The divergence routes' dependencies: the input limits, and the API key where the
settings ask for one on these routes."""

from typing import Annotated

from fastapi import Depends, Request

from service.core.config import Settings
from service.divergences.inputs import Limits
from service.web.deps import SettingsDep
from service.web.security import check_api_key


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


async def require_api_key_for_divergences(request: Request, settings: SettingsDep) -> None:
    """A valid API key on the divergence endpoints, when the settings ask for one there."""
    if settings.require_key_for_divergences:
        check_api_key(request, settings)
