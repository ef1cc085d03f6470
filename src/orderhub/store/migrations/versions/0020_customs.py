"""What parcels across a border declare: each SKU's HS code, customs description and
country of origin, and each shop's tax numbers (IOSS, VAT per destination).

Revision ID: 0020
Revises: 0019
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("skus") as batch:
        batch.add_column(sa.Column("hs_code", sa.String(20), nullable=False, server_default=""))
        batch.add_column(
            sa.Column("customs_description", sa.String(300), nullable=False, server_default="")
        )
        batch.add_column(
            sa.Column("origin_country", sa.String(2), nullable=False, server_default="")
        )
    with op.batch_alter_table("shops") as batch:
        batch.add_column(sa.Column("customs", sa.Text(), nullable=False, server_default="{}"))


def downgrade() -> None:
    with op.batch_alter_table("shops") as batch:
        batch.drop_column("customs")
    with op.batch_alter_table("skus") as batch:
        batch.drop_column("origin_country")
        batch.drop_column("customs_description")
        batch.drop_column("hs_code")
