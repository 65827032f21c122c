"""`baishitong attachments strip-metadata`: the requests' photos stored as sent before intake stripped them lose their
EXIF (GPS) too, once, in place."""

from click.testing import CliRunner
from sqlalchemy import select

from baishitong import migrate
from baishitong.attachments import service as attachments
from baishitong.attachments.models import Attachment
from baishitong.audit.models import AuditEntry
from baishitong.cli import main
from baishitong.db import Database
from tests.attachments.files import GPS_MARK, PDF, jpeg_with_gps, png
from tests.conftest import create_fresh_database, drop_fresh_database, seed_test_database
from tests.tickets.factories import make_ticket


def as_sent(name: str, data: bytes, content_type: str, suffix: str) -> attachments.CheckedFile:
    """A file stored as an older version did, without stripping it."""
    return attachments.CheckedFile(name=name, content_type=content_type, suffix=suffix, data=data)


def test_the_photos_stored_as_sent_lose_their_metadata_once_and_the_rest_is_left_alone(tmp_path):
    url = create_fresh_database(tmp_path)
    var = tmp_path / "var"
    try:
        migrate.upgrade(url)
        db = Database(url)
        with db.session() as session:
            seed_test_database(session)
            ticket = make_ticket(session)
            files = [
                as_sent("gps.jpg", jpeg_with_gps(orientation=6), "image/jpeg", ".jpg"),
                as_sent("clean.png", png(), "image/png", ".png"),
                as_sent("tagged.png", png(with_metadata=True), "image/png", ".png"),
                as_sent("letter.pdf", PDF, "application/pdf", ".pdf"),
                as_sent("broken.jpg", b"\xff\xd8\xff\xe0 cut short", "image/jpeg", ".jpg"),
                as_sent("gone.jpg", jpeg_with_gps(), "image/jpeg", ".jpg"),
            ]
            rows = attachments.store(session, ticket=ticket, files=files, var_dir=var, uploaded_by="requester")
            stored = {r.original_name: (r.id, attachments.upload_dir(var) / r.stored_name) for r in rows}
        stored["gone.jpg"][1].unlink()
        runner = CliRunner()
        result = runner.invoke(main, ["attachments", "strip-metadata", "--var-dir", str(var), "--db", url])
        assert result.exit_code == 0, result.output
        assert "已去除元数据 2 张，本无元数据 1 张" in result.output
        assert f"文件已丢失 1 个（附件编号 {stored['gone.jpg'][0]}）" in result.output
        assert f"无法解析、保持原样 1 张（附件编号 {stored['broken.jpg'][0]}）" in result.output
        photo = stored["gps.jpg"][1].read_bytes()
        assert GPS_MARK not in photo and b"Exif\0\0" in photo  # only the orientation is left
        assert stored["tagged.png"][1].read_bytes() == png() and stored["letter.pdf"][1].read_bytes() == PDF
        assert not list(attachments.upload_dir(var).glob("*.part"))
        with db.session() as session:
            sizes = {r.original_name: r.size for r in session.scalars(select(Attachment))}
            assert sizes["gps.jpg"] == len(photo) and sizes["tagged.png"] == len(png())
            (entry,) = session.scalars(select(AuditEntry).where(AuditEntry.action == "attachments.metadata-stripped")).all()
            assert entry.actor == "cli" and entry.data["stripped"] == 2
        again = runner.invoke(main, ["attachments", "strip-metadata", "--var-dir", str(var), "--db", url])
        assert "已去除元数据 0 张，本无元数据 3 张" in again.output
        db.dispose()
    finally:
        drop_fresh_database(url)
