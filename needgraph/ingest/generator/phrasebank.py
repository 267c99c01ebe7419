"""Phrase banks for synthetic customer texts, read from the YAML files beside this module.

Three files: ``phrases_common.yaml`` (openings, intensifiers, demands, sign-offs, emoticons,
slot fillers, noise texts, decoy frames), ``phrases_families.yaml`` (context, consequences and
demands per cause family) and ``phrases_causes.yaml`` (extra ways to state particular causes,
matched on cause ids). The cause a text is about always comes from the ontology; the banks only
supply surface wording, so causes no bank matches still get texts from their labels and synonyms.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from needgraph.ontology.model import Concept

HERE = Path(__file__).resolve().parent
LANGS = ("zh", "en")
_SLOT = re.compile(r"\{(\w+)\}")


def _tuple(values: Any) -> tuple[str, ...]:
    return tuple(str(v) for v in (values or ()))


@dataclass(frozen=True)
class Family:
    """Phrases shared by causes of one family (matched on id substrings)."""

    name: str
    match: tuple[str, ...]
    phrases: dict[str, dict[str, tuple[str, ...]]]


@dataclass(frozen=True)
class PhraseBank:
    """All phrase material, by language.

    Attributes:
        slots: Slot fillers per language (``{amount}``, ``{room}``...).
        common: Per language: lists of phrases by role (``openings`` is keyed by channel).
        families: Families in matching order (the last one, ``generic``, matches everything).
        mentions: ``(match substrings, {lang: extra mentions})`` entries.
    """

    slots: dict[str, dict[str, tuple[str, ...]]]
    common: dict[str, dict[str, Any]]
    families: tuple[Family, ...]
    mentions: tuple[tuple[tuple[str, ...], dict[str, tuple[str, ...]]], ...]

    def family(self, name: str) -> Family:
        """Return the family called ``name`` (the generic one when unknown)."""
        for fam in self.families:
            if fam.name == name:
                return fam
        return self.families[-1]

    def extra_mentions(self, cause_id: str, lang: str) -> tuple[str, ...]:
        """Return the bank's extra mentions of ``cause_id`` in ``lang``."""
        tail = cause_id.split(".", 1)[-1]
        found: list[str] = []
        for match, phrases in self.mentions:
            if any(m in tail for m in match):
                found.extend(phrases.get(lang, ()))
        return tuple(found)


def _read(name: str) -> Any:
    return yaml.safe_load((HERE / name).read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def load_bank() -> PhraseBank:
    """Read the phrase bank files (cached)."""
    common = _read("phrases_common.yaml")
    fams = _read("phrases_families.yaml")["families"]
    mentions = _read("phrases_causes.yaml")["mentions"]
    slots = {lang: {k: _tuple(v) for k, v in common["slots"][lang].items()} for lang in LANGS}
    roles: dict[str, dict[str, Any]] = {}
    for lang in LANGS:
        section = dict(common[lang])
        roles[lang] = {
            k: ({ch: _tuple(v2) for ch, v2 in v.items()} if isinstance(v, Mapping) else _tuple(v))
            for k, v in section.items()
        }
    families = tuple(
        Family(
            name=f["name"],
            match=_tuple(f.get("match")),
            phrases={lang: {k: _tuple(v) for k, v in f.get(lang, {}).items()} for lang in LANGS},
        )
        for f in fams
    )
    return PhraseBank(
        slots=slots,
        common=roles,
        families=families,
        mentions=tuple(
            (_tuple(m["match"]), {lang: _tuple(m.get(lang)) for lang in LANGS}) for m in mentions
        ),
    )


def family_of(cause: Concept, ancestors: Iterable[str]) -> str:
    """Return the phrase family of a cause.

    It is the first family whose substrings occur in the cause's id, its ancestors' ids or its
    English label (lower case); ``generic`` when none does.
    """
    haystack = " ".join([cause.id, *ancestors, cause.label.en]).lower()
    for fam in load_bank().families:
        if any(m in haystack for m in fam.match):
            return fam.name
    return load_bank().families[-1].name


def fill_slots(text: str, lang: str, pick: Any) -> str:
    """Replace ``{slot}`` markers with fillers; ``pick(seq)`` chooses one element."""
    slots = load_bank().slots[lang]

    def repl(match: re.Match[str]) -> str:
        options = slots.get(match.group(1))
        return str(pick(options)) if options else match.group(0)

    return _SLOT.sub(repl, text) if "{" in text else text
