"""GET /metrics in Prometheus' text format, and the job gauges read at each scrape.

With several uvicorn workers each process keeps its own request counters; scrape each
process, or run one API process per container and scale containers.
"""

import functools
import logging
from collections.abc import Iterator
from datetime import UTC, datetime

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Counter, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from service.jobs.runtime import Jobs

ROWS_SCORED = Counter(
    "divergence_rows_scored_total", "Distribution pairs scored", ["divergence", "backend"]
)


@functools.lru_cache(maxsize=256)
def rows_scored(divergence: str, backend: str) -> Counter:
    """The counter of rows scored by ``divergence`` on ``backend`` (looked up once)."""
    return ROWS_SCORED.labels(divergence, backend)


router = APIRouter(tags=["operations"])
log = logging.getLogger(__name__)


class JobsCollector(Collector):
    """Jobs by status, queue depth and the oldest running job's heartbeat age."""

    def __init__(self, jobs: Jobs) -> None:
        self.jobs = jobs

    def describe(self) -> Iterator[GaugeMetricFamily]:
        # Named here so registering does not call collect (the stores may be down then).
        yield GaugeMetricFamily("jobs", "Jobs by status", labels=["status"])
        yield GaugeMetricFamily("job_queue_depth", "Jobs waiting in the queue")
        yield GaugeMetricFamily("job_worker_heartbeat_age_seconds", "Heartbeat age")

    def collect(self) -> Iterator[GaugeMetricFamily]:
        try:
            yield from self._collect()
        except Exception:  # a scrape while a store is down still answers, without these
            log.warning("job metrics unavailable: a store is unreachable", exc_info=True)

    def _collect(self) -> Iterator[GaugeMetricFamily]:
        by_status = GaugeMetricFamily("jobs", "Jobs by status", labels=["status"])
        counts = self.jobs.store.count_by_status()
        for status in ("queued", "running", "succeeded", "failed", "cancelled"):
            by_status.add_metric([status], counts.get(status, 0))
        yield by_status
        yield GaugeMetricFamily(
            "job_queue_depth", "Jobs waiting in the queue", value=self.jobs.queue.depth()
        )
        oldest = self.jobs.store.oldest_heartbeat()
        age = (datetime.now(UTC) - oldest).total_seconds() if oldest else 0.0
        yield GaugeMetricFamily(
            "job_worker_heartbeat_age_seconds",
            "Age of the stalest heartbeat among running jobs",
            value=age,
        )


@router.get(
    "/metrics",
    response_class=Response,
    summary="Prometheus metrics",
    responses={200: {"content": {"text/plain": {}}, "description": "Prometheus text format."}},
)
def metrics(request: Request) -> Response:
    """Metrics in Prometheus' text format: requests, latency, rows scored, jobs, queue."""
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
