"""What each shop sells, as its last pull read it.

Items whose merchant code no listing maps stay listed for a person to map or add,
instead of being printed once and forgotten.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "shop_items",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("tenant", sa.String(length=64), server_default="default", nullable=False),
        sa.Column("shop", sa.String(length=64), nullable=False),
        sa.Column("channel_sku", sa.String(length=100), nullable=False),
        sa.Column("title", sa.String(length=300), server_default="", nullable=False),
        sa.Column("platform_ref", sa.String(length=200), server_default="", nullable=False),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shop_items")),
        sa.UniqueConstraint("tenant", "shop", "channel_sku", name=op.f("uq_shop_items_tenant")),
    )


def downgrade() -> None:
    op.drop_table("shop_items")
