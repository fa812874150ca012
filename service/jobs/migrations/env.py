"""Alembic's environment for the job table: runs on the connection the caller hands in."""

from alembic import context

from service.jobs.store import Base

# Several API processes may start at once against one PostgreSQL: one migrates at a time.
_MIGRATION_LOCK = 727_274_001


def run_migrations() -> None:
    connection = context.config.attributes["connection"]
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK})")
        context.run_migrations()


run_migrations()
