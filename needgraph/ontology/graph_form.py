"""The graph form of an ontology: concept and tag-bin nodes, relation relationships.

Concept nodes are labelled by kind and keyed by id, with properties ``label_zh``, ``label_en``,
``synonyms_zh``, ``synonyms_en`` (lists), ``definition_zh``, ``definition_en``, ``deprecated``,
``replaced_by`` and the scalars of their kind: ``value_type``, ``unit`` (Tag); ``cost``,
``channel``, ``eligibility`` (canonical JSON) (Strategy); ``rule`` (canonical JSON) (Segment).
Tag bins are ``TagBin`` nodes keyed ``<tag id>=<bin id>`` with ``tag``, ``bin``, ``label_zh``,
``label_en``, ``min``, ``max``, ``values`` and ``position`` (order within the tag). A missing
value is written as ``None``, which removes a property left from an earlier version (including
the ``removed_in`` mark of a node the loader kept; see :mod:`needgraph.ontology.loader`).
"""

from __future__ import annotations

from needgraph.graph.records import Node, NodeRef, Properties, Relationship
from needgraph.graph.schema import GraphSchema
from needgraph.ontology.core import Ontology, canonical_json
from needgraph.ontology.model import TAG_BIN, Concept, bin_key

ONTOLOGY_REL_TYPES: frozenset[str] = frozenset(
    {
        "AFFECTS",
        "BLOCKS",
        "CONCERNS",
        "INDICATES",
        "ADDRESSES",
        "RESOLVES",
        "SUB_TAG_OF",
        "DERIVED_FROM",
        "BIN_OF",
        "BROADER",
        "REPLACED_BY",
    }
)
"""Relationship types the ontology owns; every other type is customer data."""

_KIND_SCALARS: dict[str, tuple[str, ...]] = {
    "Tag": ("value_type", "unit"),
    "Strategy": ("cost", "channel", "eligibility"),
    "Segment": ("rule",),
}


def data_rel_types(schema: GraphSchema) -> list[str]:
    """Return the customer-data relationship types of ``schema`` (all but the ontology's)."""
    return sorted(set(schema.relationships) - ONTOLOGY_REL_TYPES)


def concept_props(concept: Concept) -> Properties:
    """Return the node properties of ``concept`` (see module doc)."""
    props: Properties = {
        "label_zh": concept.label.zh or None,
        "label_en": concept.label.en or None,
        "synonyms_zh": list(concept.synonyms.zh),
        "synonyms_en": list(concept.synonyms.en),
        "definition_zh": concept.definition.zh or None,
        "definition_en": concept.definition.en or None,
        "deprecated": concept.deprecated,
        "replaced_by": concept.replaced_by,
        "removed_in": None,
    }
    for member in _KIND_SCALARS.get(concept.kind, ()):
        value = getattr(concept, member)
        if member in ("eligibility", "rule"):
            value = canonical_json(value.to_data()) if value is not None else None
        props[member] = value
    return props


def bin_nodes(tag: Concept) -> list[Node]:
    """Return the ``TagBin`` nodes of a tag."""
    return [
        Node(
            TAG_BIN,
            bin_key(tag.id, b.id),
            {
                "tag": tag.id,
                "bin": b.id,
                "label_zh": b.label.zh or None,
                "label_en": b.label.en or None,
                "min": b.min,
                "max": b.max,
                "values": list(b.values),
                "position": position,
                "deprecated": None,
                "removed_in": None,
            },
        )
        for position, b in enumerate(tag.bins)
    ]


def ontology_nodes(ontology: Ontology) -> list[Node]:
    """Return every concept node and tag-bin node of ``ontology``."""
    nodes: list[Node] = []
    for concept in ontology:
        nodes.append(Node(concept.kind, concept.id, concept_props(concept)))
        nodes.extend(bin_nodes(concept))
    return nodes


def ontology_relationships(ontology: Ontology) -> list[Relationship]:
    """Return every relation of ``ontology`` as a relationship between node identities."""
    return [
        Relationship(
            rel_type,
            NodeRef(ontology.label_of(source), source),
            NodeRef(ontology.label_of(target), target),
            props,
        )
        for source, rel_type, target, props in ontology.relations()
    ]
