"""A reply's photo is stored without what it says about where and when it was taken; its pixels are left as they are."""

import struct

import pytest

from baishitong.attachments import metadata
from tests.attachments.files import GPS_MARK, jpeg_with_gps, png, png_chunk, webp_with_exif


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


def _webp_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    """The RIFF's chunks as a reader walks them (kind, payload), checking each size and pad on the way."""
    assert data[:4] == b"RIFF" and data[8:12] == b"WEBP" and int.from_bytes(data[4:8], "little") == len(data) - 8
    chunks, pos = [], 12
    while pos < len(data):
        size = int.from_bytes(data[pos + 4 : pos + 8], "little")
        chunks.append((data[pos : pos + 4], data[pos + 8 : pos + 8 + size]))
        pos += 8 + size + (size & 1)
    assert pos == len(data)
    return chunks


def test_a_webp_turned_by_its_exif_keeps_only_the_orientation_announced_in_its_header():
    stripped = metadata.strip(webp_with_exif(orientation=6), "image/webp")
    assert GPS_MARK not in stripped
    chunks = _webp_chunks(stripped)
    assert [kind for kind, _ in chunks] == [b"VP8X", b"VP8L", b"EXIF"]  # EXIF after the image, XMP gone
    assert chunks[0][1][0] & 0x0C == 0x08  # VP8X flags: EXIF, no XMP
    exif = chunks[2][1]
    assert metadata._exif_orientation(exif) == 6 and exif[8:10] == b"\0\x01"  # a single tag: Orientation
    assert b"\x88\x25" not in exif  # no pointer to a GPS IFD


def test_an_upright_webp_gets_no_exif_at_all():
    stripped = metadata.strip(webp_with_exif(orientation=1), "image/webp")
    assert [kind for kind, _ in _webp_chunks(stripped)] == [b"VP8X", b"VP8L"] and stripped[20] & 0x0C == 0


@pytest.mark.parametrize(("data", "kind"), [(jpeg_with_gps()[:40], "image/jpeg"), (png()[:30], "image/png"), (b"\xff\xd8\xff\xe0garbage", "image/jpeg"), (b"\x89PNG\r\n\x1a\n" + b"\0" * 64, "image/png")])
def test_a_file_that_only_starts_like_an_image_is_unreadable(data, kind):
    with pytest.raises(metadata.Unreadable):
        metadata.strip(data, kind)


def test_a_jpeg_without_an_image_scan_is_unreadable():
    header_only = b"\xff\xd8" + jpeg_with_gps()[2:].split(b"\xff\xda")[0] + b"\xff\xd9"
    with pytest.raises(metadata.Unreadable):
        metadata.strip(header_only, "image/jpeg")


def test_a_png_keeps_its_colour_chunks_and_loses_an_editors_private_ones():
    clean = png()
    colour, private = png_chunk(b"gAMA", b"\0\0\xb1\x8f"), png_chunk(b"prVW", GPS_MARK)
    stripped = metadata.strip(clean[:33] + colour + private + clean[33:], "image/png")
    assert stripped == clean[:33] + colour + clean[33:]


def test_a_png_turned_by_its_exif_keeps_only_the_orientation():
    exif = png_chunk(b"eXIf", b"MM\0*" + struct.pack(">I", 8) + struct.pack(">H", 1) + struct.pack(">HHIHH", 0x0112, 3, 1, 6, 0) + struct.pack(">I", 0) + GPS_MARK)
    clean = png()
    stripped = metadata.strip(clean[:33] + exif + clean[33:], "image/png")
    assert GPS_MARK not in stripped and stripped.index(b"eXIf") < stripped.index(b"IDAT")
    at = stripped.index(b"eXIf")
    (length,) = struct.unpack(">I", stripped[at - 4 : at])
    assert metadata._exif_orientation(stripped[at + 4 : at + 4 + length]) == 6


def test_a_png_without_image_data_is_unreadable():
    clean = png()
    idat = clean.index(b"IDAT") - 4
    with pytest.raises(metadata.Unreadable):
        metadata.strip(clean[:idat] + png_chunk(b"IEND", b""), "image/png")


def _riff(*chunks: bytes, trailer: bytes = b"") -> bytes:
    body = b"WEBP" + b"".join(chunks)
    return b"RIFF" + struct.pack("<I", len(body)) + body + trailer


def test_a_webp_loses_unknown_chunks_and_what_follows_its_riff():
    image = b"VP8L" + struct.pack("<I", 5) + b"\x2f\0\0\0\0" + b"\0"
    private = b"XTRA" + struct.pack("<I", len(GPS_MARK)) + GPS_MARK
    stripped = metadata.strip(_riff(image, private, trailer=b"EXIF" + GPS_MARK), "image/webp")
    assert stripped == _riff(image)


def test_a_webp_whose_last_odd_chunk_lacks_its_pad_byte_comes_out_padded():
    image = b"VP8L" + struct.pack("<I", 5) + b"\x2f\0\0\0\0"
    body = b"WEBP" + image
    stripped = metadata.strip(b"RIFF" + struct.pack("<I", len(body)) + body, "image/webp")
    assert stripped == _riff(image + b"\0") and len(stripped) % 2 == 0


def test_a_webp_with_no_image_is_unreadable():
    with pytest.raises(metadata.Unreadable):
        metadata.strip(_riff(b"EXIF" + struct.pack("<I", len(GPS_MARK)) + GPS_MARK), "image/webp")


def test_dimensions_are_read_from_each_formats_header():
    assert metadata.dimensions(png(width=40, height=30), "image/png") == (40, 30)
    assert metadata.dimensions(jpeg_with_gps(), "image/jpeg") == (1, 1)
    assert metadata.dimensions(webp_with_exif(), "image/webp") == (1, 1)  # VP8X canvas
    lossless = _riff(b"VP8L" + struct.pack("<I", 5) + b"\x2f" + (39 | (29 << 14)).to_bytes(4, "little") + b"\0")
    assert metadata.dimensions(lossless, "image/webp") == (40, 30)
    lossy = _riff(b"VP8 " + struct.pack("<I", 10) + b"\0\0\0\x9d\x01\x2a" + struct.pack("<HH", 640, 480))
    assert metadata.dimensions(lossy, "image/webp") == (640, 480)
    assert metadata.dimensions(b"\xff\xd8\xff\xe0garbage", "image/jpeg") is None
