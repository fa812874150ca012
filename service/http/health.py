"""Liveness and readiness."""

from collections.abc import Callable

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from service.jobs.runtime import JobsConnector

router = APIRouter(tags=["operations"])


class Health(BaseModel):
    status: str


class Readiness(BaseModel):
    status: str
    checks: dict[str, str]


@router.get("/healthz", response_model=Health, summary="Liveness")
async def healthz() -> Health:
    """200 once the app can serve requests."""
    return Health(status="ok")


def _check(probe: Callable[[], object]) -> str:
    try:
        probe()
    except Exception as error:  # any failure to reach it is the answer
        return f"unreachable: {type(error).__name__}: {error}"[:300]
    return "ok"


@router.get(
    "/readyz",
    response_model=Readiness,
    summary="Readiness",
    responses={503: {"model": Readiness, "description": "A dependency is unreachable"}},
)
def readyz(request: Request) -> JSONResponse:
    """200 when the job database and the queue answer; 503 naming the one that does not."""
    connector: JobsConnector = request.app.state.jobs_connector
    jobs = connector.jobs
    if jobs is None:
        checks = {"jobs": f"unavailable: {connector.error}"}
    else:
        checks = {"database": _check(jobs.store.ping), "queue": _check(jobs.queue.depth)}
    ready = all(v == "ok" for v in checks.values())
    body = Readiness(status="ready" if ready else "unavailable", checks=checks)
    return JSONResponse(body.model_dump(), status_code=200 if ready else 503)
