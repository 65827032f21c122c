"""Removes what a photo says besides its pixels (EXIF with the GPS position, XMP, comments) without re-encoding it.

A handler's phone photo of a repaired road would otherwise publish where the handler stood, and when, with
the reply the requester reads. Only the EXIF orientation survives (as a one-tag EXIF block), so a photo taken
upright still shows upright. Colour data (JPEG's ICC profile and Adobe segment, PNG's and WebP's colour chunks)
stays; PNG and WebP chunks not known to draw the image (an editor's private chunk can hold anything) go.
"""

import struct
import zlib

# JPEG markers without a length field: TEM and the restart markers.
_STANDALONE = {0x01, *range(0xD0, 0xD8)}
_APP0, _APP1, _APP2, _APP14, _SOS, _EOI, _COM = 0xE0, 0xE1, 0xE2, 0xEE, 0xDA, 0xD9, 0xFE
_ORIENTATION_TAG = 0x0112
# JPEG frame headers (SOF0-15 less DHT, JPG and DAC): they hold the image's height and width.
_SOF = {*range(0xC0, 0xD0)} - {0xC4, 0xC8, 0xCC}
# PNG's ancillary chunks that change how the image looks (colour, transparency, pixel size, APNG frames); the
# critical ones (upper-case first letter: IHDR, PLTE, IDAT, IEND) are always kept. Text, EXIF and tIME are not here.
_PNG_KEEP = {b"cHRM", b"gAMA", b"iCCP", b"sBIT", b"sRGB", b"cICP", b"mDCv", b"cLLi", b"bKGD", b"tRNS", b"hIST", b"pHYs", b"sPLT", b"acTL", b"fcTL", b"fdAT"}
_WEBP_KEEP = {b"VP8 ", b"VP8L", b"VP8X", b"ALPH", b"ANIM", b"ANMF", b"ICCP"}
_VP8X_EXIF, _VP8X_XMP = 0x08, 0x04


class Unreadable(ValueError):
    """The file has the signature of an image but not its structure: nothing can be said about what it carries."""


def strip(data: bytes, content_type: str) -> bytes:
    """The image without its metadata; raises Unreadable for a file that does not parse."""
    try:
        return {"image/jpeg": _jpeg, "image/png": _png, "image/webp": _webp}[content_type](data)
    except (IndexError, ValueError, struct.error) as exc:  # ValueError: bytes.index found no marker
        raise Unreadable(str(exc)) from None


def dimensions(data: bytes, content_type: str) -> tuple[int, int] | None:
    """Width and height as the image's header states them (what a browser will allocate to draw it), read without
    decoding; None where the header cannot be read."""
    try:
        return {"image/jpeg": _jpeg_size, "image/png": _png_size, "image/webp": _webp_size}[content_type](data)
    except (IndexError, ValueError, struct.error):
        return None


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    pos = 2
    while data[pos] == 0xFF:
        while data[pos + 1] == 0xFF:
            pos += 1
        marker = data[pos + 1]
        if marker in _STANDALONE:
            pos += 2
            continue
        if marker in (_SOS, _EOI):
            return None
        if marker in _SOF:
            height, width = struct.unpack(">HH", data[pos + 5 : pos + 9])
            return width, height
        pos += 2 + struct.unpack(">H", data[pos + 2 : pos + 4])[0]
    return None


def _png_size(data: bytes) -> tuple[int, int] | None:
    if data[12:16] != b"IHDR":
        return None
    return struct.unpack(">II", data[16:24])


def _webp_size(data: bytes) -> tuple[int, int] | None:
    kind = data[12:16]
    if kind == b"VP8X":
        return 1 + int.from_bytes(data[24:27], "little"), 1 + int.from_bytes(data[27:30], "little")
    if kind == b"VP8L" and data[20] == 0x2F:
        bits = int.from_bytes(data[21:25], "little")
        return 1 + (bits & 0x3FFF), 1 + ((bits >> 14) & 0x3FFF)
    if kind == b"VP8 " and data[23:26] == b"\x9d\x01\x2a":
        return int.from_bytes(data[26:28], "little") & 0x3FFF, int.from_bytes(data[28:30], "little") & 0x3FFF
    return None


def _jpeg(data: bytes) -> bytes:
    if data[:2] != b"\xff\xd8":
        raise Unreadable("no SOI")
    kept: list[bytes] = []
    orientation = None
    scanned = False
    pos = 2
    while True:
        if data[pos] != 0xFF:
            raise Unreadable(f"no marker at {pos}")
        while data[pos + 1] == 0xFF:  # fill bytes before a marker
            pos += 1
        marker = data[pos + 1]
        if marker == _EOI:
            if not scanned:
                raise Unreadable("no image before EOI")
            kept.append(b"\xff\xd9")
            break  # what follows (a phone's MPF second images, with their own EXIF) is dropped too
        if marker in _STANDALONE:
            kept.append(data[pos : pos + 2])
            pos += 2
            continue
        (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        end = pos + 2 + length
        if length < 2 or end > len(data):
            raise Unreadable(f"segment past the end at {pos}")
        segment, payload = data[pos:end], data[pos + 4 : end]
        if marker == _APP1 and payload.startswith(b"Exif\0\0"):
            orientation = orientation or _exif_orientation(payload[6:])
        elif marker == _APP0 or marker == _APP14 or (marker == _APP2 and payload.startswith(b"ICC_PROFILE\0")) or not (0xE0 <= marker <= 0xEF or marker == _COM):
            kept.append(segment)
        pos = end
        if marker == _SOS:
            scanned = True
            scan_end = _entropy_end(data, pos)
            kept.append(data[pos:scan_end])
            pos = scan_end
    if orientation and orientation != 1:
        kept.insert(1 if kept[0][1] == _APP0 else 0, _orientation_segment(orientation))
    return b"\xff\xd8" + b"".join(kept)


def _entropy_end(data: bytes, pos: int) -> int:
    """Where a scan's entropy-coded data ends: the first marker that is not a stuffed 0xFF or a restart."""
    while True:
        pos = data.index(b"\xff", pos)
        following = data[pos + 1]
        if following == 0 or 0xD0 <= following <= 0xD7:
            pos += 2
        elif following == 0xFF:
            pos += 1
        else:
            return pos


def _exif_orientation(tiff: bytes) -> int | None:
    """IFD0's orientation; None where there is none or the block does not parse (it is dropped either way)."""
    try:
        return _ifd0_orientation(tiff)
    except (IndexError, struct.error):
        return None


def _ifd0_orientation(tiff: bytes) -> int | None:
    order = {b"II": "<", b"MM": ">"}.get(tiff[:2])
    if order is None:
        return None
    (ifd,) = struct.unpack(order + "I", tiff[4:8])
    (count,) = struct.unpack(order + "H", tiff[ifd : ifd + 2])
    for i in range(count):
        entry = ifd + 2 + 12 * i
        tag, kind = struct.unpack(order + "HH", tiff[entry : entry + 4])
        if tag == _ORIENTATION_TAG and kind == 3:
            (value,) = struct.unpack(order + "H", tiff[entry + 8 : entry + 10])
            return value if 1 <= value <= 8 else None
    return None


def _orientation_tiff(value: int) -> bytes:
    return b"MM\0\x2a" + struct.pack(">I", 8) + struct.pack(">H", 1) + struct.pack(">HHIHH", _ORIENTATION_TAG, 3, 1, value, 0) + struct.pack(">I", 0)


def _orientation_segment(value: int) -> bytes:
    payload = b"Exif\0\0" + _orientation_tiff(value)
    return b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload


def _png(data: bytes) -> bytes:
    signature = b"\x89PNG\r\n\x1a\n"
    if not data.startswith(signature):
        raise Unreadable("no PNG signature")
    if data[12:16] != b"IHDR":
        raise Unreadable("no IHDR first")
    kept = [signature]
    orientation = None
    pos = len(signature)
    while True:
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        end = pos + 12 + length
        if end > len(data):
            raise Unreadable(f"chunk past the end at {pos}")
        if kind == b"eXIf":
            orientation = orientation or _exif_orientation(data[pos + 8 : end - 4])
        elif kind[:1].isupper() or kind in _PNG_KEEP:
            kept.append(data[pos:end])
        pos = end
        if kind == b"IEND":
            break
    if b"IDAT" not in {chunk[4:8] for chunk in kept}:
        raise Unreadable("no IDAT")
    if orientation and orientation != 1:
        # Before the image data, where the PNG spec wants eXIf.
        kept.insert(2, _png_chunk(b"eXIf", _orientation_tiff(orientation)))
    return b"".join(kept)


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def _webp(data: bytes) -> bytes:
    if data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        raise Unreadable("no RIFF/WEBP header")
    # What follows the RIFF's stated length is not part of the image (and may be anything): it goes.
    data = data[: 8 + struct.unpack("<I", data[4:8])[0]]
    kept = []
    orientation = None
    pos = 12
    while pos < len(data):
        kind = data[pos : pos + 4]
        (size,) = struct.unpack("<I", data[pos + 4 : pos + 8])
        end = pos + 8 + size
        if end > len(data):
            raise Unreadable(f"chunk past the end at {pos}")
        # A chunk of odd size is padded to even; the last one's pad byte is sometimes missing, and is put back.
        chunk = data[pos:end] + b"\0" * (size & 1)
        if kind == b"VP8X":
            chunk = chunk[:8] + bytes([chunk[8] & ~(_VP8X_EXIF | _VP8X_XMP) & 0xFF]) + chunk[9:]
        if kind == b"EXIF":
            # Some writers start the chunk with JPEG's "Exif\0\0"; the container wants the TIFF block alone.
            orientation = orientation or _exif_orientation(data[pos + 8 : end].removeprefix(b"Exif\0\0"))
        elif kind in _WEBP_KEEP:
            kept.append(chunk)
        pos = end + (size & 1)
    if not any(chunk[:4] in (b"VP8 ", b"VP8L", b"ANMF") for chunk in kept):
        raise Unreadable("no image chunk")
    # EXIF is only allowed in the extended format, announced by the VP8X header's flag, after the image data (where the
    # dropped XMP and unknown chunks were). A simple file carrying one anyway keeps no orientation: no reader looks at it.
    if orientation and orientation != 1 and kept[0][:4] == b"VP8X":
        kept[0] = kept[0][:8] + bytes([kept[0][8] | _VP8X_EXIF]) + kept[0][9:]
        tiff = _orientation_tiff(orientation)
        kept.append(b"EXIF" + struct.pack("<I", len(tiff)) + tiff)
    body = b"WEBP" + b"".join(kept)
    return b"RIFF" + struct.pack("<I", len(body)) + body
