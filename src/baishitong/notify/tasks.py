from baishitong.db import Database
from baishitong.jobs.registry import NOTIFY, job
from baishitong.notify import service


@job("notify.send", outside_transaction=True, queue=NOTIFY)
def send_message(db: Database, *, message_id: int) -> None:
    service.deliver(db, message_id=message_id)
