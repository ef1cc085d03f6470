"""One buyer across shops, known by keyed hashes of phone, e-mail, open id or OAID.

Orders made before this version have no buyer; they are counted from here on.

Revision ID: 0017
Revises: 0016
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "buyers",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("tenant", sa.String(64), nullable=False, server_default="default"),
        sa.Column("orders", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("spend", sa.Numeric(16, 2), nullable=False, server_default="0"),
        sa.Column("returns", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("tags", sa.Text(), nullable=False, server_default="[]"),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "buyer_keys",
        sa.Column("tenant", sa.String(64), primary_key=True, server_default="default"),
        sa.Column("key_hash", sa.String(64), primary_key=True),
        sa.Column("buyer_id", sa.String(40), nullable=False),
    )
    op.create_index("ix_buyer_keys_buyer", "buyer_keys", ["buyer_id"])
    op.add_column("orders", sa.Column("buyer_id", sa.String(40), nullable=True))
    op.create_index("ix_orders_buyer_id", "orders", ["buyer_id"])


def downgrade() -> None:
    op.drop_index("ix_orders_buyer_id", table_name="orders")
    with op.batch_alter_table("orders") as batch:
        batch.drop_column("buyer_id")
    op.drop_index("ix_buyer_keys_buyer", table_name="buyer_keys")
    op.drop_table("buyer_keys")
    op.drop_table("buyers")
