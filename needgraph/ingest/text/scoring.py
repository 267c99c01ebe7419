"""Confidence of lexicon mentions, and domain scores of a text.

Confidence of a lexicon mention is a product of factors, each in (0, 1]:

* label: 0.9 for a preferred label, 0.8 for an alternative label;
* specificity: by the length of the matched form — Chinese 1 char 0.55, 2 chars 0.8,
  3 chars 0.9, 4+ chars 1.0; English 1 short word (<= 3 letters) 0.6, 1 word 0.75, 2 words 0.9,
  3+ words 1.0;
* ambiguity: ``1 / sqrt(k)`` when the form names ``k`` concepts;
* alignment (Chinese): 0.9 when the form does not start and end on token boundaries;
* negation: 0.85 when negated (the cue itself may be misread).

Domain scores: each Cause or Need mention spreads ``confidence x polarity`` (1 for a current
mention, 0.3 for a negated or resolved one, which still shows what the text is about) over
its domains in proportion to their *specificity* ``log((N + 1) / df)``, where ``df`` is how
many causes and needs point to the domain among ``N``; a catch-all domain such as
``overall`` that nearly every concept lists thus gets little unless it is all there is. A Domain
mention gives its whole weight to itself. Scores are normalised to sum to 1.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from needgraph.ingest.text.lexicon import Lexicon
from needgraph.ingest.text.results import DomainScore, Mention

PREF_WEIGHT = 0.9
ALT_WEIGHT = 0.8
UNALIGNED = 0.9
NEGATED = 0.85
INACTIVE_DOMAIN_WEIGHT = 0.3


def _specificity(form: str, lang: str) -> float:
    if lang == "zh" or any("\u3400" <= c <= "\u9fff" for c in form):
        n = len(form.replace(" ", ""))
        return {1: 0.55, 2: 0.8, 3: 0.9}.get(n, 1.0)
    words = form.split()
    if len(words) == 1:
        return 0.6 if len(form) <= 3 else 0.75
    return 0.9 if len(words) == 2 else 1.0


def lexicon_confidence(
    form: str, lang: str, *, is_pref: bool, n_concepts: int, aligned: bool, negated: bool
) -> float:
    """Return the confidence of a lexicon mention, in (0, 1], rounded to 4 decimals.

    Args:
        form: The matched form (matching view).
        lang: Language of the lexicon entry.
        is_pref: Whether the form is the concept's preferred label.
        n_concepts: How many concepts the form names.
        aligned: Whether the span starts and ends on token boundaries.
        negated: Whether the mention is negated or resolved.
    """
    value = PREF_WEIGHT if is_pref else ALT_WEIGHT
    value *= _specificity(form, lang)
    value /= math.sqrt(max(1, n_concepts))
    value *= 1.0 if aligned else UNALIGNED
    value *= NEGATED if negated else 1.0
    return round(value, 4)


class DomainScorer:
    """Turn mentions into domain scores for one lexicon.

    Args:
        lexicon: Supplies each cause's and need's domains.
    """

    def __init__(self, lexicon: Lexicon) -> None:
        self.lexicon = lexicon
        links = list(lexicon.cause_domains.values()) + list(lexicon.need_domains.values())
        df: dict[str, int] = {}
        for domains in links:
            for domain in set(domains):
                df[domain] = df.get(domain, 0) + 1
        total = max(1, len(links))
        self.specificity = {d: math.log((total + 1) / n) for d, n in df.items()}

    def shares(self, concept_id: str, kind: str) -> dict[str, float]:
        """Return how one unit of a concept's weight splits over its domains."""
        domains = self.lexicon.domains_of(concept_id, kind)
        if kind == "Domain":
            return {concept_id: 1.0}
        weights = {d: self.specificity.get(d, 1.0) for d in domains}
        total = sum(weights.values())
        return {d: w / total for d, w in weights.items()} if total > 0 else {}

    def score(self, mentions: Iterable[Mention]) -> tuple[DomainScore, ...]:
        """Return domain scores (summing to 1, highest first, ties by id) for ``mentions``."""
        totals: dict[str, float] = {}
        counts: dict[str, int] = {}
        for mention in mentions:
            polarity = 1.0 if mention.is_current else INACTIVE_DOMAIN_WEIGHT
            for domain, share in self.shares(mention.concept_id, mention.kind).items():
                totals[domain] = totals.get(domain, 0.0) + mention.confidence * polarity * share
                counts[domain] = counts.get(domain, 0) + 1
        grand = sum(totals.values())
        if grand <= 0:
            return ()
        scores = [DomainScore(d, round(v / grand, 4), counts[d]) for d, v in totals.items()]
        return tuple(sorted(scores, key=lambda s: (-s.score, s.domain_id)))
