"""Everything a process needs for jobs, made once at start-up and kept on ``app.state``."""

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from service.core.config import Settings
from service.jobs.queue import JobQueue, make_huey
from service.jobs.runner import JobRunner
from service.jobs.store import JobStore
from service.jobs.worker import Worker, worker_id
from service.storage.database import make_engine

log = logging.getLogger(__name__)


@dataclass
class Jobs:
    store: JobStore
    queue: JobQueue
    worker: Worker | None

    def close(self) -> None:
        if self.worker is not None:
            self.worker.stop()
        self.store.engine.dispose()


def start_jobs(settings: Settings, *, with_worker: bool) -> Jobs:
    """Open the job store and the queue, and start a worker when ``with_worker``."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    store = JobStore(make_engine(settings.job_database_url))
    store.migrate()
    stopping = threading.Event()
    runner = JobRunner(store, settings, worker_id(), stopping)
    queue = JobQueue(make_huey(settings), runner.run)
    worker = None
    if with_worker:
        worker = Worker(queue, store, settings, stopping=stopping)
        worker.start()
    return Jobs(store, queue, worker)


class JobsConnector:
    """Opens the jobs machinery, and keeps trying in the background while the database or
    the queue cannot be reached (or the data directory cannot be written), so the process
    starts anyway: the divergence endpoints serve, the job endpoints answer 503 with the
    reason, and everything works once the dependency is back, without a restart."""

    def __init__(
        self,
        settings: Settings,
        *,
        with_worker: bool,
        on_ready: Callable[[Jobs], None] = lambda jobs: None,
        retry_seconds: float = 2.0,
    ) -> None:
        self.settings = settings
        self.with_worker = with_worker
        self.on_ready = on_ready
        self.retry_seconds = retry_seconds
        self.jobs: Jobs | None = None
        self.error: str | None = "starting"
        self._closed = threading.Event()
        self._lock = threading.Lock()

    def _try(self) -> bool:
        try:
            jobs = start_jobs(self.settings, with_worker=self.with_worker)
        except Exception as error:  # any reason to fail is reported and retried
            self.error = f"{type(error).__name__}: {error}"[:500]
            log.warning(
                "jobs unavailable (%s); retrying every %.0f s", self.error, self.retry_seconds
            )
            return False
        with self._lock:
            if self._closed.is_set():
                jobs.close()
                return True
            self.jobs, self.error = jobs, None
        self.on_ready(jobs)
        return True

    def start(self) -> None:
        """Connect now, or keep trying in a background thread."""
        if not self._try():
            threading.Thread(target=self._retry, name="jobs-connector", daemon=True).start()

    def _retry(self) -> None:
        while not self._closed.wait(self.retry_seconds):
            if self._try():
                return

    def close(self) -> None:
        with self._lock:
            self._closed.set()
            jobs, self.jobs = self.jobs, None
        if jobs is not None:
            jobs.close()
