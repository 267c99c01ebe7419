"""Errors the ontology package raises on purpose, each with a fix-it hint."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, ClassVar

from needgraph.errors import NeedgraphError

if TYPE_CHECKING:
    from needgraph.ontology.problems import Problem


class OntologyError(NeedgraphError):
    """Base for ontology errors."""

    type_slug: ClassVar[str] = "ontology"
    title: ClassVar[str] = "Ontology error"
    status: ClassVar[int] = 422


class OntologyFormatError(OntologyError):
    """A file cannot be read as an ontology (unknown format, broken Turtle or JSON)."""

    type_slug = "ontology-format"
    title = "Unreadable ontology file"
    default_hint = (
        "Give a folder of *.yaml files, or one .yaml/.yml, .ttl or .json file written by "
        "`needgraph ontology export`."
    )


class OntologyValidationError(OntologyError):
    """The ontology has problems; ``problems`` lists every one of them.

    Args:
        problems: Every problem found (see :func:`needgraph.ontology.validate.validate`).
    """

    type_slug = "ontology-invalid"
    title = "Invalid ontology"
    default_hint = "Run `needgraph ontology validate` and fix every problem it lists."

    def __init__(self, problems: Sequence[Problem], *, hint: str | None = None) -> None:
        self.problems = list(problems)
        first = f"; first: {self.problems[0]}" if self.problems else ""
        super().__init__(
            f"the ontology has {len(self.problems)} problem(s){first}",
            hint=hint,
            problems=[p.as_dict() for p in self.problems],
        )


class OntologyVersionError(OntologyError):
    """The manifest version does not fit the version the store holds."""

    type_slug = "ontology-version"
    title = "Ontology version conflict"
    status = 409
    default_hint = "Bump `version` in ontology/ontology.yaml (semver: MAJOR.MINOR.PATCH)."


class OntologyChangeError(OntologyError):
    """A deprecate or merge request cannot be carried out; nothing was changed."""

    type_slug = "ontology-change"
    title = "Ontology change refused"
    status = 409
