"""Statement lines from the channels, and reconciliations of a shop's day with them.

Revision ID: 0018
Revises: 0017
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def _tenant(primary_key: bool = True) -> sa.Column[str]:
    return sa.Column(
        "tenant", sa.String(64), primary_key=primary_key, nullable=False, server_default="default"
    )


def upgrade() -> None:
    op.create_table(
        "statement_lines",
        _tenant(),
        sa.Column("shop", sa.String(64), primary_key=True),
        sa.Column("reference", sa.String(100), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("amount", sa.Numeric(16, 2), nullable=False),
        sa.Column("fee", sa.Numeric(16, 2), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False, server_default=""),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("order_ref", sa.String(100), nullable=False, server_default=""),
        sa.Column("payout", sa.String(100), nullable=False, server_default=""),
    )
    op.create_index("ix_statement_lines_at", "statement_lines", ["tenant", "shop", "at"])
    op.create_index("ix_statement_lines_order", "statement_lines", ["tenant", "shop", "order_ref"])
    op.create_table(
        "reconciliations",
        _tenant(),
        sa.Column("shop", sa.String(64), primary_key=True),
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("figures", sa.Text(), nullable=False),
        sa.Column("run_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("run_by", sa.String(100), nullable=False, server_default=""),
    )
    op.create_table(
        "reconciliation_differences",
        sa.Column("id", sa.String(40), primary_key=True),
        _tenant(primary_key=False),
        sa.Column("shop", sa.String(64), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("ref", sa.String(100), nullable=False),
        sa.Column("order_id", sa.String(40), nullable=True),
        sa.Column("expected", sa.Numeric(16, 2), nullable=True),
        sa.Column("received", sa.Numeric(16, 2), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False, server_default="open"),
        sa.Column("note", sa.Text(), nullable=False, server_default=""),
        sa.Column("resolved_by", sa.String(100), nullable=False, server_default=""),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("tenant", "shop", "day", "kind", "ref"),
    )


def downgrade() -> None:
    op.drop_table("reconciliation_differences")
    op.drop_table("reconciliations")
    op.drop_index("ix_statement_lines_order", "statement_lines")
    op.drop_index("ix_statement_lines_at", "statement_lines")
    op.drop_table("statement_lines")
