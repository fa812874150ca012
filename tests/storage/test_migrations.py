"""The migrations: a database of an earlier release is upgraded in place, its jobs kept,
on SQLite and on PostgreSQL; the tables the code maps are the tables the migrations make."""

from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from service.jobs.store import JobStore
from service.samples.profile_store import ProfileStore
from service.storage.database import Base, make_engine, migrate, now

JOB = "a" * 32


def upgrade_to(url: str, revision: str) -> None:
    engine = make_engine(url)
    config = Config()
    config.set_main_option("script_location", "service.storage:migrations")
    with engine.connect() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
        connection.commit()
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'jobs.db'}"
    return str(request.getfixturevalue("database_url"))


def test_a_database_of_the_previous_release_keeps_its_jobs_and_gains_profiles(url: str) -> None:
    upgrade_to(url, "0002")
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO jobs (id, experiment, parameters, status, cancel_requested, "
                "attempts, created_at) VALUES (:id, :experiment, '{}', 'succeeded', "
                ":cancel, 1, :created)"
            ),
            {"id": JOB, "experiment": "kl-vs-ce-cifar10", "cancel": False, "created": now()},
        )
    migrate(engine)
    assert JobStore(engine).get(JOB) is not None
    profiles = ProfileStore(engine)
    made = profiles.add_profile(name="p", rows=1, columns={"x": {"kind": "numeric"}}, client=None)
    assert profiles.profile(made.id).kinds == {"x": "numeric"}
    assert {"profiles", "drift_reports", "jobs"} <= set(inspect(engine).get_table_names())
    engine.dispose()


def test_the_mapped_tables_match_the_migrated_schema(url: str) -> None:
    engine = make_engine(url)
    migrate(engine)
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    engine.dispose()
    assert differences == []
