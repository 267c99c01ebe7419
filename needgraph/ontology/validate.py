"""Find every problem of an ontology (not just the first), each with file, line and a fix-it hint.

Problem codes (stable): the reader's ``yaml-syntax``, ``json-syntax``, ``turtle-syntax``,
``invalid-file``, ``duplicate-key``, ``unknown-member``, ``invalid-value``, ``missing-manifest``,
``duplicate-manifest``; and ``invalid-version``, ``duplicate-id``, ``invalid-id``, ``id-prefix``,
``member-not-for-kind``, ``missing-label``, ``missing-definition``, ``duplicate-label``,
``dangling-reference``, ``wrong-target-kind``, ``cycle``, ``deprecated-without-replacement``,
``replaced-by-not-deprecated``, ``replacement-wrong-kind``, ``replacement-deprecated``,
``missing-value-type``, ``missing-bins``, ``invalid-bins``, ``duplicate-bin``, ``invalid-bin-id``,
``bins-overlap``, ``bins-gap``, ``duplicate-bin-value``, ``invalid-weight``, ``unknown-bin``,
``unknown-tag``, ``missing-rule``, ``invalid-cost``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from needgraph.ontology.core import Ontology
from needgraph.ontology.errors import OntologyValidationError
from needgraph.ontology.lookup import LANGUAGES, normalise_label
from needgraph.ontology.model import KIND_MEMBERS, Concept, id_prefix
from needgraph.ontology.problems import Location, Problem
from needgraph.ontology.validate_tags import check_rule, check_tag

SEMVER = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$")
_ID = re.compile(r"^([a-z]+)\.([a-z0-9][a-z0-9_]*(?:\.[a-z0-9][a-z0-9_]*)*)$")
_KIND_ONLY = frozenset().union(*KIND_MEMBERS.values())


def _identity(ontology: Ontology) -> Iterator[Problem]:
    first: dict[str, Location] = {}
    for concept, where in ontology.entries:
        if concept.id in first:
            seen = first[concept.id]
            message = f"id {concept.id!r} is also defined at {seen.file}:{seen.line}"
            yield Problem.at("duplicate-id", where, concept.id, message, "give each concept one id")
        first.setdefault(concept.id, where)
        match = _ID.match(concept.id)
        prefix = id_prefix(concept.kind)
        if match is None:
            message = f"id {concept.id!r} is not <kind>.<snake_case> (dots may separate parts)"
            rest = concept.id.lower().removeprefix(f"{prefix}.")
            hint = f"e.g. {prefix}.{re.sub(r'[^a-z0-9.]+', '_', rest).strip('_.')}"
            yield Problem.at("invalid-id", where, concept.id, message, hint, "id")
        elif match.group(1) != prefix:
            message = f"id prefix {match.group(1)!r} does not match kind {concept.kind}"
            hint = f"rename it {prefix}.{match.group(2)} (or fix `kind`)"
            yield Problem.at("id-prefix", where, concept.id, message, hint, "id")


def _texts(concept: Concept, where: Location) -> Iterator[Problem]:
    for member in ("label", "definition"):
        for lang in LANGUAGES:
            if not getattr(getattr(concept, member), lang):
                message = f"no {lang} {member}"
                hint = f"add `{member}: {{{lang}: ...}}` (both zh and en are required)"
                yield Problem.at(f"missing-{member}", where, concept.id, message, hint, member)


def _members(concept: Concept, where: Location) -> Iterator[Problem]:
    for member in concept.set_members():
        if member in _KIND_ONLY and member not in KIND_MEMBERS[concept.kind]:
            owners = [kind for kind, members in KIND_MEMBERS.items() if member in members]
            message = f"member {member!r} is for {', '.join(owners)}, not {concept.kind}"
            hint = "remove it, or fix `kind`"
            yield Problem.at("member-not-for-kind", where, concept.id, message, hint, member)
    if concept.kind == "Tag" and concept.broader:
        message = "tags form their hierarchy with `parent` (SUB_TAG_OF), not `broader`"
        hint = "replace `broader: [...]` by `parent: <tag id>`"
        yield Problem.at("member-not-for-kind", where, concept.id, message, hint, "broader")
    if concept.cost is not None and concept.cost < 0:
        message = f"cost {concept.cost:g} is negative"
        yield Problem.at("invalid-cost", where, concept.id, message, "CNY per customer", "cost")


def _references(ontology: Ontology, concept: Concept, where: Location) -> Iterator[Problem]:
    unparsed = ontology.provenance.unparsed_ids
    for member, rel_type, target_id, kind in concept.references():
        target = ontology.get(target_id)
        if target is None:
            if target_id not in unparsed:
                message = f"{member} names {target_id!r}, which does not exist"
                hint = f"add a {kind} {target_id!r} or fix the id"
                yield Problem.at("dangling-reference", where, concept.id, message, hint, member)
        elif target.kind != kind:
            code = "replacement-wrong-kind" if member == "replaced_by" else "wrong-target-kind"
            message = (
                f"{member} ({rel_type}) must name a {kind}, but {target_id} is a {target.kind}"
            )
            yield Problem.at(code, where, concept.id, message, f"name a {kind}", member)
        elif member == "replaced_by" and target.deprecated:
            message = f"replaced_by names {target_id}, which is itself deprecated"
            hint = f"point it at {target.replaced_by or 'the surviving concept'}"
            yield Problem.at("replacement-deprecated", where, concept.id, message, hint, member)
    if concept.deprecated and concept.replaced_by is None:
        message = "deprecated without replaced_by"
        hint = f"add `replaced_by: <{concept.kind} id>` naming the concept to use instead"
        yield Problem.at(
            "deprecated-without-replacement", where, concept.id, message, hint, "deprecated"
        )
    if concept.replaced_by is not None and not concept.deprecated:
        message = "replaced_by is set but the concept is not deprecated"
        hint = "add `deprecated: true`, or remove replaced_by"
        yield Problem.at(
            "replaced-by-not-deprecated", where, concept.id, message, hint, "replaced_by"
        )


def _cycles(ontology: Ontology, member: str) -> Iterator[Problem]:
    def parents(concept_id: str) -> list[str]:
        value = getattr(ontology[concept_id], member)
        targets = [value] if isinstance(value, str) else list(value or ())
        return [t for t in targets if t in ontology]

    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    for start in ontology.concepts:
        stack: list[tuple[str, Iterator[str]]] = [(start, iter(parents(start)))]
        if state.get(start):
            continue
        state[start] = 1
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                state[node] = 2
                stack.pop()
            elif state.get(child) == 1:
                path = [n for n, _ in stack]
                loop = [*path[path.index(child) :], child]
                where = ontology.location(child)
                message = f"{member} forms a cycle: {' -> '.join(loop)}"
                yield Problem.at("cycle", where, child, message, f"remove one `{member}`", member)
            elif not state.get(child):
                state[child] = 1
                stack.append((child, iter(parents(child))))


def _duplicate_labels(ontology: Ontology) -> Iterator[Problem]:
    owners: dict[tuple[str, str, str], str] = {}
    seen_ids: set[str] = set()
    for concept, where in ontology.entries:  # reading order: the later concept is reported
        if concept.deprecated or concept.id in seen_ids:
            continue
        seen_ids.add(concept.id)
        for lang in LANGUAGES:
            texts = [("label", getattr(concept.label, lang))]
            texts += [("synonyms", s) for s in getattr(concept.synonyms, lang)]
            seen_here: set[str] = set()
            for member, text in texts:
                key = normalise_label(text)
                if not key or key in seen_here:
                    continue
                seen_here.add(key)
                owner = owners.setdefault((concept.kind, lang, key), concept.id)
                if owner != concept.id:
                    first = ontology.location(owner)
                    message = (
                        f"{lang} {member} {text!r} is also a label of {owner} "
                        f"({first.file}:{first.line})"
                    )
                    hint = "keep it on one concept (or merge the two concepts)"
                    yield Problem.at("duplicate-label", where, concept.id, message, hint, member)


def validate(ontology: Ontology) -> list[Problem]:
    """Return every problem of ``ontology``, sorted by file, line and concept.

    Includes the problems found while reading its files (``ontology.provenance.problems``).
    """
    problems = list(ontology.provenance.problems)
    if not SEMVER.match(ontology.manifest.version):
        message = f"version {ontology.manifest.version!r} is not MAJOR.MINOR.PATCH"
        problems.append(
            Problem.at(
                "invalid-version",
                ontology.provenance.manifest,
                None,
                message,
                "e.g. 1.0.0",
                member="version",
            )
        )
    problems.extend(_identity(ontology))
    for concept in ontology:
        where = ontology.location(concept.id)
        problems.extend(_texts(concept, where))
        problems.extend(_members(concept, where))
        problems.extend(_references(ontology, concept, where))
        if concept.kind == "Tag":
            problems.extend(check_tag(concept, where))
        for member in ("eligibility", "rule"):
            rule = getattr(concept, member)
            if rule is not None:
                problems.extend(check_rule(ontology, concept, member, rule, where))
        if concept.kind == "Segment" and concept.rule is None:
            hint = "add `rule:` over tags (see docs/ontology-format.md)"
            problems.append(
                Problem.at("missing-rule", where, concept.id, "segment has no rule", hint)
            )
    problems.extend(_cycles(ontology, "broader"))
    problems.extend(_cycles(ontology, "parent"))
    problems.extend(_duplicate_labels(ontology))
    return sorted(problems, key=Problem.sort_key)


def ensure_valid(ontology: Ontology) -> None:
    """Raise :class:`OntologyValidationError` carrying every problem, if there is any."""
    problems = validate(ontology)
    if problems:
        raise OntologyValidationError(problems)
