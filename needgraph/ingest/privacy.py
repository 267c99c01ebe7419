"""Masking of personal data (phone numbers, e-mail addresses, ID and card numbers) in free text.

Ingest masks every customer text *before* it goes anywhere: the text analyser, the store, a log
line, the job report or the quarantine file. The text package (``needgraph.ingest.text``) masks
again while normalising; this module is the guard that runs first and that the quarantine writer
applies to every value it records, so no raw personal data can leave through ingest's side doors.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from functools import lru_cache

PHONE = "<PHONE>"
EMAIL = "<EMAIL>"
ID_NUMBER = "<ID>"

_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
# Chinese resident ID (18 chars, last may be X) and long card/account numbers.
_ID = re.compile(r"(?<![0-9A-Za-z])(?:\d{17}[0-9Xx]|\d{15}|\d{16,19})(?![0-9A-Za-z])")
_PHONES = (
    # Mainland mobile, optionally +86 / 0086, with optional separators: 138-1234-5678.
    re.compile(r"(?<![0-9])(?:(?:\+|00)?86[-\s]?)?1[3-9]\d(?:[-\s]?\d){8}(?![0-9])"),
    # Landline with area code: 010-12345678, (021) 1234 5678, 0755 12345678.
    re.compile(r"(?<![0-9])\(?0\d{2,3}\)?[-\s]?\d{3,4}[-\s]?\d{4}(?![0-9])"),
    # International and North American forms: +1 (415) 555-0134, 415-555-0134, 415.555.0134.
    re.compile(r"(?<![0-9])\+\d{1,3}[-\s.]?\(?\d{1,4}\)?(?:[-\s.]?\d{2,4}){2,4}(?![0-9])"),
    re.compile(r"(?<![0-9])\(?\d{3}\)?[-\s.]\d{3}[-\s.]\d{4}(?![0-9])"),
    # Service numbers and any other run of 7 to 14 digits (phone-like; no date or price has them).
    re.compile(r"(?<![0-9.])\d{7,14}(?![0-9]|\.\d)"),
)


def mask_pii(text: str) -> str:
    """Return ``text`` NFKC-normalised with personal data replaced by placeholders.

    The text package's masker (:func:`needgraph.ingest.text.pii.mask_pii`) runs first when it
    is installed; this module's stricter patterns run after it as a guard. Full-width digits
    are folded first (``１３８…`` is a phone number too). E-mails become ``<EMAIL>``, ID and
    card numbers ``<ID>``, phone numbers (and any other run of 7-14 digits) ``<PHONE>``.

    Example:
        >>> mask_pii("call me on 138-1234-5678 or a@b.cn")
        'call me on <PHONE> or <EMAIL>'
    """
    if not text:
        return text
    masked = unicodedata.normalize("NFKC", text)
    primary = _primary_masker()
    if primary is not None:
        masked = primary(masked)
    masked = _EMAIL.sub(EMAIL, masked)
    masked = _ID.sub(ID_NUMBER, masked)
    for pattern in _PHONES:
        masked = pattern.sub(PHONE, masked)
    return masked


@lru_cache(maxsize=1)
def _primary_masker() -> Callable[[str], str] | None:
    """The text package's masker, when that package is present."""
    try:
        from needgraph.ingest.text.pii import mask_pii as text_mask
    except ImportError:
        return None

    def run(text: str) -> str:
        return text_mask(text).text

    return run


def mask_value(value: object, limit: int = 200) -> str:
    """Return a printable, masked and shortened rendering of any cell value (for quarantine)."""
    if value is None:
        return ""
    text = mask_pii(str(value))
    return text if len(text) <= limit else text[: limit - 1] + "…"
