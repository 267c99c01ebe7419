"""Operator-style codes for ontology ids, and the ``mapping.yaml`` that maps them back.

A real export does not use the ontology's ids: tag columns are codes like ``EVENING_LATENCY``,
campaigns ``S_MESH_WIFI``, survey domains ``home_broadband``. The generator writes such codes and
a mapping (format of :mod:`needgraph.ingest.mapping`) that turns them into ontology ids.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from needgraph.ingest.generator.world import WorldModel


def _tail(concept_id: str) -> str:
    return concept_id.split(".", 1)[-1]


def strategy_code(strategy_id: str) -> str:
    """Return the campaign code the operator's offer log uses for a strategy."""
    return "S_" + _tail(strategy_id).upper()


def domain_code(domain_id: str) -> str:
    """Return the survey-domain name the operator's label file uses for a domain."""
    return _tail(domain_id)


def mapping_document(world: WorldModel, dataset: str, observed_at: str) -> dict[str, Any]:
    """Return the mapping (as plain data) describing a generated folder.

    Args:
        world: The world model the folder was drawn from.
        dataset: Dataset name (``source`` of every customer).
        observed_at: Observation time of the wide tag snapshot (it has no time column).
    """
    wide = {t.column: t.id for t in world.tags if t.layout == "wide"}
    long = {t.column: t.id for t in world.tags if t.layout == "long"}
    files: list[dict[str, Any]] = []
    if wide:
        files.append({"path": "customers_tags.csv", "tags": {"columns": wide}})
    if long:
        files.append(
            {
                "path": "tags_long.csv",
                "tags": {"long": {"tag": "tag", "value": "value", "time": "time", "tags": long}},
            }
        )
    files.append(
        {
            "path": "texts.jsonl",
            "text": [
                {
                    "column": "text",
                    "channel": {"column": "channel"},
                    "lang": {"column": "lang"},
                    "time": "time",
                }
            ],
        }
    )
    if world.strategies:
        files.append(
            {
                "path": "offers.csv",
                "strategies": [
                    {
                        "strategy": "strategy",
                        "values": {strategy_code(s.id): s.id for s in world.strategies},
                        "outcome": {"column": "outcome"},
                        "satisfaction_after": "satisfaction_after",
                        "time": "time",
                    }
                ],
            }
        )
    if world.domains:
        files.append(
            {
                "path": "labels.csv",
                "labels": [
                    {
                        "score": "score",
                        "domain": {"column": "domain"},
                        "domain_values": {domain_code(d): d for d in world.domains},
                        "time": "time",
                    }
                ],
            }
        )
    return {
        "version": 1,
        "dataset": dataset,
        "description": (
            f"Synthetic operator export drawn by `needgraph generate` (seed {world.seed}) from "
            f"ontology {world.ontology['name']} {world.ontology['version']}; planted truth in "
            "truth.jsonl and truth_model.json (not inputs)."
        ),
        "customer_id": "customer_id",
        "timezone": "UTC",
        "observed_at": observed_at,
        "never_inputs": [],
        "files": files,
    }


def write_mapping(path: Path, world: WorldModel, dataset: str, observed_at: str) -> None:
    """Write ``mapping.yaml`` for a generated folder."""
    data = mapping_document(world, dataset, observed_at)
    text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100)
    path.write_text(text, encoding="utf-8")
