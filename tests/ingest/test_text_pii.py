"""Personal data never survives normalisation: phone numbers, IDs, emails, account numbers."""

from __future__ import annotations

import random
import re

import pytest

from needgraph.ingest.text.normalise import normalise_text
from needgraph.ingest.text.pii import has_long_digit_run, mask_pii

FULL_WIDTH = str.maketrans("0123456789+-()", "０１２３４５６７８９＋－（）")


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def _spellings(number: str, rng: random.Random) -> list[str]:
    """Ways customers write the 11-digit mobile ``number``."""
    a, b, c = number[:3], number[3:7], number[7:]
    spaced = " ".join(number)
    forms = [
        number,
        f"{a} {b} {c}",
        f"{a}-{b}-{c}",
        f"+86 {a} {b} {c}",
        f"+86-{number}",
        f"86-{number}",
        f"0086 {number}",
        f"(+86){number}",
        spaced,
        f"{a}.{b}.{c}",
        f"{a}　{b}　{c}",  # ideographic spaces
        number.translate(FULL_WIDTH),
        f"+86 {a} {b} {c}".translate(FULL_WIDTH),
        f"{a}-{b}{c}",
    ]
    rng.shuffle(forms)
    return forms


CONTEXTS = [
    "我电话{}，赶紧回电！！！",
    "@中国移动10086 宽带又断了 联系我{}[怒]",
    "my number is {} please call back",
    "手机号：{}。谢谢",
    "{}",
    "宽带29元100M，电话{}，5G套餐",
]


def test_generated_phone_spellings_leave_no_digit_of_the_number() -> None:
    rng = random.Random(7)
    for _ in range(40):
        number = "1" + rng.choice("3456789") + "".join(rng.choice("0123456789") for _ in range(9))
        for spelling in _spellings(number, rng):
            raw = rng.choice(CONTEXTS).format(spelling)
            result = normalise_text(raw)
            out = result.text + "".join(result.mentions) + "".join(result.emoticons)
            assert "<PHONE>" in result.text, raw
            assert "phone" in result.masked_kinds
            # none of the number's 4-digit groups survives anywhere in the output
            for i in range(0, len(number) - 3):
                assert number[i : i + 4] not in _digits(out), (raw, result.text)
            assert not has_long_digit_run(result.text)


@pytest.mark.parametrize(
    ("raw", "masked", "kind"),
    [
        ("座机010-12345678有人接吗", "座机<PHONE>有人接吗", "phone"),
        ("打(0755)1234-5678", "打<PHONE>", "phone"),
        ("身份证号11010519491231002X", "身份证号<ID>", "id"),
        ("身份证 110105194912310021", "身份证 <ID>", "id"),
        ("邮箱 zhang.san+tv@example.com.cn 收不到账单", "邮箱 <EMAIL> 收不到账单", "email"),
        ("宽带账号07551234567890报修", "宽带账号<ACCOUNT>报修", "account"),
        ("QQ 12345678 联系", "QQ <ACCOUNT> 联系", "account"),
        ("一三八一二三四五六七八 打我电话", "<PHONE> 打我电话", "phone"),
    ],
)
def test_typed_placeholders(raw: str, masked: str, kind: str) -> None:
    result = mask_pii(raw)
    assert result.text == masked
    assert result.kinds == (kind,)


@pytest.mark.parametrize(
    "raw",
    [
        "29元套餐100M宽带",
        "5G信号差，打了10086和10010",
        "2024-05-01 20:00-23:00 一直卡",
        "2024.5.1晚上8点到11点",
        "每月扣费39.9元，流量20GB",
        "打了3次 等了2小时",
    ],
)
def test_short_numbers_stay(raw: str) -> None:
    result = mask_pii(raw)
    assert result.text == raw
    assert result.kinds == ()


def test_kinds_are_reported_without_values() -> None:
    result = normalise_text("电话13812345678 邮箱a@b.cn 身份证110105194912310021")
    assert result.masked_kinds == ("email", "id", "phone")
    assert not any(ch.isdigit() for ch in "".join(result.masked_kinds))
    assert not re.search(r"\d{5,}", result.text)


def test_handle_with_phone_number_is_masked_before_it_is_kept() -> None:
    result = normalise_text("@user13812345678 宽带又断了")
    assert "13812345678" not in "".join(result.mentions) + result.text
    assert result.masked_kinds == ("phone",)
