"""Where a concept came from, and what is wrong with it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any


@dataclass(frozen=True)
class Location:
    """The file and line a concept (or the manifest) was read from.

    Attributes:
        file: Path of the file as it was given to the reader (``None`` when built in code).
        line: 1-based line of the concept's first key, or ``None`` (Turtle and JSON input).
        member_lines: 1-based line of each member key of the concept, by member name.
    """

    file: str | None = None
    line: int | None = None
    member_lines: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))

    def line_of(self, member: str | None) -> int | None:
        """Return the line of ``member`` when known, else the concept's own line."""
        if member is not None and member in self.member_lines:
            return self.member_lines[member]
        return self.line


NOWHERE = Location()


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an ontology.

    Attributes:
        code: Stable slug, e.g. ``dangling-reference`` (see ``docs/ontology.md``).
        file: File the offending concept was read from, or ``None``.
        line: Line in that file, or ``None``.
        concept: Id of the offending concept, or ``None`` (file-level problems).
        message: What is wrong, naming the member and value at fault.
        hint: How to fix it.
    """

    code: str
    file: str | None
    line: int | None
    concept: str | None
    message: str
    hint: str = ""

    @classmethod
    def at(
        cls,
        code: str,
        where: Location,
        concept: str | None,
        message: str,
        hint: str = "",
        member: str | None = None,
    ) -> Problem:
        """Build a problem located at ``where`` (at ``member``'s line when known)."""
        return cls(code, where.file, where.line_of(member), concept, message, hint)

    def __str__(self) -> str:
        place = self.file or "<ontology>"
        if self.line is not None:
            place = f"{place}:{self.line}"
        text = f"{place}: [{self.code}] {self.concept or '-'}: {self.message}"
        return f"{text} (fix: {self.hint})" if self.hint else text

    def as_dict(self) -> dict[str, Any]:
        """Return the problem as a JSON-ready mapping."""
        return {
            "code": self.code,
            "file": self.file,
            "line": self.line,
            "concept": self.concept,
            "message": self.message,
            "hint": self.hint,
        }

    def sort_key(self) -> tuple[str, int, str, str, str]:
        """Order problems by file, line, concept, code and message."""
        return (self.file or "", self.line or 0, self.concept or "", self.code, self.message)
