"""Synthetic operator data with planted ground truth (``needgraph generate``).

The world model (:mod:`.world`) is derived from the ontology (:mod:`.build`): which tag bins
reveal which cause, which cause hurts which domain by how much, which strategy fixes which cause
and how customers respond to offers. Customers are drawn chunk by chunk (:mod:`.customers`,
:mod:`.texts`, :mod:`.offers`) and written in the operator export formats (:mod:`.writers`)
together with ``truth.jsonl``, ``truth_model.json`` and ``mapping.yaml``. See
``docs/generator.md``.
"""

from __future__ import annotations

from needgraph.ingest.generator.build import build_world
from needgraph.ingest.generator.run import Summary, generate_dataset
from needgraph.ingest.generator.world import CustomerTruth, WorldModel
from needgraph.ingest.generator.world_io import load_world

__all__ = [
    "CustomerTruth",
    "Summary",
    "WorldModel",
    "build_world",
    "generate_dataset",
    "load_world",
]
