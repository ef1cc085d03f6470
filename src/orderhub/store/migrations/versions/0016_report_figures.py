"""Figures the reports read, kept up to date as orders change; a SKU's cost.

Revision ID: 0016
Revises: 0015
"""

from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def _tenant() -> sa.Column[str]:
    return sa.Column("tenant", sa.String(64), primary_key=True, server_default="default")


def _count(name: str) -> sa.Column[int]:
    return sa.Column(name, sa.Integer(), nullable=False, server_default="0")


def _money(name: str) -> sa.Column[Decimal]:
    return sa.Column(name, sa.Numeric(16, 2), nullable=False, server_default="0")


def upgrade() -> None:
    op.create_table(
        "sales_by_day",
        _tenant(),
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("shop", sa.String(64), primary_key=True),
        sa.Column("sku", sa.String(100), primary_key=True),
        sa.Column("node", sa.String(64), primary_key=True),
        _count("lines"),
        _count("units"),
        _money("revenue"),
        _money("discounts"),
        _money("refunds"),
        _count("cancelled_units"),
        _money("cancelled_revenue"),
    )
    op.create_table(
        "orders_by_day",
        _tenant(),
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("shop", sa.String(64), primary_key=True),
        _count("orders"),
        _count("cancelled"),
        _count("shipped"),
        _count("shipped_late"),
        _count("refunded"),
    )
    op.create_table(
        "latency_by_day",
        _tenant(),
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("shop", sa.String(64), primary_key=True),
        sa.Column("node", sa.String(64), primary_key=True),
        sa.Column("measure", sa.String(16), primary_key=True),
        sa.Column("bucket", sa.Integer(), primary_key=True),
        _count("count"),
    )
    op.create_table(
        "report_marks",
        _tenant(),
        sa.Column("order_id", sa.String(64), primary_key=True),
        sa.Column("mark", sa.String(80), primary_key=True),
    )
    with op.batch_alter_table("skus") as batch:
        batch.add_column(sa.Column("cost", sa.Numeric(14, 4), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("skus") as batch:
        batch.drop_column("cost")
    for table in ("report_marks", "latency_by_day", "orders_by_day", "sales_by_day"):
        op.drop_table(table)
