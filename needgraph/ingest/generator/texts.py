"""Compose customer texts (zh/en) with planted mentions, decoys, noise and personal data.

A text is built from a phrase grammar: channel opening, time/place context, a mention of a cause
(ontology synonyms and labels, the bank's extra mentions, or a vague group-cause synonym),
consequence, intensifier, demand, emoticon and sign-off, in varying order and punctuation, then
passed through typing noise. Decoys mention a cause the customer does not have: resolved
("之前老掉线，现在修好了"), negated ("信号倒是不差") or about someone else. Noise texts mention
none.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field

from needgraph.ingest.generator.noise import email_address, en_noise, phone_number, zh_noise
from needgraph.ingest.generator.phrasebank import PhraseBank, fill_slots, load_bank
from needgraph.ingest.generator.world import WorldModel
from needgraph.ontology.core import Ontology

CHANNELS = {
    "zh": (
        ("social_media", 0.3),
        ("online_chat", 0.3),
        ("hotline", 0.2),
        ("survey", 0.12),
        ("app_feedback", 0.08),
    ),
    "en": (
        ("social_media", 0.25),
        ("online_chat", 0.3),
        ("email", 0.2),
        ("survey", 0.15),
        ("app_feedback", 0.1),
    ),
}
DECOY_MODES = ("resolved", "negated", "other_person")


@dataclass
class Text:
    """One generated text and what it truly says.

    Attributes:
        channel: Channel it came through.
        lang: ``zh`` or ``en``.
        text: The raw text (personal data unmasked).
        mentions: ``(cause id, mode)``; mode is ``asserted``, ``asserted_vague``, ``resolved``,
            ``negated`` or ``other_person``.
        pii: Personal data strings inserted verbatim.
    """

    channel: str
    lang: str
    text: str
    mentions: list[tuple[str, str]] = field(default_factory=list)
    pii: list[str] = field(default_factory=list)


class TextComposer:
    """Builds texts for customers of one world model.

    Args:
        world: The world model (plantable causes and their families).
        ontology: The ontology the world came from (labels and synonyms).
        bank: Phrase bank (the packaged one when ``None``).
    """

    def __init__(
        self, world: WorldModel, ontology: Ontology, bank: PhraseBank | None = None
    ) -> None:
        self.bank = bank or load_bank()
        self.world = world
        self.cause_ids = [c.id for c in world.causes]
        self.family = {c.id: c.family for c in world.causes}
        self.mentions: dict[tuple[str, str], tuple[str, ...]] = {}
        self.vague: dict[tuple[str, str], tuple[str, ...]] = {}
        for cause in world.causes:
            concept = ontology[cause.id]
            for lang in ("zh", "en"):
                own = (getattr(concept.label, lang), *getattr(concept.synonyms, lang))
                extra = self.bank.extra_mentions(cause.id, lang)
                self.mentions[(cause.id, lang)] = tuple(p for p in (*own, *extra) if p)
                vague = [
                    s
                    for a in cause.broader[:2]
                    if a in ontology
                    for s in getattr(ontology[a].synonyms, lang)
                ]
                self.vague[(cause.id, lang)] = tuple(vague)

    # -- pieces ---------------------------------------------------------------------------
    def _pick(self, rnd: random.Random, options: Sequence[str]) -> str:
        return options[int(rnd.random() * len(options))] if options else ""

    def _fill(self, rnd: random.Random, text: str, lang: str) -> str:
        return fill_slots(text, lang, lambda seq: self._pick(rnd, seq))

    def _fam(self, cause_id: str, lang: str, role: str) -> tuple[str, ...]:
        return self.bank.family(self.family.get(cause_id, "generic")).phrases[lang].get(role, ())

    def _mention(self, rnd: random.Random, cause_id: str, lang: str, vague: bool) -> str:
        options = self.vague[(cause_id, lang)] if vague else ()
        options = options or self.mentions[(cause_id, lang)]
        text = self._pick(rnd, options)
        if lang == "en" and rnd.random() < 0.5:
            text = text.lower()
        return self._fill(rnd, text, lang)

    def _common(self, lang: str, role: str) -> tuple[str, ...]:
        found: tuple[str, ...] = self.bank.common[lang].get(role, ())
        return found

    def _asserted(self, rnd: random.Random, cause_id: str, lang: str, vague: bool) -> str:
        sep = "，" if lang == "zh" else ", "
        parts = []
        if rnd.random() < 0.5:
            pool = self._fam(cause_id, lang, "contexts") + self._common(lang, "contexts")
            parts.append(self._fill(rnd, self._pick(rnd, pool), lang))
        parts.append(self._mention(rnd, cause_id, lang, vague))
        text = ("" if lang == "zh" else " ").join(parts)
        if rnd.random() < 0.45:
            consequence = self._pick(rnd, self._fam(cause_id, lang, "consequences"))
            if consequence:
                text += sep + self._fill(rnd, consequence, lang)
        return text

    def _decoy(self, rnd: random.Random, cause_id: str, lang: str, mode: str) -> str:
        if mode == "negated" and rnd.random() < 0.4:
            family_line = self._pick(rnd, self._fam(cause_id, lang, "negated"))
            if family_line:
                return family_line
        frame = self._pick(rnd, self._common(lang, mode))
        mention = self._mention(rnd, cause_id, lang, vague=False)
        return self._fill(rnd, frame.replace("{m}", mention), lang)

    def _extras(self, rnd: random.Random, text: str, lang: str, channel: str, cause: str) -> str:
        sep = ["，", "！", "。", " ", "，", "!!"] if lang == "zh" else [". ", "! ", ", ", " - "]
        if rnd.random() < 0.35:
            text += self._pick(rnd, sep) + self._fill(
                rnd, self._pick(rnd, self._common(lang, "intensifiers")), lang
            )
        if rnd.random() < 0.45:
            pool = self._fam(cause, lang, "demands") + self._common(lang, "demands")
            text += self._pick(rnd, sep) + self._fill(rnd, self._pick(rnd, pool), lang)
        if (channel == "social_media" and rnd.random() < 0.6) or rnd.random() < 0.12:
            emos = self._common(lang, "emoticons")
            text += "".join(self._pick(rnd, emos) for _ in range(1 + int(rnd.random() * 2.5)))
        if rnd.random() < 0.2:
            text += self._pick(rnd, sep) + self._pick(rnd, self._common(lang, "signoffs"))
        return text

    def _frame(
        self, rnd: random.Random, body: str, lang: str, channel: str, complaint: bool
    ) -> str:
        openings = self.bank.common[lang]["openings"].get(channel, ("",))
        if channel == "hotline" and not complaint:
            openings = self._common(lang, "hotline_inquiry") or openings
        opening = self._fill(rnd, self._pick(rnd, openings), lang)
        if channel == "hotline" and lang == "zh":
            if not complaint:
                return opening + body + "。" + self._pick(rnd, self._common(lang, "inquiry_notes"))
            body = body + "，" + self._pick(rnd, self._common(lang, "hotline_demands")) + "。"
            return opening + body + self._pick(rnd, self._common(lang, "agent_notes"))
        text = opening + body
        if channel == "online_chat" and rnd.random() < 0.3:
            user, sep = ("用户：", "\n") if lang == "zh" else ("Customer: ", "\n")
            role = "chat_agent" if complaint else "chat_agent_info"
            agent = self._pick(rnd, self._common(lang, role))
            follow = self._pick(
                rnd, self._common(lang, "chat_user_followup" if complaint else "chat_user_thanks")
            )
            text = f"{user}{text}{sep}{agent}{sep}{user}{follow}"
        return text

    # -- one text -------------------------------------------------------------------------
    def compose(
        self, rnd: random.Random, lang: str, asserted: Sequence[str], decoys: Sequence[str]
    ) -> Text:
        """Return one text asserting ``asserted`` causes and mentioning ``decoys`` as decoys.

        With neither, the text is noise (a question, thanks, or a neutral remark).
        """
        channel = _weighted(rnd, CHANNELS[lang])
        mentions: list[tuple[str, str]] = []
        clauses: list[str] = []
        for cause in decoys:
            mode = DECOY_MODES[int(rnd.random() * 3)]
            clauses.append(self._decoy(rnd, cause, lang, mode))
            mentions.append((cause, mode))
        for i, cause in enumerate(asserted):
            vague = rnd.random() < self.world.params.vague_share
            clause = self._asserted(rnd, cause, lang, vague)
            if clauses:
                joiner = "contrast" if i == 0 and decoys else "connectors"
                clause = self._pick(rnd, self._common(lang, joiner)) + clause
            clauses.append(clause)
            mentions.append((cause, "asserted_vague" if vague else "asserted"))
        if not clauses:
            body = self._fill(rnd, self._pick(rnd, self._common(lang, "noise")), lang)
            last = ""
        else:
            body = clauses[0] + "".join(clauses[1:])
            last = asserted[-1] if asserted else decoys[-1]
        if asserted and channel != "hotline":  # tickets are written by agents: no emoticons
            body = self._extras(rnd, body, lang, channel, last)
        text = self._frame(rnd, body, lang, channel, complaint=bool(asserted))
        text = zh_noise(text, rnd) if lang == "zh" else en_noise(text, rnd)
        pii: list[str] = []
        rate = self.world.params.pii_rate * (3.0 if channel == "hotline" else 1.0)
        if rnd.random() < rate:
            role = "hotline_pii" if channel == "hotline" and lang == "zh" else "pii"
            frame = self._pick(rnd, self._common(lang, role) or self._common(lang, "pii"))
            value = email_address(rnd) if "{email}" in frame else phone_number(rnd)
            piece = frame.replace("{email}", value).replace("{phone}", value)
            joiner = self._pick(rnd, ("，", " ", "。", "，")) if lang == "zh" else ". "
            text = text + joiner + piece
            pii.append(value)
        return Text(channel=channel, lang=lang, text=text, mentions=mentions, pii=pii)

    # -- one customer ---------------------------------------------------------------------
    def customer_texts(
        self, rnd: random.Random, causes: Sequence[str], n_texts: int, lang: str
    ) -> list[Text]:
        """Return ``n_texts`` texts of a customer with true ``causes`` who writes in ``lang``."""
        params = self.world.params
        others = [c for c in self.cause_ids if c not in causes]
        texts = []
        for _ in range(n_texts):
            text_lang = lang if rnd.random() < 0.95 else ("en" if lang == "zh" else "zh")
            r = rnd.random()
            asserted: list[str] = []
            decoys: list[str] = []
            if causes and r >= params.noise_share:
                asserted = [causes[int(rnd.random() * len(causes))]]
                if len(causes) > 1 and rnd.random() < 0.25:
                    asserted.append(next(c for c in causes if c != asserted[0]))
            wants_decoy = (r < params.noise_share + params.decoy_share) if causes else r < 0.45
            if others and wants_decoy and (asserted or not causes or r >= params.noise_share):
                decoys = [self._decoy_cause(rnd, others, asserted)]
            texts.append(self.compose(rnd, text_lang, asserted, decoys))
        return texts

    def _decoy_cause(self, rnd: random.Random, others: list[str], near: Sequence[str]) -> str:
        if near and rnd.random() < 0.5:
            fam = self.family[near[0]]
            same = [c for c in others if self.family[c] == fam]
            if same:
                return same[int(rnd.random() * len(same))]
        return others[int(rnd.random() * len(others))]


def _weighted(rnd: random.Random, options: Sequence[tuple[str, float]]) -> str:
    r = rnd.random() * sum(w for _, w in options)
    for name, weight in options:
        r -= weight
        if r < 0:
            return name
    return options[-1][0]
