from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from baishitong.actors import Actor
from baishitong.bounds import MAX_OFFSET
from baishitong.deps import get_db_session
from baishitong.notify import service
from baishitong.org.api import require_roles
from baishitong.security import mask_phone

router = APIRouter(prefix="/api/v1/notifications", tags=["通知"])


class TemplateIn(BaseModel):
    body: str = Field(min_length=2, max_length=1000)
    base_version: int | None = Field(default=None, description="读取模板时得到的 version；给出时，他人已修改则返回 409")


@router.get("/outbox")
def outbox(
    status: str | None = None,
    audience: str | None = None,
    limit: int = Query(default=100, ge=1, le=500),
    offset: int = Query(default=0, ge=0, le=MAX_OFFSET),
    actor: Actor = Depends(require_roles("admin", "supervisor")),
    session: Session = Depends(get_db_session),
):
    """Every message the platform sent or tried to send; requesters' numbers are masked, verification codes hidden."""
    return [
        {
            "id": m.id,
            "channel": m.channel,
            "audience": m.audience,
            "recipient": mask_phone(m.recipient) if m.audience == "requester" else m.recipient,
            "template": m.template_code,
            "body": service.readable(m, m.body),
            "status": m.status,
            "attempts": m.attempts,
            "last_error": service.readable(m, m.last_error),
            "created_at": m.created_at,
            "sent_at": m.sent_at,
        }
        for m in service.outbox(session, status=status, audience=audience, limit=limit, offset=offset)
    ]


@router.get("/templates")
def templates(actor: Actor = Depends(require_roles("admin")), session: Session = Depends(get_db_session)):
    return service.list_templates(session)


@router.put("/templates/{code}")
def save_template(code: str, data: TemplateIn, actor: Actor = Depends(require_roles("admin")), session: Session = Depends(get_db_session)):
    row = service.save_template(session, code=code, body=data.body, actor=actor.name, base_version=data.base_version)
    return {"code": row.code, "version": row.version, "body": row.body}
