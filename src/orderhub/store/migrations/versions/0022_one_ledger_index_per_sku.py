"""One index of the stock ledger by SKU instead of two.

Every change of stock writes a ledger row, and every index on the ledger is written with
it. (tenant, node, sku) and (tenant, sku, id) both placed the row by its SKU, so a batch
of orders over many SKUs wrote two scattered index pages per reservation. Every read by
item also serves from (tenant, sku, id): a SKU's rows at a node, newest first, are that
index's range for the SKU with the few other nodes' rows passed over, and already in
order.

Revision ID: 0022
Revises: 0021
"""

from __future__ import annotations

from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_stock_ledger_item", table_name="stock_ledger")


def downgrade() -> None:
    op.create_index("ix_stock_ledger_item", "stock_ledger", ["tenant", "node", "sku"])
