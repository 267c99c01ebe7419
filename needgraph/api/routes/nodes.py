"""Graph nodes and neighbourhoods for drill-down (``read`` scope).

Keys may contain ``/`` (send it percent-encoded); a label outside the graph schema is refused with
422 naming it, a missing node with 404.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query

from needgraph.api.deps import ApiSettingsDep, PageDep, Reader, StoreDep
from needgraph.api.schemas.nodes import NeighbourhoodPublic, NodePublic
from needgraph.api.services.graph import get_node, neighbourhood_page, split_names
from needgraph.graph.base import MAX_HOPS
from needgraph.graph.records import Node, Relationship

router = APIRouter(prefix="/nodes", tags=["graph"])
Label = Annotated[
    str,
    Path(
        max_length=100,
        description="node label: Domain, Need, Cause, Tag, TagBin, Strategy, Segment, Customer, "
        "Utterance, Offer",
        examples=["Cause"],
    ),
]
Key = Annotated[
    str, Path(max_length=500, description="node key", examples=["cause.wifi_dead_zone"])
]


def _node(node: Node) -> dict[str, Any]:
    return {"label": node.label, "key": node.key, "props": dict(node.props)}


def _rel(rel: Relationship) -> dict[str, Any]:
    return {
        "type": rel.type,
        "start": {"label": rel.start.label, "key": rel.start.key},
        "end": {"label": rel.end.label, "key": rel.end.key},
        "props": dict(rel.props),
    }


@router.get(
    "/{label}/{key:path}/neighbourhood",
    response_model=NeighbourhoodPublic,
    summary="The nodes around a node, paged",
)
def neighbourhood(
    label: Label,
    key: Key,
    store: StoreDep,
    settings: ApiSettingsDep,
    caller: Reader,
    paging: PageDep,
    hops: Annotated[int, Query(ge=1, le=MAX_HOPS, description="hops from the node")] = 1,
    rel_types: Annotated[
        list[str] | None,
        Query(
            description="only these relationship types (repeat, or comma-separate)",
            examples=["BLOCKS,RESOLVES"],
        ),
    ] = None,
    labels: Annotated[
        list[str] | None,
        Query(description="only reach nodes of these labels (repeat, or comma-separate)"),
    ] = None,
    direction: Annotated[
        Literal["out", "in", "both"], Query(description="follow relationships out, in or both")
    ] = "both",
) -> dict[str, Any]:
    """Breadth-first neighbourhood of up to ``hops`` hops; nodes ordered by label and key."""
    page = neighbourhood_page(
        store,
        label,
        key,
        hops=hops,
        rel_types=split_names(rel_types),
        labels=split_names(labels),
        direction=direction,
        limit=paging.limit,
        offset=paging.offset,
        cap=settings.neighbourhood_cap,
    )
    return {
        "centre": _node(page.centre),
        "items": [_node(n) for n in page.nodes],
        "relationships": [_rel(r) for r in page.relationships],
        "total": page.total,
        "limit": paging.limit,
        "offset": paging.offset,
        "truncated": page.truncated,
    }


@router.get("/{label}/{key:path}", response_model=NodePublic, summary="One node")
def node(label: Label, key: Key, store: StoreDep, caller: Reader) -> dict[str, Any]:
    """Return the node ``(label, key)`` with its properties."""
    return _node(get_node(store, label, key))
