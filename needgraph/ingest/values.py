"""Cell-level parsing shared by every record kind: missing values, times, scores, outcomes."""

from __future__ import annotations

import math
import unicodedata
from datetime import UTC, date, datetime, tzinfo
from decimal import Decimal
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from needgraph.ontology.model import parse_number

OUTCOME_SPELLINGS: dict[str, str] = {
    "offered": "offered", "offer": "offered", "pending": "offered", "sent": "offered",
    "已推荐": "offered", "已推送": "offered", "推荐": "offered",
    "accepted": "accepted", "accept": "accepted", "yes": "accepted", "y": "accepted",
    "1": "accepted", "true": "accepted", "接受": "accepted", "已接受": "accepted",
    "办理": "accepted", "已办理": "accepted",
    "declined": "declined", "decline": "declined", "rejected": "declined", "reject": "declined",
    "no": "declined", "n": "declined", "0": "declined", "false": "declined", "拒绝": "declined",
    "已拒绝": "declined", "未办理": "declined",
}


class ValueProblemError(ValueError):
    """A cell value that cannot be used; the message says why (no raw value in it)."""


def norm(raw: object) -> str:
    """Normalise a raw value for matching: NFKC, trimmed, case-folded, inner spaces collapsed."""
    if isinstance(raw, bool):
        return "true" if raw else "false"
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    return " ".join(unicodedata.normalize("NFKC", str(raw)).casefold().split())


def is_missing(raw: object, missing: frozenset[str] = frozenset()) -> bool:
    """Return whether a cell is blank: ``None``, NaN, whitespace, or one of ``missing`` (normed)."""
    if raw is None:
        return True
    if isinstance(raw, float) and math.isnan(raw):
        return True
    if isinstance(raw, str):
        stripped = raw.strip()
        return not stripped or (bool(missing) and norm(stripped) in missing)
    return bool(missing) and norm(raw) in missing


def cell_text(raw: object) -> str:
    """Return a cell as trimmed text (whole floats without ``.0``; Decimal as float text)."""
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))
    if isinstance(raw, Decimal):
        return format(raw.normalize(), "f")
    return str(raw).strip()


@lru_cache(maxsize=64)
def zone(name: str) -> tzinfo:
    """Return the time zone called ``name`` (UTC for ``UTC``)."""
    return UTC if name.upper() == "UTC" else ZoneInfo(name)


_FORMATS = ("%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y/%m/%d", "%Y%m%d", "%Y%m%d%H%M%S",
            "%d/%m/%Y %H:%M:%S", "%d/%m/%Y", "%Y年%m月%d日 %H:%M:%S", "%Y年%m月%d日 %H:%M",
            "%Y年%m月%d日")


def parse_time(raw: object, tz: str = "UTC") -> str:
    """Return a cell as an ISO-8601 UTC timestamp ``YYYY-MM-DDTHH:MM:SSZ``.

    Accepts ISO 8601 (with or without zone), ``YYYY/MM/DD[ HH:MM[:SS]]``, ``YYYYMMDD``,
    ``DD/MM/YYYY``, Chinese ``YYYY年MM月DD日``, dates and datetimes, and epoch seconds or
    milliseconds. Times without a zone are in ``tz``.

    Raises:
        ValueProblemError: The value is no time.
    """
    moment: datetime | None = None
    if isinstance(raw, datetime):
        moment = raw
    elif isinstance(raw, date):
        moment = datetime(raw.year, raw.month, raw.day)
    elif isinstance(raw, int | float) and not isinstance(raw, bool):
        seconds = float(raw) / 1000 if abs(float(raw)) > 1e11 else float(raw)
        if not math.isfinite(seconds):
            raise ValueProblemError("not a time")
        moment = datetime.fromtimestamp(seconds, UTC)
    else:
        text = unicodedata.normalize("NFKC", str(raw)).strip()
        if text.isdigit() and len(text) in (10, 13):
            return parse_time(int(text), tz)
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            for fmt in _FORMATS:
                try:
                    moment = datetime.strptime(text, fmt)
                    break
                except ValueError:
                    continue
    if moment is None:
        raise ValueProblemError("not a time (use ISO 8601, e.g. 2024-05-01T20:15:00Z)")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone(tz))
    return moment.astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_score(raw: object) -> float:
    """Return a 1-5 satisfaction score.

    Raises:
        ValueProblemError: Not a number, or outside 1-5.
    """
    number = parse_number(raw)
    if number is None:
        raise ValueProblemError("score is not a number")
    if not 1 <= number <= 5:
        raise ValueProblemError("score is outside 1-5")
    return number


def parse_outcome(raw: object, extra: dict[str, str]) -> str:
    """Return ``offered``/``accepted``/``declined`` for a raw outcome.

    Raises:
        ValueProblemError: The spelling is unknown.
    """
    key = norm(raw)
    found = {norm(k): v for k, v in extra.items()}.get(key) or OUTCOME_SPELLINGS.get(key)
    if found is None:
        raise ValueProblemError("unknown outcome (use offered, accepted or declined)")
    return found


def as_property(raw: Any) -> str | float | int | bool:
    """Return a cell as a store property value: numbers stay numbers, text that is one too."""
    if isinstance(raw, bool | int):
        return raw
    if isinstance(raw, float | Decimal):
        return float(raw)
    text = cell_text(raw)
    if len(text) > 1 and text.startswith("0") and text[1] != ".":
        return text  # an identifier with leading zeros (zip code, account) stays text
    number = parse_number(text) if text[:1].isdigit() or text[:1] in "+-." else None
    if number is not None and text.lstrip("+-").replace(".", "", 1).isdigit():
        return number
    return text
