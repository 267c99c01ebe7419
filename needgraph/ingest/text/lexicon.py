"""The linker's input: surface forms of concepts, plus which domains causes and needs concern.

A :class:`Lexicon` is plain data, so tests and other callers can build one by hand;
:meth:`Lexicon.from_ontology` builds it from an :class:`~needgraph.ontology.core.Ontology`
through the ontology package's :class:`~needgraph.ontology.lookup.LabelIndex` (preferred and
alternative labels, deprecated concepts' labels folded into their replacements).
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from needgraph.ingest.text.normalise import collapse_spaces, to_simplified

if TYPE_CHECKING:
    from needgraph.ontology.core import Ontology

#: Concept kinds an utterance may MENTION (docs/graph-model.md).
LINKABLE_KINDS: tuple[str, ...] = ("Domain", "Need", "Cause", "Strategy")
_JOINERS = frozenset("·・'’`")


@dataclass(frozen=True)
class LexiconEntry:
    """One way to say one concept.

    Attributes:
        surface: The text as written in the ontology (``"掉线"``, ``"keeps dropping"``).
        concept_id: The concept it names (``"cause.broadband_disconnection"``).
        kind: The concept's kind (``Domain``, ``Need``, ``Cause``, ``Strategy`` …).
        lang: ``zh`` or ``en``.
        is_pref: Whether it is the concept's preferred label (else an alternative label).
    """

    surface: str
    concept_id: str
    kind: str
    lang: str
    is_pref: bool = False


def _is_cjk(char: str) -> bool:
    return (
        "\u2e80" <= char <= "\u9fff" or "\uf900" <= char <= "\ufaff" or "\u3000" < char < "\u303f"
    )


def _fold_char(char: str) -> str:
    folded = char.casefold()
    if len(folded) == 1:
        return folded
    lowered = char.lower()
    return lowered if len(lowered) == 1 else char


def fold_view(text: str) -> tuple[str, list[int]]:
    """Return the matching view of normalised text and, per view character, its index in ``text``.

    The view is case-folded, drops joiners (hyphens, dashes, underscores, middle dots,
    apostrophes) and spaces next to CJK characters, so ``Wi-Fi 死角`` reads ``wifi死角``. Each view
    character keeps the offset of the character it came from, so spans map back to ``text``.

    Args:
        text: Normalised customer text (NFKC, simplified, whitespace collapsed).

    Returns:
        ``(view, offsets)`` with ``len(offsets) == len(view)``.
    """
    chars: list[str] = []
    offsets: list[int] = []
    last = len(text) - 1
    for i, char in enumerate(text):
        if char in _JOINERS or unicodedata.category(char) in ("Pd", "Pc"):
            continue
        if char == " " and (
            (i > 0 and _is_cjk(text[i - 1])) or (i < last and _is_cjk(text[i + 1]))
        ):
            continue
        chars.append(_fold_char(char))
        offsets.append(i)
    return "".join(chars), offsets


def match_form(surface: str) -> str:
    """Return the form a surface is matched by: NFKC, simplified, then :func:`fold_view`."""
    basic = collapse_spaces(to_simplified(unicodedata.normalize("NFKC", surface)))
    return fold_view(basic)[0]


def _freeze(mapping: Mapping[str, Iterable[str]] | None) -> Mapping[str, tuple[str, ...]]:
    return MappingProxyType({k: tuple(sorted(set(v))) for k, v in sorted((mapping or {}).items())})


@dataclass(frozen=True)
class Lexicon:
    """Surface forms to link, and the domains each cause and need concerns.

    Attributes:
        entries: Surface forms, any order (duplicates are harmless).
        cause_domains: Cause id -> the domains it affects (``Cause.affects``).
        need_domains: Need id -> the domains it concerns (``Need.domains``).
    """

    entries: tuple[LexiconEntry, ...]
    cause_domains: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    need_domains: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "entries", tuple(self.entries))
        object.__setattr__(self, "cause_domains", _freeze(self.cause_domains))
        object.__setattr__(self, "need_domains", _freeze(self.need_domains))

    def domains_of(self, concept_id: str, kind: str) -> tuple[str, ...]:
        """Return the domains a concept bears on: itself for a Domain, else its mapped domains."""
        if kind == "Domain":
            return (concept_id,)
        if kind == "Cause":
            return self.cause_domains.get(concept_id, ())
        if kind == "Need":
            return self.need_domains.get(concept_id, ())
        return ()

    @cached_property
    def fingerprint(self) -> str:
        """A stable hash of the content (keys the caches of pipelines and label embeddings)."""
        digest = hashlib.sha1(usedforsecurity=False)
        rows: list[Any] = sorted(
            (e.lang, e.surface, e.concept_id, e.kind, e.is_pref) for e in self.entries
        )
        rows += sorted(("C", k, v) for k, v in self.cause_domains.items())
        rows += sorted(("N", k, v) for k, v in self.need_domains.items())
        digest.update(repr(rows).encode("utf-8"))
        return digest.hexdigest()

    def __hash__(self) -> int:
        return hash(self.fingerprint)

    @classmethod
    def from_ontology(cls, ontology: Ontology, kinds: Iterable[str] = LINKABLE_KINDS) -> Lexicon:
        """Build a lexicon from an ontology's labels and relations.

        Args:
            ontology: A loaded ontology (e.g. ``needgraph.ontology.files.read_ontology()``).
            kinds: Concept kinds whose labels become surface forms.

        Returns:
            Preferred and alternative labels of every language the ontology declares, with
            ``Cause.affects`` and ``Need.domains`` as the domain maps.
        """
        from needgraph.ontology.lookup import LabelIndex

        wanted = set(kinds)
        index = LabelIndex(ontology)
        entries = [
            LexiconEntry(form.text, form.concept_id, form.kind, lang, form.is_pref)
            for lang in ontology.manifest.languages
            for form in index.surface_forms(lang)
            if form.kind in wanted
        ]
        return cls(
            tuple(entries),
            cause_domains={c.id: c.affects for c in ontology.by_kind("Cause")},
            need_domains={c.id: c.domains for c in ontology.by_kind("Need")},
        )
