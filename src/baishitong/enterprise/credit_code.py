"""统一社会信用代码 (GB 32100-2015): 18 characters, the last a mod-31 check over the first 17."""

import re

# The standard's 31 characters: digits and capitals without I, O, S, V, Z (easily misread).
ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_SHAPE = re.compile(rf"^[{ALPHABET}]{{2}}\d{{6}}[{ALPHABET}]{{10}}$")


def check_character(first17: str) -> str:
    total = sum(ALPHABET.index(c) * w for c, w in zip(first17, WEIGHTS))
    return ALPHABET[(31 - total % 31) % 31]


def validate(value: str) -> str:
    """The normalised code (trimmed, upper case), or ValueError with a message for the enterprise."""
    code = value.strip().upper()
    if len(code) != 18:
        raise ValueError("统一社会信用代码应为18位")
    if not _SHAPE.match(code):
        raise ValueError("统一社会信用代码含有无效字符（不使用 I、O、S、V、Z，第3至8位为行政区划代码）")
    if check_character(code[:17]) != code[17]:
        raise ValueError("统一社会信用代码校验位不正确，请核对营业执照")
    return code
