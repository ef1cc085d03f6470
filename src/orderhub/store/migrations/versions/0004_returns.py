"""Returns and refunds: the goods coming back, and every channel refund seen.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def _tenant() -> sa.Column[str]:
    return sa.Column("tenant", sa.String(length=64), server_default="default", nullable=False)


def upgrade() -> None:
    op.create_table(
        "returns",
        sa.Column("id", sa.String(length=40), nullable=False),
        _tenant(),
        sa.Column("order_id", sa.String(length=40), nullable=False),
        sa.Column("shop", sa.String(length=64), nullable=False),
        sa.Column("channel_refund_id", sa.String(length=100), nullable=True),
        sa.Column("node", sa.String(length=64), nullable=False),
        sa.Column("dispatch_id", sa.String(length=60), nullable=False),
        sa.Column("kind", sa.String(length=16), server_default="return", nullable=False),
        sa.Column("status", sa.String(length=16), server_default="requested", nullable=False),
        sa.Column("reason", sa.String(length=300), server_default="", nullable=False),
        sa.Column("lines", sa.Text(), server_default="[]", nullable=False),
        sa.Column("received", sa.Text(), server_default="[]", nullable=False),
        sa.Column("refund_status", sa.String(length=16), server_default="none", nullable=False),
        sa.Column("restock", sa.Text(), server_default="{}", nullable=False),
        sa.Column("external_id", sa.String(length=100), nullable=True),
        sa.Column("confirm_id", sa.String(length=200), nullable=True),
        sa.Column("exchange_order_id", sa.String(length=40), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_returns")),
    )
    op.create_index("ix_returns_order", "returns", ["order_id"])
    op.create_index("ix_returns_status", "returns", ["tenant", "status"])
    op.create_index(
        "uq_returns_channel_refund",
        "returns",
        ["tenant", "shop", "channel_refund_id", "dispatch_id"],
        unique=True,
    )
    op.create_table(
        "channel_refunds",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        _tenant(),
        sa.Column("shop", sa.String(length=64), nullable=False),
        sa.Column("refund_id", sa.String(length=100), nullable=False),
        sa.Column("order_id", sa.String(length=40), nullable=True),
        sa.Column("amount", sa.Numeric(precision=18, scale=4), server_default="0", nullable=False),
        sa.Column("restock", sa.Integer(), server_default="0", nullable=False),
        sa.Column("outcome", sa.String(length=32), nullable=False),
        sa.Column("inbox_id", sa.String(length=40), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_channel_refunds")),
        sa.UniqueConstraint("tenant", "shop", "refund_id", name=op.f("uq_channel_refunds_tenant")),
    )
    op.create_index("ix_channel_refunds_order", "channel_refunds", ["order_id"])


def downgrade() -> None:
    op.drop_index("ix_channel_refunds_order", table_name="channel_refunds")
    op.drop_table("channel_refunds")
    op.drop_index("uq_returns_channel_refund", table_name="returns")
    op.drop_index("ix_returns_status", table_name="returns")
    op.drop_index("ix_returns_order", table_name="returns")
    op.drop_table("returns")
