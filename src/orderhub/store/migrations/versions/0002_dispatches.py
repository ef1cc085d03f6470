"""Warehouse orders and purchase orders (dispatches), merge and split.

An order used to go to one node under its own id. From here on, what goes to a node is a
dispatch: one or more orders' lines for one node. Orders already on their way get a
dispatch under their own id, so the codes the nodes know keep working.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _tenant() -> sa.Column[str]:
    return sa.Column("tenant", sa.String(length=64), server_default="default", nullable=False)


def upgrade() -> None:
    with op.batch_alter_table("shops", schema=None) as batch_op:
        batch_op.add_column(sa.Column("routing", sa.Text(), server_default="{}", nullable=False))
    with op.batch_alter_table("nodes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("location", sa.Text(), server_default="{}", nullable=False))
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.alter_column(
            "status", existing_type=sa.String(length=16), type_=sa.String(length=24)
        )
        batch_op.add_column(sa.Column("buyer_key", sa.String(length=64), nullable=True))
        batch_op.create_index(
            "ix_orders_buyer", ["tenant", "shop", "buyer_key", "placed_at"], unique=False
        )

    op.create_table(
        "dispatches",
        sa.Column("id", sa.String(length=60), nullable=False),
        _tenant(),
        sa.Column("node", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), server_default="warehouse", nullable=False),
        sa.Column("shop", sa.String(length=64), nullable=False),
        sa.Column("merge_key", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=16), server_default="pending", nullable=False),
        sa.Column("external_id", sa.String(length=100), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("pushed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("shipped_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("exported_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dispatches")),
    )
    op.create_index("ix_dispatches_open", "dispatches", ["tenant", "node", "status"])
    op.create_index("ix_dispatches_merge", "dispatches", ["tenant", "merge_key", "status"])
    op.create_table(
        "dispatch_lines",
        sa.Column("dispatch_id", sa.String(length=60), nullable=False),
        sa.Column("line_no", sa.String(length=100), nullable=False),
        _tenant(),
        sa.Column("order_id", sa.String(length=40), nullable=False),
        sa.Column("line_id", sa.String(length=100), nullable=False),
        sa.Column("sku", sa.String(length=100), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("shipped", sa.Integer(), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(
            ["dispatch_id"],
            ["dispatches.id"],
            name=op.f("fk_dispatch_lines_dispatch_id_dispatches"),
        ),
        sa.PrimaryKeyConstraint("dispatch_id", "line_no", name=op.f("pk_dispatch_lines")),
    )
    op.create_index("ix_dispatch_lines_order", "dispatch_lines", ["order_id"])

    # Orders already reserved or at a node: one dispatch each, under the order's id.
    op.execute(
        """
        INSERT INTO dispatches (id, tenant, node, kind, shop, status, created_at, pushed_at)
        SELECT o.id, o.tenant, o.node, COALESCE(n.kind, 'warehouse'), o.shop,
               CASE WHEN o.status = 'reserved' THEN 'pending' ELSE 'pushed' END,
               o.updated_at,
               CASE WHEN o.status = 'reserved' THEN NULL ELSE o.updated_at END
        FROM orders o LEFT JOIN nodes n ON n.tenant = o.tenant AND n.code = o.node
        WHERE o.status IN ('reserved', 'pushed', 'cancelling') AND o.node IS NOT NULL
        """
    )
    op.execute(
        """
        INSERT INTO dispatch_lines (dispatch_id, line_no, tenant, order_id, line_id, sku, quantity)
        SELECT l.order_id, l.line_id, l.tenant, l.order_id, l.line_id,
               COALESCE(l.sku, l.channel_sku), l.quantity
        FROM order_lines l JOIN dispatches d ON d.id = l.order_id
        """
    )


def downgrade() -> None:
    op.drop_index("ix_dispatch_lines_order", table_name="dispatch_lines")
    op.drop_table("dispatch_lines")
    op.drop_index("ix_dispatches_merge", table_name="dispatches")
    op.drop_index("ix_dispatches_open", table_name="dispatches")
    op.drop_table("dispatches")
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_index("ix_orders_buyer")
        batch_op.drop_column("buyer_key")
        batch_op.alter_column(
            "status", existing_type=sa.String(length=24), type_=sa.String(length=16)
        )
    with op.batch_alter_table("nodes", schema=None) as batch_op:
        batch_op.drop_column("location")
    with op.batch_alter_table("shops", schema=None) as batch_op:
        batch_op.drop_column("routing")
