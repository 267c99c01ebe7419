"""The graph schema needgraph's stores accept: concept labels from the ontology plus data labels.

Concept kinds (Domain, Need, Cause, Tag, Strategy, Segment) and their relation kinds follow the
ontology model (``docs/ontology-format.md``); data labels hold what ingest observes about customers.
"""

from __future__ import annotations

from needgraph.graph.schema import GraphSchema, RelationshipSpec

CONCEPT_KINDS: tuple[str, ...] = ("Domain", "Need", "Cause", "Tag", "Strategy", "Segment")

_LABELS: dict[str, str] = {
    "Domain": "A service domain customers are surveyed on (from the ontology).",
    "Need": "What a customer wants from the service.",
    "Cause": "What blocks a need.",
    "Tag": "A big-data customer tag, or a group of tags in the hierarchy.",
    "TagBin": "One bin of a tag's values (key '<tag id>=<bin id>').",
    "Strategy": "An operation strategy (action) the operator can take.",
    "Segment": "A named group of customers defined by a rule over tags.",
    "Customer": "A customer (key: the operator's customer id).",
    "Utterance": "One customer text (complaint, chat turn, survey verbatim), personal data masked.",
    "Offer": "One offer of a strategy to a customer, with its outcome.",
}


def _spec(rel_type: str, start: set[str], end: set[str], description: str) -> RelationshipSpec:
    return RelationshipSpec(rel_type, frozenset(start), frozenset(end), description)


_SAME_KIND = set(CONCEPT_KINDS) - {"Tag"}
_RELATIONSHIPS = [
    _spec("AFFECTS", {"Cause"}, {"Domain"}, "cause affects domain"),
    _spec("BLOCKS", {"Cause"}, {"Need"}, "cause blocks need"),
    _spec("CONCERNS", {"Need"}, {"Domain"}, "need belongs to domain"),
    _spec("INDICATES", {"TagBin"}, {"Cause"}, "tag bin indicates cause (weight)"),
    _spec("ADDRESSES", {"Strategy"}, {"Need"}, "strategy addresses need"),
    _spec("RESOLVES", {"Strategy"}, {"Cause"}, "strategy resolves cause"),
    _spec("SUB_TAG_OF", {"Tag"}, {"Tag"}, "tag hierarchy"),
    _spec("DERIVED_FROM", {"Tag"}, {"Tag"}, "tag derived from other tags"),
    _spec("BIN_OF", {"TagBin"}, {"Tag"}, "bin belongs to tag"),
    _spec("BROADER", _SAME_KIND, _SAME_KIND, "SKOS broader, same kind"),
    _spec("REPLACED_BY", set(CONCEPT_KINDS), set(CONCEPT_KINDS), "deprecated -> surviving concept"),
    _spec("HAS_TAG", {"Customer"}, {"TagBin"}, "customer's tag value falls in bin"),
    _spec("SAID", {"Customer"}, {"Utterance"}, "customer wrote or said the utterance"),
    _spec(
        "MENTIONS",
        {"Utterance"},
        {"Domain", "Need", "Cause", "Strategy"},
        "utterance mentions concept (confidence, evidence span, negated)",
    ),
    _spec("RATED", {"Customer"}, {"Domain"}, "satisfaction score per domain"),
    _spec("RECEIVED", {"Customer"}, {"Offer"}, "customer received offer"),
    _spec("OF_STRATEGY", {"Offer"}, {"Strategy"}, "offer is of strategy"),
    _spec("MEMBER_OF", {"Customer"}, {"Segment"}, "customer belongs to segment"),
]

GRAPH_SCHEMA = GraphSchema(
    labels=_LABELS,
    relationships={spec.type: spec for spec in _RELATIONSHIPS},
)
