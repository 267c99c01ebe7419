"""Find lexicon surface forms in normalised text: a character-level scan, and span selection.

The character scan works on the matching view (:func:`~needgraph.ingest.text.lexicon.fold_view`)
with an index from first character to the surface lengths that start with it, so one text costs
about ``len(text) x (lengths per first character)`` dictionary look-ups, whatever the lexicon size.
Forms that begin or end with a Latin letter or digit must sit on word boundaries (``bill`` is not
found in ``billing``). The scan finds every occurrence regardless of how a segmenter cut the
text; token boundaries, where known, are used by :func:`single_char_ok` and for confidence.
Colloquial Chinese puts words inside a phrase (信号很差, 光猫一直闪红灯), so two looser scans
add *gapped* hits: :meth:`CharMatcher.scan_gapped` (one gap of 1-3 Han characters, no
negation in it) and a scan of the view without degree adverbs (:func:`without_insertions`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from needgraph.ingest.text.lexicon import LexiconEntry, fold_view, match_form

#: Nouns that contain a one-character complaint word without meaning it (卡 = card, not lag).
# fmt: off
ZH_GUARD_WORDS: tuple[str, ...] = (
    "流量卡", "电话卡", "手机卡", "sim卡", "副卡", "主卡", "物联网卡", "上网卡", "双卡", "银行卡",
    "信用卡", "储值卡", "充值卡", "会员卡", "校园卡", "亲情卡", "王卡", "号卡", "办卡", "补卡",
    "换卡", "销卡", "插卡", "卡号", "卡槽", "卡片", "卡券", "卡费", "卡里", "卡内", "卡套",
)
#: Words that may precede a one-character complaint word inside one token (``不卡``, ``很卡``).
ZH_DEGREE_PREFIXES: frozenset[str] = frozenset((
    "不", "很", "太", "好", "超", "巨", "贼", "真", "特", "老", "总", "又", "就", "都", "还",
    "也", "更", "最", "挺", "蛮", "真的", "特别", "非常", "有点", "一直", "经常",
))
# fmt: on


#: Most Han characters a gapped form may have between its head and tail (光猫一直闪红灯).
MAX_GAP = 3
_GAP_NEGATION = re.compile("[不没无未别非]")
#: Degree and frequency adverbs customers put inside complaint phrases: 信号很差, 宽带老是掉线,
#: 网络不太好. A second scan reads the text without them (see :func:`without_insertions`).
ZH_INSERTIONS = re.compile(
    "动不动就|时不时|越来越|老是|总是|经常|一直|还是|特别|非常|有点|有些|比较|十分|实在|真的|频繁"
    "|天天|超级|[很太好超巨贼真也都又还更挺蛮极总老]"
)


def _is_han(char: str) -> bool:
    return "\u4e00" <= char <= "\u9fff"


def without_insertions(view: str, offsets: Sequence[int]) -> tuple[str, list[int]] | None:
    """Return the view without adverbs that sit between two Han characters, or ``None``.

    Args:
        view: A matching view.
        offsets: Its offsets into the normalised text.

    Returns:
        ``(view, offsets)`` with the adverbs left out (offsets still point into the text, so a
        form found in it spans the adverb too), or ``None`` when there was nothing to remove.
    """
    keep = [True] * len(view)
    for match in ZH_INSERTIONS.finditer(view):
        a, b = match.start(), match.end()
        if a > 0 and b < len(view) and _is_han(view[a - 1]) and _is_han(view[b]):
            keep[a:b] = [False] * (b - a)
    if all(keep):
        return None
    kept = [i for i, k in enumerate(keep) if k]
    return "".join(view[i] for i in kept), [offsets[i] for i in kept]


@dataclass(frozen=True)
class FormHit:
    """One occurrence of a surface form.

    Attributes:
        start: Start offset in the normalised text (characters).
        end: End offset (exclusive) in the normalised text.
        form: The matched form (its key in :attr:`CharMatcher.forms`).
        source: ``chars`` (character scan), ``gapped`` (scan without adverbs) or ``tokens``
            (spaCy PhraseMatcher).
    """

    start: int
    end: int
    form: str
    source: str = "chars"


def _is_word_char(char: str) -> bool:
    return char.isascii() and char.isalnum()


def _zh_variants(form: str) -> list[str]:
    """Spellings of a form that customers use interchangeably (没信号 / 没有信号)."""
    variants = [form]
    if "没有" in form:
        variants.append(form.replace("没有", "没", 1))
    elif "没" in form:
        variants.append(form.replace("没", "没有", 1))
    return variants


class CharMatcher:
    """Character-level exact matcher over the matching view.

    Args:
        entries: Lexicon entries; entries whose forms fold alike share one form.
    """

    def __init__(self, entries: Iterable[LexiconEntry]) -> None:
        grouped: dict[str, dict[str, LexiconEntry]] = {}
        for entry in entries:
            base = match_form(entry.surface)
            if not base.strip():
                continue
            for i, form in enumerate(_zh_variants(base) if entry.lang == "zh" else [base]):
                bucket = grouped.setdefault(form, {})
                known = bucket.get(entry.concept_id)
                is_pref = entry.is_pref and i == 0
                if known is None or (is_pref and not known.is_pref):
                    bucket[entry.concept_id] = LexiconEntry(
                        entry.surface, entry.concept_id, entry.kind, entry.lang, is_pref
                    )
        #: Form -> the entries (one per concept, sorted by concept id) it names.
        self.forms: dict[str, tuple[LexiconEntry, ...]] = {
            form: tuple(bucket[c] for c in sorted(bucket)) for form, bucket in grouped.items()
        }
        lengths: dict[str, set[int]] = {}
        for form in self.forms:
            lengths.setdefault(form[0], set()).add(len(form))
        self._lengths = {c: tuple(sorted(ls, reverse=True)) for c, ls in lengths.items()}
        # gapped forms: a Chinese form of >= 3 characters split once into head (>= 2) + tail
        self._heads: dict[str, list[tuple[str, str]]] = {}
        for form in self.forms:
            if len(form) >= 3 and any(_is_han(c) for c in form):
                for cut in range(2, len(form)):
                    self._heads.setdefault(form[:cut], []).append((form[cut:], form))
        head_lengths: dict[str, set[int]] = {}
        for head in self._heads:
            head_lengths.setdefault(head[0], set()).add(len(head))
        self._head_lengths = {c: tuple(sorted(ls)) for c, ls in head_lengths.items()}

    def scan(self, view: str, offsets: Sequence[int]) -> list[FormHit]:
        """Return every occurrence of every form in ``view``, spans mapped to the text.

        Args:
            view: The matching view of a normalised text.
            offsets: Per view character, its offset in the normalised text.
        """
        hits: list[FormHit] = []
        n = len(view)
        for i, char in enumerate(view):
            lengths = self._lengths.get(char)
            if lengths is None or (_is_word_char(char) and i > 0 and _is_word_char(view[i - 1])):
                continue
            for length in lengths:
                j = i + length
                if j > n:
                    continue
                form = view[i:j]
                if form not in self.forms:
                    continue
                if _is_word_char(form[-1]) and j < n and _is_word_char(view[j]):
                    continue
                hits.append(FormHit(offsets[i], offsets[j - 1] + 1, form))
        return hits

    def find(self, text: str, tokens: Sequence[tuple[int, int]]) -> list[FormHit]:
        """Return every exact and gapped hit in a normalised text (overlaps included).

        One-character Chinese forms are kept only where :func:`single_char_ok` says so.

        Args:
            text: The normalised text.
            tokens: ``(start, end)`` spans of its tokens.
        """
        view, offsets = fold_view(text)
        hits = self.scan_gapped(view, offsets)  # 光猫一直闪红灯
        stripped = without_insertions(view, offsets)
        if stripped is not None:  # 信号很差 -> 信号差; exact hits replace identical ones later
            hits += [replace(h, source="gapped") for h in self.scan(*stripped)]
        hits += self.scan(view, offsets)
        return [
            h
            for h in hits
            if len(h.form) > 1 or h.form.isascii() or single_char_ok(h.start, text, tokens)
        ]

    def scan_gapped(self, view: str, offsets: Sequence[int]) -> list[FormHit]:
        """Return Chinese forms found with one short gap inside (``光猫…红灯``, ``5G…时有时无``).

        A form of three or more characters may be split once into a head of at least two
        characters and a tail, with 1-3 Han characters between them; the gap may hold no
        negation (``信号不差`` is not ``信号差``) and no punctuation, so a gapped form stays in
        one clause.

        Args:
            view: The matching view of a normalised text.
            offsets: Per view character, its offset in the normalised text.
        """
        hits: list[FormHit] = []
        for i, char in enumerate(view):
            for length in self._head_lengths.get(char, ()):
                head_end = i + length
                for tail, form in self._heads.get(view[i:head_end], ()):
                    if view.startswith(form, i):  # there without a gap: the plain scan has it
                        continue
                    window = view[head_end + 1 : head_end + MAX_GAP + len(tail) + 1]
                    at = window.find(tail)
                    if at < 0 or not _gap_ok(view[head_end : head_end + 1 + at]):
                        continue
                    end = head_end + 1 + at + len(tail)
                    hits.append(FormHit(offsets[i], offsets[end - 1] + 1, form, "gapped"))
        return hits


def _gap_ok(gap: str) -> bool:
    return (
        0 < len(gap) <= MAX_GAP and all(_is_han(c) for c in gap) and not _GAP_NEGATION.search(gap)
    )


def single_char_ok(start: int, text: str, tokens: Sequence[tuple[int, int]]) -> bool:
    """Return whether a one-character form at ``start`` is meant as a word of its own.

    It is when its token is the character alone, starts with it (``卡得``, ``卡成PPT``), or is
    a degree or negation word plus it (``很卡``, ``不卡``); not inside a noun (``信用卡``).

    Args:
        start: Offset of the character in ``text``.
        text: The normalised text.
        tokens: ``(start, end)`` character spans of the text's tokens, in order.
    """
    for t_start, t_end in tokens:
        if t_start <= start < t_end:
            token = text[t_start:t_end].lower()
            if token in ZH_GUARD_WORDS:
                return False
            return (
                t_end - t_start == 1
                or start == t_start
                or (start == t_end - 1 and token[:-1] in ZH_DEGREE_PREFIXES)
            )
    return True


def select_hits(
    hits: Iterable[FormHit],
    forms: dict[str, tuple[LexiconEntry, ...]],
    boundaries: tuple[set[int], set[int]] | None = None,
) -> list[FormHit]:
    """Keep the longest forms, so that no two kept hits overlap.

    Length is the form's, not the span's, so a gapped hit (``晚上就卡`` for 晚上卡) beats a
    shorter form inside it (``卡``) but not a longer exact one. Among forms of equal length,
    exact hits win over gapped ones, then those on token boundaries (``宽带`` over ``家宽`` in
    ``你们家宽带``), then forms that are some concept's preferred label, then the earlier start.

    Args:
        hits: Candidate hits (duplicates allowed).
        forms: Form -> entries, to tell preferred labels.
        boundaries: Token start and end offsets, when the text was segmented.

    Returns:
        Non-overlapping hits sorted by start.
    """
    starts, ends = boundaries if boundaries is not None else (set(), set())

    def unaligned(hit: FormHit) -> bool:
        return boundaries is not None and not (hit.start in starts and hit.end in ends)

    unique = {(h.start, h.end, h.form): h for h in hits}
    ranked = sorted(
        unique.values(),
        key=lambda h: (
            -len(h.form),
            h.source == "gapped",
            unaligned(h),
            not any(e.is_pref for e in forms[h.form]),
            h.start,
            h.form,
        ),
    )
    taken: list[FormHit] = []
    used: set[int] = set()
    for hit in ranked:
        span = set(range(hit.start, hit.end))
        if span & used:
            continue
        used |= span
        taken.append(hit)
    return sorted(taken, key=lambda h: (h.start, h.end))
