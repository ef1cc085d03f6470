"""How each exception was closed, and by whom.

A person may dismiss an exception with a reason; the reason, or the action that closed
it, is kept beside it.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("exceptions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("resolution", sa.Text(), server_default="", nullable=False))
        batch_op.add_column(
            sa.Column("resolved_by", sa.String(length=100), server_default="", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("exceptions", schema=None) as batch_op:
        batch_op.drop_column("resolved_by")
        batch_op.drop_column("resolution")
