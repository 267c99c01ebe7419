"""Deprecate or merge a concept: move customer data onto the survivor, record a new version.

Both check everything first and change nothing when a check fails: the store must hold exactly
the given ontology, both concepts must be of the same kind, and for tags every bin of the old
tag needs a bin with the same id on the surviving one. Then

* :func:`deprecate` keeps the old concept, marked ``deprecated`` with ``replaced_by``, and
  re-links its customer data (``HAS_TAG`` on its bins, ``MENTIONS``, ``OF_STRATEGY``,
  ``MEMBER_OF`` ... every non-ontology relationship) with ``GraphStore.relink``;
* :func:`merge` removes the old concept: ``GraphStore.merge_nodes`` moves every relationship onto
  the survivor and deletes it; the survivor gains its labels as synonyms and its relations.

In both, references to the old concept elsewhere in the ontology point at the survivor
afterwards, the patch version is bumped and an audit record is written. The new ontology is
returned; the CLI writes it back to the YAML files only when asked (``--write``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from needgraph.graph.base import GraphStore
from needgraph.graph.records import NodeRef
from needgraph.ontology.core import Ontology
from needgraph.ontology.errors import OntologyChangeError, OntologyValidationError
from needgraph.ontology.graph_form import data_rel_types
from needgraph.ontology.loader import LoadReport, load_into_store
from needgraph.ontology.model import TAG_BIN, Concept, bin_key
from needgraph.ontology.validate import ensure_valid, validate
from needgraph.ontology.versioning import bump_patch, current_version, newest

_LISTS = ("broader", "domains", "affects", "blocks", "derived_from", "addresses", "resolves")


@dataclass(frozen=True)
class ChangeResult:
    """Outcome of a deprecate or merge.

    Attributes:
        ontology: The new ontology (write it back with ``write_yaml_dir`` to keep the files).
        report: The load of the new ontology into the store (with its version record).
        relinked: Relationships moved from the old concept (and its bins) to the survivor.
    """

    ontology: Ontology
    report: LoadReport
    relinked: int


def _repoint_rule(rule: Any, source: str, target: str) -> Any:
    if isinstance(rule, dict):
        return {
            key: (
                target if key == "tag" and value == source else _repoint_rule(value, source, target)
            )
            for key, value in rule.items()
        }
    if isinstance(rule, list):
        return [_repoint_rule(item, source, target) for item in rule]
    return rule


def _repoint(data: dict[str, Any], source: str, target: str) -> dict[str, Any]:
    """Make every reference of one concept's data to ``source`` name ``target`` instead."""
    own = data["id"]
    for member in _LISTS:
        if source in data.get(member, ()):
            data[member] = sorted({target if v == source else v for v in data[member]} - {own})
    for member in ("parent", "replaced_by"):
        if data.get(member) == source:
            data[member] = target if target != own else None
    indications: dict[tuple[str, tuple[str, ...]], dict[str, Any]] = {}
    for item in data.get("indicates", ()):
        item["cause"] = target if item["cause"] == source else item["cause"]
        key = (item["cause"], tuple(item.get("when", ())))
        if key not in indications or item["weight"] > indications[key]["weight"]:
            indications[key] = item
    if indications:
        data["indicates"] = list(indications.values())
    for member in ("eligibility", "rule"):
        if member in data:
            data[member] = _repoint_rule(data[member], source, target)
    return data


def _absorb(target: Concept, source: Concept) -> dict[str, Any]:
    """Return the target's data with the source's labels as synonyms and its relations added."""
    data = target.to_data()
    src = source.to_data()
    synonyms = {}
    for lang in ("zh", "en"):
        names = set(getattr(target.synonyms, lang)) | set(getattr(source.synonyms, lang))
        names |= {getattr(source.label, lang)}
        synonyms[lang] = sorted(names - {getattr(target.label, lang), ""})
    data["synonyms"] = synonyms
    for member in _LISTS:
        values = set(data.get(member, ())) | set(src.get(member, ()))
        data[member] = sorted(values - {target.id, source.id})
    causes = {item["cause"] for item in data.get("indicates", ())}
    extra = [item for item in src.get("indicates", ()) if item["cause"] not in causes]
    data["indicates"] = [*data.get("indicates", ()), *extra]
    for member in ("parent", "unit", "cost", "channel", "eligibility", "rule"):
        if member not in data and src.get(member) not in (None, target.id):
            data[member] = src[member]
    return data


def _pairs(store: GraphStore, source: Concept, target: Concept) -> list[tuple[NodeRef, NodeRef]]:
    missing = [b.id for b in source.bins if target.bin(b.id) is None]
    if missing:
        raise OntologyChangeError(
            f"bins {', '.join(missing)} of {source.id} have no counterpart in {target.id} "
            f"(it has {', '.join(b.id for b in target.bins) or 'no bins'}); nothing was changed",
            hint=f"Add bins with these ids to {target.id} (same meaning), then try again.",
        )
    pairs = [
        (NodeRef(TAG_BIN, bin_key(source.id, b.id)), NodeRef(TAG_BIN, bin_key(target.id, b.id)))
        for b in source.bins
    ]
    pairs.append((NodeRef(source.kind, source.id), NodeRef(target.kind, target.id)))
    return [(a, b) for a, b in pairs if store.get_node(a) is not None]


def _prepare(
    store: GraphStore, ontology: Ontology, source_id: str, target_id: str
) -> tuple[Concept, Concept, str]:
    ensure_valid(ontology)
    source, target = ontology.get(source_id), ontology.get(target_id)
    for concept_id, concept in ((source_id, source), (target_id, target)):
        if concept is None:
            raise OntologyChangeError(f"concept {concept_id!r} is not in the ontology")
    assert source is not None and target is not None
    if source.id == target.id:
        raise OntologyChangeError(f"{source.id} cannot replace itself")
    if source.kind != target.kind:
        raise OntologyChangeError(
            f"{source.id} is a {source.kind} but {target.id} is a {target.kind}",
            hint="A concept can only be replaced by a concept of the same kind.",
        )
    if source.deprecated or target.deprecated:
        which = source if source.deprecated else target
        raise OntologyChangeError(
            f"{which.id} is already deprecated (replaced by {which.replaced_by})",
            hint=f"Use {which.replaced_by} instead.",
        )
    current = current_version(store)
    if current is None or current.content_hash != ontology.content_hash():
        held = f"version {current.version}" if current else "no ontology"
        raise OntologyChangeError(
            f"the store holds {held}, not the content of this ontology "
            f"({ontology.manifest.version}); nothing was changed",
            hint="Load this ontology first (`needgraph ontology load`), then try again.",
        )
    return source, target, bump_patch(newest(current.version, ontology.manifest.version))


def _change(
    store: GraphStore,
    ontology: Ontology,
    source_id: str,
    target_id: str,
    operation: Literal["deprecate", "merge"],
    rewrite: Callable[[Concept, Concept], list[Concept]],
    who: str,
    why: str,
) -> ChangeResult:
    source, target, version = _prepare(store, ontology, source_id, target_id)
    pairs = _pairs(store, source, target)
    manifest = ontology.manifest.model_copy(update={"version": version})
    new = ontology.replace(manifest=manifest, concepts=rewrite(source, target))
    problems = validate(new)
    if problems:
        raise OntologyValidationError(problems, hint="The change would leave the ontology invalid.")
    moved = 0
    for old, survivor in pairs:
        if operation == "merge":
            moved += store.merge_nodes(old, survivor)
        else:
            moved += store.relink(old, survivor, data_rel_types(store.schema))
    details: dict[str, str | int | list[str]] = {
        "source": source.id,
        "target": target.id,
        "relinked": moved,
    }
    report = load_into_store(new, store, who=who, why=why, operation=operation, details=details)
    return ChangeResult(ontology=new, report=report, relinked=moved)


def deprecate(
    store: GraphStore, ontology: Ontology, concept_id: str, replaced_by: str, who: str, why: str
) -> ChangeResult:
    """Deprecate ``concept_id`` in favour of ``replaced_by`` and move its customer data.

    Args:
        store: The store; it must hold exactly ``ontology``.
        ontology: The current ontology (valid).
        concept_id: The concept to deprecate.
        replaced_by: The surviving concept, of the same kind.
        who: Who makes the change (audit).
        why: Why (audit).

    Raises:
        OntologyChangeError: A check failed (nothing was changed).
        OntologyValidationError: The ontology, or the changed one, has problems.
    """

    def rewrite(source: Concept, target: Concept) -> list[Concept]:
        result = []
        for concept in ontology:
            data = concept.to_data()
            if concept.id == source.id:
                data.update(deprecated=True, replaced_by=target.id)
            else:
                data = _repoint(data, source.id, target.id)
            result.append(Concept.model_validate(data))
        return result

    return _change(store, ontology, concept_id, replaced_by, "deprecate", rewrite, who, why)


def merge(
    store: GraphStore, ontology: Ontology, source_id: str, target_id: str, who: str, why: str
) -> ChangeResult:
    """Merge ``source_id`` into ``target_id``: every relationship moves, the source goes.

    The target keeps its own labels, definition and scalars and gains the source's labels as
    synonyms and the source's relations. Arguments and errors as for :func:`deprecate`.
    """

    def rewrite(source: Concept, target: Concept) -> list[Concept]:
        result = []
        for concept in ontology:
            if concept.id == source.id:
                continue
            data = _absorb(target, source) if concept.id == target.id else concept.to_data()
            result.append(Concept.model_validate(_repoint(data, source.id, target.id)))
        return result

    return _change(store, ontology, source_id, target_id, "merge", rewrite, who, why)
