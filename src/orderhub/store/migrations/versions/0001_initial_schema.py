"""The initial schema: catalogue, stock ledger, inbox, orders, outbox, exceptions, trace.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "bundle_components",
        sa.Column("tenant", sa.String(length=64), server_default="default", nullable=False),
        sa.Column("bundle_sku", sa.String(length=100), nullable=False),
        sa.Column("component_sku", sa.String(length=100), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "tenant", "bundle_sku", "component_sku", name=op.f("pk_bundle_components")
        ),
    )
    with op.batch_alter_table("bundle_components", schema=None) as batch_op:
        batch_op.create_index(
            "ix_bundle_components_component", ["tenant", "component_sku"], unique=False
        )

    op.create_table(
        "exceptions",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("tenant", sa.String(length=64), server_default="default", nullable=False),
        sa.Column("order_id", sa.String(length=40), nullable=True),
        sa.Column("inbox_id", sa.String(length=40), nullable=True),
        sa.Column("job_id", sa.BigInteger(), nullable=True),
        sa.Column("stage", sa.String(length=32), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("field", sa.String(length=200), server_default="", nullable=False),
        sa.Column("severity", sa.String(length=16), server_default="error", nullable=False),
        sa.Column("status", sa.String(length=16), server_default="open", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exceptions")),
    )
    with op.batch_alter_table("exceptions", schema=None) as batch_op:
        batch_op.create_index("ix_exceptions_open", ["tenant", "status"], unique=False)
        batch_op.create_index("ix_exceptions_order", ["order_id"], unique=False)

    op.create_table(
        "inbox",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("tenant", sa.String(length=64), server_default="default", nullable=False),
        sa.Column("shop", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("topic", sa.String(length=100), server_default="", nullable=False),
        sa.Column("dedup_key", sa.String(length=300), nullable=False),
        sa.Column("headers", sa.Text(), server_default="{}", nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("status", sa.String(length=16), server_default="pending", nullable=False),
        sa.Column("order_id", sa.String(length=40), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbox")),
        sa.UniqueConstraint("tenant", "dedup_key", name=op.f("uq_inbox_tenant")),
    )
    op.create_table(
        "job_attempts",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("job_id", sa.BigInteger(), nullable=False),
        sa.Column("tenant", sa.String(length=64), server_default="default", nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("duration_ms", sa.Float(), nullable=False),
        sa.Column("at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_attempts")),
    )
    with op.batch_alter_table("job_attempts", schema=None) as batch_op:
        batch_op.create_index("ix_job_attempts_job", ["job_id"], unique=False)

    op.create_table(
        "listings",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("tenant", sa.String(length=64), server_default="default", nullable=False),
        sa.Column("shop", sa.String(length=64), nullable=False),
        sa.Column("channel_sku", sa.String(length=100), nullable=False),
        sa.Column("sku", sa.String(length=100), nullable=False),
        sa.Column("multiplier", sa.Integer(), server_default="1", nullable=False),
        sa.Column("sync_ratio", sa.Numeric(precision=6, scale=4), nullable=True),
        sa.Column("safety_stock", sa.Integer(), nullable=True),
        sa.Column("max_listed", sa.Integer(), nullable=True),
        sa.Column("end_below", sa.Integer(), server_default="0", nullable=False),
        sa.Column("pushed_version", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("pushed_quantity", sa.Integer(), nullable=True),
        sa.Column("pushed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_listings")),
        sa.UniqueConstraint("tenant", "shop", "channel_sku", name=op.f("uq_listings_tenant")),
    )
    with op.batch_alter_table("listings", schema=None) as batch_op:
        batch_op.create_index("ix_listings_sku", ["tenant", "sku"], unique=False)

    op.create_table(
        "nodes",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("tenant", sa.String(length=64), server_default="default", nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("platform", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), server_default="warehouse", nullable=False),
        sa.Column("name", sa.String(length=200), server_default="", nullable=False),
        sa.Column("priority", sa.Integer(), server_default="0", nullable=False),
        sa.Column("settings", sa.Text(), server_default="{}", nullable=False),
        sa.Column("secrets", sa.Text(), server_default="", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_nodes")),
        sa.UniqueConstraint("tenant", "code", name=op.f("uq_nodes_tenant")),
    )
    op.create_table(
        "orders",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("tenant", sa.String(length=64), server_default="default", nullable=False),
        sa.Column("shop", sa.String(length=64), nullable=False),
        sa.Column("platform", sa.String(length=32), nullable=False),
        sa.Column("channel_order_id", sa.String(length=100), nullable=False),
        sa.Column("order_no", sa.String(length=100), server_default="", nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("channel_status", sa.String(length=16), nullable=False),
        sa.Column("channel_updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("placed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ship_by", sa.DateTime(timezone=True), nullable=True),
        sa.Column("node", sa.String(length=64), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("grand_total", sa.Numeric(precision=18, scale=4), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("pii", sa.Text(), nullable=False),
        sa.Column("inbox_id", sa.String(length=40), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orders")),
        sa.UniqueConstraint("tenant", "shop", "channel_order_id", name=op.f("uq_orders_tenant")),
    )
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.create_index("ix_orders_placed", ["tenant", "placed_at"], unique=False)
        batch_op.create_index("ix_orders_status", ["tenant", "status"], unique=False)

    op.create_table(
        "outbox_jobs",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("tenant", sa.String(length=64), server_default="default", nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=300), nullable=False),
        sa.Column("coalesce_key", sa.String(length=300), nullable=True),
        sa.Column("order_id", sa.String(length=40), nullable=True),
        sa.Column("status", sa.String(length=16), server_default="pending", nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("max_attempts", sa.Integer(), server_default="10", nullable=False),
        sa.Column("run_at", sa.Float(), nullable=False),
        sa.Column("locked_by", sa.String(length=100), nullable=True),
        sa.Column("locked_until", sa.Float(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("done_at", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_jobs")),
        sa.UniqueConstraint("tenant", "idempotency_key", name=op.f("uq_outbox_jobs_tenant")),
    )
    with op.batch_alter_table("outbox_jobs", schema=None) as batch_op:
        batch_op.create_index("ix_outbox_due", ["status", "run_at"], unique=False)
        batch_op.create_index(
            "uq_outbox_coalesce_pending",
            ["coalesce_key"],
            unique=True,
            sqlite_where=sa.text("status = 'pending' AND coalesce_key IS NOT NULL"),
            postgresql_where=sa.text("status = 'pending' AND coalesce_key IS NOT NULL"),
        )

    op.create_table(
        "shipments",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("tenant", sa.String(length=64), server_default="default", nullable=False),
        sa.Column("order_id", sa.String(length=40), nullable=False),
        sa.Column("node", sa.String(length=64), nullable=False),
        sa.Column("confirm_id", sa.String(length=200), nullable=False),
        sa.Column("carrier", sa.String(length=64), nullable=False),
        sa.Column("tracking_no", sa.String(length=100), nullable=False),
        sa.Column("lines", sa.Text(), nullable=False),
        sa.Column("shipped_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("channel_ref", sa.String(length=100), nullable=True),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shipments")),
        sa.UniqueConstraint("tenant", "node", "confirm_id", name=op.f("uq_shipments_tenant")),
    )
    with op.batch_alter_table("shipments", schema=None) as batch_op:
        batch_op.create_index("ix_shipments_order", ["order_id"], unique=False)

    op.create_table(
        "shops",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("tenant", sa.String(length=64), server_default="default", nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("platform", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), server_default="", nullable=False),
        sa.Column("settings", sa.Text(), server_default="{}", nullable=False),
        sa.Column("secrets", sa.Text(), server_default="", nullable=False),
        sa.Column("nodes", sa.Text(), server_default="[]", nullable=False),
        sa.Column("safety_stock", sa.Integer(), server_default="0", nullable=False),
        sa.Column(
            "sync_ratio", sa.Numeric(precision=6, scale=4), server_default="1", nullable=False
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shops")),
        sa.UniqueConstraint("tenant", "code", name=op.f("uq_shops_tenant")),
    )
    op.create_table(
        "skus",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("tenant", sa.String(length=64), server_default="default", nullable=False),
        sa.Column("sku", sa.String(length=100), nullable=False),
        sa.Column("title", sa.String(length=300), server_default="", nullable=False),
        sa.Column("safety_stock", sa.Integer(), nullable=True),
        sa.Column("backorder_limit", sa.Integer(), server_default="0", nullable=False),
        sa.Column("low_stock_threshold", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_skus")),
        sa.UniqueConstraint("tenant", "sku", name=op.f("uq_skus_tenant")),
    )
    op.create_table(
        "stock_ledger",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("tenant", sa.String(length=64), server_default="default", nullable=False),
        sa.Column("node", sa.String(length=64), nullable=False),
        sa.Column("sku", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("on_hand_delta", sa.Integer(), server_default="0", nullable=False),
        sa.Column("reserved_delta", sa.Integer(), server_default="0", nullable=False),
        sa.Column("order_id", sa.String(length=40), nullable=True),
        sa.Column("reason", sa.String(length=300), server_default="", nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stock_ledger")),
    )
    with op.batch_alter_table("stock_ledger", schema=None) as batch_op:
        batch_op.create_index("ix_stock_ledger_item", ["tenant", "node", "sku"], unique=False)
        batch_op.create_index("ix_stock_ledger_order", ["order_id"], unique=False)
        batch_op.create_index("ix_stock_ledger_sku", ["tenant", "sku", "id"], unique=False)

    op.create_table(
        "stock_levels",
        sa.Column("tenant", sa.String(length=64), server_default="default", nullable=False),
        sa.Column("node", sa.String(length=64), nullable=False),
        sa.Column("sku", sa.String(length=100), nullable=False),
        sa.Column("on_hand", sa.Integer(), server_default="0", nullable=False),
        sa.Column("reserved", sa.Integer(), server_default="0", nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tenant", "node", "sku", name=op.f("pk_stock_levels")),
    )
    op.create_table(
        "sync_cursors",
        sa.Column("tenant", sa.String(length=64), server_default="default", nullable=False),
        sa.Column("shop", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("value", sa.String(length=100), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tenant", "shop", "kind", name=op.f("pk_sync_cursors")),
    )
    op.create_table(
        "trace_events",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("tenant", sa.String(length=64), server_default="default", nullable=False),
        sa.Column("order_id", sa.String(length=40), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("stage", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("message", sa.Text(), server_default="", nullable=False),
        sa.Column("latency_ms", sa.Float(), nullable=True),
        sa.Column("job_id", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trace_events")),
    )
    with op.batch_alter_table("trace_events", schema=None) as batch_op:
        batch_op.create_index("ix_trace_order", ["order_id"], unique=False)

    op.create_table(
        "order_lines",
        sa.Column("order_id", sa.String(length=40), nullable=False),
        sa.Column("line_id", sa.String(length=100), nullable=False),
        sa.Column("tenant", sa.String(length=64), server_default="default", nullable=False),
        sa.Column("channel_sku", sa.String(length=100), nullable=False),
        sa.Column("sku", sa.String(length=100), nullable=True),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("node", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_order_lines_order_id_orders")
        ),
        sa.PrimaryKeyConstraint("order_id", "line_id", name=op.f("pk_order_lines")),
    )
    with op.batch_alter_table("order_lines", schema=None) as batch_op:
        batch_op.create_index("ix_order_lines_sku", ["tenant", "sku"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("order_lines", schema=None) as batch_op:
        batch_op.drop_index("ix_order_lines_sku")

    op.drop_table("order_lines")
    with op.batch_alter_table("trace_events", schema=None) as batch_op:
        batch_op.drop_index("ix_trace_order")

    op.drop_table("trace_events")
    op.drop_table("sync_cursors")
    op.drop_table("stock_levels")
    with op.batch_alter_table("stock_ledger", schema=None) as batch_op:
        batch_op.drop_index("ix_stock_ledger_sku")
        batch_op.drop_index("ix_stock_ledger_order")
        batch_op.drop_index("ix_stock_ledger_item")

    op.drop_table("stock_ledger")
    op.drop_table("skus")
    op.drop_table("shops")
    with op.batch_alter_table("shipments", schema=None) as batch_op:
        batch_op.drop_index("ix_shipments_order")

    op.drop_table("shipments")
    with op.batch_alter_table("outbox_jobs", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_outbox_coalesce_pending",
            sqlite_where=sa.text("status = 'pending' AND coalesce_key IS NOT NULL"),
            postgresql_where=sa.text("status = 'pending' AND coalesce_key IS NOT NULL"),
        )
        batch_op.drop_index("ix_outbox_due")

    op.drop_table("outbox_jobs")
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_index("ix_orders_status")
        batch_op.drop_index("ix_orders_placed")

    op.drop_table("orders")
    op.drop_table("nodes")
    with op.batch_alter_table("listings", schema=None) as batch_op:
        batch_op.drop_index("ix_listings_sku")

    op.drop_table("listings")
    with op.batch_alter_table("job_attempts", schema=None) as batch_op:
        batch_op.drop_index("ix_job_attempts_job")

    op.drop_table("job_attempts")
    op.drop_table("inbox")
    with op.batch_alter_table("exceptions", schema=None) as batch_op:
        batch_op.drop_index("ix_exceptions_order")
        batch_op.drop_index("ix_exceptions_open")

    op.drop_table("exceptions")
    with op.batch_alter_table("bundle_components", schema=None) as batch_op:
        batch_op.drop_index("ix_bundle_components_component")

    op.drop_table("bundle_components")
