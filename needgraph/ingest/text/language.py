"""Tell Chinese from English customer text by script, robust to mixed text.

Each Han character counts as one Chinese unit and each Latin word as one English unit
(Chinese words are 1-2 characters, so this weighs both languages roughly per word). Placeholders
such as ``<PHONE>`` and bare product tokens such as ``5G`` carry no language. ``WiFi信号差`` has
3 Chinese units against 1 English unit and is Chinese; ``my 5G keeps dropping`` has no Han and
is English.
"""

from __future__ import annotations

import re
from typing import Literal, TypeAlias

from needgraph.ingest.text.errors import UnsupportedLanguageError

Language: TypeAlias = Literal["zh", "en", "unknown"]
LANGUAGES: tuple[Literal["zh", "en"], ...] = ("zh", "en")

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN_WORD = re.compile(r"[A-Za-z\u00c0-\u024f]{2,}|\b[aAI]\b")
_PLACEHOLDER = re.compile(r"<(?:PHONE|ID|EMAIL|ACCOUNT)>")
_DETECT = frozenset({"auto", "unknown", "und"})
#: A text is Chinese when its Han characters reach this share of all language units.
ZH_SHARE = 0.4


def normalise_language(lang: str) -> Literal["zh", "en"]:
    """Map an explicit language tag (``zh-CN``, ``zh_TW``, ``EN-us``, ``Chinese``) to zh or en.

    Raises:
        UnsupportedLanguageError: For any other language.
    """
    tag = lang.strip().lower().replace("_", "-")
    if tag in {"chinese", "cn"} or tag.split("-")[0] == "zh":
        return "zh"
    if tag == "english" or tag.split("-")[0] == "en":
        return "en"
    raise UnsupportedLanguageError(f"language {lang!r} is not supported (zh and en are)")


def detect_language(text: str, explicit: str | None = None) -> Language:
    """Return ``zh``, ``en`` or ``unknown`` for ``text``; an explicit language wins.

    Args:
        text: Normalised customer text.
        explicit: A language the caller knows (``zh``, ``en``, ``zh-CN`` …), or ``None``
            (also ``auto``, ``unknown``, ``und``) to detect it.

    Raises:
        UnsupportedLanguageError: ``explicit`` names neither Chinese nor English.

    Example:
        >>> detect_language("WiFi信号差"), detect_language("my 5G keeps dropping")
        ('zh', 'en')
    """
    if explicit and explicit.strip().lower() not in _DETECT:
        return normalise_language(explicit)
    bare = _PLACEHOLDER.sub(" ", text)
    han = len(_HAN.findall(bare))
    latin = len(_LATIN_WORD.findall(bare))
    if han + latin == 0:
        return "unknown"
    if latin == 0 or (han >= 2 and han / (han + latin) >= ZH_SHARE):
        return "zh"
    return "en"
