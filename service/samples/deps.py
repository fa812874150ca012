"""What the sample and profile routes depend on: the divergences' limits, the store of
profiles the app opened."""

from typing import Annotated

from fastapi import Depends, Request

from service.core.config import Settings
from service.core.errors import Unavailable
from service.divergences.inputs import Limits
from service.samples.profile_store import ProfileStore


async def get_profiles(request: Request) -> ProfileStore:
    """The profile store, or 503 while the database cannot be opened."""
    store: ProfileStore | None = getattr(request.app.state, "profile_store", None)
    if store is None:
        raise Unavailable(
            "profiles are unavailable (the database cannot be reached yet); retrying: "
            "try again shortly"
        )
    return store


ProfilesDep = Annotated[ProfileStore, Depends(get_profiles)]


def divergence_limits(settings: Settings) -> Limits:
    """The limits the divergences' scoring applies (vector length, rows, sum tolerance)."""
    return Limits(
        max_vector_length=settings.max_vector_length,
        max_batch_rows=settings.max_batch_rows,
        sum_tolerance=settings.sum_tolerance,
    )
