"""job_outbox.next_attempt_at and failed_at: a failing job waits out a backoff and is given up after a
few attempts, visible to the admin, instead of being re-sent by the relay every five minutes for ever

Revision ID: 0027_job_retry
Revises: 0026_pause_approval
Create Date: 2026-12-05 18:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0027_job_retry"
down_revision = "0026_pause_approval"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("job_outbox") as batch:
        batch.add_column(sa.Column("next_attempt_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("failed_at", sa.DateTime(), nullable=True))
    # Jobs handed to the queue and never finished are due again at once.
    op.execute("UPDATE job_outbox SET next_attempt_at = sent_at WHERE done_at IS NULL AND sent_at IS NOT NULL")


def downgrade() -> None:
    with op.batch_alter_table("job_outbox") as batch:
        batch.drop_column("failed_at")
        batch.drop_column("next_attempt_at")
