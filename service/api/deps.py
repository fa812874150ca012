"""Dependency aliases for the routes.

Each reads what the app made at start-up from ``app.state`` (the settings it was created
with, the job store and queue). They are ``async def`` on purpose: they do no I/O, and a
plain ``def`` dependency would cost a thread-pool hop on every request.
"""

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, HTTPBearer

from service.api.security import check_api_key
from service.config import Settings
from service.divergences.inputs import Limits
from service.errors import Unavailable
from service.jobs.runtime import Jobs, JobsConnector


def limits_from(settings: Settings) -> Limits:
    """The input limits of the numerics contract, from the settings."""
    return Limits(
        max_vector_length=settings.max_vector_length,
        max_batch_rows=settings.max_batch_rows,
        sum_tolerance=settings.sum_tolerance,
    )


async def get_settings(request: Request) -> Settings:
    """The settings the app was created with."""
    settings: Settings = request.app.state.settings
    return settings


async def get_limits(request: Request) -> Limits:
    limits: Limits = request.app.state.limits
    return limits


async def get_jobs(request: Request) -> Jobs:
    """The job store and queue, or 503 with the reason while they cannot be opened."""
    connector: JobsConnector = request.app.state.jobs_connector
    if connector.jobs is None:
        raise Unavailable(f"jobs are unavailable ({connector.error}); retrying: try again shortly")
    return connector.jobs


SettingsDep = Annotated[Settings, Depends(get_settings)]
LimitsDep = Annotated[Limits, Depends(get_limits)]
JobsDep = Annotated[Jobs, Depends(get_jobs)]


async def require_api_key(
    request: Request,
    settings: SettingsDep,
    _bearer: Annotated[object, Depends(HTTPBearer(auto_error=False))],
    _header: Annotated[object, Depends(APIKeyHeader(name="X-API-Key", auto_error=False))],
) -> None:
    """A valid API key, when ``DIVERGENCE_API_KEYS`` is set (documented as both schemes)."""
    check_api_key(request, settings)


async def require_api_key_for_divergences(request: Request, settings: SettingsDep) -> None:
    """A valid API key on the divergence endpoints, when the settings ask for one there."""
    if settings.require_key_for_divergences:
        check_api_key(request, settings)
