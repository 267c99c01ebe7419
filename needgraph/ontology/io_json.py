"""The JSON form: one canonical document ``{"ontology": {...}, "concepts": [...]}``.

Concepts are sorted by id, members in model order, default members left out, two-space indent,
UTF-8 text unescaped, a final newline. Concepts read from JSON have no line numbers.
"""

from __future__ import annotations

import json
from pathlib import Path

from needgraph.ontology.core import Ontology
from needgraph.ontology.parse import RawItem, build_ontology
from needgraph.ontology.problems import Location, Problem


def dumps_json(ontology: Ontology) -> str:
    """Return the canonical JSON document of ``ontology``."""
    return json.dumps(ontology.to_data(), ensure_ascii=False, indent=2) + "\n"


def read_json(path: str | Path) -> Ontology:
    """Read an ontology from a JSON document written by :func:`dumps_json` (or by hand).

    Returns:
        The ontology; problems found while reading are in ``provenance.problems``.
    """
    shown = str(path)
    where = Location(shown)
    manifests: list[RawItem] = []
    concepts: list[RawItem] = []
    problems: list[Problem] = []
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8-sig"))
    except json.JSONDecodeError as exc:
        problems.append(
            Problem("json-syntax", shown, exc.lineno, None, f"not valid JSON: {exc.msg}", "")
        )
        document = {}
    if not isinstance(document, dict):
        message = 'the document must be {"ontology": {...}, "concepts": [...]}'
        problems.append(Problem("invalid-file", shown, None, None, message, ""))
        document = {}
    if "ontology" in document:
        manifests.append((document["ontology"], where))
    items = document.get("concepts", [])
    if isinstance(items, list):
        concepts.extend((item, where) for item in items)
    else:
        problems.append(Problem("invalid-file", shown, None, None, '"concepts" must be a list', ""))
    return build_ontology(manifests, concepts, root=shown, files=[shown], problems=problems)
