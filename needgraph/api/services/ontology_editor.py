"""Read, search and change the ontology: the files on disk are the source of truth.

Every change goes the same way, under a lock (threads) and a file lock (worker processes):

1. read the ontology folder afresh (a folder whose files do not all read cleanly is never
   rewritten: concepts that failed to parse would be lost);
2. apply the change to the :class:`~needgraph.ontology.core.Ontology` and bump the patch version
   above both the files' and the store's version;
3. validate with the ontology package; any problem refuses the change (nothing is written);
4. write the folder back (``write_ontology``: every concept to the file it came from, new ones to
   the kind's file; comments are not kept) and load it into the store with ``load_into_store``,
   which records the version with ``who`` (the API key's name) and ``why``.

Deprecate and merge call the ontology package's :func:`~needgraph.ontology.changes.deprecate` and
:func:`~needgraph.ontology.changes.merge` (which move customer data and record the version) and
then write the files.
"""

from __future__ import annotations

import fcntl
import hashlib
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from dataclasses import replace as replace_dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from needgraph.api.errors import (
    ConceptExistsError,
    ConceptNotFoundError,
    InvalidInputError,
    OntologyUnavailableError,
    VersionNotFoundError,
)
from needgraph.graph.base import GraphStore
from needgraph.ontology.changes import ChangeResult, deprecate, merge
from needgraph.ontology.core import Ontology
from needgraph.ontology.errors import OntologyValidationError
from needgraph.ontology.files import Format, export_text, read_ontology, write_ontology
from needgraph.ontology.loader import LoadReport, load_into_store
from needgraph.ontology.lookup import LANGUAGES, LabelIndex, normalise_label
from needgraph.ontology.model import Concept
from needgraph.ontology.validate import validate
from needgraph.ontology.versioning import (
    VersionRecord,
    audit_trail,
    bump_patch,
    current_version,
    newest,
    parse_version,
)

_MERGED_MEMBERS = ("label", "definition", "synonyms")
_FIXED_MEMBERS = ("id", "kind", "deprecated", "replaced_by")


@dataclass(frozen=True)
class SearchHit:
    """A concept a search found, with the label that matched (``None`` without a query)."""

    concept: Concept
    matched: str | None = None


@dataclass(frozen=True)
class Relation:
    """One relationship of a concept in the ontology's graph form."""

    type: str
    direction: str
    source: str
    target: str
    props: dict[str, Any]


@dataclass(frozen=True)
class Change:
    """The outcome of a change: the concept afterwards, its version record, moved relationships.

    ``concept`` is ``None`` after a merge (the merged concept is gone); ``record`` is ``None``
    when the change left the content as it was.
    """

    concept: Concept | None
    record: VersionRecord | None
    relinked: int | None = None


def _field_errors(exc: ValidationError, prefix: str) -> InvalidInputError:
    errors = [
        {
            "field": ".".join([prefix, *(str(p) for p in err["loc"])]),
            "message": err["msg"],
        }
        for err in exc.errors(include_url=False)
    ]
    first = errors[0]
    return InvalidInputError(first["field"], first["message"], errors=errors)


class OntologyEditor:
    """The ontology of one service: its folder (or file) and the store that holds a copy.

    Args:
        path: The ontology folder (``Settings.ontology_path``) or a single ontology file.
        store: The graph store the ontology is loaded into.
    """

    def __init__(self, path: Path, store: GraphStore) -> None:
        self.path = path
        self.store = store
        self._lock = threading.RLock()
        self._snapshot: tuple[tuple[Any, ...], Ontology, LabelIndex] | None = None
        digest = hashlib.sha256(str(path.resolve()).encode("utf-8")).hexdigest()[:16]
        self._lock_file = Path(tempfile.gettempdir()) / f"needgraph-ontology-{digest}.lock"

    # -- reading ---------------------------------------------------------------------------
    def check(self) -> None:
        """Raise :class:`OntologyUnavailableError` unless the ontology path exists (readiness)."""
        if not self.path.exists():
            raise OntologyUnavailableError(
                f"the ontology path {self.path} does not exist", path=str(self.path)
            )

    def _signature(self) -> tuple[Any, ...]:
        if self.path.is_dir():
            files = sorted(p for pattern in ("*.yaml", "*.yml") for p in self.path.rglob(pattern))
        else:
            files = [self.path]
        found = []
        for file in files:
            try:
                stat = file.stat()
            except OSError:
                continue
            found.append((str(file), stat.st_mtime_ns, stat.st_size))
        return tuple(found)

    def _state(self) -> tuple[Ontology, LabelIndex]:
        self.check()
        signature = self._signature()
        snapshot = self._snapshot
        if snapshot is None or snapshot[0] != signature:
            ontology = read_ontology(self.path)
            snapshot = (signature, ontology, LabelIndex(ontology))
            self._snapshot = snapshot
        return snapshot[1], snapshot[2]

    def ontology(self) -> Ontology:
        """Return the ontology as the files hold it now (cached until a file changes)."""
        return self._state()[0]

    def concept(self, concept_id: str) -> Concept:
        """Return the concept ``concept_id``.

        Raises:
            ConceptNotFoundError: The ontology has no such concept.
        """
        found = self.ontology().get(concept_id)
        if found is None:
            raise ConceptNotFoundError(f"no concept has id {concept_id!r}", concept_id=concept_id)
        return found

    def relations(self, concept_id: str) -> list[Relation]:
        """Return every relationship of the concept (and of its tag bins), out first."""
        ontology = self.ontology()
        prefix = f"{concept_id}="
        found = []
        for source, rel_type, target, props in ontology.relations():
            if source == concept_id or source.startswith(prefix):
                found.append(Relation(rel_type, "out", source, target, dict(props)))
            elif target == concept_id:
                found.append(Relation(rel_type, "in", source, target, dict(props)))
        return sorted(found, key=lambda r: (r.direction != "out", r.type, r.source, r.target))

    def search(
        self,
        query: str | None = None,
        kind: str | None = None,
        include_deprecated: bool = False,
    ) -> list[SearchHit]:
        """Find concepts by label or synonym in any language, or list them all.

        Matching uses the ontology package's normalisation (full width, case, traditional
        characters, joiners). Exact label matches come first (preferred labels before
        synonyms), then labels that start with the query, then labels that contain it, then
        ids that contain it; ties by id. Labels of a deprecated concept find its replacement.

        Args:
            query: Text to look for; all concepts (sorted by id) when empty.
            kind: Only concepts of this kind.
            include_deprecated: Also return deprecated concepts.
        """
        ontology, index = self._state()

        def wanted(concept: Concept) -> bool:
            return (kind is None or concept.kind == kind) and (
                include_deprecated or not concept.deprecated
            )

        if not query or not query.strip():
            return [SearchHit(c) for c in ontology if wanted(c)]
        key = normalise_label(query)
        if not key:
            return []
        best: dict[str, tuple[int, str]] = {}

        def consider(concept_id: str, rank: int, text: str) -> None:
            if concept_id not in best or rank < best[concept_id][0]:
                best[concept_id] = (rank, text)

        for lang in LANGUAGES:
            for form in index.surface_forms(lang):
                normalised = normalise_label(form.text)
                if normalised == key:
                    consider(form.concept_id, 0 if form.is_pref else 1, form.text)
                elif normalised.startswith(key):
                    consider(form.concept_id, 2, form.text)
                elif key in normalised:
                    consider(form.concept_id, 3, form.text)
        for concept in ontology:
            if concept.deprecated and include_deprecated:
                for lang in LANGUAGES:
                    texts = [getattr(concept.label, lang), *getattr(concept.synonyms, lang)]
                    for text in texts:
                        if text and key in normalise_label(text):
                            exact = normalise_label(text) == key
                            consider(concept.id, 0 if exact else 3, text)
            if key in concept.id.lower():
                consider(concept.id, 4, concept.id)
        hits = []
        for concept_id, (_rank, text) in sorted(best.items(), key=lambda i: (i[1][0], i[0])):
            found = ontology.get(concept_id)
            if found is not None and wanted(found):
                hits.append(SearchHit(found, text))
        return hits

    def export(self, form: Format) -> str:
        """Return the ontology the files hold as one Turtle, YAML or JSON document."""
        return export_text(self.ontology(), form)

    # -- versions --------------------------------------------------------------------------
    def versions(self) -> list[VersionRecord]:
        """Return every version record the store keeps, newest first."""
        return list(reversed(audit_trail(self.store)))

    def version(self, version: str) -> VersionRecord:
        """Return the newest record of ``version``.

        Raises:
            VersionNotFoundError: The audit trail has no such version.
        """
        for record in self.versions():
            if record.version == version:
                return record
        raise VersionNotFoundError(
            f"the store has no ontology version {version!r}", version=version
        )

    def history(self, concept_id: str) -> list[VersionRecord]:
        """Return the version records that touched ``concept_id``, newest first."""
        found = []
        for record in self.versions():
            diff = record.diff
            touched = (
                concept_id in diff.added
                or concept_id in diff.removed
                or concept_id in diff.changed
                or concept_id in (record.details.get("source"), record.details.get("target"))
            )
            if touched:
                found.append(record)
        return found

    # -- changes ---------------------------------------------------------------------------
    @contextmanager
    def _writing(self) -> Iterator[Ontology]:
        """Hold both locks and yield the ontology read afresh from the files."""
        with self._lock, self._lock_file.open("a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                self._snapshot = None
                self.check()
                ontology = read_ontology(self.path)
                if ontology.provenance.problems:
                    raise OntologyValidationError(
                        ontology.provenance.problems,
                        hint="Fix the ontology files first; the service never rewrites files "
                        "it cannot read whole.",
                    )
                yield ontology
            finally:
                self._snapshot = None
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _next_version(self, ontology: Ontology) -> str:
        held = current_version(self.store)
        base = ontology.manifest.version
        if held is not None:
            base = newest(base, held.version)
        return bump_patch(base)

    def _commit(self, ontology: Ontology, concepts: list[Concept], who: str, why: str) -> Change:
        """Validate ``concepts`` as the new content, write the files, load the store."""
        manifest = ontology.manifest.model_copy(update={"version": self._next_version(ontology)})
        new = ontology.replace(manifest=manifest, concepts=concepts)
        if new.content_hash() == ontology.content_hash():
            return Change(None, None)
        problems = validate(new)
        if problems:
            raise OntologyValidationError(
                problems, hint="The change would leave the ontology invalid; nothing was written."
            )
        write_ontology(new, self.path)
        report = load_into_store(new, self.store, who=who, why=why)
        return Change(None, report.record)

    @staticmethod
    def _build(data: dict[str, Any]) -> Concept:
        try:
            return Concept.model_validate(data)
        except ValidationError as exc:
            raise _field_errors(exc, "body") from None

    def create(self, data: dict[str, Any], who: str, why: str) -> Change:
        """Add a concept.

        Args:
            data: The concept's members (``id``, ``kind``, ``label`` ...).
            who: Who adds it (audit).
            why: Why (audit).

        Raises:
            ConceptExistsError: A concept with this id exists.
            InvalidInputError: A member's value cannot be used.
            OntologyValidationError: The ontology would be invalid with it (422, every problem).
        """
        concept = self._build(data)
        with self._writing() as ontology:
            if concept.id in ontology:
                raise ConceptExistsError(
                    f"a concept with id {concept.id!r} exists already", concept_id=concept.id
                )
            change = self._commit(ontology, [*ontology, concept], who, why)
        return Change(concept, change.record)

    def update(self, concept_id: str, changes: dict[str, Any], who: str, why: str) -> Change:
        """Replace members of a concept.

        ``None`` resets a member; label, definition and synonyms are merged per language.

        Raises:
            ConceptNotFoundError: No such concept.
            InvalidInputError: A member's value cannot be used, or names ``id``/``kind``.
            OntologyValidationError: The ontology would be invalid (422, every problem).
        """
        for member in _FIXED_MEMBERS:
            if member in changes:
                raise InvalidInputError(
                    f"body.{member}",
                    f"{member} cannot be changed here",
                    hint="Deprecate or merge the concept instead.",
                )
        with self._writing() as ontology:
            current = ontology.get(concept_id)
            if current is None:
                raise ConceptNotFoundError(
                    f"no concept has id {concept_id!r}", concept_id=concept_id
                )
            data = current.to_data()
            for member, value in changes.items():
                if value is None:
                    data.pop(member, None)
                elif member in _MERGED_MEMBERS and isinstance(value, dict):
                    data[member] = {**data.get(member, {}), **value}
                else:
                    data[member] = value
            updated = self._build(data)
            concepts = [updated if c.id == concept_id else c for c in ontology]
            change = self._commit(ontology, concepts, who, why)
        return Change(updated, change.record)

    def _change(
        self, operation: str, concept_id: str, target_id: str, field: str, who: str, why: str
    ) -> Change:
        with self._writing() as ontology:
            if concept_id not in ontology:
                raise ConceptNotFoundError(
                    f"no concept has id {concept_id!r}", concept_id=concept_id
                )
            if target_id not in ontology:
                raise InvalidInputError(f"body.{field}", f"no concept has id {target_id!r}")
            action = merge if operation == "merge" else deprecate
            result: ChangeResult = action(self.store, ontology, concept_id, target_id, who, why)
            write_ontology(result.ontology, self.path)
        survivor = result.ontology.get(concept_id)
        return Change(survivor, result.report.record, result.relinked)

    def deprecate(self, concept_id: str, replaced_by: str, who: str, why: str) -> Change:
        """Deprecate a concept in favour of ``replaced_by``; its customer data moves.

        Raises:
            ConceptNotFoundError: No concept ``concept_id``.
            InvalidInputError: No concept ``replaced_by``.
            OntologyChangeError: The ontology package refused (409: kinds differ, already
                deprecated, or the store does not hold the files' content - load it first).
        """
        return self._change("deprecate", concept_id, replaced_by, "replaced_by", who, why)

    def merge(self, concept_id: str, into: str, who: str, why: str) -> Change:
        """Merge a concept into ``into``: every relationship moves, the concept goes.

        Raises:
            As :meth:`deprecate`.
        """
        return self._change("merge", concept_id, into, "into", who, why)

    def load(self, who: str, why: str) -> LoadReport:
        """Load the files into the store as a new version (no-op when it holds them already).

        Raises:
            OntologyValidationError: The files have problems (422, every problem).
            OntologyVersionError: The content changed but the files' version is not above the
                store's (409).
        """
        with self._writing() as ontology:
            return load_into_store(ontology, self.store, who=who, why=why)

    def import_turtle(self, text: bytes, who: str, why: str) -> LoadReport:
        """Replace the ontology with a Turtle document (e.g. saved from Protégé).

        Concepts keep the files they live in; new ones go to the kind's file; concepts absent
        from the document are removed (the store keeps those customer data still uses, marked
        deprecated). The version is the document's when above the current one, else bumped.

        Raises:
            OntologyValidationError: The document does not read, or the ontology it holds has
                problems (422, every problem; ``file`` is ``body``).
        """
        with tempfile.TemporaryDirectory(prefix="needgraph-import-") as folder:
            source = Path(folder) / "import.ttl"
            source.write_bytes(text)
            imported = read_ontology(source)
        shown = str(source)
        problems = [
            replace_dataclass(p, file="body") if p.file == shown else p
            for p in validate(imported)  # reading problems included
        ]
        if problems:
            raise OntologyValidationError(problems, hint="Fix the document; nothing was written.")
        with self._writing() as ontology:
            version = self._next_version(ontology)
            if imported.content_hash() == ontology.content_hash():
                version = ontology.manifest.version
            elif parse_version(imported.manifest.version) > parse_version(version):
                version = imported.manifest.version
            manifest = imported.manifest.model_copy(update={"version": version})
            new = ontology.replace(manifest=manifest, concepts=list(imported))
            if new.to_data() != ontology.to_data():
                problems = validate(new)
                if problems:
                    raise OntologyValidationError(problems, hint="Nothing was written.")
                write_ontology(new, self.path)
            return load_into_store(new, self.store, who=who, why=why)
