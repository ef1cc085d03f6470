"""Indexes that let the hot path find its rows without reading the seller's history.

Jobs still to run are found through an index that leads with the seller and status, so
finished jobs, which pile up with every order, are never read to find them. An order's
ledger rows are found by seller and order: by order alone, SQLite took the seller's
(tenant, node, sku) index instead, and read the whole ledger. Suppliers' recent
purchase orders, read for their scores while orders are routed, are found by seller,
kind and time sent.

Revision ID: 0021
Revises: 0020
"""

from __future__ import annotations

from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_outbox_live", "outbox_jobs", ["tenant", "status", "kind", "run_at"])
    op.drop_index("ix_outbox_due", table_name="outbox_jobs")
    op.drop_index("ix_stock_ledger_order", table_name="stock_ledger")
    op.create_index("ix_stock_ledger_order", "stock_ledger", ["tenant", "order_id"])
    op.create_index("ix_dispatches_pushed", "dispatches", ["tenant", "kind", "pushed_at"])


def downgrade() -> None:
    op.drop_index("ix_dispatches_pushed", table_name="dispatches")
    op.drop_index("ix_stock_ledger_order", table_name="stock_ledger")
    op.create_index("ix_stock_ledger_order", "stock_ledger", ["order_id"])
    op.create_index("ix_outbox_due", "outbox_jobs", ["status", "run_at"])
    op.drop_index("ix_outbox_live", table_name="outbox_jobs")
