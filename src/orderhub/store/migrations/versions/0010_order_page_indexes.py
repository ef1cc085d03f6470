"""Indexes for the console's pages on a large store.

Today's orders and the orders per minute read a day and an hour of arrivals; the order
list pages newest first by id; finding an order by the platform's id or the shop's
number is an exact look-up. Without these, each read every order the store holds.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

INDEXES = {
    "ix_orders_created": ["tenant", "created_at"],
    "ix_orders_newest": ["tenant", "id"],
    "ix_orders_channel_id": ["tenant", "channel_order_id"],
    "ix_orders_number": ["tenant", "order_no"],
}


def upgrade() -> None:
    for name, columns in INDEXES.items():
        op.create_index(name, "orders", columns)


def downgrade() -> None:
    for name in INDEXES:
        op.drop_index(name, table_name="orders")
