"""Tag relationships per second: needgraph ingest into Neo4j vs LOAD CSV vs a naive loop.

Usage (needs a running Neo4j: ``make neo4j-start && source .neo4j/env``)::

    python bench/ingest_neo4j.py [--customers 20000] [--naive-edges 5000] [--repeat 3]
                                 [--batch-size 5000] [--import-dir DIR --import-url URL]

The input is the IBM Telco merged file (shared 70%), its rows repeated under new customer ids
up to ``--customers``; the shipped ontology is loaded and the setting-A mapping's 36 tag
columns are ingested (``--kind tags``). Three ways of writing the same HAS_TAG edges:

1. **needgraph ingest** - ``run_ingest`` end to end: read and parse the CSV, bin every value
   by the ontology, write batches (customers + edges + checkpoint, one transaction each).
2. **LOAD CSV** - Neo4j's own server-side load of the same (customer, tag bin, value) rows,
   already binned, with ``CALL {...} IN TRANSACTIONS OF 10000 ROWS`` (MERGE customer, MATCH
   bin, MERGE edge). The file must be readable by the server: by default it is written to a
   temporary folder and named by an absolute ``file:///`` URL, which works when the server runs
   on this machine without ``server.directories.import`` (the project's ``scripts/neo4j_server.py``
   launcher sets none). With an import folder configured, pass ``--import-dir`` (the folder)
   and ``--import-url`` (the URL prefix the server sees, e.g. ``file:///``).
3. **naive loop** - one transaction per edge (MERGE customer, MATCH bin, MERGE edge), on the
   first ``--naive-edges`` edges.

Customers are deleted between runs; each method runs ``--repeat`` times and the median is
reported. Prints one markdown table (ratios side by side are what to compare on noisy hosts).
"""

from __future__ import annotations

import argparse
import csv
import logging
import os
import platform
import shutil
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from needgraph.graph.neo4j import Neo4jStore
from needgraph.ingest.jobs import JobOptions, run_ingest
from needgraph.ontology.files import read_ontology
from needgraph.ontology.graph_schema import GRAPH_SCHEMA
from needgraph.ontology.loader import load_into_store

if TYPE_CHECKING:
    from neo4j import ManagedTransaction

REPO = Path(__file__).resolve().parents[1]
IBM = REPO.parent / "shared/data/ibm-telco-churn-11.1.3/telco_churn_11.1.3_merged_shared70.csv"
MAPPING = REPO / "mappings" / "ibm_telco_tags_only.yaml"
LOAD_CSV = (
    "LOAD CSV WITH HEADERS FROM $url AS row "
    "CALL (row) { "
    "  MERGE (c:Customer {key: row.customer}) "
    "  WITH c, row MATCH (b:TagBin {key: row.bin}) "
    "  MERGE (c)-[r:HAS_TAG]->(b) SET r.value = row.value "
    "} IN TRANSACTIONS OF 10000 ROWS"
)
NAIVE = (
    "MERGE (c:Customer {key: $customer}) "
    "WITH c MATCH (b:TagBin {key: $bin}) "
    "MERGE (c)-[r:HAS_TAG]->(b) SET r.value = $value"
)
CLEAR_CUSTOMERS = "MATCH (c:Customer) CALL (c) { DETACH DELETE c } IN TRANSACTIONS OF 5000 ROWS"
CLEAR_CHECKPOINTS = "MATCH (m:NeedgraphMeta) WHERE m.name STARTS WITH 'ingest.job.' DELETE m"


def open_neo4j() -> Neo4jStore:
    store = Neo4jStore(
        os.environ.get("NEO4J_URI", "bolt://127.0.0.1:7687"),
        username=os.environ.get("NEO4J_USERNAME", os.environ.get("NEO4J_USER", "neo4j")),
        password=os.environ.get("NEO4J_PASSWORD", ""),
        database=os.environ.get("NEO4J_DATABASE", "neo4j"),
        schema=GRAPH_SCHEMA,
    )
    store.ping()
    return store


def run_cypher(store: Neo4jStore, query: str, **params: Any) -> None:
    with store._driver.session(database=store.database,
                               notifications_min_severity="OFF") as session:
        session.run(query, params).consume()


def clear_customers(store: Neo4jStore) -> None:
    run_cypher(store, CLEAR_CUSTOMERS)
    run_cypher(store, CLEAR_CHECKPOINTS)


def make_input(source: Path, customers: int, out: Path) -> Path:
    """Repeat the IBM rows under new customer ids until there are ``customers`` rows."""
    with source.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        rows = list(reader)
    id_col = header.index("Customer ID")
    with out.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for i in range(customers):
            row = list(rows[i % len(rows)])
            row[id_col] = f"{row[id_col]}-r{i // len(rows)}"
            writer.writerow(row)
    return out


def has_tag_count(store: Neo4jStore) -> int:
    return store.counts().relationships.get("HAS_TAG", 0)


def bench_project(store: Neo4jStore, data: Path, batch: int, reports: Path) -> tuple[float, int]:
    clear_customers(store)
    options = JobOptions(batch_size=batch, report_dir=reports, progress=False)
    start = time.perf_counter()
    run_ingest(store, data, mapping=MAPPING, kind="tags", options=options)
    seconds = time.perf_counter() - start
    return seconds, has_tag_count(store)


def export_edges(store: Neo4jStore, path: Path) -> list[tuple[str, str, str]]:
    """Write the HAS_TAG edges the project wrote as a long CSV; return them."""
    edges = [
        (rel.start.key, rel.end.key, str(rel.props.get("value", "")))
        for batch in store.iter_relationships("HAS_TAG", batch_size=20_000)
        for rel in batch
    ]
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["customer", "bin", "value"])
        writer.writerows(edges)
    return edges


def bench_load_csv(store: Neo4jStore, url: str) -> tuple[float, int]:
    clear_customers(store)
    start = time.perf_counter()
    run_cypher(store, LOAD_CSV, url=url)
    seconds = time.perf_counter() - start
    return seconds, has_tag_count(store)


def bench_naive(store: Neo4jStore, edges: list[tuple[str, str, str]]) -> tuple[float, int]:
    clear_customers(store)
    start = time.perf_counter()
    def one(tx: ManagedTransaction, edge: tuple[str, str, str]) -> None:
        tx.run(NAIVE, customer=edge[0], bin=edge[1], value=edge[2]).consume()

    with store._driver.session(database=store.database,
                               notifications_min_severity="OFF") as session:
        for edge in edges:
            session.execute_write(one, edge)
    seconds = time.perf_counter() - start
    return seconds, has_tag_count(store)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--naive-edges", type=int, default=5_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=5_000)
    parser.add_argument("--source", type=Path, default=IBM)
    parser.add_argument("--import-dir", type=Path, default=None,
                        help="the server's import folder (server.directories.import)")
    parser.add_argument("--import-url", default="file:///",
                        help="URL prefix under which the server sees --import-dir")
    args = parser.parse_args()
    logging.getLogger("neo4j").setLevel(logging.ERROR)

    store = open_neo4j()
    store.clear()
    store.setup_schema()
    load_into_store(read_ontology(REPO / "ontology"), store, who="bench", why="ingest bench")
    results: dict[str, list[tuple[float, int]]] = {"project": [], "load_csv": [], "naive": []}
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        data = make_input(args.source, args.customers, tmp / "bench_tags.csv")
        for _ in range(args.repeat):
            results["project"].append(bench_project(store, data, args.batch_size, tmp / "r"))
        edges = export_edges(store, tmp / "has_tag.csv")
        if args.import_dir is not None:
            shutil.copy(tmp / "has_tag.csv", args.import_dir / "needgraph_bench_has_tag.csv")
            url = args.import_url.rstrip("/") + "/needgraph_bench_has_tag.csv"
        else:
            url = (tmp / "has_tag.csv").resolve().as_uri()
        for _ in range(args.repeat):
            results["load_csv"].append(bench_load_csv(store, url))
        for _ in range(args.repeat):
            results["naive"].append(bench_naive(store, edges[: args.naive_edges]))
        if args.import_dir is not None:
            (args.import_dir / "needgraph_bench_has_tag.csv").unlink(missing_ok=True)
    clear_customers(store)
    version = store._read("CALL dbms.components() YIELD versions RETURN versions[0] AS v")
    store.close()

    def rate(name: str) -> tuple[int, float, float]:
        runs = results[name]
        counts = {n for _, n in runs}
        assert len(counts) == 1, f"{name} wrote different edge counts: {counts}"
        seconds = statistics.median(s for s, _ in runs)
        edges_n = counts.pop()
        return edges_n, seconds, edges_n / seconds

    project, load_csv, naive = rate("project"), rate("load_csv"), rate("naive")
    assert project[0] == load_csv[0], "project and LOAD CSV wrote different edge counts"
    print(f"ingest_neo4j — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.node()}, "
          f"{os.cpu_count()} cores, Neo4j {version[0]['v'] if version else '?'}, "
          f"{args.customers:,} customers x 36 tags, batch {args.batch_size:,}, "
          f"median of {args.repeat}")
    print()
    print("| method | HAS_TAG edges | seconds (median) | edges/s | vs LOAD CSV |")
    print("|---|---|---|---|---|")
    for label, (n, seconds, per_s) in (
        ("needgraph ingest (parse + bin + write, batched tx)", project),
        ("LOAD CSV + CALL {…} IN TRANSACTIONS OF 10000 ROWS", load_csv),
        ("naive loop, one edge per transaction", naive),
    ):
        print(f"| {label} | {n:,} | {seconds:.2f} | {per_s:,.0f} | {per_s / load_csv[2]:.2f}x |")


if __name__ == "__main__":
    main()
