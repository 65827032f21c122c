"""A file written for a request that then rolls back goes with its row: nothing is left in var/uploads that no
attachment names (a retried upload refused as overlapping, a failed commit, a refused step in a savepoint)."""

import io

import pytest
from starlette.datastructures import UploadFile

from baishitong import idempotency
from baishitong.attachments import service as attachments
from tests.attachments.files import png
from tests.attachments.test_reply_files import api_reply
from tests.tickets.factories import make_ticket


def _stored(var_dir) -> set[str]:
    folder = attachments.upload_dir(var_dir)
    return {p.name for p in folder.iterdir()} if folder.exists() else set()


def _photos(n: int = 1):
    return attachments.check_reply_files([UploadFile(io.BytesIO(png(rgb=(i, 9, 9))), filename=f"{i}.png") for i in range(n)], max_bytes=1024 * 1024)


def test_an_overlapping_retry_refused_after_writing_its_files_removes_them(client, login, session, monkeypatch):
    ticket = make_ticket(session, state="signed")
    api_reply(client, login, ticket)
    var_dir = client.app.state.settings.var_dir
    url, headers = f"/api/v1/tickets/{ticket.number}/reply/attachments", login("t_ronggui") | {"Idempotency-Key": "overlap-1"}
    first = client.post(url, files=[("files", ("a.png", png(), "image/png"))], headers=headers)
    before = _stored(var_dir)
    # The retry started before the first one committed: it found no key, stored its file, then lost the race.
    monkeypatch.setattr(idempotency, "replayed", lambda *args, **kwargs: None)
    again = client.post(url, files=[("files", ("a.png", png(), "image/png"))], headers=headers)
    assert (first.status_code, again.status_code, again.json()["error"]["code"]) == (201, 409, "idempotency_in_progress")
    assert _stored(var_dir) == before


def test_files_of_a_transaction_that_rolls_back_are_removed_and_those_committed_stay(own_database, tmp_path):
    with own_database.session() as session:
        ticket = make_ticket(session, state="replied")
        kept = attachments.store(session, ticket=ticket, files=_photos(), var_dir=tmp_path, uploaded_by="t_ronggui")
    with pytest.raises(RuntimeError):
        with own_database.session() as session:
            attachments.store(session, ticket=ticket, files=_photos(2), var_dir=tmp_path, uploaded_by="t_ronggui")
            raise RuntimeError("the commit failed")
    assert _stored(tmp_path) == {kept[0].stored_name}


def test_files_added_in_a_savepoint_that_rolls_back_are_removed_while_the_request_goes_on(session, tmp_path):
    ticket = make_ticket(session, state="replied")
    with pytest.raises(RuntimeError):
        with session.begin_nested():
            attachments.store(session, ticket=ticket, files=_photos(), var_dir=tmp_path, uploaded_by="t_ronggui")
            raise RuntimeError("the action was refused")
    kept = attachments.store(session, ticket=ticket, files=_photos(), var_dir=tmp_path, uploaded_by="t_ronggui")
    session.commit()
    assert _stored(tmp_path) == {kept[0].stored_name}


def test_a_write_that_fails_halfway_leaves_nothing(session, tmp_path, monkeypatch):
    ticket = make_ticket(session, state="replied")
    real_write = type(tmp_path).write_bytes

    def disk_full(path, data):
        real_write(path, data[:10])
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(type(tmp_path), "write_bytes", disk_full)
    with pytest.raises(attachments.StorageFailed):
        with session.begin_nested():
            attachments.store(session, ticket=ticket, files=_photos(), var_dir=tmp_path, uploaded_by="t_ronggui")
    assert _stored(tmp_path) == set()
