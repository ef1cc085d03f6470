"""Trackers, the parcels they follow, and each parcel's scans.

Revision ID: 0019
Revises: 0018
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

_Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _tenant() -> sa.Column[str]:
    return sa.Column("tenant", sa.String(64), nullable=False, server_default="default")


def upgrade() -> None:
    op.create_table(
        "trackers",
        sa.Column("id", _Id, primary_key=True, autoincrement=True),
        _tenant(),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("platform", sa.String(32), nullable=False),
        sa.Column("name", sa.String(200), nullable=False, server_default=""),
        sa.Column("settings", sa.Text(), nullable=False, server_default="{}"),
        sa.Column("secrets", sa.Text(), nullable=False, server_default=""),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("tenant", "code"),
    )
    op.create_table(
        "parcels",
        sa.Column("id", sa.String(40), primary_key=True),
        _tenant(),
        sa.Column("tracking_no", sa.String(100), nullable=False),
        sa.Column("carrier", sa.String(64), nullable=False),
        sa.Column("tracker", sa.String(64), nullable=False, server_default=""),
        sa.Column("token", sa.String(64), nullable=False),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("city", sa.String(100), nullable=False, server_default=""),
        sa.Column("country", sa.String(2), nullable=False, server_default=""),
        sa.Column("shipped_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("subscribed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_event_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("detail", sa.String(500), nullable=False, server_default=""),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("tenant", "tracking_no"),
        sa.UniqueConstraint("token"),
    )
    op.create_index("ix_parcels_open", "parcels", ["tenant", "finished", "last_event_at"])
    op.create_table(
        "parcel_events",
        sa.Column("id", _Id, primary_key=True, autoincrement=True),
        _tenant(),
        sa.Column("parcel_id", sa.String(40), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("description", sa.String(500), nullable=False),
        sa.Column("location", sa.String(200), nullable=False, server_default=""),
        sa.Column("code", sa.String(40), nullable=False, server_default=""),
        sa.Column("digest", sa.String(32), nullable=False),
        sa.UniqueConstraint("parcel_id", "digest"),
    )


def downgrade() -> None:
    op.drop_table("parcel_events")
    op.drop_index("ix_parcels_open", table_name="parcels")
    op.drop_table("parcels")
    op.drop_table("trackers")
