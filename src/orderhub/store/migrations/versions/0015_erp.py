"""The ERP a seller books into, and every document booked there.

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "erps",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
        sa.Column("tenant", sa.String(64), nullable=False, server_default="default"),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("platform", sa.String(32), nullable=False),
        sa.Column("name", sa.String(200), nullable=False, server_default=""),
        sa.Column("settings", sa.Text(), nullable=False, server_default="{}"),
        sa.Column("secrets", sa.Text(), nullable=False, server_default=""),
        sa.Column("mapping", sa.Text(), nullable=False, server_default="{}"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("tenant", "code"),
    )
    op.create_table(
        "erp_documents",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
        sa.Column("tenant", sa.String(64), nullable=False, server_default="default"),
        sa.Column("erp", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("our_no", sa.String(200), nullable=False),
        sa.Column("order_id", sa.String(64), nullable=True),
        sa.Column("form", sa.String(64), nullable=False, server_default=""),
        sa.Column("bill_id", sa.BigInteger(), nullable=True),
        sa.Column("bill_no", sa.String(80), nullable=False, server_default=""),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("erp_status", sa.String(8), nullable=False, server_default=""),
        sa.Column("detail", sa.Text(), nullable=False, server_default=""),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("tenant", "erp", "kind", "our_no"),
    )
    op.create_index("ix_erp_documents_order", "erp_documents", ["tenant", "order_id"])


def downgrade() -> None:
    op.drop_index("ix_erp_documents_order", "erp_documents")
    op.drop_table("erp_documents")
    op.drop_table("erps")
