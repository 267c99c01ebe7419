"""Relationships per second of batch upsert into each store vs a naive Neo4j loop, side by side.

Usage (needs a running Neo4j: ``make neo4j-start && source .neo4j/env``)::

    python bench/store_upsert.py --rels 100000 [--naive-rels 100000] [--batch-size 10000]

The same customers, tag bins and HAS_TAG relationships are written (1) in batches into the embedded
SQLite store, (2) in batches into Neo4j through ``Neo4jStore`` (UNWIND, managed transactions), and
(3) into Neo4j one relationship per transaction (the naive loop). Prints one markdown table.
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime

from needgraph.graph.base import GraphStore
from needgraph.graph.neo4j import Neo4jStore
from needgraph.graph.records import Node, NodeRef, Relationship
from needgraph.graph.sqlite import SqliteStore
from needgraph.ontology.graph_schema import GRAPH_SCHEMA

BINS = 200


def make_data(n_rels: int) -> tuple[list[Node], list[Relationship]]:
    """``n_rels`` customers each with one HAS_TAG to one of ``BINS`` tag bins."""
    nodes = [Node("TagBin", f"tag.bench=b{j}") for j in range(BINS)]
    nodes += [Node("Customer", f"c{i:07d}", {"arpu": float(i % 300)}) for i in range(n_rels)]
    rels = [
        Relationship(
            "HAS_TAG",
            NodeRef("Customer", f"c{i:07d}"),
            NodeRef("TagBin", f"tag.bench=b{i % BINS}"),
            {"value": float(i % 1000)},
        )
        for i in range(n_rels)
    ]
    return nodes, rels


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def bench_batched(
    store: GraphStore, nodes: list[Node], rels: list[Relationship], batch: int
) -> float:
    store.clear()
    store.setup_schema()
    store.upsert_nodes(nodes, batch_size=batch)
    seconds = timed(lambda: store.upsert_relationships(rels, batch_size=batch))
    assert store.counts().relationships["HAS_TAG"] == len(rels)
    return len(rels) / seconds


def bench_naive(store: Neo4jStore, nodes: list[Node], rels: list[Relationship]) -> float:
    store.clear()
    store.setup_schema()
    store.upsert_nodes(nodes, batch_size=10_000)

    def loop() -> None:
        for rel in rels:
            store.upsert_relationships([rel], batch_size=1)

    seconds = timed(loop)
    assert store.counts().relationships["HAS_TAG"] == len(rels)
    return len(rels) / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rels", type=int, default=100_000)
    parser.add_argument("--naive-rels", type=int, default=100_000)
    parser.add_argument("--batch-size", type=int, default=10_000)
    args = parser.parse_args()

    nodes, rels = make_data(args.rels)
    neo4j = Neo4jStore(
        os.environ.get("NEO4J_URI", "bolt://127.0.0.1:7687"),
        username=os.environ.get("NEO4J_USERNAME", "neo4j"),
        password=os.environ.get("NEO4J_PASSWORD", ""),
        database=os.environ.get("NEO4J_DATABASE", "neo4j"),
        schema=GRAPH_SCHEMA,
    )
    neo4j.ping()
    with tempfile.TemporaryDirectory() as tmp:
        sqlite = SqliteStore(f"{tmp}/bench.db", schema=GRAPH_SCHEMA)
        sqlite_rate = bench_batched(sqlite, nodes, rels, args.batch_size)
        sqlite.close()
    neo4j_rate = bench_batched(neo4j, nodes, rels, args.batch_size)
    naive_nodes, naive_rels = make_data(args.naive_rels)
    naive_rate = bench_naive(neo4j, naive_nodes, naive_rels)
    neo4j.clear()
    neo4j.close()

    print(
        f"store_upsert — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.node()}, "
        f"{os.cpu_count()} cores, {args.rels:,} relationships, batch {args.batch_size:,}"
    )
    print()
    print("| path | relationships | rels/s | vs naive Neo4j loop |")
    print("|---|---|---|---|")
    print(
        f"| SQLite, batched | {args.rels:,} | {sqlite_rate:,.0f} | "
        f"{sqlite_rate / naive_rate:.1f}x |"
    )
    print(
        f"| Neo4j, batched UNWIND | {args.rels:,} | {neo4j_rate:,.0f} | "
        f"{neo4j_rate / naive_rate:.1f}x |"
    )
    print(f"| Neo4j, one row per transaction | {args.naive_rels:,} | {naive_rate:,.0f} | 1.0x |")


if __name__ == "__main__":
    main()
