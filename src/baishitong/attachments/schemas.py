from datetime import datetime
from typing import Literal

from pydantic import BaseModel


class AttachmentOut(BaseModel):
    id: int
    kind: Literal["intake", "reply"]  # the requester's photo sent with the request, or a file of a 答复
    event_id: int | None  # the 答复 in the order's events
    name: str
    content_type: str
    size: int
    created_at: datetime
    url: str  # GET with the same token


class ReplyFileOut(BaseModel):
    """A file of the 答复 on the requester's progress page: the link works for LINK_MINUTES, for this order only."""

    name: str
    content_type: str
    size: int
    url: str
