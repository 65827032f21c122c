"""Checks on requester data; messages are shown to citizens, so they are Chinese."""

import re
import unicodedata

# ASCII digits only: \d alone also takes ９ and other scripts' digits, which would be stored as typed.
MOBILE = re.compile(r"^1[3-9]\d{9}$", re.ASCII)
_LANDLINE = re.compile(r"^0\d{2,3}\d{7,8}$", re.ASCII)
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def normalise_phone(value: str) -> str:
    """A Chinese keyboard in full-width mode types １３８…, ＋８６ and （０７５７）: NFKC makes them the number they are."""
    digits = re.sub(r"[\s\-()（）]", "", unicodedata.normalize("NFKC", value))
    if digits.startswith("+86"):
        digits = digits[3:]
    if not (MOBILE.match(digits) or _LANDLINE.match(digits)):
        raise ValueError("请填写正确的手机号码或固定电话（含区号）")
    return digits


def normalise_number(value: str) -> str:
    """An order or booking number as typed (ｓｄ２０２６…, with spaces) → SD2026…."""
    return re.sub(r"\s", "", unicodedata.normalize("NFKC", value)).upper()


def validate_id_number(value: str) -> str:
    value = value.strip().upper()
    if not re.fullmatch(r"\d{17}[\dX]", value):
        raise ValueError("身份证号码应为18位")
    total = sum(int(d) * w for d, w in zip(value[:17], _ID_WEIGHTS))
    if _ID_CHECK[total % 11] != value[-1]:
        raise ValueError("身份证号码校验位不正确")
    return value
