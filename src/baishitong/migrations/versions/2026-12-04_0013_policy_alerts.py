"""policy subscriptions and alerts (新政策提醒)

Revision ID: 0013_policy_alerts
Revises: 0012_enterprise
Create Date: 2026-12-04 21:30:00
"""

import sqlalchemy as sa
from alembic import op

import baishitong.db

revision = "0013_policy_alerts"
down_revision = "0012_enterprise"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "policy_subscriptions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(length=32), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=True),
        sa.Column("industry", sa.String(length=32), nullable=False),
        sa.Column("size", sa.String(length=16), nullable=False),
        sa.Column("town", sa.String(length=16), nullable=False),
        sa.Column("year_established", sa.Integer(), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", baishitong.db.UTCDateTime(), nullable=False),
        sa.Column("confirmed_at", baishitong.db.UTCDateTime(), nullable=True),
        sa.Column("cancelled_at", baishitong.db.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_policy_subscriptions"),
        sa.UniqueConstraint("token", name="uq_policy_subscriptions_token"),
    )
    op.create_index("ix_policy_subscriptions_phone", "policy_subscriptions", ["phone"])
    op.create_index("ix_policy_subscriptions_status", "policy_subscriptions", ["status"])
    op.create_table(
        "policy_alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subscription_id", sa.Integer(), nullable=False),
        sa.Column("policy_id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=True),
        sa.Column("created_at", baishitong.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["subscription_id"], ["policy_subscriptions.id"], name="fk_policy_alerts_subscription_id_policy_subscriptions"),
        sa.ForeignKeyConstraint(["policy_id"], ["enterprise_policies.id"], name="fk_policy_alerts_policy_id_enterprise_policies"),
        sa.ForeignKeyConstraint(["message_id"], ["messages.id"], name="fk_policy_alerts_message_id_messages"),
        sa.PrimaryKeyConstraint("id", name="pk_policy_alerts"),
        sa.UniqueConstraint("subscription_id", "policy_id", name="uq_policy_alerts_subscription_id"),
    )
    op.create_index("ix_policy_alerts_subscription_id", "policy_alerts", ["subscription_id"])
    op.create_index("ix_policy_alerts_policy_id", "policy_alerts", ["policy_id"])


def downgrade() -> None:
    op.drop_index("ix_policy_alerts_policy_id", table_name="policy_alerts")
    op.drop_index("ix_policy_alerts_subscription_id", table_name="policy_alerts")
    op.drop_table("policy_alerts")
    op.drop_index("ix_policy_subscriptions_status", table_name="policy_subscriptions")
    op.drop_index("ix_policy_subscriptions_phone", table_name="policy_subscriptions")
    op.drop_table("policy_subscriptions")
