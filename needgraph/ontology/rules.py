"""Rules over tag bins, as data: ``{tag, in}`` leaves combined with ``all``, ``any`` and ``not``.

Strategy eligibility and segment membership are rules. A rule is evaluated against the bins a
customer's tags fall in (``{tag id: bin id}``); a tag the customer has no value for matches no leaf.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Discriminator, Field, TypeAdapter
from pydantic import Tag as Variant

_RULE_HELP = (
    "a rule is {tag: <tag id>, in: [<bin id>, ...]}, {all: [...]}, {any: [...]} or {not: rule}"
)


class RuleNode(BaseModel):
    """Common behaviour of every rule node."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    def evaluate(self, tag_bins: Mapping[str, str]) -> bool:
        """Return whether a customer whose tags fall in ``tag_bins`` satisfies the rule.

        Args:
            tag_bins: Bin id of each tag the customer has a value for, by tag id.
        """
        raise NotImplementedError

    def leaves(self) -> Iterator[TagCondition]:
        """Yield every ``{tag, in}`` leaf, depth first, in order."""
        raise NotImplementedError

    def tags(self) -> frozenset[str]:
        """Return the ids of the tags the rule names."""
        return frozenset(leaf.tag for leaf in self.leaves())

    def to_data(self) -> dict[str, Any]:
        """Return the rule as plain data, as written in the YAML files."""
        data: dict[str, Any] = self.model_dump(mode="json", by_alias=True)
        return data


class TagCondition(RuleNode):
    """Leaf: the customer's value of ``tag`` falls in one of the bins ``in``."""

    tag: str
    in_: tuple[str, ...] = Field(alias="in")

    def evaluate(self, tag_bins: Mapping[str, str]) -> bool:  # noqa: D102
        return tag_bins.get(self.tag) in self.in_

    def leaves(self) -> Iterator[TagCondition]:  # noqa: D102
        yield self


class AllOf(RuleNode):
    """Every sub-rule holds (an empty list holds)."""

    all: tuple[Rule, ...]

    def evaluate(self, tag_bins: Mapping[str, str]) -> bool:  # noqa: D102
        return all(rule.evaluate(tag_bins) for rule in self.all)

    def leaves(self) -> Iterator[TagCondition]:  # noqa: D102
        for rule in self.all:
            yield from rule.leaves()


class AnyOf(RuleNode):
    """At least one sub-rule holds (an empty list never holds)."""

    any: tuple[Rule, ...]

    def evaluate(self, tag_bins: Mapping[str, str]) -> bool:  # noqa: D102
        return any(rule.evaluate(tag_bins) for rule in self.any)

    def leaves(self) -> Iterator[TagCondition]:  # noqa: D102
        for rule in self.any:
            yield from rule.leaves()


class NotRule(RuleNode):
    """The sub-rule does not hold."""

    not_: Rule = Field(alias="not")

    def evaluate(self, tag_bins: Mapping[str, str]) -> bool:  # noqa: D102
        return not self.not_.evaluate(tag_bins)

    def leaves(self) -> Iterator[TagCondition]:  # noqa: D102
        yield from self.not_.leaves()


_VARIANTS: dict[type[RuleNode], str] = {
    TagCondition: "tag",
    AllOf: "all",
    AnyOf: "any",
    NotRule: "not",
}


def _variant(value: Any) -> str | None:
    if isinstance(value, RuleNode):
        return _VARIANTS[type(value)]
    if isinstance(value, Mapping):
        for key in ("tag", "all", "any", "not"):
            if key in value:
                return key
    return None


Rule = Annotated[
    Annotated[TagCondition, Variant("tag")]
    | Annotated[AllOf, Variant("all")]
    | Annotated[AnyOf, Variant("any")]
    | Annotated[NotRule, Variant("not")],
    Discriminator(_variant, custom_error_type="invalid_rule", custom_error_message=_RULE_HELP),
]
"""A rule node of any shape."""

for _model in (AllOf, AnyOf, NotRule):
    _model.model_rebuild()

_RULE_ADAPTER: TypeAdapter[Rule] = TypeAdapter(Rule)


def parse_rule(data: Any) -> Rule:
    """Build a rule from plain data (raises :class:`pydantic.ValidationError` when malformed)."""
    return _RULE_ADAPTER.validate_python(data)


def evaluate_rule(rule: Rule | None, tag_bins: Mapping[str, str]) -> bool:
    """Evaluate ``rule``; a missing rule (no eligibility) holds for everyone."""
    return True if rule is None else rule.evaluate(tag_bins)
