from sqlalchemy.orm import Session

from baishitong.jobs.registry import job
from baishitong.notify import service


@job("notify.send")
def send_message(session: Session, *, message_id: int) -> None:
    service.deliver(session, message_id=message_id)
