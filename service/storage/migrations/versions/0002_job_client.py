"""Who submitted each job (a hash of its API key, or its address), for per-client limits.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("jobs") as table:
        table.add_column(sa.Column("client", sa.String(80), nullable=True))
        table.create_index("ix_jobs_client_created_at", ["client", "created_at"])


def downgrade() -> None:
    with op.batch_alter_table("jobs") as table:
        table.drop_index("ix_jobs_client_created_at")
        table.drop_column("client")
