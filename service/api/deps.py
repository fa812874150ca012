"""Dependency aliases for the routes.

Each reads what the app made at start-up from ``app.state`` (the settings it was created
with, the job store and queue). They are ``async def`` on purpose: they do no I/O, and a
plain ``def`` dependency would cost a thread-pool hop on every request.
"""

from typing import Annotated

from fastapi import Depends, Request

from service.config import Settings
from service.divergences.inputs import Limits
from service.jobs.runtime import Jobs


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
    """The job store and queue the app opened at start-up."""
    jobs: Jobs = request.app.state.jobs
    return jobs


SettingsDep = Annotated[Settings, Depends(get_settings)]
LimitsDep = Annotated[Limits, Depends(get_limits)]
JobsDep = Annotated[Jobs, Depends(get_jobs)]
