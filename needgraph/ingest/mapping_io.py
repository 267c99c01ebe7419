"""Read a mapping YAML file into a :class:`~needgraph.ingest.mapping.Mapping`, errors with lines.

Plain scalars stay text (only ``null``/``~``/empty become ``None``), so ``Yes``, ``No``, ``None``
or ``1`` as raw values are the strings the data holds. Every problem pydantic finds is reported
at once, each as ``FILE:LINE: members.path: message``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from yaml.nodes import MappingNode, Node, SequenceNode

from needgraph.ingest.errors import ForbiddenColumnError, MappingError
from needgraph.ingest.mapping import Mapping, MappingRoleError, check_all_roles

_NULL = "tag:yaml.org,2002:null"


class _TextLoader(yaml.SafeLoader):
    """Safe loader that resolves no implicit types but null."""


_TextLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag == _NULL]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


class MappingDocument:
    """A parsed mapping with the YAML node tree kept to turn member paths into line numbers.

    Args:
        mapping: The validated mapping.
        source: Where it was read from (``None`` when built in code).
        root: The YAML node tree (``None`` when built in code).
    """

    def __init__(
        self, mapping: Mapping, source: Path | None = None, root: Node | None = None
    ) -> None:
        self.mapping = mapping
        self.source = source
        self._root = root

    @property
    def folder(self) -> Path | None:
        """The folder the mapping file lives in (file paths are relative to it)."""
        return self.source.parent if self.source else None

    def where(self, path: Sequence[str | int]) -> str:
        """Return ``FILE:LINE`` (or ``mapping``) for a member path like ``('files', 0, 'tags')``."""
        name = str(self.source) if self.source else "mapping"
        line = locate(self._root, path) if self._root is not None else None
        return f"{name}:{line}" if line else name


def locate(root: Node, path: Sequence[str | int]) -> int | None:
    """Return the 1-based line of the deepest node of ``path`` found in the YAML tree."""
    node: Node = root
    line = node.start_mark.line + 1
    for part in path:
        nxt: Node | None = None
        if isinstance(node, MappingNode) and isinstance(part, int):
            continue  # one mapping written where a list is allowed: it is item 0
        if isinstance(node, MappingNode):
            for key, value in node.value:
                if str(key.value) == str(part):
                    nxt = value
                    line = key.start_mark.line + 1
                    break
        elif isinstance(node, SequenceNode) and isinstance(part, int) and part < len(node.value):
            nxt = node.value[part]
            line = nxt.start_mark.line + 1
        if nxt is None:
            break
        node = nxt
    return line


def dotted(path: Sequence[str | int]) -> str:
    """Return a member path as ``files[0].tags.columns.Age``."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top)"


def parse_mapping(text: str, source: Path | None = None) -> MappingDocument:
    """Parse and validate mapping YAML text.

    Raises:
        MappingError: Syntax errors, unknown members, wrong values (all listed, with lines).
        ForbiddenColumnError: A ``never_inputs`` column is mapped.
    """
    name = str(source) if source else "mapping"
    loader = _TextLoader(text)
    try:
        root = loader.get_single_node()
        data: Any = loader.construct_document(root) if root is not None else None
    except yaml.YAMLError as exc:
        raise MappingError(
            f"{name}: not valid YAML: {exc}", hint="Fix the YAML syntax at the line shown."
        ) from exc
    finally:
        loader.dispose()
    if root is None or not isinstance(data, dict):
        raise MappingError(f"{name}: a mapping file is a YAML mapping with `dataset:` and `files:`")
    try:
        mapping = Mapping.model_validate(data)
    except ValidationError as exc:
        doc = MappingDocument(Mapping.model_construct(dataset="", files=[]), source, root)
        lines = []
        for error in exc.errors(include_url=False, include_input=False):
            loc = [p for p in error["loc"] if not (isinstance(p, str) and p in _UNION_TAGS)]
            lines.append(f"{doc.where(loc)}: {dotted(loc)}: {error['msg']}")
        raise MappingError(
            f"{name} has {len(lines)} problem(s):\n  " + "\n  ".join(lines),
            hint="See docs/ingest.md (mapping format) for the members of each section.",
        ) from None
    doc = MappingDocument(mapping, source, root)
    check_document_roles(doc)
    return doc


_UNION_TAGS = {"str", "ColumnRef", "TagColumn", "function-after[_one_layout(), TagsSpec]"}


def check_document_roles(doc: MappingDocument) -> None:
    """Run the structural role checks, raising errors that name the mapping line.

    Raises:
        ForbiddenColumnError: A ``never_inputs`` column is mapped.
        MappingError: A column is both a label and an input, or ignored and mapped.
    """
    try:
        check_all_roles(doc.mapping)
    except MappingRoleError as exc:
        where = f"{doc.where(exc.path)}: {dotted(exc.path)}"
        if "never_inputs" in str(exc):
            raise ForbiddenColumnError(
                f"{where}: {exc}",
                hint="Remove the column from the mapping (list it under `ignore` or leave it "
                "out); never_inputs columns leak the label and are refused.",
            ) from None
        raise MappingError(f"{where}: {exc}") from None


def load_mapping(path: str | Path) -> MappingDocument:
    """Read and validate the mapping file at ``path``.

    Raises:
        MappingError: The file is missing or invalid (every problem listed with its line).
    """
    source = Path(path)
    try:
        text = source.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise MappingError(
            f"cannot read mapping file {source}: {exc.strerror}",
            hint="Give the path of a mapping YAML file (e.g. mappings/ibm_telco.yaml).",
        ) from exc
    return parse_mapping(text, source)
