"""Small files as phones and scanners write them, built byte by byte (no imaging library is installed)."""

import struct
import zlib

GPS_MARK = b"GPS-22.7839N-113.2501E"  # what must not survive in a reply's photo
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png(*, width: int = 4, height: int = 3, rgb: tuple[int, int, int] = (200, 40, 40), with_metadata: bool = False, orientation: int | None = None) -> bytes:
    """A real (decodable) PNG; with_metadata adds an eXIf chunk with a position and a tEXt comment, an orientation
    one with that orientation and a position, as a phone writes a photo taken turned."""
    rows = b"".join(b"\0" + bytes(rgb) * width for _ in range(height))
    chunks = [png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))]
    if orientation is not None:
        chunks.append(png_chunk(b"eXIf", _exif(orientation).removeprefix(b"Exif\0\0")))
    if with_metadata:
        chunks += [png_chunk(b"eXIf", b"MM\0*" + GPS_MARK), png_chunk(b"tEXt", b"Comment\0" + GPS_MARK)]
    chunks += [png_chunk(b"IDAT", zlib.compress(rows)), png_chunk(b"IEND", b"")]
    return b"\x89PNG\r\n\x1a\n" + b"".join(chunks)


def _segment(marker: int, payload: bytes) -> bytes:
    return bytes([0xFF, marker]) + struct.pack(">H", len(payload) + 2) + payload


def _exif(orientation: int) -> bytes:
    """EXIF with IFD0 (Orientation, a pointer to the GPS IFD) and a GPS IFD whose value carries GPS_MARK."""
    gps_ifd = 8 + 2 + 2 * 12 + 4
    gps_value = gps_ifd + 2 + 12 + 4
    ifd0 = struct.pack(">H", 2) + struct.pack(">HHIHH", 0x0112, 3, 1, orientation, 0) + struct.pack(">HHII", 0x8825, 4, 1, gps_ifd) + struct.pack(">I", 0)
    gps = struct.pack(">H", 1) + struct.pack(">HHII", 0x0002, 2, len(GPS_MARK), gps_value) + struct.pack(">I", 0)
    return b"Exif\0\0" + b"MM\0*" + struct.pack(">I", 8) + ifd0 + gps + GPS_MARK


def jpeg_with_gps(*, orientation: int = 6) -> bytes:
    """A JPEG's structure as a phone writes it: JFIF, EXIF with GPS, XMP, an ICC profile, a comment, the scan (with
    stuffed bytes and a restart marker), EOI, then an MPF second image with its own EXIF."""
    scan = b"\x12\x34\xff\x00\x56" + b"\xff\xd0" + b"\x78\x9a"
    return (
        b"\xff\xd8"
        + _segment(0xE0, b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0")
        + _segment(0xE1, _exif(orientation))
        + _segment(0xE1, b"http://ns.adobe.com/xap/1.0/\0<x:xmpmeta>" + GPS_MARK + b"</x:xmpmeta>")
        + _segment(0xE2, b"ICC_PROFILE\0\x01\x01colour-profile")
        + _segment(0xFE, b"taken at " + GPS_MARK)
        + _segment(0xDB, b"\0" + bytes(range(64)))
        + _segment(0xC0, b"\x08\0\x01\0\x01\x01\x01\x11\0")
        + _segment(0xDA, b"\x01\x01\0\0\x3f\0")
        + scan
        + b"\xff\xd9"
        + b"\xff\xd8" + _segment(0xE1, _exif(1)) + b"\xff\xd9"
    )


def webp_with_exif(*, orientation: int | None = None) -> bytes:
    """An extended WebP (VP8X header, lossless image) with EXIF and XMP holding a position; with an orientation the
    EXIF is a phone's (that orientation, a GPS IFD), as the TIFF block alone the container wants."""
    vp8x = b"VP8X" + struct.pack("<I", 10) + bytes([0x08 | 0x04, 0, 0, 0]) + b"\0\0\0\0\0\0"
    image = b"VP8L" + struct.pack("<I", 5) + b"\x2f\0\0\0\0" + b"\0"  # odd size: padded
    tiff = GPS_MARK if orientation is None else _exif(orientation).removeprefix(b"Exif\0\0")
    exif = b"EXIF" + struct.pack("<I", len(tiff)) + tiff + b"\0" * (len(tiff) & 1)
    xmp = b"XMP " + struct.pack("<I", len(GPS_MARK)) + GPS_MARK
    body = b"WEBP" + vp8x + image + exif + xmp
    return b"RIFF" + struct.pack("<I", len(body)) + body
