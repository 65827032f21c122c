from fastapi import APIRouter, Depends
from sqlalchemy.orm import Session

from baishitong.actors import Actor
from baishitong.deps import current_actor, get_db_session
from baishitong.phrases import schemas, service

router = APIRouter(prefix="/api/v1", tags=["常用答复语"])


@router.get("/reply-phrases", response_model=list[schemas.ReplyPhraseOut])
def reply_phrases(actor: Actor = Depends(current_actor), session: Session = Depends(get_db_session)):
    """The active phrases the token's user may insert into a reply: their unit's first, then those of the units
    above it (a community's handlers get their town's), then the shared ones."""
    return [schemas.ReplyPhraseOut(id=p.id, title=p.title, body=p.body, unit=p.unit.code if p.unit else None) for p in service.usable(session, actor=actor)]
