"""Alembic's environment for the service's tables: runs on the connection the caller hands
in. The revisions spell out their tables (``op.create_table``): upgrading needs no models."""

from alembic import context

from service.storage.database import Base

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
