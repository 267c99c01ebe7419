"""Find lexicon surface forms in normalised text: a character-level scan, and span selection.

The character scan works on the matching view (:func:`~needgraph.ingest.text.lexicon.fold_view`)
with an index from first character to the surface lengths that start with it, so one text costs
about ``len(text) x (lengths per first character)`` dictionary look-ups, whatever the lexicon size.
Forms that begin or end with a Latin letter or digit must sit on word boundaries (``bill`` is not
found in ``billing``). The scan finds every occurrence regardless of how a segmenter cut the
text; token boundaries, where known, are used by :func:`single_char_ok` and for confidence.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from needgraph.ingest.text.lexicon import LexiconEntry, match_form

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


@dataclass(frozen=True)
class FormHit:
    """One occurrence of a surface form.

    Attributes:
        start: Start offset in the normalised text (characters).
        end: End offset (exclusive) in the normalised text.
        form: The matched form (its key in :attr:`CharMatcher.forms`).
        source: ``chars`` (character scan) or ``tokens`` (spaCy PhraseMatcher).
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
    """Keep the longest hits, so that no two kept hits overlap.

    Among hits of equal length, those on token boundaries win (``宽带`` over ``家宽`` in
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
            -(h.end - h.start),
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
