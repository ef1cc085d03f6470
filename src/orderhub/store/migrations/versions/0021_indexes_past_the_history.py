"""Indexes that let the hot path find its rows without reading the seller's history.

Jobs still to run are found through an index that leads with the seller and status, so
finished jobs, which pile up with every order, are never read to find them. An order's
ledger rows are found by seller and order: by order alone, SQLite took the seller's
(tenant, node, sku) index instead, and read the whole ledger. Suppliers' recent
purchase orders, read for their scores while orders are routed, are found by seller,
kind and time sent. A buyer's orders, an order's returns and refunds, and a payload's
exceptions are found by their own keys in the same way. The audit log and the returns
list are read newest first through indexes in that order, a page at a time, instead of
sorting every entry.

Revision ID: 0021
Revises: 0020
"""

from __future__ import annotations

from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


# Indexes on one key that become (tenant, key, …): with the seller asked for too, SQLite
# chose another index that begins with the seller, and read all the seller's rows.
_BY_SELLER = [
    ("stock_ledger", "ix_stock_ledger_order", ["order_id"]),
    ("orders", "ix_orders_buyer_id", ["buyer_id", "id"]),
    ("returns", "ix_returns_order", ["order_id"]),
    ("channel_refunds", "ix_channel_refunds_order", ["order_id"]),
]


def upgrade() -> None:
    op.create_index("ix_outbox_live", "outbox_jobs", ["tenant", "status", "kind", "run_at"])
    op.drop_index("ix_outbox_due", table_name="outbox_jobs")
    op.create_index("ix_dispatches_pushed", "dispatches", ["tenant", "kind", "pushed_at"])
    for table, index, columns in _BY_SELLER:
        op.drop_index(index, table_name=table)
        op.create_index(index, table, ["tenant", *columns])
    op.create_index("ix_exceptions_inbox", "exceptions", ["inbox_id"])
    op.create_index("ix_audit_log_newest", "audit_log", ["tenant", "id"])
    op.create_index("ix_returns_newest", "returns", ["tenant", "created_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_returns_newest", table_name="returns")
    op.drop_index("ix_audit_log_newest", table_name="audit_log")
    op.drop_index("ix_exceptions_inbox", table_name="exceptions")
    for table, index, columns in _BY_SELLER:
        op.drop_index(index, table_name=table)
        op.create_index(index, table, columns[:1])
    op.drop_index("ix_dispatches_pushed", table_name="dispatches")
    op.create_index("ix_outbox_due", "outbox_jobs", ["status", "run_at"])
    op.drop_index("ix_outbox_live", table_name="outbox_jobs")
