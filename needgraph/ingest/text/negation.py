"""Negation and resolution of mentions, scoped to clauses (a NegEx-style cue approach).

A text is split into clauses at ``，。！？；,.!?;``, line breaks and contrastive conjunctions
(但是, 可是, 不过, but, however); sentences end at ``。！？.!?``. For a mention:

* **negated** when a negation cue (不, 没, 没有, 无, 未, 别; not, no, never, n't, without) ends
  within a small window before it in its clause, unless the cue is part of a *pseudo-negation*
  that intensifies or states inability (不是一般的, 不停, 动不动, 受不了, 没法, 能不能; can't, not
  only). Cues inside the surface itself (``没信号``, ``no signal``) are never looked at, since
  only text before the span counts.
* **resolved** when negated in an "any more" way (不再, 没再, 没有再, ``不卡了``, 现在不, 已经不;
  no longer, no more, not … anymore, stopped), or when its clause holds a resolution cue
  (修好了, 问题解决了, 恢复正常; fixed, resolved, works fine now) that is not a question, a
  request or itself negated (还没修好, 修好了吗, please fix), with no recurrence cue (又, 还是,
  依然; again, still) between the cue and the mention. A clause with such a cue but no cause or
  need mention of its own resolves the earlier mentions of its sentence, or if there are none,
  those of the previous sentence (``宽带老掉线，师傅来过了，现在修好了``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

_CLAUSE_BREAK = re.compile(
    r"[,，;；!！?？\n。]|\.(?=\s|$)|(?=但是|可是|不过|然而)|(?<![A-Za-z])(?=(?:but|however)\b)",
    re.IGNORECASE,
)
_SENTENCE_END = re.compile(r"[。!！?？\n]|\.(?=\s|$)")
_ZH_NEG = re.compile(r"没有|没|不|无|未|别|毫无")
_ZH_WINDOW = 4
_ZH_PSEUDO = re.compile(
    "不是一般|不是一点|不要太|不得了|不行|不了|不停|不断|不止|不时|动不动|不知|不明白|不懂|不过"
    "|不管|不论|不仅|不但|不光|不少|不能|不然|不可能|不得不|不到|不好意思|不稳|不够|没完没了|没几天"
    "|没多久|没两天|没过|没法|没办法|没人|无法|无论|无语|无奈|受不了|忍不了|用不了|差不多|别提"
    r"|别说|没想到|没料到|不想|无线|无限|无缘无故|未知|特别|别人|别家|别的|别处|分别|区别|级别"
    r"|(.)不\1|(.)没\2"
)
_ZH_AGAIN = re.compile("再也|^再|^又")
_ZH_NOW = re.compile("已经|现在|终于|总算|已|目前")
_ZH_RESOLVED = re.compile(
    "修好了|修好啦|已修好|修复了|已修复|解决了|已解决|解决啦|搞定了|恢复了|已恢复|恢复正常|正常了"
    "|好了|好啦|处理好了|已处理|没问题了|没事了|好多了|顺畅了|流畅了|快多了|稳定了"
)
_ZH_RES_BLOCK_BEFORE = re.compile(
    "没|不|能不能|什么时候|何时|几时|赶紧|快点|尽快|希望|请|要|能否|怎么|等|才能|说|约|准备|如果|"
    "要是|是否"
)
_ZH_RES_PAST = re.compile("上次|上回|明明|本来|以为|说是|号称|之前不是")
_ZH_RES_BLOCK_AFTER = re.compile("^.{0,2}(?:吗|么|没|嘛|\\?|？)")
_ZH_RECUR = re.compile("又|还是|仍然|依然|还在|照样|再次|依旧")

_EN_WORD = re.compile(r"[a-z']+")
_EN_WINDOW = 3
_EN_PSEUDO = ("can't", "cannot", "couldn't", "won't", "wouldn't", "unable")
_EN_PSEUDO_PAIRS = (
    ("not", "only"),
    ("not", "just"),
    ("no", "idea"),
    ("no", "wonder"),
    ("not", "sure"),
    ("no", "doubt"),
    ("not", "even"),
    ("no", "way"),
)
_EN_RESOLVED = re.compile(
    r"\b(?:resolved|fixed|sorted|solved|works? (?:fine|again|now|great|perfectly)"
    r"|working (?:fine|again|now|great|perfectly)|back to normal|back online|all good"
    r"|much better|no problems? now)\b"
)
_EN_RES_BLOCK_BEFORE = re.compile(
    r"\b(?:not|never|please|when|need|needs|want|wants|hope|until|if|will|get|whether|"
    r"\w+n't)\W+(?:\w+\W+){0,2}$"
)
_EN_RES_PAST = re.compile(r"\b(?:last time|said|says|claimed|claims|supposedly|supposed|thought)\b")
_EN_RES_BLOCK_AFTER = re.compile(r"^\W{0,2}(?:\?|yet\b|\w+\W*\?)")
_EN_RECUR = re.compile(r"\b(?:again|still)\b")


@dataclass(frozen=True)
class Clause:
    """A clause: ``[start, end)`` in the text, and the index of its sentence."""

    start: int
    end: int
    sentence: int


def split_clauses(text: str) -> list[Clause]:
    """Split ``text`` into clauses; a break character ends the clause before it."""
    ends = sorted({m.end() for m in _SENTENCE_END.finditer(text)})
    cuts = sorted({0, len(text)} | {m.end() for m in _CLAUSE_BREAK.finditer(text)})
    clauses = []
    for start, end in pairwise(cuts):
        sentence = sum(1 for e in ends if e <= start)
        clauses.append(Clause(start, end, sentence))
    return clauses


def _spans(pattern: re.Pattern[str], text: str) -> list[tuple[int, int]]:
    return [(m.start(), m.end()) for m in pattern.finditer(text)]


def _en_negation(words: Sequence[str], following: Sequence[str]) -> tuple[bool, bool]:
    """Return ``(negated, no longer)`` from the words before a span and the words after it."""
    for i, word in enumerate(words):
        pair = (word, words[i + 1] if i + 1 < len(words) else "")
        if word in _EN_PSEUDO or pair in _EN_PSEUDO_PAIRS:
            continue
        if word in {"stopped", "quit"}:
            return True, True
        if word in {"not", "no", "never", "without", "nothing", "none"} or word.endswith("n't"):
            later = list(words[i + 1 :]) + list(following)
            longer = pair in {("no", "longer"), ("no", "more")} or "anymore" in later
            return True, longer or ("any", "more") in pairwise(later)
    return False, False


class Polarity:
    """Judge negation and resolution of spans in one normalised text.

    Args:
        text: The normalised text.
        lang: ``zh`` or ``en`` (anything else is treated like ``en``).
    """

    def __init__(self, text: str, lang: str) -> None:
        self.text = text
        self.zh = lang == "zh"
        self.lower = text.lower()
        self.clauses = split_clauses(text)
        self._pseudo = _spans(_ZH_PSEUDO, text)
        self._recur = _ZH_RECUR if self.zh else _EN_RECUR
        self._resolution = {i: self._resolution_cue(c) for i, c in enumerate(self.clauses)}

    def open_clauses(self, covered: set[int]) -> list[tuple[int, int, int]]:
        """Return ``(index, start, end)`` of clauses not in ``covered``, trimmed of punctuation.

        Args:
            covered: Indexes of clauses that already have a mention.
        """
        found = []
        for index, clause in enumerate(self.clauses):
            part = self.text[clause.start : clause.end]
            stripped = part.strip(" ,.;!?，。；！？、")
            if index in covered or not stripped:
                continue
            start = clause.start + part.index(stripped)
            found.append((index, start, start + len(stripped)))
        return found

    def _is_pseudo(self, cue: int, limit: int) -> bool:
        """Whether the cue at ``cue`` lies in a pseudo-negation that ends by ``limit``.

        A pseudo-negation reaching into the mention does not count: in ``不断网了`` the 断 of
        不断 ("constantly") belongs to the mention 断网, so 不 negates it.
        """
        return any(a <= cue < b <= limit for a, b in self._pseudo)

    def clause_of(self, offset: int) -> int:
        """Return the index of the clause holding ``offset``."""
        for i, clause in enumerate(self.clauses):
            if clause.start <= offset < clause.end:
                return i
        return len(self.clauses) - 1

    def _resolution_cue(self, clause: Clause) -> int | None:
        """Return the end offset of the clause's valid resolution cue, or ``None``."""
        part = self.lower[clause.start : clause.end]
        pattern = _ZH_RESOLVED if self.zh else _EN_RESOLVED
        for match in pattern.finditer(part):
            before, after = part[: match.start()], part[match.end() :]
            if self.zh:
                blocked = (
                    _ZH_RES_BLOCK_BEFORE.search(before[-4:])
                    or _ZH_RES_PAST.search(before)
                    or _ZH_RES_BLOCK_AFTER.match(after)
                )
            else:
                blocked = (
                    _EN_RES_BLOCK_BEFORE.search(before)
                    or _EN_RES_PAST.search(before)
                    or _EN_RES_BLOCK_AFTER.match(after)
                )
            if not blocked:
                return clause.start + match.end()
        return None

    def _negation(self, start: int, clause: Clause) -> tuple[bool, bool]:
        if self.zh:
            lo = max(clause.start, start - _ZH_WINDOW)
            window = self.text[lo:start]
            cues = [
                m for m in _ZH_NEG.finditer(window) if not self._is_pseudo(lo + m.start(), start)
            ]
            if not cues:
                return False, False
            cue = cues[-1]
            tail = window[cue.end() :]
            head = self.text[max(clause.start, lo + cue.start() - 3) : lo + cue.start()]
            again = bool(_ZH_AGAIN.search(tail) or "再" in cue.group(0) or _ZH_NOW.search(head))
            return True, again
        words = _EN_WORD.findall(self.lower[clause.start : start])[-_EN_WINDOW:]
        return _en_negation(words, _EN_WORD.findall(self.lower[start : clause.end]))

    def judge(self, start: int, end: int) -> tuple[bool, bool]:
        """Return ``(negated, resolved)`` for the span ``[start, end)`` of the text."""
        index = self.clause_of(start)
        clause = self.clauses[index]
        negated, resolved = self._negation(start, clause)
        if negated and not resolved and self.zh:
            resolved = bool(re.match(r"^.{0,1}了", self.text[end : clause.end]))
        cue_end = self._resolution[index]
        if cue_end is not None and not self._recurs(cue_end, start):
            resolved = True
        return negated or resolved, resolved

    def judge_clause(self, index: int) -> tuple[bool, bool]:
        """Return ``(negated, resolved)`` for a whole clause (used for embedding mentions).

        Any negation cue in the clause that is not a pseudo-negation counts.
        """
        clause = self.clauses[index]
        if self.zh:
            part = self.text[clause.start : clause.end]
            cues = [
                m
                for m in _ZH_NEG.finditer(part)
                if not self._is_pseudo(clause.start + m.start(), clause.end)
            ]
            negated = bool(cues)
            resolved = any("再" in part[m.end() : m.end() + 1] for m in cues) or (
                negated and bool(re.search("了$", part.rstrip()))
            )
        else:
            negated, resolved = _en_negation(
                _EN_WORD.findall(self.lower[clause.start : clause.end]), []
            )
        resolved = resolved or self._resolution[index] is not None
        return negated or resolved, resolved

    def _recurs(self, cue_end: int, start: int) -> bool:
        """Whether a recurrence cue (又, still) sits before the span and after the cue, if any."""
        if start >= cue_end:  # "修好了没两天又掉线"
            return bool(self._recur.search(self.lower[cue_end:start]))
        return self._recurs_before(start)  # "掉线的问题修好了" vs "still dropping after the fix"

    def _recurs_before(self, start: int) -> bool:
        """Whether a recurrence cue sits before ``start`` in its clause (``又掉线``, ``still``)."""
        clause = self.clauses[self.clause_of(start)]
        return bool(self._recur.search(self.lower[clause.start : start]))

    def carried(self, spans: Sequence[tuple[int, int]]) -> set[int]:
        """Return indexes of ``spans`` resolved by a later clause that mentions nothing itself.

        Args:
            spans: ``(start, end)`` of the text's cause and need mentions.
        """
        by_clause: dict[int, list[int]] = {}
        for i, (start, _end) in enumerate(spans):
            by_clause.setdefault(self.clause_of(start), []).append(i)
        found: set[int] = set()
        for k, cue_end in self._resolution.items():
            if cue_end is None or k in by_clause:
                continue
            sentence = self.clauses[k].sentence
            earlier = [c for c in by_clause if c < k]
            same = [c for c in earlier if self.clauses[c].sentence == sentence]
            if not same and earlier:
                previous = max(self.clauses[c].sentence for c in earlier)
                same = [c for c in earlier if self.clauses[c].sentence == previous]
            for c in same:
                between = self.lower[self.clauses[c].end : self.clauses[k].start]
                if not self._recur.search(between):
                    found.update(i for i in by_clause[c] if not self._recurs_before(spans[i][0]))
        return found


def states_negation(text: str, lang: str) -> bool:
    """Return whether ``text`` as a whole carries a negation cue (``wifi doesn't reach``)."""
    polarity = Polarity(text, lang)
    return any(polarity.judge_clause(i)[0] for i in range(len(polarity.clauses)))
