"""Mask personal data in customer text: phone numbers, ID numbers, emails and account numbers.

Masking runs on NFKC-normalised text (full-width digits are ASCII by then) and before anything
else reads the text, so no stored, logged or returned string carries the raw values.
Replacements are typed placeholders (``<PHONE>``, ``<ID>``, ``<EMAIL>``, ``<ACCOUNT>``); the
caller learns *which kinds* were masked, never the values.

Numbers are found as *digit runs*: digit groups joined by at most one separator (space, hyphen,
dot, slash, parentheses), so ``138 1234 5678``, ``+86-138-1234-5678``, ``(0755)1234-5678`` and
``1 3 8 1 2 3 4 5 6 7 8`` are one run each. A run is then classified by its digits:

* 11 digits ``1[3-9]…`` (optionally after ``86``/``0086``) -> ``<PHONE>`` (mobile);
* 10-12 digits starting with ``0`` -> ``<PHONE>`` (landline with area code);
* 18 digits, or 17 digits and ``X`` -> ``<ID>`` (resident identity card);
* any other run of >= 10 digits -> ``<ACCOUNT>`` (broadband accounts, card numbers);
* 6-9 digits right after a contact word (电话, 手机, QQ, 微信, 账号, phone …) -> typed by the word.

Shorter numbers (``29元``, ``100M``, ``5G``, ``10086``, dates, times) stay. Runs of >= 10
Chinese numerals (``一三八一二三四五六七八``) are classified the same way.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Literal, TypeAlias

PiiKind: TypeAlias = Literal["phone", "id", "email", "account"]
PLACEHOLDERS: dict[PiiKind, str] = {
    "phone": "<PHONE>",
    "id": "<ID>",
    "email": "<EMAIL>",
    "account": "<ACCOUNT>",
}

_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}")
_SPACE = r"[ \t\u3000]"
_SEP = rf"(?:{_SPACE}?[\-–—./]{_SPACE}?|{_SPACE}|\){_SPACE}?|{_SPACE}?\()"
_RUN = re.compile(rf"\+?\(?\d+(?:{_SEP}\d+)*(?P<x>[Xx](?![A-Za-z]))?")
_DATE = re.compile(r"(?:19|20)\d{2}([\-./])\d{1,2}\1\d{1,2}(?!\d)")
_ZH_DIGITS = "零〇一二三四五六七八九幺"
_ZH_VALUE = {c: str(i) for i, c in enumerate("〇一二三四五六七八九")} | {"零": "0", "幺": "1"}
_ZH_RUN = re.compile(rf"[{_ZH_DIGITS}](?:{_SPACE}?[{_ZH_DIGITS}]){{9,}}")
_CONTACT_WORDS: tuple[tuple[str, PiiKind], ...] = (
    ("身份证", "id"),
    ("证件号", "id"),
    ("电话", "phone"),
    ("手机", "phone"),
    ("号码", "phone"),
    ("联系方式", "phone"),
    ("tel", "phone"),
    ("phone", "phone"),
    ("mobile", "phone"),
    ("call me", "phone"),
    ("qq", "account"),
    ("微信", "account"),
    ("wechat", "account"),
    ("账号", "account"),
    ("帐号", "account"),
    ("账户", "account"),
    ("account", "account"),
)
_CONTEXT_CHARS = 12


@dataclass(frozen=True)
class MaskResult:
    """Text with personal data replaced, and which kinds were found.

    Attributes:
        text: The masked text.
        kinds: Kinds masked, sorted and unique (e.g. ``("account", "phone")``).
    """

    text: str
    kinds: tuple[PiiKind, ...]


def _ascii_digits(text: str) -> str:
    return "".join(str(unicodedata.decimal(c)) for c in text if c.isdecimal())


def classify_digits(digits: str, *, x_suffix: bool = False) -> PiiKind | None:
    """Return the kind of personal number ``digits`` spells, or ``None`` for a harmless number.

    Args:
        digits: ASCII digits only (separators removed).
        x_suffix: Whether the run ended in ``X`` (the check character of an identity number).
    """
    n = len(digits)
    if (x_suffix and n == 17) or n == 18:
        return "id"
    for prefix in ("", "86", "0086"):
        rest = digits[len(prefix) :]
        if digits.startswith(prefix) and len(rest) == 11 and re.match(r"1[3-9]", rest):
            return "phone"
    if digits.startswith("0") and 10 <= n <= 12:
        return "phone"
    if n >= 10:
        return "account"
    return None


def _context_kind(text: str, start: int) -> PiiKind | None:
    before = text[max(0, start - _CONTEXT_CHARS) : start].lower()
    found = [(before.rfind(word), kind) for word, kind in _CONTACT_WORDS if word in before]
    return max(found)[1] if found else None


class _Masker:
    def __init__(self) -> None:
        self.kinds: set[PiiKind] = set()

    def _put(self, kind: PiiKind) -> str:
        self.kinds.add(kind)
        return PLACEHOLDERS[kind]

    def email(self, match: re.Match[str]) -> str:
        return self._put("email")

    def number(self, match: re.Match[str], digits: str, x_suffix: bool) -> str:
        kind = classify_digits(digits, x_suffix=x_suffix)
        if kind is None and len(digits) >= 6:
            kind = _context_kind(match.string, match.start())
        if kind is None:
            return match.group(0)
        return self._put(kind)

    def run(self, match: re.Match[str]) -> str:
        digits = _ascii_digits(match.group(0))
        date = _DATE.search(match.group(0))
        if date is not None and date.group(0) != match.group(0):
            # a date next to other numbers ("2024-05-01 20:00"): judge the numbers around it
            pieces = _DATE.split(match.group(0))
            dates = [m.group(0) for m in _DATE.finditer(match.group(0))]
            out = [_RUN.sub(self.run, pieces[0])]
            for day, rest in zip(dates, pieces[2::2], strict=True):
                out += [day, _RUN.sub(self.run, rest)]
            return "".join(out)
        return self.number(match, digits, match.group("x") is not None)

    def zh_run(self, match: re.Match[str]) -> str:
        digits = "".join(_ZH_VALUE[c] for c in match.group(0) if c in _ZH_VALUE)
        return self.number(match, digits, False)


def mask_pii(text: str) -> MaskResult:
    """Replace personal data in ``text`` with typed placeholders.

    Args:
        text: Customer text, ideally NFKC-normalised already (any Unicode decimal digits are
            recognised either way).

    Returns:
        The masked text and the kinds that were masked.

    Example:
        >>> mask_pii("我电话138 1234 5678，邮箱a.b@qq.com，宽带29元100M")
        MaskResult(text='我电话<PHONE>，邮箱<EMAIL>，宽带29元100M', kinds=('email', 'phone'))
    """
    masker = _Masker()
    masked = _EMAIL.sub(masker.email, text)
    masked = _RUN.sub(masker.run, masked)
    masked = _ZH_RUN.sub(masker.zh_run, masked)
    return MaskResult(masked, tuple(sorted(masker.kinds)))


def has_long_digit_run(text: str, min_digits: int = 10) -> bool:
    """Return whether ``text`` still holds ``min_digits`` digits in one run (a leak check).

    Args:
        text: Text to check, e.g. an output of :func:`mask_pii`.
        min_digits: How many digits (separators allowed between them) count as a leak.
    """
    return any(len(_ascii_digits(m.group(0))) >= min_digits for m in _RUN.finditer(text))
