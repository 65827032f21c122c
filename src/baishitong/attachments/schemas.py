from datetime import datetime
from typing import Literal

from pydantic import BaseModel


class AttachmentOut(BaseModel):
    id: int
    # The requester's photo sent with the request, a file of a 答复 or 直接答复 (the requester sees it), or of a 协办意见
    kind: Literal["intake", "reply", "contribution"]
    event_id: int | None  # the 答复 (直接答复, 协办意见) in the order's events
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
