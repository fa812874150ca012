"""Dependency aliases for the routes."""

from typing import Annotated

from fastapi import Depends, Request

from service.config import Settings, get_settings
from service.divergences.inputs import Limits
from service.jobs.runtime import Jobs


def get_limits(settings: Annotated[Settings, Depends(get_settings)]) -> Limits:
    """The input limits of the numerics contract, from the settings."""
    return Limits(
        max_vector_length=settings.max_vector_length,
        max_batch_rows=settings.max_batch_rows,
        sum_tolerance=settings.sum_tolerance,
    )


def get_jobs(request: Request) -> Jobs:
    """The job store and queue the app opened at start-up."""
    jobs: Jobs = request.app.state.jobs
    return jobs


SettingsDep = Annotated[Settings, Depends(get_settings)]
LimitsDep = Annotated[Limits, Depends(get_limits)]
JobsDep = Annotated[Jobs, Depends(get_jobs)]
