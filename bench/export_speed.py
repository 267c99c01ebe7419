"""Store -> tensor export: wall and CPU time of one export, uncached or through the export cache.

Each run is one fresh process, like a CLI command or the API opening a model:

    python bench/export_speed.py --store sqlite:////tmp/bench-100k/store.db --cache off
    python bench/export_speed.py --store sqlite:////tmp/bench-100k/store.db --cache /tmp/c  # miss
    python bench/export_speed.py --store sqlite:////tmp/bench-100k/store.db --cache /tmp/c  # hit

Prints one JSON line: ``import_s`` (torch + PyG), ``export_wall_s`` / ``export_cpu_s`` (the
``export_graph`` call, cache lookup and write included), ``cache`` (``off``, ``miss`` or
``hit``), graph size, peak RSS and the load average. With ``--cache DIR`` the store gets a write
token if it has none (one metadata write); ``--cache off`` only reads.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> None:
    """Run one export and print its measurements."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", required=True, help="a NEEDGRAPH_STORE value")
    parser.add_argument("--cache", default="off", help="export cache directory, or 'off'")
    parser.add_argument("--model", help="use this model's feature schema (as Reasoner.open does)")
    parser.add_argument("--json", help="append the result line to this file")
    args = parser.parse_args()

    t0 = time.perf_counter()
    import torch  # noqa: F401
    import torch_geometric.data  # noqa: F401

    from needgraph.config import Settings
    from needgraph.graph.factory import open_store
    from needgraph.reasoning.export import export_graph
    from needgraph.reasoning.export_cache import ExportCache

    imported = time.perf_counter() - t0
    store = open_store(Settings(NEEDGRAPH_STORE=args.store))
    schema = None
    if args.model:
        from needgraph.reasoning.artifacts import load_model

        schema = load_model(args.model).schema
    cache = False if args.cache == "off" else ExportCache(args.cache)
    before = {(p, p.stat().st_mtime_ns) for p in cache.entries()} if cache else set()
    w0, c0 = time.perf_counter(), time.process_time()
    data, schema = export_graph(store, schema, cache=cache)
    wall, cpu = time.perf_counter() - w0, time.process_time() - c0
    state = "off"
    if cache:
        after = {(p, p.stat().st_mtime_ns) for p in cache.entries()}
        state = "miss" if after - before else "hit"
    out = {
        "store": store.describe(),
        "cache": state,
        "import_s": round(imported, 2),
        "export_wall_s": round(wall, 2),
        "export_cpu_s": round(cpu, 2),
        "customers": int(data["customer"].num_nodes),
        "edges": sum(int(data[et].edge_index.shape[1]) for et in data.edge_types),
        "schema": schema.fingerprint(),
        "peak_rss_gib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 2),
        "loadavg": [round(x, 2) for x in os.getloadavg()],
        "utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    if cache:
        out["cache_mib"] = round(sum(p.stat().st_size for p in cache.entries()) / 2**20, 1)
    store.close()
    line = json.dumps(out)
    print(line)
    if args.json:
        with open(args.json, "a", encoding="utf-8") as fh:
            fh.write(line + "\n")


if __name__ == "__main__":
    main()
