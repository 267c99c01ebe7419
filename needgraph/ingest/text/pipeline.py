"""spaCy pipelines for customer text: blank ``zh`` with jieba segmentation and blank ``en``.

Both are built once per lexicon and cached (:func:`get_pipelines`). Chinese surface forms (and
a few card nouns such as 流量卡, see :data:`~needgraph.ingest.text.matching.ZH_GUARD_WORDS`)
are added to jieba's user dictionary so that ``掉线``, ``晚高峰`` and ``WiFi死角`` stay one
token; jieba's dictionary is process-global, so this also affects other jieba users.

Which matcher finds what (measured on the shipped ontology, every Chinese surface form planted
in prefix/suffix contexts such as ``我…了``, ``老是…得很``; ``bench/text_ingest.py --matchers``):

* Chinese: a spaCy ``PhraseMatcher`` over jieba tokens found 99.6 % of 22,230 planted forms with
  the user dictionary (88 % without it) -- segmentation still cuts some forms, e.g.
  ``4G/5G网络`` -- while the character scan of :mod:`~needgraph.ingest.text.matching` found
  100 %, including every token-matcher hit, at about a quarter of the cost (0.015 vs 0.068 ms
  per text). So Chinese uses the character scan alone and no PhraseMatcher; its jieba tokens
  still serve as boundary evidence (confidence, tie-breaks, and the guard that keeps ``卡`` in
  ``信用卡`` from counting as lag).
* English: exact forms are found by both, but a ``PhraseMatcher`` on ``NORM``, where the norm
  is a light suffix stem of the lower-case word (:func:`stem`), also finds inflected variants
  (``calls kept dropping`` for ``calls keep dropping``): 97 % of 309 such variants of the
  shipped English cause labels, against 1 % for exact matching (``LOWER`` would do no better
  than exact). English runs both and de-duplicates; the character scan adds joiner-insensitive
  forms (``Wi-Fi`` for ``wifi``).
"""

from __future__ import annotations

import logging
import re
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from needgraph.ingest.text.errors import MissingNlpExtraError
from needgraph.ingest.text.lexicon import Lexicon, match_form
from needgraph.ingest.text.matching import ZH_GUARD_WORDS, CharMatcher, FormHit
from needgraph.ingest.text.normalise import collapse_spaces, to_simplified

if TYPE_CHECKING:
    from spacy.language import Language as SpacyLanguage
    from spacy.tokens import Doc

_JIEBA_WORD = re.compile(r"^[\u4e00-\u9fd5a-zA-Z0-9+#&._%\-]+$")
_IRREGULAR = {
    "kept": "keep",
    "went": "go",
    "gone": "go",
    "ran": "run",
    "cut": "cut",
    "won't": "will",
}


def stem(word: str) -> str:
    """Return a light English stem: ``dropping``/``dropped``/``drops`` -> ``drop``.

    A plural ``s`` goes first (``evenings`` -> ``evening``), then one of ``ing``, ``ed`` or
    ``e``, each only when at least three letters remain; then a doubled final consonant is
    undoubled. Applied alike to texts and surfaces, so only consistency matters.
    """
    lower = word.lower()
    if lower in _IRREGULAR:
        return _IRREGULAR[lower]
    if lower.endswith("s") and not lower.endswith("ss") and len(lower) > 3:
        lower = lower[:-1]
    for suffix in ("ing", "ed", "e"):
        if lower.endswith(suffix) and len(lower) - len(suffix) >= 3:
            lower = lower[: -len(suffix)]
            break
    if len(lower) >= 4 and lower[-1] == lower[-2] and lower[-1] not in "aeiouls":
        lower = lower[:-1]
    return lower


def _stemmed(doc: Doc) -> Doc:
    for token in doc:
        token.norm_ = stem(token.text)
    return doc


def _import_spacy() -> Any:
    try:
        import spacy
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise MissingNlpExtraError(f"spaCy is not installed ({exc})") from exc
    return spacy


def _zh_nlp() -> SpacyLanguage:
    spacy = _import_spacy()
    try:
        with warnings.catch_warnings():  # jieba 0.42 compiles regexes with invalid escapes
            warnings.simplefilter("ignore", DeprecationWarning)
            import jieba
            import jieba.finalseg
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise MissingNlpExtraError(f"jieba is not installed ({exc})") from exc
    jieba.setLogLevel(logging.WARNING)
    nlp: SpacyLanguage = spacy.blank("zh", config={"nlp": {"tokenizer": {"segmenter": "jieba"}}})
    return nlp


@dataclass
class TokenizedText:
    """A normalised text with its tokens and the forms the PhraseMatcher found in it.

    Attributes:
        tokens: ``(start, end)`` character spans of the tokens, in order.
        hits: PhraseMatcher hits (``source="tokens"``).
    """

    tokens: list[tuple[int, int]]
    hits: list[FormHit]


class Pipelines:
    """The zh and en spaCy pipelines, and the English phrase matcher, for one lexicon.

    Args:
        lexicon: The lexicon whose surface forms are matched.

    Attributes:
        chars: The lexicon's character matcher (its forms are the canonical match keys).
    """

    def __init__(self, lexicon: Lexicon) -> None:
        self.chars = chars = CharMatcher(lexicon.entries)
        spacy = _import_spacy()
        from spacy.matcher import PhraseMatcher

        self.nlp: dict[str, SpacyLanguage] = {"zh": _zh_nlp(), "en": spacy.blank("en")}
        import jieba

        surfaces: dict[str, set[str]] = {"zh": set(), "en": set()}
        for entry in lexicon.entries:
            if entry.lang in surfaces:
                surfaces[entry.lang].add(collapse_spaces(to_simplified(entry.surface)))
        for word in sorted(surfaces["zh"] | set(ZH_GUARD_WORDS)):
            if len(word) > 1 and _JIEBA_WORD.match(word):
                jieba.add_word(word)
        en = self.nlp["en"]
        self._en_matcher = PhraseMatcher(en.vocab, attr="NORM")
        for surface in sorted(surfaces["en"]):
            form = match_form(surface)
            if form in chars.forms:
                self._en_matcher.add(form, [_stemmed(en.make_doc(surface))])

    def tokenize(self, texts: Iterable[str], lang: str) -> Iterator[TokenizedText]:
        """Tokenize normalised texts of one language (English: and run the phrase matcher).

        Args:
            texts: Normalised texts.
            lang: ``zh`` or ``en`` (anything else is tokenized as ``en``).

        Yields:
            One :class:`TokenizedText` per text, in order.
        """
        lang = lang if lang in self.nlp else "en"
        nlp = self.nlp[lang]
        strings = nlp.vocab.strings
        for doc in nlp.pipe(texts):
            hits: list[FormHit] = []
            if lang == "en":
                hits = [
                    FormHit(doc[s:e].start_char, doc[s:e].end_char, strings[key], "tokens")
                    for key, s, e in self._en_matcher(_stemmed(doc))
                ]
            tokens = [(t.idx, t.idx + len(t.text)) for t in doc if not t.is_space]
            yield TokenizedText(tokens, hits)


@lru_cache(maxsize=4)
def get_pipelines(lexicon: Lexicon) -> Pipelines:
    """Return the (cached) pipelines of ``lexicon``; built on first use, then reused."""
    return Pipelines(lexicon)
