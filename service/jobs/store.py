"""Job records in a SQL database (SQLite by default, PostgreSQL when scaled out).

The table is the single source of truth about a job. State changes that two processes
could race on (claiming a queued job, cancelling it) are single conditional UPDATEs, so
exactly one of the racers wins. New jobs are inserted by ``admission``, under a per-client
lock that keeps each client within its limits.
"""

from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, Index, Integer, String, Text, func, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Mapped, Session, mapped_column

from service.storage import database
from service.storage.database import Base, in_utc, now

QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELLED = (
    "queued",
    "running",
    "succeeded",
    "failed",
    "cancelled",
)
FINISHED = (SUCCEEDED, FAILED, CANCELLED)


class Job(Base):
    """One experiment job."""

    __tablename__ = "jobs"
    # Per-client admission counts a client's recent jobs (migration 0002).
    __table_args__ = (Index("ix_jobs_client_created_at", "client", "created_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    experiment: Mapped[str] = mapped_column(String(64))
    parameters: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), index=True, default=QUEUED)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    worker_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    progress: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    results: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    client: Mapped[str | None] = mapped_column(String(80), nullable=True)


def _in_utc(job: Job) -> Job:
    """``job`` with aware datetimes: SQLite hands back naive ones, and every time is UTC."""
    for name in ("created_at", "started_at", "finished_at", "heartbeat_at"):
        moment = getattr(job, name)
        if moment is not None:
            setattr(job, name, in_utc(moment))
    return job


class JobStore:
    """Reads and writes job records; every method is one short transaction."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def migrate(self) -> None:
        """Bring the schema to the newest revision (safe to run from many processes)."""
        database.migrate(self.engine)

    def ping(self) -> None:
        """Raise if the database cannot be reached."""
        database.ping(self.engine)

    def _session(self) -> AbstractContextManager[Session]:
        return database.transaction(self.engine)

    def get(self, job_id: str) -> Job | None:
        with self._session() as session:
            job = session.get(Job, job_id)
            return None if job is None else _in_utc(job)

    def page(self, *, status: str | None, limit: int, offset: int) -> tuple[list[Job], int]:
        """Jobs newest first (optionally of one status), and how many there are in all."""
        query = select(Job)
        count = select(func.count()).select_from(Job)
        if status is not None:
            query, count = query.where(Job.status == status), count.where(Job.status == status)
        with self._session() as session:
            rows = session.scalars(
                query.order_by(Job.created_at.desc(), Job.id).limit(limit).offset(offset)
            ).all()
            total = session.scalar(count) or 0
            return [_in_utc(job) for job in rows], total

    def _update(self, job_id: str, *conditions: Any, **values: Any) -> bool:
        with self._session() as session:
            result = session.execute(
                update(Job).where(Job.id == job_id, *conditions).values(**values)
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]

    def claim(self, job_id: str, worker_id: str) -> bool:
        """Move a queued job to running for ``worker_id``; False if someone else has it."""
        moment = now()
        return self._update(
            job_id,
            Job.status == QUEUED,
            status=RUNNING,
            worker_id=worker_id,
            started_at=moment,
            heartbeat_at=moment,
            attempts=Job.attempts + 1,
        )

    def beat(
        self,
        job_id: str,
        *,
        progress: dict[str, Any] | None = None,
        results: dict[str, Any] | None = None,
    ) -> bool:
        """Refresh a running job's heartbeat (and its progress and partial results)."""
        values: dict[str, Any] = {"heartbeat_at": now()}
        if progress is not None:
            values["progress"] = progress
        if results is not None:
            values["results"] = results
        return self._update(job_id, Job.status == RUNNING, **values)

    def finish(
        self,
        job_id: str,
        status: str,
        *,
        results: dict[str, Any] | None = None,
        error: str | None = None,
    ) -> bool:
        """End a running job as succeeded, failed or cancelled."""
        values: dict[str, Any] = {"status": status, "finished_at": now(), "error": error}
        if results is not None:
            values["results"] = results
        return self._update(job_id, Job.status == RUNNING, **values)

    def abandon(self, job_id: str, reason: str) -> bool:
        """Fail a queued job that could not be put on the queue."""
        return self._update(
            job_id, Job.status == QUEUED, status=FAILED, finished_at=now(), error=reason
        )

    def requeue(self, job_id: str) -> bool:
        """Hand a running job back to the queue (its worker is shutting down)."""
        return self._update(
            job_id,
            Job.status == RUNNING,
            status=QUEUED,
            worker_id=None,
            started_at=None,
            heartbeat_at=None,
            progress=None,
            results=None,
        )

    def cancel(self, job_id: str) -> Job | None:
        """Cancel a queued job at once; ask a running one to stop. None if no such job."""
        if not self._update(
            job_id, Job.status == QUEUED, status=CANCELLED, finished_at=now(), cancel_requested=True
        ):
            self._update(job_id, Job.status == RUNNING, cancel_requested=True)
        return self.get(job_id)

    def cancel_requested(self, job_id: str) -> bool:
        job = self.get(job_id)
        return job is None or job.cancel_requested

    def fail_stale(self, stale_after: timedelta) -> list[str]:
        """Fail running jobs whose heartbeat is older than ``stale_after``: their worker died."""
        cutoff = now() - stale_after
        with self._session() as session:
            ids = list(
                session.scalars(
                    select(Job.id).where(Job.status == RUNNING, Job.heartbeat_at < cutoff)
                )
            )
        failed = []
        for job_id in ids:
            reason = (
                f"the worker stopped while running this job (no heartbeat for "
                f"{stale_after.total_seconds():g} s); its partial history is kept"
            )
            if self._update(
                job_id,
                Job.status == RUNNING,
                Job.heartbeat_at < cutoff,
                status=FAILED,
                finished_at=now(),
                error=reason,
            ):
                failed.append(job_id)
        return failed

    def queued_ids(self) -> list[str]:
        with self._session() as session:
            return list(session.scalars(select(Job.id).where(Job.status == QUEUED)))

    def oldest_heartbeat(self) -> datetime | None:
        """The stalest heartbeat among running jobs (None when none runs)."""
        with self._session() as session:
            moment = session.scalar(select(func.min(Job.heartbeat_at)).where(Job.status == RUNNING))
        return None if moment is None else in_utc(moment)

    def count_by_status(self) -> dict[str, int]:
        with self._session() as session:
            rows = session.execute(select(Job.status, func.count()).group_by(Job.status)).all()
            return {status: count for status, count in rows}
