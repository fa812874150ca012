"""The job queue: Huey, embedded on SQLite by default, on Redis when a URL says so.

Only the job id travels through the queue; everything else is in the job table.
"""

from collections.abc import Callable

from huey import Huey, SqliteHuey

from service.core.config import Settings

QUEUE_NAME = "divergence-jobs"


def make_huey(settings: Settings) -> Huey:
    """A Huey on Redis for ``redis://`` URLs, else on SQLite in ``data_dir``."""
    if settings.queue_url:
        from huey import RedisHuey

        return RedisHuey(QUEUE_NAME, url=settings.queue_url)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return SqliteHuey(QUEUE_NAME, filename=str(settings.data_dir / "queue.db"))


class JobQueue:
    """Submits job ids; a consumer of the same Huey calls ``run(job_id)`` for each."""

    def __init__(self, huey: Huey, run: Callable[[str], None]) -> None:
        self.huey = huey
        self._task = huey.task(name="run_job")(run)

    def submit(self, job_id: str) -> None:
        self._task(job_id)

    def pending_ids(self) -> set[str]:
        """Ids of jobs waiting in the queue (not those a worker has taken)."""
        return {str(task.args[0]) for task in self.huey.pending() if task.args}

    def depth(self) -> int:
        return int(self.huey.pending_count())
