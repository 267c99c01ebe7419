"""Checks of tag bins, tag indications and rules over tags (used by :mod:`validate`)."""

from __future__ import annotations

from collections.abc import Iterator
from itertools import pairwise

from needgraph.ontology.core import Ontology
from needgraph.ontology.model import Bin, Concept, normalise_value
from needgraph.ontology.problems import Location, Problem
from needgraph.ontology.rules import RuleNode

_BINS_HINT = "see 'Bins' in docs/ontology-format.md"


def _bin_range(b: Bin) -> str:
    low = "-inf" if b.min is None else f"{b.min:g}"
    high = "+inf" if b.max is None else f"{b.max:g}"
    return f"{b.id} [{low}, {high})"


def _numeric_bins(tag: Concept, where: Location) -> Iterator[Problem]:
    def problem(code: str, message: str, hint: str = _BINS_HINT) -> Problem:
        return Problem.at(code, where, tag.id, message, hint, member="bins")

    for b in tag.bins:
        if b.values:
            yield problem("invalid-bins", f"numeric bin {b.id!r} lists values", "use min/max")
        if b.min is not None and b.max is not None and b.min >= b.max:
            yield problem("invalid-bins", f"bin {_bin_range(b)} is empty (min >= max)")
    ordered = sorted(tag.bins, key=lambda b: (b.min is not None, b.min or 0.0))
    for low, high in pairwise(ordered):
        if low.max is None or high.min is None or low.max > high.min:
            message = f"bins {_bin_range(low)} and {_bin_range(high)} overlap"
            yield problem("bins-overlap", message, "make each bin's max the next bin's min")
        elif low.max < high.min:
            message = f"values in [{low.max:g}, {high.min:g}) fall in no bin"
            yield problem("bins-gap", message, "make each bin's max the next bin's min")


def _categorical_bins(tag: Concept, where: Location) -> Iterator[Problem]:
    owner: dict[str, str] = {}
    for b in tag.bins:
        if b.min is not None or b.max is not None:
            message = f"{tag.value_type} bin {b.id!r} has min/max"
            yield Problem.at("invalid-bins", where, tag.id, message, "list `values`", "bins")
        if not b.values:
            message = f"bin {b.id!r} lists no values"
            yield Problem.at("invalid-bins", where, tag.id, message, "list `values`", "bins")
        for value in b.values:
            key = normalise_value(value)
            if key in owner and owner[key] != b.id:
                message = f"value {value!r} is in bins {owner[key]!r} and {b.id!r}"
                hint = "every raw value belongs to exactly one bin"
                yield Problem.at("duplicate-bin-value", where, tag.id, message, hint, "bins")
            owner.setdefault(key, b.id)
    if tag.value_type == "boolean" and sorted(b.id for b in tag.bins) != ["no", "yes"]:
        message = "a boolean tag has exactly the bins `yes` and `no`"
        yield Problem.at("invalid-bins", where, tag.id, message, _BINS_HINT, "bins")


def check_tag(tag: Concept, where: Location) -> Iterator[Problem]:
    """Yield the problems of one tag's value type, bins and indications."""
    if tag.value_type is None:
        hint = "add `value_type: numeric | categorical | boolean | group`"
        yield Problem.at("missing-value-type", where, tag.id, "tag has no value_type", hint)
        return
    if tag.value_type == "group":
        if tag.bins:
            message = "a group tag (value_type: group) has bins"
            hint = "remove the bins, or give the tag a value type"
            yield Problem.at("invalid-bins", where, tag.id, message, hint, "bins")
    elif not tag.bins:
        message = f"{tag.value_type} tag has no bins"
        hint = "add `bins:`, or make it `value_type: group` if it only organises sub-tags"
        yield Problem.at("missing-bins", where, tag.id, message, hint, "value_type")
    seen: set[str] = set()
    for b in tag.bins:
        if b.id in seen:
            yield Problem.at("duplicate-bin", where, tag.id, f"bin id {b.id!r} given twice", "")
        seen.add(b.id)
        if not b.id or "=" in b.id or any(c.isspace() for c in b.id):
            message = f"bin id {b.id!r} is empty or holds '=' or spaces"
            yield Problem.at("invalid-bin-id", where, tag.id, message, "use snake_case", "bins")
        for lang in ("zh", "en"):
            if not getattr(b.label, lang):
                message = f"bin {b.id!r} has no {lang} label"
                yield Problem.at("missing-label", where, tag.id, message, "add it", "bins")
    if tag.value_type == "numeric":
        yield from _numeric_bins(tag, where)
    elif tag.value_type in ("categorical", "boolean"):
        yield from _categorical_bins(tag, where)
    for indication in tag.indicates:
        if not 0 < indication.weight <= 1:
            message = f"weight {indication.weight:g} for {indication.cause} is not in (0, 1]"
            yield Problem.at("invalid-weight", where, tag.id, message, "", "indicates")
        if not indication.when:
            message = f"indication of {indication.cause} names no bins in `when`"
            hint = f"list the bins that indicate it, e.g. when: [{next(iter(seen), 'high')}]"
            yield Problem.at("unknown-bin", where, tag.id, message, hint, "indicates")
        for bin_id in indication.when:
            if bin_id not in seen:
                message = f"indicates.when names bin {bin_id!r}, which {tag.id} does not have"
                hint = f"use one of: {', '.join(sorted(seen)) or '(no bins)'}"
                yield Problem.at("unknown-bin", where, tag.id, message, hint, "indicates")


def check_rule(
    ontology: Ontology, concept: Concept, member: str, rule: RuleNode, where: Location
) -> Iterator[Problem]:
    """Yield the problems of a rule (``eligibility`` or ``rule``): unknown tags and bins."""
    for leaf in rule.leaves():
        tag = ontology.get(leaf.tag)
        if tag is None or tag.kind != "Tag":
            what = "does not exist" if tag is None else f"is a {tag.kind}, not a Tag"
            message = f"{member} names tag {leaf.tag!r}, which {what}"
            yield Problem.at("unknown-tag", where, concept.id, message, "name a tag id", member)
            continue
        bins = {b.id for b in tag.bins}
        if not leaf.in_:
            message = f"{member}: condition on {leaf.tag} lists no bins in `in`"
            yield Problem.at("unknown-bin", where, concept.id, message, "list bin ids", member)
        for bin_id in leaf.in_:
            if bin_id not in bins:
                message = f"{member} names bin {bin_id!r} of {leaf.tag}, which has no such bin"
                hint = f"use one of: {', '.join(sorted(bins)) or '(no bins)'}"
                yield Problem.at("unknown-bin", where, concept.id, message, hint, member)
