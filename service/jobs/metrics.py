"""The job gauges, read from the store and the queue at each Prometheus scrape."""

import logging
from collections.abc import Iterator
from datetime import UTC, datetime

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from service.jobs.runtime import Jobs

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
