"""Neo4j rows as ``dict(record)`` vs ``Record.data()``: milliseconds per customer refresh, A/B.

``Neo4jStore._read`` once built every row with ``Record.data()``, which walks every value to
convert nodes, relationships and paths; its queries return none. This bench swaps the two row
builders on one open store, checks that both read identical stars, then times
:func:`~needgraph.reasoning.live.refresh_customer` (a star re-read: ~5 Bolt queries, ~180 rows)
for 80 random customers per round, alternating the order over 6 rounds.

Example (a Neo4j holding an ingested generator folder, and a model trained on the same data)::

    source .neo4j/env
    python bench/neo4j_rows.py --model /tmp/q2-10k/model.pt --data /tmp/q2-10k/data
"""

from __future__ import annotations

import argparse
import csv
import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

Rows = Callable[..., list[dict[str, Any]]]


def _reader(convert: Callable[[Any], dict[str, Any]]) -> Rows:
    def read(self: Any, query: str, **params: Any) -> list[dict[str, Any]]:
        def work(tx: Any) -> list[dict[str, Any]]:
            return [convert(record) for record in tx.run(query, params)]

        with self._driver.session(database=self.database) as session:
            return list(session.execute_read(work))

    return read


def main() -> None:
    """Print the milliseconds per refresh of each row builder, per round and median."""
    from needgraph.config import Settings
    from needgraph.graph import neo4j
    from needgraph.graph.factory import open_store
    from needgraph.reasoning.live import refresh_customer
    from needgraph.reasoning.live_star import read_star
    from needgraph.reasoning.runtime import Reasoner

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", required=True, type=Path)
    p.add_argument("--data", required=True, type=Path, help="generator output folder")
    p.add_argument("--rounds", type=int, default=6)
    args = p.parse_args()
    builders = {"Record.data()": _reader(lambda r: r.data()), "dict(record)": _reader(dict)}
    with open_store(Settings(store="neo4j")) as store:
        reasoner = Reasoner.open(store, args.model)
        reasoner.warm_up()
        with (args.data / "customers_tags.csv").open(encoding="utf-8") as handle:
            ids = [row[0] for row in csv.reader(handle)][1:]
        rng = random.Random(3)
        sample = rng.sample(ids, 30)
        stars = []
        for build in builders.values():
            neo4j.Neo4jStore._read = build  # type: ignore[method-assign]
            stars.append([read_star(store, c) for c in sample])
        assert stars[0] == stars[1], "the two row builders read different stars"
        times: dict[str, list[float]] = {name: [] for name in builders}
        for n in range(args.rounds):
            for name in list(builders)[:: 1 if n % 2 == 0 else -1]:
                neo4j.Neo4jStore._read = builders[name]  # type: ignore[method-assign]
                customers = rng.sample(ids, 80)
                started = time.perf_counter()
                for c in customers:
                    refresh_customer(reasoner, c)
                times[name].append(1000 * (time.perf_counter() - started) / len(customers))
    for name, values in times.items():
        median = sorted(values)[len(values) // 2]
        print(f"{name}: ms per refresh {[round(v, 1) for v in values]}, median {median:.1f}")


if __name__ == "__main__":
    main()
