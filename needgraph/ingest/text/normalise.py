"""Normalise social-media customer text before analysis (and before it is stored).

Steps, in order: NFKC (full width to half width); URLs removed; personal data masked
(:mod:`needgraph.ingest.text.pii`); ``@mentions`` removed and kept; bracketed emoticon codes
(``[怒]``, ``[呵呵]``) and emoji removed and kept, with a sentiment hint for a small known set;
``#话题#`` hashtags unwrapped; traditional characters converted to simplified (OpenCC ``t2s``);
repeated punctuation (``！！！``, ``？？？``, ``。。。``, ``....``) collapsed; whitespace collapsed,
and dropped between two CJK characters. Spans reported later index into the returned ``text``.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from needgraph.ingest.text.pii import PiiKind, mask_pii

_LOG = logging.getLogger(__name__)

_URL = re.compile(r"(?:https?://|www\.)[!-~]+|\bt\.cn/[A-Za-z0-9]+", re.IGNORECASE)
_MENTION = re.compile(r"(?:回复|转发)?@([^\s@:,.;!?，。；！？、()（）\[\]【】<>#\"'“”]{1,30}):?")
_OPERATOR_HANDLE = re.compile(
    r"^[\u4e00-\u9fff]{0,4}?(?:移动|电信|联通|广电)(?:客服|官方微博|官微|官方)?\d{0,5}"
)
_EMOTICON = re.compile(r"\[([^\[\]\s<>\d]{1,8})\]")
_EMOJI = re.compile("[\U0001f300-\U0001faff\u2600-\u27bf\u2b50\u2b55]\ufe0f?")
_HASHTAG_PAIR = re.compile(r"#([^#\n]{1,40})#")
_HASHTAG = re.compile(r"(?<![\w&])#(\w+)")
_REPEAT = re.compile(r"([!?,.;:~。，、；…\-—])\1+")
_MIXED_END = re.compile(r"([!?])[!?]+")
_SPACES = re.compile(r"\s+")
_CJK = r"\u2e80-\u9fff\uf900-\ufaff\u3000-\u303f"
_CJK_GAP = re.compile(rf"(?<=[{_CJK}]) (?=[{_CJK}])")

#: Sentiment hints of well-known emoticons, in [-1, 1]. On Weibo ``[微笑]`` and ``[呵呵]`` are
#: sarcastic in complaints, so they count as negative.
EMOTICON_SENTIMENT: dict[str, float] = {
    **dict.fromkeys(
        [
            "怒",
            "怒骂",
            "抓狂",
            "鄙视",
            "哼",
            "左哼哼",
            "右哼哼",
            "衰",
            "泪",
            "吐",
            "生病",
            "晕",
            "失望",
            "伤心",
            "委屈",
            "白眼",
            "汗",
            "黑线",
            "拜拜",
            "再见",
            "费解",
            "允悲",
            "微笑",
            "呵呵",
            "弱",
            "差劲",
            "怒火",
            "傻眼",
            "无语",
            "可怜",
            "疑问",
            "崩溃",
            "哭",
            "大哭",
        ],
        -1.0,
    ),
    **dict.fromkeys(
        [
            "赞",
            "good",
            "鼓掌",
            "哈哈",
            "爱你",
            "心",
            "耶",
            "ok",
            "给力",
            "笑哈哈",
            "威武",
            "好棒",
            "礼物",
            "握手",
            "开心",
            "谢谢",
            "感谢",
        ],
        1.0,
    ),
    **dict.fromkeys(["😡", "😠", "🤬", "😤", "👎", "😭", "😢", "😓", "🙄", "💢", "😞"], -1.0),
    **dict.fromkeys(["👍", "😊", "😄", "😀", "🙏", "❤", "👏", "😁"], 1.0),
}


@dataclass(frozen=True)
class NormalisedText:
    """Customer text after normalisation and masking.

    Attributes:
        text: Normalised, masked text (what is stored; spans index into it).
        masked_kinds: Kinds of personal data masked (``phone``, ``id``, ``email``, ``account``).
        emoticons: Emoticon codes and emoji removed from the text, in order (``"怒"``, ``"😡"``).
        emoticon_sentiment: Mean hint in [-1, 1] over the known emoticons, ``None`` if none.
        mentions: ``@`` handles removed from the text, in order (masked like the text).
        hashtags: Hashtag topics that were unwrapped (their words stay in the text).
    """

    text: str
    masked_kinds: tuple[PiiKind, ...] = ()
    emoticons: tuple[str, ...] = ()
    emoticon_sentiment: float | None = None
    mentions: tuple[str, ...] = ()
    hashtags: tuple[str, ...] = ()


@lru_cache(maxsize=1)
def _t2s() -> Callable[[str], str]:
    try:
        from opencc import OpenCC
    except ImportError:
        _LOG.warning(
            "opencc-python-reimplemented is not installed (pip install 'needgraph[nlp]'): "
            "traditional Chinese is analysed as written"
        )
        return lambda text: text
    converter = OpenCC("t2s")
    return lambda text: str(converter.convert(text))


def to_simplified(text: str) -> str:
    """Return ``text`` with traditional Chinese characters converted to simplified."""
    if not any("\u3400" <= c <= "\u9fff" for c in text):
        return text
    return _t2s()(text)


def _take_mentions(text: str, found: list[str]) -> str:
    def repl(match: re.Match[str]) -> str:
        handle = match.group(1)
        operator = _OPERATOR_HANDLE.match(handle)
        if operator and operator.end() < len(handle):  # "@中国移动10086宽带又断了"
            found.append(operator.group(0))
            return " " + handle[operator.end() :]
        found.append(handle)
        return " "

    return _MENTION.sub(repl, text)


def _take_emoticons(text: str, found: list[str]) -> str:
    def repl(match: re.Match[str]) -> str:
        found.append(match.group(1) if match.group(0).startswith("[") else match.group(0)[0])
        return " "

    return _EMOJI.sub(repl, _EMOTICON.sub(repl, text))


def collapse_punctuation(text: str) -> str:
    """Collapse runs of one punctuation mark (``!!!`` -> ``!``) and mixed ``?!?!`` -> ``?``."""
    return _MIXED_END.sub(r"\1", _REPEAT.sub(r"\1", text))


def collapse_spaces(text: str) -> str:
    """Collapse whitespace to single spaces, drop spaces between CJK characters, and trim."""
    return _CJK_GAP.sub("", _SPACES.sub(" ", text)).strip()


def normalise_text(raw: str) -> NormalisedText:
    """Normalise and mask one customer text.

    Args:
        raw: The text as received (any width, traditional or simplified, with handles,
            emoticons, URLs and personal data).

    Returns:
        The normalised text and what was taken out of it.

    Example:
        >>> n = normalise_text("@中国移动10086 寬帶又斷了！！！[怒] 電話１３８１２３４５６７８")
        >>> n.text, n.masked_kinds, n.emoticons, n.mentions
        ('宽带又断了! 电话<PHONE>', ('phone',), ('怒',), ('中国移动10086',))
    """
    text = unicodedata.normalize("NFKC", raw).replace("’", "'").replace("‘", "'")
    text = _URL.sub(" ", text)
    masked = mask_pii(text)
    text = masked.text
    mentions: list[str] = []
    text = _take_mentions(text, mentions)
    emoticons: list[str] = []
    text = _take_emoticons(text, emoticons)
    hashtags = [m.group(1).strip() for m in _HASHTAG_PAIR.finditer(text)]
    text = _HASHTAG_PAIR.sub(r" \1 ", text)
    hashtags += [m.group(1) for m in _HASHTAG.finditer(text)]
    text = _HASHTAG.sub(r"\1", text)
    text = collapse_spaces(collapse_punctuation(to_simplified(text)))
    codes = tuple(to_simplified(e) for e in emoticons)
    known = [EMOTICON_SENTIMENT[e.lower()] for e in codes if e.lower() in EMOTICON_SENTIMENT]
    return NormalisedText(
        text=text,
        masked_kinds=masked.kinds,
        emoticons=codes,
        emoticon_sentiment=round(sum(known) / len(known), 4) if known else None,
        mentions=tuple(mentions),
        hashtags=tuple(to_simplified(h) for h in hashtags),
    )
