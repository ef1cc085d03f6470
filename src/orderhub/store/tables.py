"""The schema, one for SQLite and PostgreSQL. Every table carries the seller (tenant)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.engine import Dialect

__all__ = ["metadata"]

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata = MetaData(naming_convention=NAMING)


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on both databases (SQLite keeps no zone of its own)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database")
        if value.tzinfo is not UTC:
            value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def bind_processor(self, dialect: Dialect) -> Callable[[Any], Any] | None:
        """On SQLite, the moment written straight as the text SQLAlchemy's DATETIME
        writes (`YYYY-MM-DD HH:MM:SS.ffffff`, in UTC), instead of through DATETIME's own
        formatting: a dozen moments are written for every order."""
        if dialect.name != "sqlite":
            return super().bind_processor(dialect)

        def process(value: datetime | None) -> str | None:
            moment = self.process_bind_param(value, dialect)
            return None if moment is None else moment.isoformat(" ", "microseconds")

        return process

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        moment: datetime = value
        if moment.tzinfo is None:
            return moment.replace(tzinfo=UTC)
        return moment.astimezone(UTC)


BigId = BigInteger().with_variant(Integer(), "sqlite")


def tenant(*, primary_key: bool = False) -> Column[str]:
    return Column(
        "tenant", String(64), nullable=False, server_default="default", primary_key=primary_key
    )


shops = Table(
    "shops",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    tenant(),
    Column("code", String(64), nullable=False),
    Column("platform", String(32), nullable=False),
    Column("name", String(200), nullable=False, server_default=""),
    Column("settings", Text, nullable=False, server_default="{}"),
    Column("secrets", Text, nullable=False, server_default=""),
    Column("nodes", Text, nullable=False, server_default="[]"),
    Column("routing", Text, nullable=False, server_default="{}"),
    Column("safety_stock", Integer, nullable=False, server_default="0"),
    Column("sync_ratio", Numeric(6, 4), nullable=False, server_default="1"),
    Column("created_at", UtcDateTime, nullable=False),
    Column("customs", Text, nullable=False, server_default="{}"),
    UniqueConstraint("tenant", "code"),
)

nodes = Table(
    "nodes",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    tenant(),
    Column("code", String(64), nullable=False),
    Column("platform", String(32), nullable=False),
    Column("kind", String(16), nullable=False, server_default="warehouse"),
    Column("name", String(200), nullable=False, server_default=""),
    Column("priority", Integer, nullable=False, server_default="0"),
    Column("settings", Text, nullable=False, server_default="{}"),
    Column("secrets", Text, nullable=False, server_default=""),
    Column("location", Text, nullable=False, server_default="{}"),
    Column("created_at", UtcDateTime, nullable=False),
    UniqueConstraint("tenant", "code"),
)

skus = Table(
    "skus",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    tenant(),
    Column("sku", String(100), nullable=False),
    Column("title", String(300), nullable=False, server_default=""),
    Column("safety_stock", Integer, nullable=True),
    Column("backorder_limit", Integer, nullable=False, server_default="0"),
    Column("low_stock_threshold", Integer, nullable=True),
    Column("cost", Numeric(14, 4), nullable=True),
    Column("hs_code", String(20), nullable=False, server_default=""),
    Column("customs_description", String(300), nullable=False, server_default=""),
    Column("origin_country", String(2), nullable=False, server_default=""),
    UniqueConstraint("tenant", "sku"),
)

bundle_components = Table(
    "bundle_components",
    metadata,
    tenant(primary_key=True),
    Column("bundle_sku", String(100), primary_key=True),
    Column("component_sku", String(100), primary_key=True),
    Column("quantity", Integer, nullable=False),
    Index("ix_bundle_components_component", "tenant", "component_sku"),
)

listings = Table(
    "listings",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    tenant(),
    Column("shop", String(64), nullable=False),
    Column("channel_sku", String(100), nullable=False),
    Column("sku", String(100), nullable=False),
    Column("multiplier", Integer, nullable=False, server_default="1"),
    Column("sync_ratio", Numeric(6, 4), nullable=True),
    Column("safety_stock", Integer, nullable=True),
    Column("max_listed", Integer, nullable=True),
    Column("end_below", Integer, nullable=False, server_default="0"),
    Column("pushed_version", BigInteger, nullable=False, server_default="0"),
    Column("pushed_quantity", Integer, nullable=True),
    Column("pushed_at", UtcDateTime, nullable=True),
    UniqueConstraint("tenant", "shop", "channel_sku"),
    Index("ix_listings_sku", "tenant", "sku"),
)

shop_items = Table(
    # What each shop sells as its last pull read it; those no listing maps are for a
    # person to map or add.
    "shop_items",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    tenant(),
    Column("shop", String(64), nullable=False),
    Column("channel_sku", String(100), nullable=False),
    Column("title", String(300), nullable=False, server_default=""),
    Column("platform_ref", String(200), nullable=False, server_default=""),
    Column("first_seen", UtcDateTime, nullable=False),
    Column("last_seen", UtcDateTime, nullable=False),
    UniqueConstraint("tenant", "shop", "channel_sku"),
)

stock_levels = Table(
    "stock_levels",
    metadata,
    tenant(primary_key=True),
    Column("node", String(64), primary_key=True),
    Column("sku", String(100), primary_key=True),
    Column("on_hand", Integer, nullable=False, server_default="0"),
    Column("reserved", Integer, nullable=False, server_default="0"),
    Column("updated_at", UtcDateTime, nullable=False),
)

stock_ledger = Table(
    "stock_ledger",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    tenant(),
    Column("node", String(64), nullable=False),
    Column("sku", String(100), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("on_hand_delta", Integer, nullable=False, server_default="0"),
    Column("reserved_delta", Integer, nullable=False, server_default="0"),
    Column("order_id", String(40), nullable=True),
    Column("reason", String(300), nullable=False, server_default=""),
    Column("at", UtcDateTime, nullable=False),
    Index("ix_stock_ledger_order", "tenant", "order_id"),
    Index("ix_stock_ledger_sku", "tenant", "sku", "id"),
)

inbox = Table(
    "inbox",
    metadata,
    Column("id", String(40), primary_key=True),
    tenant(),
    Column("shop", String(64), nullable=False),
    Column("source", String(16), nullable=False),
    Column("topic", String(100), nullable=False, server_default=""),
    Column("dedup_key", String(300), nullable=False),
    Column("headers", Text, nullable=False, server_default="{}"),
    Column("body", LargeBinary, nullable=False),
    Column("status", String(16), nullable=False, server_default="pending"),
    Column("order_id", String(40), nullable=True),
    Column("error", Text, nullable=True),
    Column("received_at", UtcDateTime, nullable=False),
    UniqueConstraint("tenant", "dedup_key"),
)

orders = Table(
    "orders",
    metadata,
    Column("id", String(40), primary_key=True),
    tenant(),
    Column("shop", String(64), nullable=False),
    Column("platform", String(32), nullable=False),
    Column("channel_order_id", String(100), nullable=False),
    Column("order_no", String(100), nullable=False, server_default=""),
    Column("status", String(24), nullable=False),
    Column("channel_status", String(16), nullable=False),
    Column("channel_updated_at", UtcDateTime, nullable=True),
    Column("placed_at", UtcDateTime, nullable=False),
    Column("ship_by", UtcDateTime, nullable=True),
    Column("node", String(64), nullable=True),
    Column("currency", String(3), nullable=False),
    Column("grand_total", Numeric(18, 4), nullable=False),
    Column("document", Text, nullable=False),
    Column("pii", Text, nullable=False),
    Column("inbox_id", String(40), nullable=True),
    Column("buyer_key", String(64), nullable=True),
    Column("phone_tail", String(64), nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("buyer_id", String(40), nullable=True),
    UniqueConstraint("tenant", "shop", "channel_order_id"),
    Index("ix_orders_status", "tenant", "status"),
    Index("ix_orders_placed", "tenant", "placed_at"),
    Index("ix_orders_created", "tenant", "created_at"),
    Index("ix_orders_newest", "tenant", "id"),
    Index("ix_orders_channel_id", "tenant", "channel_order_id"),
    Index("ix_orders_number", "tenant", "order_no"),
    Index("ix_orders_ship_by", "tenant", "ship_by"),
    Index("ix_orders_buyer", "tenant", "shop", "buyer_key", "placed_at"),
    Index("ix_orders_phone_tail", "tenant", "phone_tail"),
    Index("ix_orders_buyer_id", "tenant", "buyer_id", "id"),
)

order_lines = Table(
    "order_lines",
    metadata,
    Column("order_id", String(40), ForeignKey("orders.id"), primary_key=True),
    Column("line_id", String(100), primary_key=True),
    tenant(),
    Column("channel_sku", String(100), nullable=False),
    Column("sku", String(100), nullable=True),
    Column("quantity", Integer, nullable=False),
    Column("node", String(64), nullable=True),
    Index("ix_order_lines_sku", "tenant", "sku"),
    Index("ix_order_lines_channel_sku", "tenant", "channel_sku"),
)

dispatches = Table(
    "dispatches",
    metadata,
    Column("id", String(60), primary_key=True),
    tenant(),
    Column("node", String(64), nullable=False),
    Column("kind", String(16), nullable=False, server_default="warehouse"),
    Column("shop", String(64), nullable=False),
    Column("merge_key", String(64), nullable=True),
    Column("status", String(16), nullable=False, server_default="pending"),
    Column("external_id", String(100), nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("pushed_at", UtcDateTime, nullable=True),
    Column("acknowledged_at", UtcDateTime, nullable=True),
    Column("shipped_at", UtcDateTime, nullable=True),
    Column("closed_at", UtcDateTime, nullable=True),
    Column("exported_at", UtcDateTime, nullable=True),
    Index("ix_dispatches_open", "tenant", "node", "status"),
    Index("ix_dispatches_merge", "tenant", "merge_key", "status"),
    # Suppliers' recent purchase orders, read for their scores while orders are routed.
    Index("ix_dispatches_pushed", "tenant", "kind", "pushed_at"),
)

dispatch_lines = Table(
    "dispatch_lines",
    metadata,
    Column("dispatch_id", String(60), ForeignKey("dispatches.id"), primary_key=True),
    Column("line_no", String(100), primary_key=True),
    tenant(),
    Column("order_id", String(40), nullable=False),
    Column("line_id", String(100), nullable=False),
    Column("sku", String(100), nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("shipped", Integer, nullable=False, server_default="0"),
    Index("ix_dispatch_lines_order", "order_id"),
)

shipments = Table(
    "shipments",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    tenant(),
    Column("order_id", String(40), nullable=False),
    Column("node", String(64), nullable=False),
    Column("confirm_id", String(200), nullable=False),
    Column("carrier", String(64), nullable=False),
    Column("tracking_no", String(100), nullable=False),
    Column("lines", Text, nullable=False),
    Column("shipped_at", UtcDateTime, nullable=True),
    Column("channel_ref", String(100), nullable=True),
    Column("confirmed_at", UtcDateTime, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    UniqueConstraint("tenant", "node", "confirm_id"),
    Index("ix_shipments_order", "order_id"),
    Index("ix_shipments_tracking", "tenant", "tracking_no"),
)

outbox_jobs = Table(
    "outbox_jobs",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    tenant(),
    Column("kind", String(64), nullable=False),
    Column("payload", Text, nullable=False),
    Column("idempotency_key", String(300), nullable=False),
    Column("coalesce_key", String(300), nullable=True),
    Column("order_id", String(40), nullable=True),
    Column("status", String(16), nullable=False, server_default="pending"),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("max_attempts", Integer, nullable=False, server_default="10"),
    Column("run_at", Float, nullable=False),
    Column("locked_by", String(100), nullable=True),
    Column("locked_until", Float, nullable=True),
    Column("last_error", Text, nullable=True),
    Column("created_at", Float, nullable=False),
    Column("done_at", Float, nullable=True),
    UniqueConstraint("tenant", "idempotency_key"),
    # Jobs still to run, found without reading past the finished ones.
    Index("ix_outbox_live", "tenant", "status", "kind", "run_at"),
    Index(
        "uq_outbox_coalesce_pending",
        "coalesce_key",
        unique=True,
        sqlite_where=text("status = 'pending' AND coalesce_key IS NOT NULL"),
        postgresql_where=text("status = 'pending' AND coalesce_key IS NOT NULL"),
    ),
)

job_attempts = Table(
    "job_attempts",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("job_id", BigInteger, nullable=False),
    tenant(),
    Column("attempt", Integer, nullable=False),
    Column("outcome", String(16), nullable=False),
    Column("status_code", Integer, nullable=True),
    Column("error", Text, nullable=True),
    Column("duration_ms", Float, nullable=False),
    Column("at", Float, nullable=False),
    Index("ix_job_attempts_job", "job_id"),
)

exceptions = Table(
    "exceptions",
    metadata,
    Column("id", String(40), primary_key=True),
    tenant(),
    Column("order_id", String(40), nullable=True),
    Column("inbox_id", String(40), nullable=True),
    Column("job_id", BigInteger, nullable=True),
    Column("stage", String(32), nullable=False),
    Column("code", String(64), nullable=False),
    Column("message", Text, nullable=False),
    Column("field", String(200), nullable=False, server_default=""),
    Column("severity", String(16), nullable=False, server_default="error"),
    Column("status", String(16), nullable=False, server_default="open"),
    Column("created_at", UtcDateTime, nullable=False),
    Column("resolved_at", UtcDateTime, nullable=True),
    Column("resolution", Text, nullable=False, server_default=""),
    Column("resolved_by", String(100), nullable=False, server_default=""),
    Index("ix_exceptions_open", "tenant", "status"),
    Index("ix_exceptions_order", "order_id"),
    Index("ix_exceptions_inbox", "inbox_id"),
)

trace_events = Table(
    "trace_events",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    tenant(),
    Column("order_id", String(40), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("stage", String(32), nullable=False),
    Column("status", String(16), nullable=False),
    Column("message", Text, nullable=False, server_default=""),
    Column("latency_ms", Float, nullable=True),
    Column("job_id", BigInteger, nullable=True),
    Index("ix_trace_order", "order_id"),
    Index("ix_trace_at", "tenant", "at"),
)

sync_cursors = Table(
    "sync_cursors",
    metadata,
    tenant(primary_key=True),
    Column("shop", String(64), primary_key=True),
    Column("kind", String(32), primary_key=True),
    Column("value", String(100), nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

config_versions = Table(
    "config_versions",
    metadata,
    tenant(primary_key=True),
    Column("version", BigInteger, nullable=False),
    Column("changed_at", UtcDateTime, nullable=False),
)

rule_sets = Table(
    "rule_sets",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    tenant(),
    Column("name", String(64), nullable=False),
    Column("version", Integer, nullable=False),
    Column("body", Text, nullable=False),
    Column("status", String(16), nullable=False, server_default="draft"),
    Column("created_at", UtcDateTime, nullable=False),
    Column("activated_at", UtcDateTime, nullable=True),
    UniqueConstraint("tenant", "name", "version"),
    Index("ix_rule_sets_status", "tenant", "status"),
)

alerts = Table(
    "alerts",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    tenant(),
    Column("kind", String(64), nullable=False),
    Column("key", String(300), nullable=False),
    Column("message", Text, nullable=False),
    Column("severity", String(16), nullable=False, server_default="warning"),
    Column("data", Text, nullable=False, server_default="{}"),
    Column("count", Integer, nullable=False, server_default="1"),
    Column("first_at", UtcDateTime, nullable=False),
    Column("last_at", UtcDateTime, nullable=False),
    Column("sent_at", UtcDateTime, nullable=True),
    Column("sent_via", String(100), nullable=False, server_default=""),
    Column("digest_id", String(40), nullable=True),
    Index("ix_alerts_key", "tenant", "key", "first_at"),
    Index("ix_alerts_unsent", "tenant", "sent_at"),
    Index(
        "uq_alerts_open_key",
        "tenant",
        "key",
        unique=True,
        sqlite_where=text("digest_id IS NULL"),
        postgresql_where=text("digest_id IS NULL"),
    ),
)

returns = Table(
    "returns",
    metadata,
    Column("id", String(40), primary_key=True),
    tenant(),
    Column("order_id", String(40), nullable=False),
    Column("shop", String(64), nullable=False),
    Column("channel_refund_id", String(100), nullable=True),
    Column("node", String(64), nullable=False),
    Column("dispatch_id", String(60), nullable=False),
    Column("kind", String(16), nullable=False, server_default="return"),
    Column("status", String(16), nullable=False, server_default="requested"),
    Column("reason", String(300), nullable=False, server_default=""),
    Column("lines", Text, nullable=False, server_default="[]"),
    Column("received", Text, nullable=False, server_default="[]"),
    Column("refund_status", String(16), nullable=False, server_default="none"),
    Column("restock", Text, nullable=False, server_default="{}"),
    Column("external_id", String(100), nullable=True),
    Column("confirm_id", String(200), nullable=True),
    Column("exchange_order_id", String(40), nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("received_at", UtcDateTime, nullable=True),
    Column("closed_at", UtcDateTime, nullable=True),
    Index("ix_returns_order", "tenant", "order_id"),
    Index("ix_returns_status", "tenant", "status"),
    # The returns list, newest first, a page at a time, without sorting all of them.
    Index("ix_returns_newest", "tenant", "created_at", "id"),
    Index(
        "uq_returns_channel_refund",
        "tenant",
        "shop",
        "channel_refund_id",
        "dispatch_id",
        unique=True,
    ),
)

channel_refunds = Table(
    "channel_refunds",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    tenant(),
    Column("shop", String(64), nullable=False),
    Column("refund_id", String(100), nullable=False),
    Column("order_id", String(40), nullable=True),
    Column("amount", Numeric(18, 4), nullable=False, server_default="0"),
    Column("restock", Integer, nullable=False, server_default="0"),
    Column("outcome", String(32), nullable=False),
    Column("inbox_id", String(40), nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    UniqueConstraint("tenant", "shop", "refund_id"),
    Index("ix_channel_refunds_order", "tenant", "order_id"),
)

# People who sign in, their personal API tokens, and the append-only record of every
# change a person or token made.
users = Table(
    "users",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    tenant(),
    Column("name", String(64), nullable=False),
    Column("password_hash", String(200), nullable=False, server_default=""),
    Column("role", String(16), nullable=False),
    Column("shops", Text, nullable=False, server_default="[]"),
    Column("disabled", Integer, nullable=False, server_default="0"),
    Column("failed_logins", Integer, nullable=False, server_default="0"),
    Column("locked_until", UtcDateTime, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    UniqueConstraint("tenant", "name", name="uq_users_tenant_name"),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", String(40), primary_key=True),
    tenant(),
    Column("user_id", BigInteger, nullable=False),
    Column("name", String(100), nullable=False, server_default=""),
    Column("token_hash", String(64), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=True),
    Column("revoked_at", UtcDateTime, nullable=True),
    Column("last_used_at", UtcDateTime, nullable=True),
    UniqueConstraint("token_hash", name="uq_api_tokens_token_hash"),
    Index("ix_api_tokens_user", "user_id"),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    tenant(),
    Column("at", UtcDateTime, nullable=False),
    Column("actor", String(100), nullable=False),
    Column("via", String(64), nullable=False, server_default=""),
    Column("action", String(64), nullable=False),
    Column("target", String(200), nullable=False, server_default=""),
    Column("before", Text, nullable=True),
    Column("after", Text, nullable=True),
    Column("detail", Text, nullable=False, server_default=""),
    Index("ix_audit_log_at", "tenant", "at"),
    Index("ix_audit_log_actor", "tenant", "actor"),
    # The log newest first, a page at a time, without sorting the whole of it.
    Index("ix_audit_log_newest", "tenant", "id"),
)

erps = Table(
    "erps",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    tenant(),
    Column("code", String(64), nullable=False),
    Column("platform", String(32), nullable=False),
    Column("name", String(200), nullable=False, server_default=""),
    Column("settings", Text, nullable=False, server_default="{}"),
    Column("secrets", Text, nullable=False, server_default=""),
    Column("mapping", Text, nullable=False, server_default="{}"),
    Column("created_at", UtcDateTime, nullable=False),
    UniqueConstraint("tenant", "code"),
)

erp_documents = Table(
    "erp_documents",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    tenant(),
    Column("erp", String(64), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("our_no", String(200), nullable=False),
    Column("order_id", String(64), nullable=True),
    Column("form", String(64), nullable=False, server_default=""),
    Column("bill_id", BigInteger, nullable=True),
    Column("bill_no", String(80), nullable=False, server_default=""),
    Column("status", String(16), nullable=False),
    Column("erp_status", String(8), nullable=False, server_default=""),
    Column("detail", Text, nullable=False, server_default=""),
    Column("updated_at", UtcDateTime, nullable=False),
    UniqueConstraint("tenant", "erp", "kind", "our_no"),
    Index("ix_erp_documents_order", "tenant", "order_id"),
)


# Reports read these figures, kept up to date as orders change, never a scan of orders.
sales_by_day = Table(
    "sales_by_day",
    metadata,
    tenant(primary_key=True),
    Column("day", Date, primary_key=True),
    Column("shop", String(64), primary_key=True),
    Column("sku", String(100), primary_key=True),
    Column("node", String(64), primary_key=True),
    Column("lines", Integer, nullable=False, server_default="0"),
    Column("units", Integer, nullable=False, server_default="0"),
    Column("revenue", Numeric(16, 2), nullable=False, server_default="0"),
    Column("discounts", Numeric(16, 2), nullable=False, server_default="0"),
    Column("refunds", Numeric(16, 2), nullable=False, server_default="0"),
    Column("cancelled_units", Integer, nullable=False, server_default="0"),
    Column("cancelled_revenue", Numeric(16, 2), nullable=False, server_default="0"),
)

orders_by_day = Table(
    "orders_by_day",
    metadata,
    tenant(primary_key=True),
    Column("day", Date, primary_key=True),
    Column("shop", String(64), primary_key=True),
    Column("orders", Integer, nullable=False, server_default="0"),
    Column("cancelled", Integer, nullable=False, server_default="0"),
    Column("shipped", Integer, nullable=False, server_default="0"),
    Column("shipped_late", Integer, nullable=False, server_default="0"),
    Column("refunded", Integer, nullable=False, server_default="0"),
)

latency_by_day = Table(
    "latency_by_day",
    metadata,
    tenant(primary_key=True),
    Column("day", Date, primary_key=True),
    Column("shop", String(64), primary_key=True),
    Column("node", String(64), primary_key=True),
    Column("measure", String(16), primary_key=True),
    Column("bucket", Integer, primary_key=True),
    Column("count", Integer, nullable=False, server_default="0"),
)

report_marks = Table(
    "report_marks",
    metadata,
    tenant(primary_key=True),
    Column("order_id", String(64), primary_key=True),
    Column("mark", String(80), primary_key=True),
)

# One buyer across shops and platforms, known only by keyed hashes of what identifies
# them (phone, e-mail, platform open id, OAID): never by clear text.
buyers = Table(
    "buyers",
    metadata,
    Column("id", String(40), primary_key=True),
    tenant(),
    Column("orders", Integer, nullable=False, server_default="0"),
    Column("spend", Numeric(16, 2), nullable=False, server_default="0"),
    Column("returns", Integer, nullable=False, server_default="0"),
    Column("tags", Text, nullable=False, server_default="[]"),
    Column("first_seen", UtcDateTime, nullable=False),
    Column("last_seen", UtcDateTime, nullable=False),
    Column("erased_at", UtcDateTime, nullable=True),
)

buyer_keys = Table(
    "buyer_keys",
    metadata,
    tenant(primary_key=True),
    Column("key_hash", String(64), primary_key=True),
    Column("buyer_id", String(40), nullable=False),
    Index("ix_buyer_keys_buyer", "buyer_id"),
)

# What each channel says it paid, and the reconciliation of a shop's day against it.
statement_lines = Table(
    "statement_lines",
    metadata,
    tenant(primary_key=True),
    Column("shop", String(64), primary_key=True),
    Column("reference", String(100), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("amount", Numeric(16, 2), nullable=False),
    Column("fee", Numeric(16, 2), nullable=False),
    Column("currency", String(3), nullable=False, server_default=""),
    Column("at", UtcDateTime, nullable=False),
    Column("order_ref", String(100), nullable=False, server_default=""),
    Column("payout", String(100), nullable=False, server_default=""),
    Index("ix_statement_lines_at", "tenant", "shop", "at"),
    Index("ix_statement_lines_order", "tenant", "shop", "order_ref"),
)

reconciliations = Table(
    "reconciliations",
    metadata,
    tenant(primary_key=True),
    Column("shop", String(64), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("figures", Text, nullable=False),
    Column("run_at", UtcDateTime, nullable=False),
    Column("run_by", String(100), nullable=False, server_default=""),
)

reconciliation_differences = Table(
    "reconciliation_differences",
    metadata,
    Column("id", String(40), primary_key=True),
    tenant(),
    Column("shop", String(64), nullable=False),
    Column("day", Date, nullable=False),
    Column("kind", String(32), nullable=False),
    Column("ref", String(100), nullable=False),
    Column("order_id", String(40), nullable=True),
    Column("expected", Numeric(16, 2), nullable=True),
    Column("received", Numeric(16, 2), nullable=True),
    Column("message", Text, nullable=False),
    Column("status", String(16), nullable=False, server_default="open"),
    Column("note", Text, nullable=False, server_default=""),
    Column("resolved_by", String(100), nullable=False, server_default=""),
    Column("resolved_at", UtcDateTime, nullable=True),
    UniqueConstraint("tenant", "shop", "day", "kind", "ref"),
)

# Parcels followed by a tracker (快递100, 17TRACK) and the scans they report.
trackers = Table(
    "trackers",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    tenant(),
    Column("code", String(64), nullable=False),
    Column("platform", String(32), nullable=False),
    Column("name", String(200), nullable=False, server_default=""),
    Column("settings", Text, nullable=False, server_default="{}"),
    Column("secrets", Text, nullable=False, server_default=""),
    Column("created_at", UtcDateTime, nullable=False),
    UniqueConstraint("tenant", "code"),
)

parcels = Table(
    "parcels",
    metadata,
    Column("id", String(40), primary_key=True),
    tenant(),
    Column("tracking_no", String(100), nullable=False),
    Column("carrier", String(64), nullable=False),
    Column("tracker", String(64), nullable=False, server_default=""),
    Column("token", String(64), nullable=False),
    Column("status", String(24), nullable=False),
    Column("city", String(100), nullable=False, server_default=""),
    Column("country", String(2), nullable=False, server_default=""),
    Column("shipped_at", UtcDateTime, nullable=True),
    Column("subscribed_at", UtcDateTime, nullable=True),
    Column("last_event_at", UtcDateTime, nullable=True),
    Column("delivered_at", UtcDateTime, nullable=True),
    Column("finished", Integer, nullable=False, server_default="0"),
    Column("detail", String(500), nullable=False, server_default=""),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    UniqueConstraint("tenant", "tracking_no"),
    UniqueConstraint("token"),
    Index("ix_parcels_open", "tenant", "finished", "last_event_at"),
)

parcel_events = Table(
    "parcel_events",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    tenant(),
    Column("parcel_id", String(40), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("status", String(24), nullable=False),
    Column("description", String(500), nullable=False),
    Column("location", String(200), nullable=False, server_default=""),
    Column("code", String(40), nullable=False, server_default=""),
    Column("digest", String(32), nullable=False),
    UniqueConstraint("parcel_id", "digest"),
)
