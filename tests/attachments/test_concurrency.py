"""Two uploads to one 答复 at once: the second counts the first one's files, so the reply never holds more than three.

Commits for real, in separate sessions, on a database of this module's own (see tests/tickets/test_concurrency.py)."""

import io
import threading
import time

from sqlalchemy import func, select
from starlette.datastructures import UploadFile

from baishitong.attachments import service as attachments
from baishitong.attachments.models import Attachment
from baishitong.errors import InvalidInput
from baishitong.tickets.models import Ticket
from tests.attachments.files import png
from tests.conftest import actor
from tests.tickets.factories import make_ticket


def _two_photos():
    return attachments.check_reply_files([UploadFile(io.BytesIO(png(rgb=(i, 0, 0))), filename=f"{i}.png") for i in range(2)], max_bytes=1024 * 1024)


def test_an_upload_waits_for_one_in_progress_and_counts_its_files(own_database, tmp_path):
    with own_database.session() as session:
        number = make_ticket(session, state="replied").number
        handler = actor(session, "t_ronggui")
    first_added, outcomes = threading.Event(), {}

    def first():
        with own_database.session() as session:
            attachments.add_to_reply(session, number=number, actor=handler, files=_two_photos(), var_dir=tmp_path)
            first_added.set()
            time.sleep(0.5)  # still uncommitted while the second one counts
        outcomes["first"] = "ok"

    def second():
        first_added.wait(10)
        try:
            with own_database.session() as session:
                attachments.add_to_reply(session, number=number, actor=handler, files=_two_photos(), var_dir=tmp_path)
            outcomes["second"] = "ok"
        except InvalidInput as exc:
            outcomes["second"] = exc.message

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert outcomes == {"first": "ok", "second": "每条答复最多 3 个附件，已有 2 个"}
    with own_database.session(write=False) as session:
        held = session.scalar(select(func.count()).select_from(Attachment).join(Ticket, Ticket.id == Attachment.ticket_id).where(Ticket.number == number))
    assert held == 2 and len(list(attachments.upload_dir(tmp_path).iterdir())) == 2
