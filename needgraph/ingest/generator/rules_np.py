"""Evaluate ontology rules (eligibility, segments) for a whole chunk of customers at once.

Same semantics as :func:`needgraph.ontology.rules.evaluate_rule`: a leaf holds when the
customer's bin of the tag is one of the listed bins; a missing value (bin ``-1``) or a tag the
dataset does not carry matches no leaf; ``all`` of nothing holds, ``any`` of nothing does not.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from needgraph.ontology.rules import AllOf, AnyOf, NotRule, Rule, TagCondition


def evaluate_rule_np(
    rule: Rule | None,
    bins: np.ndarray,
    tag_index: Mapping[str, int],
    bin_index: Mapping[str, Mapping[str, int]],
) -> np.ndarray:
    """Return a boolean vector: which customers satisfy ``rule``.

    Args:
        rule: The rule; ``None`` holds for everyone.
        bins: ``(n, tags)`` bin index of each customer's value (``-1`` when missing).
        tag_index: Column of each tag in ``bins``.
        bin_index: Index of each bin id, per tag.
    """
    n = bins.shape[0]
    if rule is None:
        return np.ones(n, dtype=bool)
    if isinstance(rule, TagCondition):
        col = tag_index.get(rule.tag)
        if col is None:
            return np.zeros(n, dtype=bool)
        wanted = [bin_index[rule.tag][b] for b in rule.in_ if b in bin_index[rule.tag]]
        return np.isin(bins[:, col], np.asarray(wanted, dtype=bins.dtype))
    if isinstance(rule, AllOf):
        result = np.ones(n, dtype=bool)
        for sub in rule.all:
            result &= evaluate_rule_np(sub, bins, tag_index, bin_index)
        return result
    if isinstance(rule, AnyOf):
        result = np.zeros(n, dtype=bool)
        for sub in rule.any:
            result |= evaluate_rule_np(sub, bins, tag_index, bin_index)
        return result
    if isinstance(rule, NotRule):
        return ~evaluate_rule_np(rule.not_, bins, tag_index, bin_index)
    raise TypeError(f"unknown rule node {type(rule).__name__}")
