"""What analysing one customer text returns: mentions of concepts and domain scores."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, TypeAlias

Method: TypeAlias = Literal["lexicon", "embedding"]


@dataclass(frozen=True)
class Mention:
    """A concept mentioned in a text; the properties of a ``MENTIONS`` relationship.

    Attributes:
        concept_id: The concept (``cause.broadband_disconnection``).
        kind: Its kind (``Cause``, ``Need``, ``Domain``, ``Strategy``).
        confidence: How sure the link is, in [0, 1].
        span_start: Start offset (characters) in the normalised, masked text.
        span_end: End offset (exclusive).
        evidence: ``text[span_start:span_end]``.
        negated: Said not to apply (``不卡``, ``not slow``); resolved mentions are negated too.
        resolved: No longer a problem (``现在不卡了``, ``已经修好了``, ``no longer dropping``).
        method: ``lexicon`` (a surface form matched) or ``embedding`` (nearest label).
    """

    concept_id: str
    kind: str
    confidence: float
    span_start: int
    span_end: int
    evidence: str
    negated: bool = False
    resolved: bool = False
    method: Method = "lexicon"

    @property
    def is_current(self) -> bool:
        """Whether the mention states a problem the customer has now."""
        return not (self.negated or self.resolved)

    def properties(self) -> dict[str, Any]:
        """Return the ``MENTIONS`` relationship properties (docs/graph-model.md)."""
        return {
            "confidence": self.confidence,
            "span_start": self.span_start,
            "span_end": self.span_end,
            "evidence": self.evidence,
            "negated": self.negated,
            "resolved": self.resolved,
            "method": self.method,
        }


@dataclass(frozen=True)
class DomainScore:
    """How much a text is about one domain.

    Attributes:
        domain_id: The domain (``domain.home_broadband``).
        score: Share in [0, 1]; the scores of one text sum to 1.
        mentions: How many mentions contributed to it.
    """

    domain_id: str
    score: float
    mentions: int


@dataclass(frozen=True)
class TextAnalysis:
    """The analysis of one customer text.

    Attributes:
        text: Normalised text with personal data masked (the only form that is stored).
        lang: ``zh``, ``en`` or ``unknown``.
        masked_kinds: Kinds of personal data masked (``phone``, ``id``, ``email``, ``account``).
        emoticons: Emoticon codes and emoji taken out of the text (``"怒"``, ``"😡"``).
        emoticon_sentiment: Mean sentiment hint of the known emoticons in [-1, 1], or ``None``.
        mentions: Mentions sorted by span start, then concept id.
        domains: Domain scores, highest first; empty when nothing points to a domain.
        embedding: Embedding of ``text`` (``dim`` floats), or ``None`` without an embedder.
        embedding_model: Name of the model that made ``embedding``.
        handles: ``@`` handles taken out of the text.
    """

    text: str
    lang: str
    masked_kinds: tuple[str, ...] = ()
    emoticons: tuple[str, ...] = ()
    emoticon_sentiment: float | None = None
    mentions: tuple[Mention, ...] = ()
    domains: tuple[DomainScore, ...] = ()
    embedding: tuple[float, ...] | None = field(default=None, repr=False)
    embedding_model: str | None = None
    handles: tuple[str, ...] = ()

    def current_causes(self) -> list[Mention]:
        """Return the causes the customer has now: one mention per cause, most confident first.

        Negated and resolved mentions are left out.
        """
        best: dict[str, Mention] = {}
        for mention in self.mentions:
            if mention.kind != "Cause" or not mention.is_current:
                continue
            known = best.get(mention.concept_id)
            if known is None or mention.confidence > known.confidence:
                best[mention.concept_id] = mention
        return sorted(best.values(), key=lambda m: (-m.confidence, m.concept_id))

    def top_domain(self) -> str | None:
        """Return the id of the highest-scoring domain, or ``None``."""
        return self.domains[0].domain_id if self.domains else None
