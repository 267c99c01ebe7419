"""Errors the generator raises on purpose."""

from __future__ import annotations

from typing import ClassVar

from needgraph.errors import NeedgraphError


class GeneratorError(NeedgraphError):
    """The generator cannot draw a dataset (bad arguments, or an ontology it cannot use)."""

    type_slug: ClassVar[str] = "generator"
    title: ClassVar[str] = "Generator error"
    status: ClassVar[int] = 422
    default_hint: ClassVar[str] = "See docs/generator.md."
