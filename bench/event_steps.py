"""Milliseconds per step of real-time events, in-process (no HTTP): where an event's time goes.

Opens a :class:`~needgraph.reasoning.runtime.Reasoner` on a store (a copy: events write),
warms it up like a server (``warm_up`` then, with ``--freeze``, the server's ``gc.freeze``), then
applies ``--events`` tag changes to random customers (alternating two values, so about half
change a bin and some customers gain a tag they lacked), or with ``--kind text`` complaint texts
drawn from the folder's ``texts.jsonl`` (the text linker preloaded, as the server does), and
prints p50/p95/max per step (``record``, ``refresh``, ``predict``, ``recommend``, ``total``),
the slowest events, and every garbage collection that took over 20 ms.

Example (``--store neo4j`` runs on the Neo4j that ``NEO4J_URI`` and its siblings name)::

    cp /tmp/bench-100k/store.db /tmp/ev/store.db
    python bench/event_steps.py --store /tmp/ev/store.db --model /tmp/bench-100k/model.pt \\
        --data /tmp/bench-100k/data --events 400 --freeze
"""

from __future__ import annotations

import argparse
import csv
import gc
import random
import time
from pathlib import Path
from typing import Any


def main() -> None:
    """Run the events and print the table."""
    from needgraph.config import Settings
    from needgraph.graph.factory import open_store
    from needgraph.ingest.events import Event, EventKind
    from needgraph.reasoning.live import apply_event
    from needgraph.reasoning.runtime import Reasoner

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--store", required=True,
                   help="SQLite store file (a copy: events write), or neo4j (NEO4J_* set)")
    p.add_argument("--model", required=True, type=Path)
    p.add_argument("--data", required=True, type=Path, help="generator output folder")
    p.add_argument("--events", type=int, default=400)
    p.add_argument("--tag", default="tag.network.broadband.evening_latency_p95_ms")
    p.add_argument("--values", type=float, nargs=2, default=[40.0, 230.0])
    p.add_argument("--freeze", action="store_true", help="gc.freeze after warm-up (as serve)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--kind", choices=("tag", "text"), default="tag",
                   help="tag changes, or complaint texts drawn from the folder's texts.jsonl")
    args = p.parse_args()

    url = "neo4j" if args.store == "neo4j" else f"sqlite:///{Path(args.store).resolve()}"
    store = open_store(Settings(store=url))
    started = time.perf_counter()
    reasoner = Reasoner.open(store, args.model)
    reasoner.warm_up()
    if args.kind == "text":
        from needgraph.ingest.event_checks import preload_pipeline

        preload_pipeline(store)  # as the server does before /readyz
    print(f"open + warm-up {time.perf_counter() - started:.1f} s")
    if args.freeze:
        from needgraph.api.services.model_slot import freeze_heap

        freeze_heap()
    with (args.data / "customers_tags.csv").open(encoding="utf-8") as handle:
        ids = [row[0] for row in csv.reader(handle)][1:]
    customers = random.Random(args.seed).sample(ids, args.events)
    texts = _texts(args.data, args.events, args.seed) if args.kind == "text" else []
    pauses: list[tuple[int, float]] = []
    clock: dict[str, float] = {}

    def on_gc(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            clock["gc"] = time.perf_counter()
        else:
            pauses.append((info["generation"], (time.perf_counter() - clock["gc"]) * 1000))

    gc.callbacks.append(on_gc)
    steps: dict[str, list[float]] = {}
    for i, customer in enumerate(customers):
        if texts:
            text, lang = texts[i]
            event = Event(customer, EventKind.COMPLAINT_TEXT, text=text, lang=lang)
        else:
            event = Event(customer, EventKind.TAG_CHANGE, tag=args.tag, value=args.values[i % 2])
        for step, ms in apply_event(reasoner, event).ms.items():
            steps.setdefault(step, []).append(ms)
    gc.callbacks.remove(on_gc)
    print("| step | p50 ms | p95 ms | max ms |\n|---|---|---|---|")
    for step, values in steps.items():
        v = sorted(values)
        print(f"| {step} | {v[len(v) // 2]:.1f} | {v[int(len(v) * 0.95)]:.1f} | {v[-1]:.1f} |")
    slowest = sorted(((ms, i) for i, ms in enumerate(steps["total"])), reverse=True)[:5]
    print("slowest events (ms, index):", [(round(ms), i) for ms, i in slowest])
    long = [(g, round(ms)) for g, ms in pauses if ms > 20]
    print(f"garbage collections: {len(pauses)}, over 20 ms (generation, ms): {long}")
    store.close()


def _texts(folder: Path, n: int, seed: int) -> list[tuple[str, str | None]]:
    """``n`` seeded ``(text, lang)`` draws from ``folder/texts.jsonl`` (with replacement)."""
    import json

    with (folder / "texts.jsonl").open(encoding="utf-8") as handle:
        rows = [json.loads(line) for line in handle]
    rng = random.Random(seed)
    return [(r["text"], r.get("lang")) for r in rng.choices(rows, k=n)]


if __name__ == "__main__":
    main()
