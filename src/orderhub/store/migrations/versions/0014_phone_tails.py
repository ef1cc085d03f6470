"""Orders found by the last four digits of the receiver's phone, by keyed hash.

The column holds a keyed hash of the four digits, never the digits; it is filled as
orders are stored, and for orders kept before this version when the hub next starts.

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("orders", sa.Column("phone_tail", sa.String(64), nullable=True))
    op.create_index("ix_orders_phone_tail", "orders", ["tenant", "phone_tail"])


def downgrade() -> None:
    op.drop_index("ix_orders_phone_tail", table_name="orders")
    with op.batch_alter_table("orders") as batch:  # SQLite rebuilds the table
        batch.drop_column("phone_tail")
