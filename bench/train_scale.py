"""Training wall time, peak memory and batch-inference throughput vs graph size (2 CPU cores).

Usage (stores built with ``needgraph generate`` + ``needgraph ingest``, see bench/RESULTS.md)::

    python bench/train_scale.py --cache-dir /tmp/bench-scale --threads 2 --epochs 10 \\
        --size 10k=/tmp/bench-10k/store.db --size 100k=/tmp/bench-100k/store.db \\
        --size 100k-mb=/tmp/bench-100k/store.db,5,minibatch
    python bench/train_scale.py --cache-dir /tmp/bench-scale --threads 2 \\
        --size 300k=tile:30:10k,1,minibatch --size 1M=tile:100:10k,1,minibatch \\
        --train-customers 20000 --predict-customers 20000

Wall times and CPU seconds (user + system, all threads) are both recorded: on a shared machine
the CPU seconds are the steadier figure. Every size runs in its own child process, so its peak
RSS (``getrusage`` high-water mark, which includes loading the graph) is its own. A child (1)
exports the store to a PyG ``HeteroData`` (timed, then cached in ``--cache-dir`` so later
children load it), (2) trains one member
(``bags=1``) for exactly ``EPOCHS`` epochs (``patience = EPOCHS``: no early stop; every epoch
includes the validation pass), and (3) predicts ``--predict-customers`` customers with
:meth:`SatisfactionModel.predict` (customers/s). ``minibatch`` forces neighbour-sampled
mini-batches (``full_batch_max_customers=0``, ``--batch-size``, ``--fanout``); otherwise the
default rule applies (full batch up to ``TrainConfig.full_batch_max_customers`` customers).

``tile:K:NAME`` is the cached graph of size NAME replicated K times: customers and their
utterances (with their features, labels and edges) are copied K times, concept nodes (tags, bins,
causes, needs, strategies, domains) are shared, so degrees and feature distributions are those of
NAME. Used for sizes whose ingest through the store would not finish on this machine. The tiled
graph is built compact (see :func:`needgraph.reasoning.sampler.compact_graph`), as mini-batch
training would leave it; "graph tensors GiB" counts each tensor storage once.

``--exported-layout`` builds tiled graphs as the export lays them out (``int64`` indices,
``float32`` features); mini-batch training then compacts them in place, so the row measures the
path a freshly exported graph takes. ``peak_rss_train_gib`` (JSON) is the high-water mark from
the start of training on (reset after loading); "peak RSS GiB" covers the whole child.

``--save-model NAME=PATH`` keeps the model trained on size NAME as a needgraph artifact (bound
to that store), e.g. for the API latency benchmark. A watchdog stops a child whose RSS passes
``--max-rss-gib`` (the row then says so). Prints one markdown table (and writes ``--json``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from graph_tile import tile

if TYPE_CHECKING:
    from torch_geometric.data import HeteroData

    from needgraph.reasoning.features import FeatureSchema

KILLED_RC = 3


@dataclass(frozen=True)
class Size:
    """One measurement: a name, a source (store path or ``tile:K:NAME``), epochs and mode."""

    name: str
    source: str
    epochs: int
    minibatch: bool
    cache: str = ""

    @classmethod
    def parse(cls, text: str, default_epochs: int) -> Size:
        """Parse ``NAME=SOURCE[,EPOCHS[,minibatch]]``."""
        name, _, rest = text.partition("=")
        parts = rest.split(",")
        if not name or not parts[0]:
            raise SystemExit(f"--size {text!r}: expected NAME=SOURCE[,EPOCHS[,minibatch]]")
        epochs = int(parts[1]) if len(parts) > 1 and parts[1] else default_epochs
        return cls(name, parts[0], epochs, len(parts) > 2 and parts[2] == "minibatch")


def peak_rss_gib() -> float:
    """High-water mark of this process's resident memory, GiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def cpu_s() -> float:
    """User + system CPU seconds of this process so far (all threads)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def reset_peak_rss() -> None:
    """Reset this process's RSS high-water mark to its current RSS (Linux ``clear_refs``)."""
    with open("/proc/self/clear_refs", "w", encoding="ascii") as fh:
        fh.write("5")


def _current_rss_gib() -> float:
    with open("/proc/self/statm", encoding="ascii") as fh:
        pages = int(fh.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**30


def start_watchdog(limit_gib: float) -> None:
    """Exit the process (code 3) as soon as its RSS passes ``limit_gib``."""

    def watch() -> None:
        while True:
            if _current_rss_gib() > limit_gib:
                print(json.dumps({"killed": f"RSS above {limit_gib} GiB"}), flush=True)
                os._exit(KILLED_RC)
            time.sleep(0.2)

    threading.Thread(target=watch, daemon=True).start()


def load_graph(
    source: str, cache: Path, exported: bool = False
) -> tuple[HeteroData, FeatureSchema, float | None]:
    """Export ``source`` (or load its cache); return ``(data, schema, export seconds or None)``.

    ``exported`` builds a tiled graph in the export's dtypes (see :func:`graph_tile.tile`).
    """
    import torch

    from needgraph.graph.sqlite import SqliteStore
    from needgraph.ontology.graph_schema import GRAPH_SCHEMA
    from needgraph.reasoning.export import export_graph
    from needgraph.reasoning.features import FeatureSchema

    if source.startswith("tile:"):
        _, k, base = source.split(":", 2)
        data, schema, _ = load_graph(base, cache.with_name(f"{base}.pt"))
        return tile(data, int(k), exported=exported), schema, None
    if cache.exists():
        payload = torch.load(cache, weights_only=False)
        return payload["data"], FeatureSchema.from_json(payload["schema"]), None
    path = source.removeprefix("sqlite:///")
    if not Path(path).exists():
        raise SystemExit(f"no store at {path}: build it first (see bench/RESULTS.md)")
    start = time.perf_counter()
    with SqliteStore(path, schema=GRAPH_SCHEMA) as store:
        data, schema = export_graph(store)
    seconds = time.perf_counter() - start
    cache.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"data": data, "schema": schema.to_json()}, cache)
    return data, schema, seconds


def tensor_gib(data: HeteroData) -> float:
    """Bytes held by the graph's tensors, GiB (each storage once: views cost nothing)."""
    import torch

    storages: dict[int, int] = {}
    for store in data.stores:
        for value in store.values():
            if isinstance(value, torch.Tensor):
                storage = value.untyped_storage()
                storages[storage.data_ptr()] = storage.nbytes()
    return sum(storages.values()) / 2**30


def save_trained(model: Any, data: HeteroData, source: str, path: str) -> None:
    """Save ``model`` as a needgraph artifact bound to the store it was trained on."""
    from needgraph.graph.sqlite import SqliteStore
    from needgraph.ontology.graph_schema import GRAPH_SCHEMA
    from needgraph.reasoning.artifacts import save_model

    with SqliteStore(source.removeprefix("sqlite:///"), schema=GRAPH_SCHEMA) as store:
        save_model(model, path, store=store, data=data)


def measure(size: Size, args: argparse.Namespace) -> dict[str, Any]:
    """Run one size in this process and return its figures."""
    import torch
    import torch_geometric.data  # noqa: F401  (imported before the clock starts)

    import needgraph.reasoning.export  # noqa: F401
    from needgraph.reasoning.train import TrainConfig, fit

    torch.set_num_threads(args.threads)
    load_start = os.getloadavg()[0]
    cache_dir = Path(args.cache_dir)
    t0, c0 = time.perf_counter(), cpu_s()
    cache = cache_dir / f"{size.cache or size.name}.pt"
    data, schema, export_s = load_graph(size.source, cache, exported=args.exported_layout)
    load_s, load_cpu = time.perf_counter() - t0, cpu_s() - c0
    load_peak = peak_rss_gib()
    graph_before = tensor_gib(data)
    reset_peak_rss()  # from here on the high-water mark is training's (and prediction's)
    n = int(data["customer"].num_nodes)
    labelled = int(data["customer"].y_mask.any(dim=1).sum())
    n_edges = sum(int(data[et].edge_index.shape[1]) for et in data.edge_types)
    cfg = TrainConfig(
        bags=1,
        max_epochs=size.epochs,
        patience=size.epochs,
        threads=args.threads,
        full_batch_max_customers=0 if size.minibatch else TrainConfig.full_batch_max_customers,
        batch_size=args.batch_size,
        fanout=tuple(args.fanout),
    )
    mode = "full batch" if n <= cfg.full_batch_max_customers else "mini-batch"
    train_index = torch.arange(n)
    if args.train_customers and args.train_customers < n:  # a fixed share of the seeds
        gen = torch.Generator().manual_seed(0)
        train_index = torch.randperm(n, generator=gen)[: args.train_customers]
    seeds = int(data["customer"].y_mask[train_index].any(dim=1).sum())
    t1, c1 = time.perf_counter(), cpu_s()
    model = fit(data, schema, train_index, train_config=cfg)
    train_s, train_cpu = time.perf_counter() - t1, cpu_s() - c1
    train_peak = peak_rss_gib()
    k = min(n, args.predict_customers) if args.predict_customers else n
    index = torch.arange(k)
    t2, c2 = time.perf_counter(), cpu_s()
    out = model.predict(data, index)
    predict_s, predict_cpu = time.perf_counter() - t2, cpu_s() - c2
    assert out.score.shape[0] == k and bool(torch.isfinite(out.score).all())
    if args.save_model and args.save_model.startswith(f"{size.name}="):
        save_trained(model, data, size.source, args.save_model.split("=", 1)[1])
    return {
        "size": size.name,
        "source": size.source,
        "customers": n,
        "labelled": labelled,
        "edges": n_edges,
        "graph_gib": round(tensor_gib(data), 3),
        "graph_gib_before_training": round(graph_before, 3),
        "mode": mode,
        "export_s": None if export_s is None else round(export_s, 1),
        "load_s": round(load_s, 1),
        "load_cpu_s": round(load_cpu, 1),
        "epochs": size.epochs,
        "train_s": round(train_s, 1),
        "train_cpu_s": round(train_cpu, 1),
        "trained_on": seeds,
        "s_per_epoch": round(train_s / size.epochs, 2),
        # an epoch over every labelled customer (the same when all of them were trained on)
        "s_per_full_epoch": round(train_s / size.epochs * labelled / max(seeds, 1), 1),
        "predicted": k,
        "predict_s": round(predict_s, 2),
        "predict_cpu_s": round(predict_cpu, 2),
        "customers_per_s": round(k / predict_s),
        "peak_rss_after_load_gib": round(load_peak, 2),
        "peak_rss_train_gib": round(max(train_peak, peak_rss_gib()), 2),
        "peak_rss_gib": round(max(load_peak, train_peak, peak_rss_gib()), 2),
        # inner validation AUC (dissatisfied), mean over domains: is the model a sensible one?
        "val_auc": round(_mean_auc(model.metrics), 3),
        "load_avg_1m_start_end": [round(load_start, 1), round(os.getloadavg()[0], 1)],
    }


def _mean_auc(metrics: dict[str, dict[str, float]]) -> float:
    """Mean of the per-domain validation AUCs (NaN when no domain has one)."""
    aucs = [m["auc"] for m in metrics.values() if "auc" in m]
    return sum(aucs) / len(aucs) if aucs else float("nan")


def run_child(size: Size, args: argparse.Namespace) -> dict[str, Any]:
    """Measure ``size`` in a fresh interpreter (so peak RSS is per size)."""
    cmd = [sys.executable, __file__, "--child", json.dumps(asdict(size))]
    keys = ("cache_dir", "threads", "batch_size", "predict_customers", "max_rss_gib")
    for key in (*keys, "train_customers"):
        cmd += [f"--{key.replace('_', '-')}", str(getattr(args, key))]
    if args.exported_layout:
        cmd += ["--exported-layout"]
    if args.save_model:
        cmd += ["--save-model", args.save_model]
    cmd += ["--fanout", *map(str, args.fanout)]
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=args.timeout, check=False)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        reason = json.loads(lines[-1]).get("killed") if lines else proc.stderr.strip()[-400:]
        return {
            "size": size.name,
            "source": size.source,
            "failed": reason,
            "wall_s": round(time.perf_counter() - start),
        }
    result: dict[str, Any] = json.loads(lines[-1])
    return result


def table(rows: list[dict[str, Any]]) -> str:
    """Markdown table of the measurements."""
    head = (
        "| size | customers | edges | mode | export s | trained on | epochs | s/epoch | "
        "s/epoch, all labelled | val AUC | predict customers/s | graph tensors GiB | "
        "peak RSS GiB |\n"
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
    )
    lines = [head]
    for r in rows:
        if "failed" in r:
            lines.append(f"| {r['size']} | failed: {r['failed']} |" + " |" * 11)
            continue
        export = "cached" if r["export_s"] is None else f"{r['export_s']:.0f}"
        lines.append(
            f"| {r['size']} | {r['customers']:,} | {r['edges']:,} | {r['mode']} | {export} | "
            f"{r['trained_on']:,} | {r['epochs']} | {r['s_per_epoch']:.1f} | "
            f"{r['s_per_full_epoch']:.1f} | {r['val_auc']:.3f} | {r['customers_per_s']:,} | "
            f"{r['graph_gib']:.2f} | "
            f"{r['peak_rss_gib']:.2f} |"
        )
    return "\n".join(lines)


def main() -> None:
    """Parse arguments; measure every size in a child process; print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--size", action="append", default=[], help="NAME=SOURCE[,EPOCHS[,minibatch]]"
    )
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=1024)
    parser.add_argument("--fanout", type=int, nargs="+", default=[64, 16])
    parser.add_argument(
        "--predict-customers",
        type=int,
        default=100_000,
        help="Customers predicted for the throughput figure (0 = all).",
    )
    parser.add_argument(
        "--train-customers",
        type=int,
        default=0,
        help="Train on this many random customers' labels only (0 = all); the whole graph stays "
        "in memory and in the samples, s/epoch is scaled to all labelled customers.",
    )
    parser.add_argument(
        "--exported-layout",
        action="store_true",
        help="Build tiled graphs in the export's dtypes and order (int64, float32), so that "
        "training's in-place compaction is part of the measurement.",
    )
    parser.add_argument("--cache-dir", default="/tmp/bench-scale")
    parser.add_argument("--max-rss-gib", type=float, default=12.0)
    parser.add_argument("--timeout", type=int, default=3600, help="Seconds per size.")
    parser.add_argument("--json", help="Also write the rows to this file.")
    parser.add_argument(
        "--save-model", help="NAME=PATH: save the model trained on size NAME (a store) to PATH."
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        start_watchdog(args.max_rss_gib)
        size = Size(**json.loads(args.child))
        print(json.dumps(measure(size, args)), flush=True)
        return
    if not args.size:
        parser.error("give at least one --size")
    sizes = [Size.parse(s, args.epochs) for s in args.size]
    first: dict[str, str] = {}  # sizes exported from the same store share one cached graph
    sizes = [replace(s, cache=first.setdefault(s.source, s.name)) for s in sizes]
    rows = []
    for size in sizes:
        row = run_child(size, args)
        print(json.dumps(row), file=sys.stderr, flush=True)
        rows.append(row)
    print(
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.node()}, {os.cpu_count()} CPUs, "
        f"torch threads {args.threads}, batch {args.batch_size}, fanout {args.fanout}"
    )
    print(table(rows))
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
