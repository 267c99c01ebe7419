"""Turn raw data read from any format into an :class:`Ontology`, collecting every problem.

Readers hand over plain mappings with their locations; a concept that cannot be built is left
out and reported, unknown members are dropped and reported, so one pass finds every problem.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import BaseModel, ValidationError

from needgraph.ontology.core import Ontology, Provenance
from needgraph.ontology.model import Concept, Manifest
from needgraph.ontology.problems import NOWHERE, Location, Problem

RawItem = tuple[Any, Location]
"""Raw data (normally a mapping) with where it was read from."""

PLACEHOLDER_MANIFEST = Manifest(name="unnamed", version="0.0.0")
_CONCEPT_MEMBERS = frozenset(Concept.model_fields)
_MANIFEST_MEMBERS = frozenset(Manifest.model_fields)


def _check_members(
    data: Mapping[str, Any], allowed: frozenset[str], where: Location, concept: str | None
) -> tuple[dict[str, Any], list[Problem]]:
    kept: dict[str, Any] = {}
    problems: list[Problem] = []
    for key, value in data.items():
        if key in allowed:
            kept[key] = value
            continue
        problems.append(
            Problem.at(
                "unknown-member",
                where,
                concept,
                f"unknown member {key!r} (ignored)",
                f"use one of: {', '.join(sorted(allowed))}",
                member=str(key),
            )
        )
    return kept, problems


def _errors_to_problems(
    exc: ValidationError, where: Location, concept: str | None
) -> list[Problem]:
    problems = []
    for error in exc.errors(include_url=False):
        path = [str(part) for part in error["loc"]]
        member = path[0] if path else None
        problems.append(
            Problem.at(
                "invalid-value",
                where,
                concept,
                f"{'.'.join(path) or 'value'}: {error['msg']}",
                "see docs/ontology-format.md for the members of each kind",
                member=member,
            )
        )
    return problems


def _build(
    model: type[BaseModel], raw: RawItem, allowed: frozenset[str], what: str
) -> tuple[BaseModel | None, str | None, list[Problem]]:
    data, where = raw
    if not isinstance(data, Mapping):
        message = f"each {what} must be a mapping, got {type(data).__name__}"
        hint = "write it as `key: value` lines (see docs/ontology-format.md)"
        return None, None, [Problem.at("invalid-value", where, None, message, hint)]
    raw_id = data.get("id")
    concept_id = raw_id if isinstance(raw_id, str) else None
    kept, problems = _check_members(data, allowed, where, concept_id)
    try:
        return model.model_validate(kept), concept_id, problems
    except ValidationError as exc:
        return None, concept_id, problems + _errors_to_problems(exc, where, concept_id)


def build_ontology(
    manifests: Iterable[RawItem],
    concepts: Iterable[RawItem],
    *,
    root: str | None = None,
    files: Iterable[str] = (),
    problems: Iterable[Problem] = (),
) -> Ontology:
    """Build an ontology from raw manifest and concept mappings.

    Args:
        manifests: Every ``ontology:`` mapping found (exactly one is expected).
        concepts: Every concept mapping found, in reading order.
        root: The folder or file that was read.
        files: Every file that was read.
        problems: Problems the reader already found (syntax errors ...).

    Returns:
        The ontology; problems found on the way are in ``ontology.provenance.problems``.
    """
    found = list(problems)
    manifest_items = list(manifests)
    manifest = PLACEHOLDER_MANIFEST
    manifest_where = manifest_items[0][1] if manifest_items else Location(root)
    if not manifest_items:
        found.append(
            Problem.at(
                "missing-manifest",
                manifest_where,
                None,
                "no `ontology:` manifest with name and version",
                "add ontology.yaml with `ontology: {name: ..., version: 1.0.0}`",
            )
        )
    for index, item in enumerate(manifest_items):
        if index:
            found.append(
                Problem.at(
                    "duplicate-manifest",
                    item[1],
                    None,
                    f"a second `ontology:` manifest (the first is in {manifest_where.file})",
                    "keep one manifest, in ontology.yaml",
                )
            )
            continue
        built, _, issues = _build(Manifest, item, _MANIFEST_MEMBERS, "manifest")
        found.extend(issues)
        if isinstance(built, Manifest):
            manifest = built
    entries: list[tuple[Concept, Location]] = []
    unparsed: set[str] = set()
    for item in concepts:
        built, concept_id, issues = _build(Concept, item, _CONCEPT_MEMBERS, "concept")
        found.extend(issues)
        if isinstance(built, Concept):
            entries.append((built, item[1]))
        elif concept_id is not None:
            unparsed.add(concept_id)
    provenance = Provenance(
        root=root,
        files=tuple(files),
        manifest=manifest_where if manifest_items else NOWHERE,
        problems=tuple(found),
        unparsed_ids=frozenset(unparsed),
    )
    return Ontology(manifest, entries, provenance)
