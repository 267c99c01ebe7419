"""Graph nodes and neighbourhoods for drill-down."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from needgraph.api.schemas.common import MAX_LIMIT


class NodeRefPublic(BaseModel):
    """Identity of a node."""

    label: str = Field(examples=["Cause"])
    key: str = Field(examples=["cause.evening_congestion"])


class NodePublic(BaseModel):
    """A node with its properties."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "label": "Cause",
                    "key": "cause.evening_congestion",
                    "props": {"label_zh": "晚高峰拥塞", "label_en": "evening congestion"},
                }
            ]
        }
    )
    label: str
    key: str
    props: dict[str, Any] = Field(default_factory=dict)


class RelationshipPublic(BaseModel):
    """A directed, typed relationship."""

    type: str = Field(examples=["BLOCKS"])
    start: NodeRefPublic
    end: NodeRefPublic
    props: dict[str, Any] = Field(default_factory=dict)


class NeighbourhoodPublic(BaseModel):
    """One page of the nodes around a centre, with the relationships that touch them.

    Nodes are ordered by label, then key. ``relationships`` are those of the collected
    neighbourhood with at least one end on this page. ``total`` counts the nodes collected; when
    ``truncated`` is true the neighbourhood was larger than the service collects at once.
    """

    centre: NodePublic
    items: list[NodePublic]
    relationships: list[RelationshipPublic]
    total: int = Field(ge=0)
    limit: int = Field(ge=1, le=MAX_LIMIT)
    offset: int = Field(ge=0)
    truncated: bool = False
