"""The photos a citizen sends with a request (我要反映) are stored without what a phone writes into them (the GPS
position, the camera, the time), as a reply's are; a photo taken sideways still shows upright."""

import re
import struct

from sqlalchemy import select

from baishitong.attachments import metadata
from baishitong.attachments.models import Attachment
from baishitong.tickets.models import Ticket
from tests.attachments.files import GPS_MARK, jpeg_with_gps, png, png_chunk, webp_with_exif
from tests.web.test_pages import login, submit_form


def submitted(web, session, photos) -> Ticket:
    response = web.post("/submit", data=submit_form(web), files=[("photos", p) for p in photos], follow_redirects=False)
    assert response.status_code == 303, response.text
    return session.scalar(select(Ticket).where(Ticket.number == response.headers["location"].rsplit("/", 1)[-1]))


def staff_photos(web, ticket) -> list[bytes]:
    login(web, "t_operator")
    page = web.get(f"/staff/tickets/{ticket.number}").text
    return [web.get(link).content for link in dict.fromkeys(re.findall(r'href="(/staff/attachments/\d+)"', page))]


def test_a_phone_photo_sent_with_the_request_comes_back_without_its_gps_and_still_turned_upright(web, session):
    ticket = submitted(web, session, [("IMG_0001.jpg", jpeg_with_gps(orientation=6), "image/jpeg")])
    (photo,) = staff_photos(web, ticket)
    assert photo.startswith(b"\xff\xd8") and GPS_MARK not in photo
    assert photo.count(b"\xff\xd8") == 1  # the phone's second (MPF) image, with its own EXIF, is gone
    # The only EXIF left is a one-tag block saying the picture is turned by 90° (orientation 6), as taken.
    assert photo.count(b"Exif\0\0") == 1
    tiff = photo[photo.index(b"Exif\0\0") + 6 :]
    assert metadata._exif_orientation(tiff) == 6 and struct.unpack(">H", tiff[8:10]) == (1,)
    row = session.scalar(select(Attachment).where(Attachment.ticket_id == ticket.id))
    assert row.size == len(photo) and row.uploaded_by == "requester"


def test_an_upright_photo_keeps_no_exif_at_all_and_the_api_serves_it_so(web, client, login, session):
    ticket = submitted(web, session, [("IMG_0002.jpg", jpeg_with_gps(orientation=1), "image/jpeg")])
    (listed,) = client.get(f"/api/v1/tickets/{ticket.number}/attachments", headers=login("t_operator")).json()
    photo = client.get(listed["url"], headers=login("t_operator")).content
    assert listed["kind"] == "intake" and photo.startswith(b"\xff\xd8")
    assert b"Exif" not in photo and GPS_MARK not in photo and b"xmpmeta" not in photo and b"taken at" not in photo


def test_png_and_webp_photos_lose_their_exif_and_text_too(web, session):
    clean = png()
    tagged = clean[:33] + png_chunk(b"tEXt", b"Comment\0" + GPS_MARK) + clean[33:]
    ticket = submitted(web, session, [("a.png", png(with_metadata=True), "image/png"), ("b.png", tagged, "image/png"), ("c.webp", webp_with_exif(), "image/webp")])
    first, second, third = staff_photos(web, ticket)
    assert first == second == clean
    assert GPS_MARK not in third and third.startswith(b"RIFF") and b"VP8L" in third


def test_a_webp_taken_sideways_is_stored_with_its_orientation_and_nothing_else(web, session):
    ticket = submitted(web, session, [("IMG_0003.webp", webp_with_exif(orientation=6), "image/webp")])
    (photo,) = staff_photos(web, ticket)
    assert GPS_MARK not in photo and b"XMP " not in photo and photo[20] & 0x0C == 0x08  # VP8X flags: EXIF only
    assert int.from_bytes(photo[4:8], "little") == len(photo) - 8
    at = photo.index(b"EXIF")
    tiff = photo[at + 8 : at + 8 + int.from_bytes(photo[at + 4 : at + 8], "little")]
    assert metadata._exif_orientation(tiff) == 6 and struct.unpack(">H", tiff[8:10]) == (1,)
    assert at + 8 + len(tiff) == len(photo)  # the last chunk, after the image


def test_a_photo_that_does_not_parse_is_refused_beside_the_field_and_nothing_is_created(web, session):
    before = session.scalar(select(Ticket.id).order_by(Ticket.id.desc()).limit(1))
    cut_short = jpeg_with_gps()[:60]
    page = web.post("/submit", data=submit_form(web), files=[("photos", ("坏图.jpg", cut_short, "image/jpeg"))])
    assert page.status_code == 200 and "照片“坏图.jpg”已损坏或不完整，请重新拍摄或选择" in page.text
    assert "桂洲大道东路段路灯连续一周不亮" in page.text  # what was typed is kept
    assert session.scalar(select(Ticket.id).order_by(Ticket.id.desc()).limit(1)) == before
