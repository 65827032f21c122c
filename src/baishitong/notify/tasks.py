from baishitong.db import Database
from baishitong.jobs.registry import job
from baishitong.notify import service


@job("notify.send", outside_transaction=True)
def send_message(db: Database, *, message_id: int) -> None:
    service.deliver(db, message_id=message_id)
