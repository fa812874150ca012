"""The application factory: routers, error handlers, docs served offline, warm-up."""

import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from fastapi_offline import FastAPIOffline
from prometheus_client import REGISTRY

from service import __version__
from service.core.config import Settings, get_settings
from service.distributions import routes as distributions
from service.divergences import routes as divergences
from service.divergences import stream_routes as divergence_streams
from service.divergences.deps import limits_from
from service.divergences.fast_lane import PATH as KL_PATH
from service.divergences.fast_lane import KLFastLane
from service.divergences.scoring import use_fast_paths
from service.http import health, metrics
from service.http.body_limit import BodySizeLimit
from service.http.handlers import install_error_handlers
from service.http.mounts import SubApplication
from service.http.observability import RequestObserver
from service.interop import v2, v2_app
from service.jobs import routes as jobs
from service.jobs.metrics import JobsCollector
from service.jobs.runtime import Jobs, JobsConnector
from service.samples import profile_routes as profiles
from service.samples import routes as samples
from service.samples.profile_store import ProfileStore

log = logging.getLogger(__name__)

DESCRIPTION = """Compares probability distributions: the Kullback-Leibler divergence and its
family, for one pair (numpy) or batches of rows (TensorFlow), in float64.

An infinite divergence is answered as `null` with `finite: false` and the first index to
blame in `infinite_at`: the JSON never holds NaN or Infinity. Errors are
`{"detail": [{"type", "loc", "msg"}]}`, where `loc` names the field, row and element."""


def warm_tensorflow() -> None:
    """Import TensorFlow and trace the batch kernels once, so no request pays for it."""
    import numpy as np

    from service.divergences.tf import kernels

    row = np.full((1, 2), 0.5)
    kernels.kl(row, row)
    log.info("TensorFlow batch kernels ready")


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    if settings.warm_tensorflow:
        threading.Thread(target=warm_tensorflow, name="warm-tensorflow", daemon=True).start()
    collectors: list[JobsCollector] = []

    def on_ready(jobs: Jobs) -> None:
        collectors.append(JobsCollector(jobs))
        REGISTRY.register(collectors[-1])
        # Profiles live in the job database: usable once it is open and migrated.
        app.state.profile_store = ProfileStore(jobs.store.engine)

    connector = JobsConnector(settings, with_worker=settings.embedded_worker, on_ready=on_ready)
    app.state.jobs_connector = connector
    connector.start()
    try:
        yield
    finally:
        for collector in collectors:
            REGISTRY.unregister(collector)
        connector.close()
        app.state.profile_store = None


def _operation_id(route: APIRoute) -> str:
    return route.name


def _openapi(app: FastAPI, *served: FastAPI) -> dict[str, Any]:
    """The app's OpenAPI document, with the routes of the sub-applications it serves."""
    if app.openapi_schema is None:
        app.openapi_schema = get_openapi(
            title=app.title,
            version=app.version,
            description=app.description,
            routes=[*app.routes, *(route for sub in served for route in sub.routes)],
        )
    return app.openapi_schema


def create_app(settings: Settings | None = None) -> FastAPI:
    """A new application configured by ``settings`` (the environment's by default)."""
    settings = settings or get_settings()
    app = FastAPIOffline(
        title="Divergence service",
        version=__version__,
        description=DESCRIPTION,
        lifespan=_lifespan,
        generate_unique_id_function=_operation_id,
        # Prometheus metrics are built in (GET /metrics); OpenTelemetry when asked for.
        telemetry=dict.fromkeys(("tracing", "metrics", "logs"), settings.opentelemetry),
    )
    app.state.settings = settings
    app.state.limits = limits_from(settings)
    install_error_handlers(app)
    routers = (health, metrics, divergences, divergence_streams, distributions, samples, profiles)
    for router in (*routers, jobs):
        app.include_router(router.router)
    app.include_router(jobs.experiments_router)
    # The Open Inference Protocol: an application of its own, with its own error shape.
    v2_protocol = v2_app.create_app(settings, app.state.limits)
    v2_protocol.add_middleware(
        BodySizeLimit, max_bytes=settings.max_body_bytes, answer=v2_app.error
    )
    app.router.routes.append(SubApplication(v2.PREFIX, v2_protocol))
    app.openapi = lambda: _openapi(app, v2_protocol)  # type: ignore[method-assign]
    # Middleware added last runs first: CORS, observer, body limit, then the /kl fast lane
    # just before FastAPI's own exception handling and routing.
    kl_route = next(r for r in divergences.router.routes if getattr(r, "path", "") == KL_PATH)
    app.add_middleware(
        KLFastLane,
        limits=app.state.limits,
        route=kl_route,
        # DIVERGENCE_FAST_PATHS=false turns off this lane and, process-wide (set here, as
        # the app is made), the plain-pair /kl shortcut and the XLA-compiled batch chunks.
        enabled=use_fast_paths(settings.fast_paths) and not settings.require_key_for_divergences,
    )
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes, passes=[v2.PREFIX])
    app.add_middleware(RequestObserver)
    if settings.cors_origin_list:  # closed by default: no CORS headers at all
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origin_list,
            allow_methods=["GET", "POST", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "X-API-Key", "X-Request-ID"],
            expose_headers=["Location", "Retry-After", "X-Request-ID"],
        )
    return app
