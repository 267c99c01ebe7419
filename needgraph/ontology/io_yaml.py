"""The YAML form: read a folder of ``*.yaml`` files (or one file), write canonical YAML.

Reading keeps plain scalars as text (only ``null``/``~``/empty become ``None``), so ``yes``,
``No`` or ``1`` in bin values stay the strings the editor wrote; the model converts numbers and
booleans where a member needs one. Each concept remembers its file and line.

Writing has two layouts, both deterministic:

* one document (:func:`dump_yaml`): the manifest, then every concept sorted by id;
* a folder (:func:`write_yaml_dir`): ``ontology.yaml`` holds the manifest; every concept goes
  back to the file (relative to the folder read) it came from, in its original order, and new
  concepts go to ``<kind>.yaml`` files (``domains.yaml``, ``needs.yaml`` ...). Comments are not
  kept.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import yaml
from yaml.nodes import MappingNode, ScalarNode

from needgraph.ontology.core import Ontology
from needgraph.ontology.model import Concept
from needgraph.ontology.parse import RawItem, build_ontology
from needgraph.ontology.problems import Location, Problem

MANIFEST_FILE = "ontology.yaml"
KIND_FILES = {
    "Domain": "domains.yaml",
    "Need": "needs.yaml",
    "Cause": "causes.yaml",
    "Tag": "tags.yaml",
    "Strategy": "strategies.yaml",
    "Segment": "segments.yaml",
}
_NULL = "tag:yaml.org,2002:null"


class _Mapping(dict[str, Any]):
    """A mapping that remembers the line of itself and of each key."""

    line: int = 0
    key_lines: MappingProxyType[str, int] = MappingProxyType({})


if TYPE_CHECKING:
    _BaseLoader = yaml.SafeLoader
else:  # libyaml's parser when pyyaml was built with it (about ten times faster)
    _BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_BaseLoader):
    """Safe loader that keeps plain scalars as text and records lines and duplicate keys."""

    duplicate_keys: list[tuple[str, int]]


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag == _NULL]
    for first, resolvers in _BaseLoader.yaml_implicit_resolvers.items()
}


def _construct_mapping(loader: _Loader, node: MappingNode) -> _Mapping:
    mapping = _Mapping()
    lines: dict[str, int] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        line = key_node.start_mark.line + 1
        if isinstance(key_node, ScalarNode) and key in mapping:
            loader.duplicate_keys.append((str(key), line))
        mapping[key] = loader.construct_object(value_node, deep=True)
        lines[str(key)] = line
    mapping.line = node.start_mark.line + 1
    mapping.key_lines = MappingProxyType(lines)
    return mapping


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _yaml_files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    return sorted(
        p
        for p in path.rglob("*.yaml")
        if not any(part.startswith(".") for part in p.relative_to(path).parts)
    )


def _where(file: str, data: Any) -> Location:
    if isinstance(data, _Mapping):
        return Location(file, data.line, data.key_lines)
    return Location(file, None)


def _read_file(
    file: Path, manifests: list[RawItem], concepts: list[RawItem], problems: list[Problem]
) -> None:
    shown = str(file)
    loader = _Loader(file.read_text(encoding="utf-8-sig"))
    loader.duplicate_keys = []
    try:
        document = loader.get_single_data()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        message = f"not valid YAML: {getattr(exc, 'problem', None) or exc}"
        problems.append(Problem("yaml-syntax", shown, line, None, message, "fix the YAML syntax"))
        return
    finally:
        loader.dispose()
    for key, line in loader.duplicate_keys:
        problems.append(
            Problem("duplicate-key", shown, line, None, f"key {key!r} given twice", "keep one")
        )
    if document is None:
        return
    extra = sorted(set(document) - {"ontology", "concepts"}) if isinstance(document, dict) else []
    if not isinstance(document, dict) or extra or not document:
        message = "a file holds `ontology:` (the manifest) and/or `concepts:` (a list)"
        detail = f"; unexpected top-level keys: {', '.join(map(str, extra))}" if extra else ""
        problems.append(
            Problem("invalid-file", shown, 1, None, message + detail, "see docs/ontology-format.md")
        )
        return
    if "ontology" in document:
        manifest = document["ontology"]
        where = _where(shown, manifest)
        line = document.key_lines.get("ontology") if isinstance(document, _Mapping) else None
        manifests.append((manifest, Location(shown, line, where.member_lines)))
    items = document.get("concepts", [])
    if not isinstance(items, list):
        line = document.key_lines.get("concepts") if isinstance(document, _Mapping) else None
        message = "`concepts:` must be a list"
        problems.append(Problem("invalid-file", shown, line, None, message, "use `- id: ...`"))
        return
    concepts.extend((item, _where(shown, item)) for item in items)


def read_yaml(path: str | Path) -> Ontology:
    """Read a folder of ``*.yaml`` files (recursively, sorted by path) or one YAML file.

    Args:
        path: The folder (normally ``ontology/``) or file.

    Returns:
        The ontology; problems found while reading are in ``provenance.problems``.
    """
    root = Path(path)
    files = _yaml_files(root)
    manifests: list[RawItem] = []
    concepts: list[RawItem] = []
    problems: list[Problem] = []
    for file in files:
        _read_file(file, manifests, concepts, problems)
    return build_ontology(
        manifests, concepts, root=str(root), files=[str(f) for f in files], problems=problems
    )


# -- writing ---------------------------------------------------------------------------------
class _Flow(list[Any]):
    pass


class _FlowMap(dict[str, Any]):
    pass


class _Dumper(yaml.SafeDumper):
    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _represent_flow_list(dumper: yaml.SafeDumper, data: _Flow) -> yaml.Node:
    return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=True)


def _represent_flow_map(dumper: yaml.SafeDumper, data: _FlowMap) -> yaml.Node:
    return dumper.represent_mapping("tag:yaml.org,2002:map", data.items(), flow_style=True)


_Dumper.add_representer(_Flow, _represent_flow_list)
_Dumper.add_representer(_FlowMap, _represent_flow_map)


def _flow(value: Any) -> Any:
    if isinstance(value, dict):
        return _FlowMap({k: _flow(v) for k, v in value.items()})
    if isinstance(value, list):
        return _Flow(_flow(v) for v in value)
    return value


def _style_rule(rule: dict[str, Any]) -> dict[str, Any]:
    if "tag" in rule:
        return _FlowMap({key: _flow(value) for key, value in rule.items()})
    return {
        key: _style_rule(value) if key == "not" else [_style_rule(r) for r in value]
        for key, value in rule.items()
    }


def _style_concept(data: dict[str, Any]) -> dict[str, Any]:
    styled: dict[str, Any] = {}
    for key, value in data.items():
        if key == "synonyms":
            value = {lang: _Flow(names) for lang, names in value.items()}
        elif key in ("bins", "indicates"):
            value = [_flow(item) for item in value]
        elif key in ("eligibility", "rule"):
            value = _style_rule(value)
        elif key == "label" or isinstance(value, list):
            value = _flow(value)
        styled[key] = value
    return styled


def _dump(document: dict[str, Any]) -> str:
    text: str = yaml.dump(
        document, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=4096, indent=2
    )
    return text


def _manifest_doc(ontology: Ontology) -> dict[str, Any]:
    manifest = ontology.manifest.to_data()
    manifest["languages"] = _Flow(manifest["languages"])
    return {"ontology": manifest}


def _concepts_doc(concepts: list[Concept]) -> dict[str, Any]:
    return {"concepts": [_style_concept(c.to_data()) for c in concepts]}


def dump_yaml(ontology: Ontology) -> str:
    """Return the ontology as one YAML document (manifest, then concepts sorted by id)."""
    return _dump(_manifest_doc(ontology)) + "\n" + _dump(_concepts_doc(list(ontology)))


def _relative(file: str | None, folder: Path | None) -> str | None:
    if file is None or folder is None:
        return None
    try:
        return Path(file).relative_to(folder).as_posix()
    except ValueError:
        return None


def _layout(ontology: Ontology) -> Iterator[tuple[str, list[Concept]]]:
    root = Path(ontology.provenance.root) if ontology.provenance.root else None
    folder = root if root is not None and root.is_dir() else None
    by_file: dict[str, list[tuple[float, str, Concept]]] = {}
    for file in ontology.provenance.files:
        relative = _relative(file, folder)
        if relative not in (None, MANIFEST_FILE):
            by_file.setdefault(relative, [])
    for concept in ontology:
        where = ontology.location(concept.id)
        relative = _relative(where.file, folder) or KIND_FILES[concept.kind]
        order = float(where.line) if where.line is not None else float("inf")
        by_file.setdefault(relative, []).append((order, concept.id, concept))
    for relative in sorted(by_file):
        yield relative, [c for _, _, c in sorted(by_file[relative], key=lambda t: t[:2])]


def write_yaml_dir(ontology: Ontology, folder: str | Path) -> list[Path]:
    """Write the folder layout (see module doc) into ``folder``; return the files written."""
    out = Path(folder)
    written = [out / MANIFEST_FILE]
    out.mkdir(parents=True, exist_ok=True)
    written[0].write_text(_dump(_manifest_doc(ontology)), encoding="utf-8")
    for relative, concepts in _layout(ontology):
        target = out / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(_dump(_concepts_doc(concepts)), encoding="utf-8")
        written.append(target)
    return written
