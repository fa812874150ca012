"""A worker: a Huey consumer running jobs in threads, and a sweeper that recovers jobs.

The sweeper runs at start and then every few seconds: it fails running jobs whose
heartbeat is stale (their worker died: a crash, SIGKILL, a lost machine) and puts back
on the queue the queued jobs the queue no longer holds (Huey does not promise delivery).
On a graceful stop the running job goes back to ``queued``, to run again from the start.
"""

import logging
import os
import socket
import threading
from datetime import timedelta

from huey.consumer import Consumer

from service.core.config import Settings
from service.jobs.queue import JobQueue
from service.jobs.store import JobStore

log = logging.getLogger(__name__)


class _QuietConsumer(Consumer):
    """Huey's consumer without its signal handlers: the host process (uvicorn, or the
    worker command) owns SIGTERM and SIGINT and stops the consumer itself, and the
    consumer can start off the main thread (the jobs connector retries in a thread).

    Huey has no public switch for this: ``Consumer.start`` always calls the private
    ``_set_signal_handlers``. tests/api/test_private_fences.py fails when that changes, and
    pyproject.toml holds huey to the versions tested (docs/private-internals.md)."""

    def _set_signal_handlers(self) -> None:
        pass


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class Worker:
    """Runs queued jobs in ``threads`` threads until ``stop``."""

    def __init__(
        self,
        queue: JobQueue,
        store: JobStore,
        settings: Settings,
        *,
        stopping: threading.Event,
        threads: int = 1,
    ) -> None:
        self.queue = queue
        self.store = store
        self.settings = settings
        self.consumer = _QuietConsumer(
            queue.huey,
            workers=threads,
            worker_type="thread",
            periodic=False,
            check_worker_health=False,
            max_delay=1.0,
            shutdown_timeout=settings.heartbeat_seconds + settings.cancel_grace_seconds + 5,
        )
        self._stopping = stopping
        self._sweeper = threading.Thread(
            target=self._sweep_forever, name="job-sweeper", daemon=True
        )

    def start(self) -> None:
        try:
            self.sweep()
        except Exception:  # the queue or database may come up later; the sweeper retries
            log.exception("first job sweep failed")
        self.consumer.start()
        self._sweeper.start()
        log.info("worker %s started", worker_id())

    def stop(self) -> None:
        """Stop taking jobs; a running job hands itself back to the queue."""
        self._stopping.set()
        self.consumer.stop(graceful=True)

    def sweep(self) -> None:
        stale = timedelta(seconds=self.settings.stale_after_seconds)
        for job_id in self.store.fail_stale(stale):
            log.warning("job %s failed: its worker stopped beating", job_id)
        pending = self.queue.pending_ids()
        for job_id in self.store.queued_ids():
            if job_id not in pending:
                log.info("job %s was queued but not in the queue; enqueued again", job_id)
                self.queue.submit(job_id)

    def _sweep_forever(self) -> None:
        interval = max(self.settings.stale_after_seconds / 3, 0.5)
        while not self._stopping.wait(interval):
            try:
                self.sweep()
            except Exception:  # a database blip must not end the sweeper
                log.exception("job sweep failed; trying again in %.1f s", interval)
