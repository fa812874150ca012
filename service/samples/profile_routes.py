"""Routes of reference profiles and drift: read the table, profile or compare, store, shape.

Profiles and drift reports are stored data: like jobs, they need an API key where keys
are configured.
"""

import re
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.responses import HTMLResponse

from service.core.errors import NotFound
from service.samples import drift_report
from service.samples import profile_schemas as schemas
from service.samples.deps import ProfilesDep, divergence_limits
from service.samples.drift import ColumnOptions, drift
from service.samples.metrics import count_drift
from service.samples.profile_store import DriftReport, Profile
from service.samples.profiles import build_profile
from service.samples.table_bodies import (
    TABLE_BODY_DOC,
    TableBodyRoute,
    current_table_of,
    table_of,
)
from service.web.deps import SettingsDep, require_api_key
from service.web.pages import SECURITY_HEADERS
from service.web.responses import UNAUTHORIZED, MessageErrorBody
from service.web.security import client_identity

router = APIRouter(
    tags=["profiles"],
    route_class=TableBodyRoute,
    dependencies=[Depends(require_api_key)],
    responses=UNAUTHORIZED,
)

_ID = re.compile(r"[0-9a-f]{32}")
_ERROR = {
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/MessageErrorBody"}}}
}
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": MessageErrorBody, "description": "No such profile or drift report"}
}
UNAVAILABLE: dict[int | str, dict[str, Any]] = {
    503: {"model": MessageErrorBody, "description": "The database is unreachable"}
}
# The page and the picture answer in their own media type; their errors are still JSON.
_PAGE_ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"description": "No such drift report", **_ERROR},
    503: {"description": "The database is unreachable", **_ERROR},
}
ProfileId = Annotated[str, Path(description="The profile's id, as POST /profiles answered it.")]
DriftId = Annotated[str, Path(description="The report's id, as POST .../drift answered it.")]
Limit = Annotated[int, Query(ge=1, le=100)]
Offset = Annotated[int, Query(ge=0, le=2**31)]


def _checked(identifier: str, what: str) -> str:
    # Ids are 32 hex digits; anything else (a NUL, which PostgreSQL text cannot hold) is
    # unknown without asking the database.
    if not _ID.fullmatch(identifier):
        raise NotFound(f"no {what} {identifier!r}")
    return identifier


def _profile(profile: Profile) -> schemas.ProfileRead:
    return schemas.ProfileRead.model_validate(
        {
            "id": profile.id,
            "name": profile.name,
            "created_at": profile.created_at,
            "rows": profile.rows,
            "columns": profile.columns,
        }
    )


def _report_url(report_id: str) -> str:
    return f"/drift/{report_id}/report"


def _drift(report: DriftReport) -> schemas.DriftRead:
    return schemas.DriftRead.model_validate(
        {
            "id": report.id,
            "profile_id": report.profile_id,
            "created_at": report.created_at,
            "rows": report.rows,
            **report.result,
            "report": _report_url(report.id),
        }
    )


@router.post(
    "/profiles",
    status_code=201,
    response_model=schemas.ProfileRead,
    summary="Profile a reference table",
    responses=UNAVAILABLE,
    openapi_extra=TABLE_BODY_DOC,
)
def create_profile(
    body: schemas.ProfileRequest,
    request: Request,
    response: Response,
    profiles: ProfilesDep,
    settings: SettingsDep,
) -> schemas.ProfileRead:
    """Store, per column, its kind, bins, quantiles, categories and statistics (not the
    rows); the table is JSON columns, an Arrow IPC stream or a Parquet file."""
    table = table_of(body, max_rows=settings.max_table_rows, max_bytes=settings.max_body_bytes)
    columns = build_profile(table, kinds=body.kinds, bins=body.bins)
    rows = max(column["rows"] for column in columns.values())
    profile = profiles.add_profile(
        name=body.name, rows=rows, columns=columns, client=client_identity(request)
    )
    response.headers["Location"] = f"/profiles/{profile.id}"
    return _profile(profile)


@router.get(
    "/profiles", response_model=schemas.ProfileList, summary="List profiles", responses=UNAVAILABLE
)
def list_profiles(
    profiles: ProfilesDep, limit: Limit = 20, offset: Offset = 0
) -> schemas.ProfileList:
    """Profiles newest first, with their columns' kinds."""
    found, total = profiles.profiles(limit=limit, offset=offset)
    summaries = [
        schemas.ProfileSummary(
            id=p.id, name=p.name, created_at=p.created_at, rows=p.rows, kinds=p.kinds
        )
        for p in found
    ]
    return schemas.ProfileList(profiles=summaries, total=total, limit=limit, offset=offset)


@router.get(
    "/profiles/{profile_id}",
    response_model=schemas.ProfileRead,
    summary="A profile",
    responses={**NOT_FOUND, **UNAVAILABLE},
)
def get_profile(profile_id: ProfileId, profiles: ProfilesDep) -> schemas.ProfileRead:
    """The profile: per column its kind, bins, quantiles, categories and statistics."""
    return _profile(profiles.profile(_checked(profile_id, "profile")))


@router.delete(
    "/profiles/{profile_id}",
    status_code=204,
    summary="Delete a profile",
    responses={**NOT_FOUND, **UNAVAILABLE},
)
def delete_profile(profile_id: ProfileId, profiles: ProfilesDep) -> Response:
    """Delete the profile and its drift reports."""
    profiles.delete_profile(_checked(profile_id, "profile"))
    return Response(status_code=204)


@router.post(
    "/profiles/{profile_id}/drift",
    status_code=201,
    response_model=schemas.DriftRead,
    summary="Compare a current table with the profile",
    responses={**NOT_FOUND, **UNAVAILABLE},
    openapi_extra=TABLE_BODY_DOC,
)
def create_drift(
    profile_id: ProfileId,
    body: schemas.DriftRequest,
    response: Response,
    profiles: ProfilesDep,
    settings: SettingsDep,
) -> schemas.DriftRead:
    """Per column a score, its threshold and verdict; unseen categories; the dataset's
    verdict. Stored, with a report page."""
    profile = profiles.profile(_checked(profile_id, "profile"))
    table = current_table_of(
        body, max_rows=settings.max_table_rows, max_bytes=settings.max_body_bytes
    )
    options = {
        name: ColumnOptions(method=m.method, threshold=m.threshold, prior=m.prior)
        for name, m in body.methods.items()
    }
    result = drift(profile.columns, table, options, body.drift_share, divergence_limits(settings))
    rows = max(column["rows"] for column in result["columns"].values())
    report = profiles.add_report(profile.id, rows=rows, result=result)
    count_drift(result)
    response.headers["Location"] = f"/drift/{report.id}"
    return _drift(report)


@router.get(
    "/profiles/{profile_id}/drift",
    response_model=schemas.DriftList,
    summary="The profile's drift reports",
    responses={**NOT_FOUND, **UNAVAILABLE},
)
def list_drift(
    profile_id: ProfileId, profiles: ProfilesDep, limit: Limit = 20, offset: Offset = 0
) -> schemas.DriftList:
    """The drift reports computed against the profile, newest first, with their verdicts."""
    profile = profiles.profile(_checked(profile_id, "profile"))
    found, total = profiles.reports(profile.id, limit=limit, offset=offset)
    reports = [
        schemas.DriftSummary(
            id=r.id,
            created_at=r.created_at,
            rows=r.rows,
            dataset=r.result["dataset"],
            report=_report_url(r.id),
        )
        for r in found
    ]
    return schemas.DriftList(reports=reports, total=total, limit=limit, offset=offset)


@router.get(
    "/drift/{drift_id}",
    response_model=schemas.DriftRead,
    summary="A drift report",
    responses={**NOT_FOUND, **UNAVAILABLE},
)
def get_drift(drift_id: DriftId, profiles: ProfilesDep) -> schemas.DriftRead:
    """The stored drift report, as POST /profiles/{profile_id}/drift answered it."""
    return _drift(profiles.report(_checked(drift_id, "drift report")))


@router.get(
    "/drift/{drift_id}/report",
    response_class=HTMLResponse,
    summary="The drift report's page",
    responses=_PAGE_ERRORS,
)
def drift_page(drift_id: DriftId, profiles: ProfilesDep) -> HTMLResponse:
    """An HTML page for people: the verdicts, and reference and current distributions of
    each column overlaid."""
    report = profiles.report(_checked(drift_id, "drift report"))
    profile = profiles.profile(report.profile_id)
    record = {**_drift(report).model_dump(mode="json"), "profile_name": profile.name}

    def picture_url(column: str) -> str:
        return f"/drift/{report.id}/picture?{urlencode({'column': column})}"

    page = drift_report.report_html(record, picture_url=picture_url)
    return HTMLResponse(page, headers=SECURITY_HEADERS)


@router.get(
    "/drift/{drift_id}/picture",
    response_class=Response,
    summary="A column's reference and current distributions",
    responses={
        200: {"content": {"image/png": {}}, "description": "A PNG picture."},
        **_PAGE_ERRORS,
    },
)
def drift_picture(
    drift_id: DriftId,
    profiles: ProfilesDep,
    column: Annotated[str, Query(description="The column's name.")],
) -> Response:
    """Reference and current distributions of one column, overlaid (PNG)."""
    report = profiles.report(_checked(drift_id, "drift report"))
    columns = report.result["columns"]
    if column not in columns:
        raise NotFound(f"drift report {drift_id!r} has no column {column!r}")
    picture = drift_report.column_png(column, columns[column])
    return Response(picture, media_type="image/png", headers=SECURITY_HEADERS)
