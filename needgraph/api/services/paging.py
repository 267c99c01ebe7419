"""Slicing a fully known list into one page."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

T = TypeVar("T")


def page(items: Sequence[T], limit: int, offset: int) -> tuple[list[T], int]:
    """Return the items of one page and the total number of items."""
    return list(items[offset : offset + limit]), len(items)
