"""统一社会信用代码: the GB 32100-2015 mod-31 check character."""

import pytest

from baishitong.enterprise import credit_code


def test_the_standards_sample_code_is_valid_and_normalised():
    assert credit_code.validate(" 91350100m000100y43 ") == "91350100M000100Y43"


def test_the_computed_check_character_always_validates():
    body = "91440606MA4W1234"
    for last in credit_code.ALPHABET:
        code17 = body + last
        check = credit_code.check_character(code17)
        assert credit_code.validate(code17 + check) == code17 + check


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("91350100M000100Y4", "应为18位"),
        ("91350100M000100Y44", "校验位不正确"),
        ("91350100M000100I43", "无效字符"),
        ("9135010AM000100Y43", "无效字符"),
    ],
)
def test_wrong_codes_are_refused_with_a_reason(code, message):
    with pytest.raises(ValueError, match=message):
        credit_code.validate(code)
