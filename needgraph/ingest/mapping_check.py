"""Check a mapping against the ontology: every tag, strategy and domain it names must exist.

A wide tag column mapped to an unknown tag is a mapping error (the job refuses to start, naming
the line), because every row would fail the same way; in long files the tag is data, so an
unknown tag there quarantines the row instead (:mod:`needgraph.ingest.records`).
"""

from __future__ import annotations

from needgraph.ingest.errors import MappingError
from needgraph.ingest.mapping import ColumnRef, Kind
from needgraph.ingest.mapping_io import MappingDocument, check_document_roles, dotted
from needgraph.ontology.core import Ontology


def _expect(ontology: Ontology, concept_id: str, kind: str) -> str | None:
    """Return why ``concept_id`` is not a usable concept of ``kind`` (``None`` when it is)."""
    concept = ontology.get(concept_id)
    if concept is None:
        return f"{kind.lower()} {concept_id!r} is not in the ontology"
    if concept.kind != kind:
        return f"{concept_id!r} is a {concept.kind}, not a {kind}"
    if kind == "Tag" and not concept.bins:
        return f"tag {concept_id!r} has no bins (a group tag cannot hold values)"
    return None


def mapping_problems(
    doc: MappingDocument, ontology: Ontology, kinds: frozenset[Kind] | None = None
) -> list[str]:
    """Return every reference of the mapping that the ontology cannot satisfy, with lines.

    Args:
        doc: The mapping.
        ontology: The ontology the store holds.
        kinds: Only check these record kinds (all when ``None``).
    """
    wanted = kinds or frozenset(("tags", "text", "strategies", "labels"))
    found: list[str] = []

    def report(path: tuple[str | int, ...], why: str | None) -> None:
        if why:
            found.append(f"{doc.where(path)}: {dotted(path)}: {why}")

    for index, spec in enumerate(doc.mapping.files):
        base: tuple[str | int, ...] = ("files", index)
        if spec.tags is not None and "tags" in wanted:
            for column, tag_col in spec.tags.wide().items():
                report((*base, "tags", "columns", column), _expect(ontology, tag_col.tag, "Tag"))
            if spec.tags.long is not None:
                for name, tag_id in spec.tags.long.tags.items():
                    report((*base, "tags", "long", "tags", name), _expect(ontology, tag_id, "Tag"))
        if "strategies" in wanted:
            for i, strat in enumerate(spec.strategies):
                for raw, strategy_id in strat.values.items():
                    if strategy_id is not None:
                        report((*base, "strategies", i, "values", raw),
                               _expect(ontology, strategy_id, "Strategy"))
        if "labels" in wanted:
            for i, label in enumerate(spec.labels):
                if not isinstance(label.domain, ColumnRef):
                    report((*base, "labels", i, "domain"),
                           _expect(ontology, label.domain, "Domain"))
                for raw, domain_id in label.domain_values.items():
                    report((*base, "labels", i, "domain_values", raw),
                           _expect(ontology, domain_id, "Domain"))
    return found


def check_mapping(
    doc: MappingDocument, ontology: Ontology, kinds: frozenset[Kind] | None = None
) -> None:
    """Run the structural and the ontology checks of a mapping.

    Raises:
        ForbiddenColumnError: A ``never_inputs`` column is mapped.
        MappingError: Every unknown tag, strategy or domain, each with its line.
    """
    check_document_roles(doc)
    problems = mapping_problems(doc, ontology, kinds)
    if problems:
        raise MappingError(
            f"the mapping names {len(problems)} concept(s) the ontology in the store lacks:\n  "
            + "\n  ".join(problems),
            hint="Fix the ids in the mapping, or add the concepts to the ontology and run "
            "`needgraph ontology load`.",
        )
