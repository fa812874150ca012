"""Liveness and readiness."""

from collections.abc import Callable

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from service.api.deps import JobsDep

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
def readyz(jobs: JobsDep) -> JSONResponse:
    """200 when the job database and the queue answer; 503 naming the one that does not."""
    checks = {"database": _check(jobs.store.ping), "queue": _check(jobs.queue.depth)}
    ready = all(v == "ok" for v in checks.values())
    body = Readiness(status="ready" if ready else "unavailable", checks=checks)
    return JSONResponse(body.model_dump(), status_code=200 if ready else 503)
