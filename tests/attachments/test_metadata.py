"""A reply's photo is stored without what it says about where and when it was taken; its pixels are left as they are."""

import pytest

from baishitong.attachments import metadata
from tests.attachments.files import GPS_MARK, jpeg_with_gps, png, webp_with_exif


def test_a_jpeg_loses_exif_gps_xmp_comments_and_what_follows_the_image_but_keeps_its_scan_colour_and_orientation():
    original = jpeg_with_gps(orientation=6)
    stripped = metadata.strip(original, "image/jpeg")
    assert GPS_MARK not in stripped
    assert b"ICC_PROFILE\0" in stripped and b"JFIF\0" in stripped
    assert b"\x12\x34\xff\x00\x56\xff\xd0\x78\x9a\xff\xd9" in stripped and stripped.endswith(b"\xff\xd9")
    assert stripped.count(b"\xff\xd8") == 1  # the MPF second image is gone
    # Upright still: a one-tag EXIF right after JFIF says orientation 6, and nothing else.
    exif_at = stripped.index(b"Exif\0\0")
    assert stripped[exif_at - 4 : exif_at - 2] == b"\xff\xe1" and stripped.index(b"JFIF") < exif_at
    assert metadata._exif_orientation(stripped[exif_at + 6 :]) == 6


def test_an_upright_jpeg_gets_no_exif_at_all():
    assert b"Exif" not in metadata.strip(jpeg_with_gps(orientation=1), "image/jpeg")


def test_a_png_loses_its_exif_and_text_chunks_and_nothing_else():
    clean = png()
    assert metadata.strip(png(with_metadata=True), "image/png") == clean
    assert metadata.strip(clean, "image/png") == clean


def test_a_webp_loses_exif_and_xmp_and_says_so_in_its_header():
    stripped = metadata.strip(webp_with_exif(), "image/webp")
    assert GPS_MARK not in stripped and b"VP8L" in stripped
    assert stripped[20] & 0x0C == 0  # VP8X flags: no EXIF, no XMP
    assert int.from_bytes(stripped[4:8], "little") == len(stripped) - 8


@pytest.mark.parametrize(("data", "kind"), [(jpeg_with_gps()[:40], "image/jpeg"), (png()[:30], "image/png"), (b"\xff\xd8\xff\xe0garbage", "image/jpeg"), (b"\x89PNG\r\n\x1a\n" + b"\0" * 64, "image/png")])
def test_a_file_that_only_starts_like_an_image_is_unreadable(data, kind):
    with pytest.raises(metadata.Unreadable):
        metadata.strip(data, kind)
