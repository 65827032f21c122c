"""enterprise policies and financing products (惠企政策、融资对接)

Revision ID: 0012_enterprise
Revises: 0011_reply_phrases
Create Date: 2026-12-04 20:30:00
"""

import sqlalchemy as sa
from alembic import op

import baishitong.db

revision = "0012_enterprise"
down_revision = "0011_reply_phrases"
branch_labels = None
depends_on = None


def _eligibility_columns() -> list[sa.Column]:
    return [
        sa.Column("industries", sa.JSON(), nullable=False),
        sa.Column("sizes", sa.JSON(), nullable=False),
        sa.Column("towns", sa.JSON(), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("min_years", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("updated_at", baishitong.db.UTCDateTime(), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "enterprise_policies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("summary", sa.String(length=500), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("benefit", sa.String(length=200), nullable=False),
        sa.Column("apply_from", sa.Date(), nullable=True),
        sa.Column("apply_to", sa.Date(), nullable=True),
        *_eligibility_columns(),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"], name="fk_enterprise_policies_unit_id_units"),
        sa.PrimaryKeyConstraint("id", name="pk_enterprise_policies"),
    )
    op.create_index("ix_enterprise_policies_unit_id", "enterprise_policies", ["unit_id"])
    op.create_index("ix_enterprise_policies_status", "enterprise_policies", ["status"])
    op.create_table(
        "financing_products",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("institution", sa.String(length=128), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("summary", sa.String(length=500), nullable=False),
        sa.Column("amount_min", sa.Integer(), nullable=True),
        sa.Column("amount_max", sa.Integer(), nullable=True),
        sa.Column("rate", sa.String(length=64), nullable=False),
        sa.Column("term", sa.String(length=64), nullable=False),
        sa.Column("contact", sa.String(length=128), nullable=False),
        *_eligibility_columns(),
        sa.PrimaryKeyConstraint("id", name="pk_financing_products"),
    )
    op.create_index("ix_financing_products_status", "financing_products", ["status"])


def downgrade() -> None:
    op.drop_index("ix_financing_products_status", table_name="financing_products")
    op.drop_table("financing_products")
    op.drop_index("ix_enterprise_policies_status", table_name="enterprise_policies")
    op.drop_index("ix_enterprise_policies_unit_id", table_name="enterprise_policies")
    op.drop_table("enterprise_policies")
