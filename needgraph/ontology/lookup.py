"""Find concepts by what people call them: normalised pref and alt labels in every language.

:func:`normalise_label` makes spellings comparable: ``Wi-Fi死角``, ``ＷＩＦＩ死角`` and ``wifi死角``
normalise alike, and traditional characters become simplified (OpenCC ``t2s``, from the
``opencc-python-reimplemented`` package of the ``nlp`` extra; without it that one step is skipped
with a warning).
"""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Callable, Iterator
from functools import lru_cache
from typing import NamedTuple

from needgraph.ontology.core import Ontology
from needgraph.ontology.model import Concept

_LOG = logging.getLogger(__name__)
_JOINERS = frozenset("·・'’`")
LANGUAGES = ("zh", "en")


@lru_cache(maxsize=1)
def _t2s() -> Callable[[str], str]:
    try:
        from opencc import OpenCC
    except ImportError:
        _LOG.warning(
            "opencc-python-reimplemented is not installed (pip install 'needgraph[nlp]'): "
            "traditional characters will not match simplified labels"
        )
        return lambda text: text
    converter = OpenCC("t2s")
    return lambda text: str(converter.convert(text))


def _is_cjk(char: str) -> bool:
    return (
        "\u2e80" <= char <= "\u9fff" or "\uf900" <= char <= "\ufaff" or "\u3000" < char < "\u303f"
    )


def _drop_spaces_next_to_cjk(text: str) -> str:
    kept = []
    for i, char in enumerate(text):
        if char == " " and (_is_cjk(text[i - 1]) or _is_cjk(text[i + 1])):
            continue
        kept.append(char)
    return "".join(kept)


@lru_cache(maxsize=65_536)
def normalise_label(text: str) -> str:
    """Return the matching form of a label or a piece of customer text.

    Steps: NFKC (full width to half width), case folding, traditional to simplified Chinese,
    removal of joiners (hyphens, dashes, underscores, middle dots, apostrophes), whitespace
    collapsed to single spaces and dropped next to CJK characters.

    Example:
        >>> normalise_label("ＷＩ-ＦＩ 死角") == normalise_label("wifi死角")
        True
    """
    folded = _t2s()(unicodedata.normalize("NFKC", text).casefold())
    joined = "".join(
        " " if char.isspace() else char
        for char in folded
        if char not in _JOINERS and unicodedata.category(char) not in ("Pd", "Pc")
    )
    return _drop_spaces_next_to_cjk(" ".join(joined.split()))


class SurfaceForm(NamedTuple):
    """One way to say a concept: the text as written, the concept, its kind, preferred or not."""

    text: str
    concept_id: str
    kind: str
    is_pref: bool


def _survivor(ontology: Ontology, concept: Concept) -> Concept | None:
    seen = {concept.id}
    while concept.deprecated:
        target = ontology.get(concept.replaced_by or "")
        if target is None or target.id in seen:
            return None
        seen.add(target.id)
        concept = target
    return concept


class LabelIndex:
    """Every preferred and alternative label of an ontology, by normalised text.

    Labels of a deprecated concept count as alternative labels of the concept that replaces it
    (customers keep using old words).

    Args:
        ontology: The ontology to index.
    """

    def __init__(self, ontology: Ontology) -> None:
        forms: dict[tuple[str, str, str], SurfaceForm] = {}
        for concept in ontology:
            survivor = _survivor(ontology, concept)
            if survivor is None:
                continue
            own = survivor.id == concept.id
            for lang in LANGUAGES:
                texts = [(getattr(concept.label, lang), own)]
                texts += [(text, False) for text in getattr(concept.synonyms, lang)]
                for text, is_pref in texts:
                    if not text:
                        continue
                    key = (lang, text, survivor.id)
                    if key not in forms or is_pref:
                        forms[key] = SurfaceForm(text, survivor.id, survivor.kind, is_pref)
        self._forms: dict[str, list[SurfaceForm]] = {lang: [] for lang in LANGUAGES}
        self._index: dict[str, dict[str, SurfaceForm]] = {}
        for (lang, _text, _cid), form in sorted(forms.items()):
            self._forms[lang].append(form)
            bucket = self._index.setdefault(normalise_label(form.text), {})
            if form.concept_id not in bucket or form.is_pref:
                bucket[form.concept_id] = form

    def lookup(self, text: str, kind: str | None = None) -> list[str]:
        """Return the ids of concepts (of ``kind``, if given) that ``text`` names.

        Concepts whose preferred label matches come first, then by id.
        """
        bucket = self._index.get(normalise_label(text), {})
        hits = [f for f in bucket.values() if kind is None or f.kind == kind]
        return [f.concept_id for f in sorted(hits, key=lambda f: (not f.is_pref, f.concept_id))]

    def surface_forms(self, lang: str) -> Iterator[SurfaceForm]:
        """Yield every label of ``lang`` as written, sorted by text then concept id."""
        yield from self._forms.get(lang, [])

    def __len__(self) -> int:
        return len(self._index)
