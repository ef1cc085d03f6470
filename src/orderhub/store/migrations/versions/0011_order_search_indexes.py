"""Indexes for finding an order by its tracking number or by a SKU on a large store.

A person looking for the order of a parcel, or every order of a product (by our SKU or
the shop's own code), gets an index look-up instead of a read of every shipment or line.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

INDEXES = {
    "ix_shipments_tracking": ("shipments", ["tenant", "tracking_no"]),
    "ix_order_lines_channel_sku": ("order_lines", ["tenant", "channel_sku"]),
}


def upgrade() -> None:
    for name, (table, columns) in INDEXES.items():
        op.create_index(name, table, columns)


def downgrade() -> None:
    for name, (table, _) in INDEXES.items():
        op.drop_index(name, table_name=table)
