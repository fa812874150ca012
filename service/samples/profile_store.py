"""Reference profiles and their drift reports, in the service's database.

A profile keeps, per column, what drift needs of the reference table (bins, counts,
quantiles, categories), never the rows themselves. Deleting a profile deletes its drift
reports in the same transaction (SQLite does not enforce the foreign key's cascade).
"""

import uuid
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, delete, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from service.core.errors import NotFound
from service.storage.database import Base, in_utc, now, transaction


class Profile(Base):
    __tablename__ = "profiles"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    rows: Mapped[int] = mapped_column(Integer)
    kinds: Mapped[dict[str, str]] = mapped_column(JSON)
    columns: Mapped[dict[str, Any]] = mapped_column(JSON)
    client: Mapped[str | None] = mapped_column(String(80), nullable=True)


class DriftReport(Base):
    __tablename__ = "drift_reports"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    profile_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("profiles.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    rows: Mapped[int] = mapped_column(Integer)
    result: Mapped[dict[str, Any]] = mapped_column(JSON)


Stored = TypeVar("Stored", Profile, DriftReport)


class ProfileStore:
    """Reads and writes profiles and drift reports; every method is one transaction."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def add_profile(
        self, *, name: str | None, rows: int, columns: dict[str, Any], client: str | None
    ) -> Profile:
        profile = Profile(
            id=uuid.uuid4().hex,
            name=name,
            created_at=now(),
            rows=rows,
            kinds={column: summary["kind"] for column, summary in columns.items()},
            columns=columns,
            client=client,
        )
        with transaction(self.engine) as session:
            session.add(profile)
        return profile

    def _get(self, record: type[Stored], identifier: str, what: str) -> Stored:
        with transaction(self.engine) as session:
            found = session.get(record, identifier)
        if found is None:
            raise NotFound(f"no {what} {identifier!r}")
        found.created_at = in_utc(found.created_at)
        return found

    def profile(self, profile_id: str) -> Profile:
        """The profile, or :class:`NotFound`."""
        return self._get(Profile, profile_id, "profile")

    def profiles(self, *, limit: int, offset: int) -> tuple[list[Profile], int]:
        """Profiles newest first, without their columns' details, and how many in all."""
        listed = select(Profile.id, Profile.name, Profile.created_at, Profile.rows, Profile.kinds)
        with transaction(self.engine) as session:
            rows = session.execute(
                listed.order_by(Profile.created_at.desc(), Profile.id).limit(limit).offset(offset)
            ).all()
            total = session.scalar(select(func.count()).select_from(Profile)) or 0
        found = [
            Profile(
                id=r.id, name=r.name, created_at=in_utc(r.created_at), rows=r.rows, kinds=r.kinds
            )
            for r in rows
        ]
        return found, total

    def delete_profile(self, profile_id: str) -> None:
        """Delete the profile and its drift reports, or :class:`NotFound`."""
        with transaction(self.engine) as session:
            session.execute(delete(DriftReport).where(DriftReport.profile_id == profile_id))
            gone = session.execute(delete(Profile).where(Profile.id == profile_id))
        if not gone.rowcount:  # type: ignore[attr-defined]
            raise NotFound(f"no profile {profile_id!r}")

    def add_report(self, profile_id: str, *, rows: int, result: dict[str, Any]) -> DriftReport:
        """Store a drift report; :class:`NotFound` if its profile was deleted meanwhile."""
        report = DriftReport(
            id=uuid.uuid4().hex, profile_id=profile_id, created_at=now(), rows=rows, result=result
        )
        try:
            with transaction(self.engine) as session:
                if session.get(Profile, profile_id) is None:
                    raise NotFound(f"no profile {profile_id!r}")
                session.add(report)
        except IntegrityError:  # deleted between the check and the insert (PostgreSQL)
            raise NotFound(f"no profile {profile_id!r}") from None
        return report

    def report(self, report_id: str) -> DriftReport:
        """The drift report, or :class:`NotFound`."""
        return self._get(DriftReport, report_id, "drift report")

    def reports(self, profile_id: str, *, limit: int, offset: int) -> tuple[list[DriftReport], int]:
        """The profile's drift reports newest first, and how many in all."""
        where = DriftReport.profile_id == profile_id
        with transaction(self.engine) as session:
            found = list(
                session.scalars(
                    select(DriftReport)
                    .where(where)
                    .order_by(DriftReport.created_at.desc(), DriftReport.id)
                    .limit(limit)
                    .offset(offset)
                )
            )
            total = session.scalar(select(func.count()).select_from(DriftReport).where(where)) or 0
        for report in found:
            report.created_at = in_utc(report.created_at)
        return found, total
