"""An index to read the last hour or day of order traces.

The dashboard's latency, error-rate and connection-health panels read the trace steps
of a recent window; without this index each view reads every step the store holds.

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_trace_at", "trace_events", ["tenant", "at"])


def downgrade() -> None:
    op.drop_index("ix_trace_at", table_name="trace_events")
