"""Write the world model as plain data (``truth_model.json``) and read it back."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict
from pathlib import Path
from typing import Any

from needgraph.ingest.generator.world import (
    CauseModel,
    Evidence,
    Params,
    StrategyModel,
    TagModel,
    WorldModel,
)
from needgraph.ontology.rules import parse_rule


def world_to_data(world: WorldModel) -> dict[str, Any]:
    """Return the world model as plain data (the content of ``truth_model.json``)."""
    return {
        "ontology": dict(world.ontology),
        "seed": world.seed,
        "domains": list(world.domains),
        "params": asdict(world.params),
        "tags": [_rounded(asdict(t)) for t in world.tags],
        "causes": [_rounded(asdict(c)) for c in world.causes],
        "evidence": [
            _rounded({**asdict(e), "p_given_cause": e.p_given_cause}) for e in world.evidence
        ],
        "strategies": [
            _rounded(
                {
                    **{k: v for k, v in asdict(s).items() if k != "eligibility"},
                    "eligibility": s.eligibility.to_data() if s.eligibility else None,
                }
            )
            for s in world.strategies
        ],
    }


def world_from_data(data: Mapping[str, Any]) -> WorldModel:
    """Rebuild a world model from :func:`world_to_data` output."""
    tags = tuple(
        TagModel(
            **{
                **t,
                **{k: tuple(t[k]) for k in ("bins", "probs", "lows", "highs", "tails")},
                "scales": tuple(t["scales"]),
                "spellings": tuple(tuple(s) for s in t["spellings"]),
                "loadings": tuple(t["loadings"]),
            }
        )
        for t in data["tags"]
    )
    causes = tuple(
        CauseModel(
            **{
                **c,
                "broader": tuple(c["broader"]),
                "segment": tuple(c["segment"]) if c["segment"] else None,
            }
        )
        for c in data["causes"]
    )
    evidence = tuple(
        Evidence(
            **{k: v for k, v in e.items() if k != "p_given_cause"}
            | {"bins": tuple(e["bins"]), "bin_weights": tuple(e["bin_weights"])}
        )
        for e in data["evidence"]
    )
    strategies = tuple(
        StrategyModel(
            **{
                **s,
                "resolves": tuple(s["resolves"]),
                "domains": tuple(s["domains"]),
                "eligibility": parse_rule(s["eligibility"]) if s["eligibility"] else None,
            }
        )
        for s in data["strategies"]
    )
    return WorldModel(
        ontology=dict(data["ontology"]),
        seed=int(data["seed"]),
        domains=tuple(data["domains"]),
        tags=tags,
        causes=causes,
        evidence=evidence,
        strategies=strategies,
        params=Params(**data["params"]),
    )


def _rounded(value: Any) -> Any:
    """Round floats to 6 decimals and turn tuples into lists (stable, readable JSON)."""
    if isinstance(value, float):
        return round(value, 6)
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_rounded(v) for v in value]
    return value


def load_world(path: str | Path) -> WorldModel:
    """Read ``truth_model.json`` (or the folder holding it) back into a :class:`WorldModel`."""
    target = Path(path)
    if target.is_dir():
        target = target / "truth_model.json"
    return WorldModel.from_data(json.loads(target.read_text(encoding="utf-8")))
