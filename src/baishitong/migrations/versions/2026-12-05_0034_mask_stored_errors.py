"""Masks the error texts stored before they were masked when stored: a failed job's (失败的后台任务 on 消息发件箱)
and a message's, which may quote a citizen's mobile or ID number, the 我的诉求 code or a policy alert link

The patterns are copied from the app as it is now (security.mask_numbers_in_text, logs.mask_secrets_in_text,
notify.service.readable): the app's may change later, what this migration does must not.

Revision ID: 0034_mask_stored_errors
Revises: 0033_ticket_media_url
Create Date: 2026-12-06 13:00:00
"""

import re

import sqlalchemy as sa
from alembic import op

revision = "0034_mask_stored_errors"
down_revision = "0033_ticket_media_url"
branch_labels = None
depends_on = None

_ID_IN_TEXT = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
_MOBILE_IN_TEXT = re.compile(r"(?<!\d)(\+?86[- ]?)?(1[3-9]\d[- ]?\d{4}[- ]?\d{4})(?!\d)")
_SECRET_IN_URL = re.compile(r"([?&]api_key=|/enterprise/alerts/|/track/files/)[^&\s\"'#?/]+", re.IGNORECASE)
_API_TOKEN = re.compile(r"(?<![A-Za-z0-9])bst_[A-Za-z0-9_-]{8,}")
# By the message's template: the 我的诉求 code (six digits), a policy alert's confirm or cancel link.
_ALERT_LINK = re.compile(r"(?<=/enterprise/alerts/)[A-Za-z0-9_-]+")
_MESSAGE_SECRETS = {"phone_code": re.compile(r"(?<![0-9])[0-9]{6}(?![0-9])"), "policy_alert_confirm": _ALERT_LINK, "policy_alert": _ALERT_LINK}
BATCH = 500


def _mask_phone(phone: str) -> str:
    digits = re.sub(r"\D", "", phone)
    if len(digits) >= 11:
        return digits[:3] + "****" + digits[-4:]
    if len(digits) >= 8:
        return "****" + digits[-4:]
    return "****"


def _mask_id_number(number: str) -> str:
    return number[:6] + "*" * (len(number) - 10) + number[-4:] if len(number) >= 10 else "*" * len(number)


def masked(text: str, template_code: str | None = None) -> str:
    if secret := _MESSAGE_SECRETS.get(template_code or ""):
        text = secret.sub("******", text)
    text = _ID_IN_TEXT.sub(lambda m: _mask_id_number(m.group()), text)
    text = _MOBILE_IN_TEXT.sub(lambda m: (m.group(1) or "") + _mask_phone(m.group(2)), text)
    return _API_TOKEN.sub("bst_******", _SECRET_IN_URL.sub(r"\1******", text))


def _mask_column(table: sa.TableClause, *extra: sa.ColumnClause) -> None:
    bind = op.get_bind()
    last = 0
    while True:
        rows = bind.execute(sa.select(table.c.id, table.c.last_error, *extra).where(table.c.last_error.is_not(None), table.c.id > last).order_by(table.c.id).limit(BATCH)).all()
        if not rows:
            return
        for row in rows:
            text = masked(row.last_error, row.template_code if extra else None)
            if text != row.last_error:
                bind.execute(table.update().where(table.c.id == row.id).values(last_error=text))
        last = rows[-1].id


def upgrade() -> None:
    _mask_column(sa.table("job_outbox", sa.column("id"), sa.column("last_error")))
    messages = sa.table("messages", sa.column("id"), sa.column("last_error"), sa.column("template_code"))
    _mask_column(messages, messages.c.template_code)


def downgrade() -> None:
    # What was masked stays masked: the clear text is not kept anywhere to put back.
    pass
