"""Ingest: customer tags, texts, strategies with outcomes and satisfaction labels into the graph.

Public API (imported lazily, so ``needgraph.ingest.errors`` stays cheap to import):

* :func:`run_ingest` - plan and run the jobs for a file or folder;
* :class:`IngestJob`, :class:`JobOptions`, :class:`JobReport` - one job, its options and report;
* :func:`load_mapping` / :class:`Mapping` - the mapping file;
* :func:`plan_ingest` - which files and kinds a path holds.

See ``docs/ingest.md``.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "run_ingest": "needgraph.ingest.jobs",
    "IngestJob": "needgraph.ingest.jobs",
    "JobOptions": "needgraph.ingest.jobs",
    "require_ontology": "needgraph.ingest.jobs",
    "JobReport": "needgraph.ingest.report",
    "load_mapping": "needgraph.ingest.mapping_io",
    "parse_mapping": "needgraph.ingest.mapping_io",
    "Mapping": "needgraph.ingest.mapping",
    "plan_ingest": "needgraph.ingest.discovery",
    "JobPlan": "needgraph.ingest.discovery",
    "TextPipeline": "needgraph.ingest.text_port",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'needgraph.ingest' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
