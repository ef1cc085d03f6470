"""Alert digests and SLA tracking.

Alerts become rows: the same key raised again adds to its count, and a digest job sends
every unsent alert as one message. Orders get an index on their ship-by time, so the SLA
scan finds the few open orders near their deadline without reading the rest.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_OPEN = "digest_id IS NULL"


def upgrade() -> None:
    op.create_table(
        "alerts",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("tenant", sa.String(length=64), server_default="default", nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("key", sa.String(length=300), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("severity", sa.String(length=16), server_default="warning", nullable=False),
        sa.Column("data", sa.Text(), server_default="{}", nullable=False),
        sa.Column("count", sa.Integer(), server_default="1", nullable=False),
        sa.Column("first_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("digest_id", sa.String(length=40), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alerts")),
    )
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.create_index("ix_alerts_key", ["tenant", "key", "first_at"], unique=False)
        batch_op.create_index("ix_alerts_unsent", ["tenant", "sent_at"], unique=False)
        batch_op.create_index(
            "uq_alerts_open_key",
            ["tenant", "key"],
            unique=True,
            sqlite_where=sa.text(_OPEN),
            postgresql_where=sa.text(_OPEN),
        )
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.create_index("ix_orders_ship_by", ["tenant", "ship_by"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_index("ix_orders_ship_by")
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_alerts_open_key", sqlite_where=sa.text(_OPEN), postgresql_where=sa.text(_OPEN)
        )
        batch_op.drop_index("ix_alerts_unsent")
        batch_op.drop_index("ix_alerts_key")
    op.drop_table("alerts")
