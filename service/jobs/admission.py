"""Admitting a client's new job within its limits, as one atomic step.

Counting a client's jobs and inserting the new one happen in one transaction that holds a
per-client lock from before the count until the commit, so concurrent submissions of one
client are serialised and can never overshoot its caps (a count followed by a separate
insert lets every racer see the same count and all of them insert):

- PostgreSQL: the transaction first takes an advisory lock keyed by a hash of the client
  (``pg_advisory_xact_lock``). Under READ COMMITTED (asked for explicitly) each statement
  after it reads a fresh snapshot, and PostgreSQL makes a transaction's rows visible before
  it releases its locks, so the counts see every job an earlier holder inserted. Clients
  whose hashes collide only wait for each other. No table or row is locked for others.
- SQLite: ``BEGIN IMMEDIATE`` takes the database's write lock before the count, so no
  other connection can insert between the count and the insert (readers go on in WAL
  mode; writers wait for the busy timeout).
"""

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import func, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from service.jobs.store import QUEUED, Job, JobStore, now

WINDOW = timedelta(minutes=1)
# The first key of the two-key advisory locks taken here ("jobs" in ASCII), so they cannot
# meet advisory locks that other code takes with one key or another namespace.
_LOCK_SPACE = 0x6A6F6273


@dataclass(frozen=True)
class ClientLimits:
    per_minute: int
    max_queued: int


@dataclass(frozen=True)
class Refusal:
    """Why a submission was refused, with the client's usage when it was."""

    over: Literal["rate", "queue"]
    submitted: int
    oldest: datetime | None
    queued: int


def new_job(experiment: str, parameters: dict[str, Any], client: str | None) -> Job:
    """A queued job with an unguessable id, not yet stored."""
    return Job(
        client=client,
        id=uuid.uuid4().hex,
        experiment=experiment,
        parameters=parameters,
        status=QUEUED,
        cancel_requested=False,
        attempts=0,
        created_at=now(),
    )


@contextmanager
def _client_transaction(engine: Engine, client: str) -> Iterator[Session]:
    """A transaction (committed at the end) in which no other admission of ``client`` runs."""
    with Session(engine, expire_on_commit=False) as session:
        if engine.dialect.name == "postgresql":
            session.connection(execution_options={"isolation_level": "READ COMMITTED"})
            session.execute(
                text("SELECT pg_advisory_xact_lock(:space, hashtext(:client))"),
                {"space": _LOCK_SPACE, "client": client},
            )
        elif engine.dialect.name == "sqlite":
            # The driver would begin a deferred transaction at the INSERT only: too late.
            session.connection().exec_driver_sql("BEGIN IMMEDIATE")
        else:
            raise NotImplementedError(f"no per-client lock for {engine.dialect.name}")
        yield session
        session.commit()


def admit(
    store: JobStore,
    experiment: str,
    parameters: dict[str, Any],
    client: str,
    limits: ClientLimits,
) -> Job | Refusal:
    """A new queued job for ``client``, or the refusal when it submitted
    ``limits.per_minute`` jobs within the last minute or has ``limits.max_queued`` queued."""
    with _client_transaction(store.engine, client) as session:
        submitted, oldest = session.execute(
            select(func.count(), func.min(Job.created_at)).where(
                Job.client == client, Job.created_at >= now() - WINDOW
            )
        ).one()
        queued = int(
            session.scalar(select(func.count()).where(Job.client == client, Job.status == QUEUED))
            or 0
        )
        if oldest is not None and oldest.tzinfo is None:
            oldest = oldest.replace(tzinfo=UTC)  # SQLite hands back naive times
        if submitted >= limits.per_minute:
            return Refusal("rate", int(submitted), oldest, queued)
        if queued >= limits.max_queued:
            return Refusal("queue", int(submitted), oldest, queued)
        job = new_job(experiment, parameters, client)
        session.add(job)
    return job
