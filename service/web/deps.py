"""Dependencies every domain's routes share: the settings and the API key.

They read what the app made at start-up from ``app.state``. They are ``async def`` on
purpose: they do no I/O, and a plain ``def`` dependency would cost a thread-pool hop on
every request.
"""

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, HTTPBearer

from service.core.config import Settings
from service.web.security import check_api_key


async def get_settings(request: Request) -> Settings:
    """The settings the app was created with."""
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(get_settings)]


async def require_api_key(
    request: Request,
    settings: SettingsDep,
    _bearer: Annotated[object, Depends(HTTPBearer(auto_error=False))],
    _header: Annotated[object, Depends(APIKeyHeader(name="X-API-Key", auto_error=False))],
) -> None:
    """A valid API key, when ``DIVERGENCE_API_KEYS`` is set (documented as both schemes)."""
    check_api_key(request, settings)


async def require_api_key_for_divergences(request: Request, settings: SettingsDep) -> None:
    """A valid API key on the endpoints that compute (divergences, distributions, V2),
    when the settings ask for one there (``DIVERGENCE_REQUIRE_KEY_FOR_DIVERGENCES``)."""
    if settings.require_key_for_divergences:
        check_api_key(request, settings)
