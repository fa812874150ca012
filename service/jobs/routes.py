"""Routes of the jobs: submit, follow, list, cancel, and the report for people."""

import base64
import math
import re
from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse
from pydantic import ValidationError

from service.core.config import Settings
from service.core.errors import Conflict, InvalidInput, NotFound, TooManyRequests, Unavailable
from service.jobs import admission, report, schemas, vae_report
from service.jobs.deps import JobsDep
from service.jobs.store import CANCELLED, FINISHED, Job
from service.training.experiments import EXPERIMENTS
from service.training.vae_params import VAE
from service.web.deps import SettingsDep, require_api_key
from service.web.json_body import ModelBodyRoute
from service.web.pages import SECURITY_HEADERS
from service.web.responses import (
    JSON_ERRORS_OF_NON_JSON_ROUTES,
    NOT_FOUND,
    TOO_MANY,
    UNAUTHORIZED,
    UNAVAILABLE,
    MessageErrorBody,
)
from service.web.security import client_identity

router = APIRouter(
    prefix="/jobs",
    tags=["jobs"],
    route_class=ModelBodyRoute,
    dependencies=[Depends(require_api_key)],
    responses=UNAUTHORIZED,
)

JOB_ID = re.compile(r"[0-9a-f]{32}")
JobId = Annotated[str, Path(description="The job's id, as POST /jobs answered it.")]


def _read(job: Job) -> schemas.JobRead:
    return schemas.JobRead.model_validate(
        {
            "id": job.id,
            "experiment": job.experiment,
            "status": job.status,
            "parameters": job.parameters,
            "created_at": job.created_at,
            "started_at": job.started_at,
            "finished_at": job.finished_at,
            "cancel_requested": job.cancel_requested,
            "attempts": job.attempts,
            "progress": job.progress,
            "results": job.results,
            "error": job.error,
            "links": {"self": f"/jobs/{job.id}", "report": f"/jobs/{job.id}/report"},
        }
    )


def _job(jobs: JobsDep, job_id: str) -> Job:
    # Ids are 32 hex digits; anything else (a NUL, which PostgreSQL text cannot hold) is
    # unknown without asking the database.
    job = jobs.store.get(job_id) if JOB_ID.fullmatch(job_id) else None
    if job is None:
        raise NotFound(f"no job with id {job_id!r}")
    return job


def settings_caps(settings: Settings, experiment: str) -> dict[str, int]:
    """The parameters of ``experiment`` this service's settings cap, and their caps."""
    caps = {
        "epochs": settings.max_epochs,
        "runs": settings.max_runs,
        "batch_size": settings.max_train_batch_size,
    }
    return {field: caps[field] for field in EXPERIMENTS[experiment].bounded}


def _too_many(refusal: admission.Refusal, settings: Settings) -> TooManyRequests:
    """The 429 for ``refusal``: which limit, and when to try again."""
    if refusal.over == "rate" and refusal.oldest is not None:
        wait = math.ceil(max(60 - (datetime.now(UTC) - refusal.oldest).total_seconds(), 1))
        return TooManyRequests(
            f"at most {settings.job_submissions_per_minute} jobs a minute per client; "
            f"try again in {wait} s",
            wait,
        )
    return TooManyRequests(
        f"{refusal.queued} of your jobs are waiting in the queue (at most "
        f"{settings.max_queued_jobs_per_client}); wait for one to start, or cancel one",
        30,
    )


@router.post(
    "",
    status_code=202,
    response_model=schemas.JobRead,
    summary="Queue an experiment",
    responses={**UNAVAILABLE, **TOO_MANY},
)
def submit_job(
    body: schemas.JobCreate,
    jobs: JobsDep,
    settings: SettingsDep,
    request: Request,
    response: Response,
) -> schemas.JobRead:
    """Queue an experiment; answers at once with the job and its URL (Location)."""
    try:
        checked = body.checked()
    except ValidationError as error:
        raise RequestValidationError(
            [{**e, "loc": ("body", *e["loc"])} for e in error.errors(include_url=False)]
        ) from None
    caps = settings_caps(settings, body.experiment)
    for field, limit in caps.items():
        if (value := getattr(checked, field)) > limit:
            raise InvalidInput(
                ("body", field),
                f"{field} is {value}; this service allows at most {limit}",
                "less_than_equal",
            )
    limits = admission.ClientLimits(
        per_minute=settings.job_submissions_per_minute,
        max_queued=settings.max_queued_jobs_per_client,
    )
    parameters = checked.model_dump(exclude={"experiment"})
    job = admission.admit(jobs.store, body.experiment, parameters, client_identity(request), limits)
    if isinstance(job, admission.Refusal):
        raise _too_many(job, settings)
    try:
        jobs.queue.submit(job.id)
    except Exception as error:
        jobs.store.abandon(job.id, f"could not be queued: {type(error).__name__}: {error}")
        raise Unavailable(
            f"the queue is unreachable ({type(error).__name__}); the job was "
            "not queued: try again shortly"
        ) from error
    response.headers["Location"] = f"/jobs/{job.id}"
    return _read(job)


@router.get("", response_model=schemas.JobList, summary="List jobs", responses=UNAVAILABLE)
def list_jobs(
    jobs: JobsDep,
    status: Annotated[schemas.Status | None, Query(description="Only jobs in this state.")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0, le=2**31)] = 0,
) -> schemas.JobList:
    """Jobs, newest first, optionally of one status, a page at a time."""
    records, total = jobs.store.page(status=status, limit=limit, offset=offset)
    return schemas.JobList(
        jobs=[_read(j) for j in records], total=total, limit=limit, offset=offset
    )


@router.get(
    "/{job_id}",
    response_model=schemas.JobRead,
    summary="A job",
    responses={**NOT_FOUND, **UNAVAILABLE},
)
def get_job(job_id: JobId, jobs: JobsDep) -> schemas.JobRead:
    """A job: status, parameters, progress while running, results, error."""
    return _read(_job(jobs, job_id))


@router.delete(
    "/{job_id}",
    status_code=202,
    response_model=schemas.JobRead,
    summary="Cancel a job",
    responses={
        **NOT_FOUND,
        **UNAVAILABLE,
        409: {"model": MessageErrorBody, "description": "Already finished"},
    },
)
def cancel_job(job_id: JobId, jobs: JobsDep) -> schemas.JobRead:
    """Cancel a job: a queued one at once, a running one within an epoch (history kept)."""
    job = _job(jobs, job_id)
    if job.status in FINISHED and job.status != CANCELLED:
        raise Conflict(f"job {job_id} already {job.status}; there is nothing to cancel")
    cancelled = jobs.store.cancel(job_id)
    assert cancelled is not None
    return _read(cancelled)


@router.get(
    "/{job_id}/report",
    response_class=HTMLResponse,
    summary="The job's report page",
    responses=JSON_ERRORS_OF_NON_JSON_ROUTES,
)
def job_report(job_id: JobId, jobs: JobsDep) -> HTMLResponse:
    """An HTML page for people: parameters, summary table, learning curves (the VAE's:
    its loss terms and what they say, reconstructions and samples)."""
    job = _job(jobs, job_id)
    if job.experiment == VAE:
        page = vae_report.report_html(_read(job), (job.results or {}).get("images") or {})
    else:
        page = report.report_html(_read(job))
    return HTMLResponse(page, headers=SECURITY_HEADERS)


@router.get(
    "/{job_id}/curves/{metric}.png",
    response_class=Response,
    summary="A learning-curve picture",
    responses={
        200: {"content": {"image/png": {}}, "description": "A PNG picture."},
        **JSON_ERRORS_OF_NON_JSON_ROUTES,
    },
)
def job_curves(
    job_id: JobId,
    metric: Literal[
        "val_accuracy", "val_loss", "accuracy", "loss", "val_accuracy_difference", "terms"
    ],
    jobs: JobsDep,
) -> Response:
    """A learning-curve picture: the metric per epoch, each loss a colour, each run a line;
    val_accuracy_difference: KL minus CE validation accuracy, the mean over paired runs;
    terms (the VAE): its loss, reconstruction and KL terms."""
    runs = (_job(jobs, job_id).results or {}).get("runs", [])
    if metric == "terms":
        picture = vae_report.terms_png(runs)
    elif metric == "val_accuracy_difference":
        picture = report.difference_png(runs)
    else:
        picture = report.curves_png(runs, metric)
    return Response(picture, media_type="image/png", headers=SECURITY_HEADERS)


@router.get(
    "/{job_id}/images/{name}.png",
    response_class=Response,
    summary="A VAE job's pictures",
    responses={
        200: {"content": {"image/png": {}}, "description": "A PNG picture."},
        **JSON_ERRORS_OF_NON_JSON_ROUTES,
    },
)
def job_images(
    job_id: JobId, name: Literal["reconstructions", "samples"], jobs: JobsDep
) -> Response:
    """reconstructions: test images above their reconstructions; samples: the decoder's
    means for z drawn from the prior. 404 until the job's last run has ended."""
    images = (_job(jobs, job_id).results or {}).get("images") or {}
    if name not in images:
        raise NotFound(f"job {job_id!r} has no {name} picture (yet)")
    picture = base64.b64decode(images[name])
    return Response(picture, media_type="image/png", headers=SECURITY_HEADERS)


experiments_router = APIRouter(tags=["jobs"], dependencies=[Depends(require_api_key)])


@experiments_router.get(
    "/experiments",
    response_model=list[schemas.ExperimentInfo],
    summary="The experiments a job can run",
    responses=UNAUTHORIZED,
)
def list_experiments(settings: SettingsDep) -> list[schemas.ExperimentInfo]:
    """Each experiment: a one-line description, its parameters (JSON Schema, as POST /jobs
    checks them), their defaults, and the caps this service's settings put on them."""
    return [
        schemas.ExperimentInfo(
            name=name,
            description=experiment.description,
            parameters=model.model_json_schema(),
            defaults=model().model_dump(),
            bounded_by_settings=settings_caps(settings, name),
        )
        for name, model in schemas.JOB_MODELS.items()
        if (experiment := EXPERIMENTS[name])
    ]
