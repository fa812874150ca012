"""Everything a process needs for jobs, made once at start-up and kept on ``app.state``."""

import threading
from dataclasses import dataclass

from service.config import Settings
from service.jobs.queue import JobQueue, make_huey
from service.jobs.runner import JobRunner
from service.jobs.store import JobStore, make_engine
from service.jobs.worker import Worker, worker_id


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
