"""Serving latency of the API under concurrent load from a second process (locust or wrk).

Starts ``needgraph serve`` on a store with a trained model, waits until ``/readyz`` says ready,
issues an engine key, warms every operation up, then runs locust headless (a separate process)
once per operation: ``--users`` concurrent clients sending requests back to back (closed loop;
``--wait`` adds think time) for ``--duration`` seconds, each for a random customer of a seeded
sample. Reports p50/p95/p99 (ms) and throughput (requests/s) per operation, as JSON and as a
Markdown table, optionally appended to ``bench/RESULTS.md``.

The load generator (``--loader``): ``locust`` (``bench/locustfile.py``), ``wrk``
(``bench/wrk_load.lua``; Debian's ``wrk`` package; about a tenth of locust's CPU per request, which
matters when it shares the server's two cores), or ``locust,wrk`` for both in turn per operation.

Operations: ``predict`` (every domain), ``explain`` and ``recommend`` (one domain, k=3),
``event_tag`` (a tag change: record it, refresh the customer's star, predict, recommend every
domain - event to new recommendation) and ``event_text`` (a complaint text: the same plus text
linking and embedding). Events write to the store: run on a copy (``--copy-sqlite``).

Mixed operations (``--loader wrk`` only): ``mixed_tag`` and ``mixed_text`` run two wrk processes at
once, ``--users`` clients asking for recommendations and one more client posting events (tag
changes, complaint texts) back to back - the event stream a recommendation engine sends while
others read. Each gives two rows: ``recommend+events`` (the readers' latency while events arrive)
and ``event_tag`` / ``event_text`` at 1 client (event -> new recommendation under read load).
``--event-pause MS`` has the event client wait MS after each answer: it holds the event rate
(about ``1000 / (MS + latency)`` per second) when comparing two versions, where a closed loop
would post more events with the faster one and take more of the cores from the readers.

Example (embedded store; Neo4j: ``--store neo4j`` with ``NEO4J_*`` exported)::

    python bench/api_latency.py --store sqlite:////tmp/bench-100k/store.db --copy-sqlite \
        --model /tmp/bench-100k/model.pt --data /tmp/bench-100k/data --label "embedded (SQLite)" \
        --users 16 --duration 60 --append bench/RESULTS.md
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import random
import resource
import secrets
import shlex
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx

REPO = Path(__file__).resolve().parents[1]
OPS = ("predict", "explain", "recommend", "event_tag", "event_text")
#: Mixed operation -> the event operation one extra client posts while ``--users`` recommend.
MIXED = {"mixed_tag": "event_tag", "mixed_text": "event_text"}
TARGETS_MS = {"explain": 50.0, "recommend": 50.0, "event_tag": 100.0, "event_text": 100.0,
              "recommend+events": 50.0}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def copy_sqlite(url: str, folder: Path) -> str:
    """Copy an SQLite store with the backup API (consistent, WAL included); return its URL."""
    src = url.removeprefix("sqlite:///")
    dst = folder / "store-copy.db"
    with sqlite3.connect(src) as source, sqlite3.connect(dst) as target:
        source.backup(target, pages=65536)
    return f"sqlite:///{dst}"


def read_inputs(args: argparse.Namespace, domain: str) -> dict[str, Any]:
    """Sample customers and texts from the generator's output folder."""
    rng = random.Random(args.seed)
    with (args.data / "customers_tags.csv").open(encoding="utf-8") as handle:
        ids = [row[0] for row in csv.reader(handle)][1:]
    texts = []
    with (args.data / "texts.jsonl").open(encoding="utf-8") as handle:
        for line in handle:
            item = json.loads(line)
            texts.append({"text": item["text"], "lang": item.get("lang")})
    return {
        "customers": rng.sample(ids, min(args.sample, len(ids))),
        "domain": domain,
        "tag": args.tag,
        "tag_values": args.tag_values,
        "texts": rng.sample(texts, min(500, len(texts))),
    }


class Server:
    """``needgraph serve`` in a subprocess, its output in a log file."""

    def __init__(self, env: dict[str, str], log: Path, workers: int = 1) -> None:
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.out = log.open("w", encoding="utf-8")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "needgraph", "serve", "--port", str(self.port),
             "--workers", str(workers)],
            cwd=REPO, env=env, stdout=self.out, stderr=subprocess.STDOUT)

    def wait_ready(self, timeout: float, workers: int = 1) -> float:
        """Poll ``/readyz`` until 200 (``8 * workers`` times in a row, on fresh connections,
        so every worker has its model); return the seconds it took."""
        started = time.monotonic()
        streak = 0
        while True:
            if self.proc.poll() is not None:
                raise SystemExit(f"server exited ({self.proc.returncode}); see {self.out.name}")
            try:
                ok = httpx.get(f"{self.base}/readyz", timeout=5).status_code == 200
                streak = streak + 1 if ok else 0
                if streak >= (1 if workers == 1 else 8 * workers):
                    return time.monotonic() - started
                if ok:
                    continue
            except httpx.TransportError:
                pass
            if time.monotonic() - started > timeout:
                raise SystemExit(f"not ready after {timeout:.0f} s; see {self.out.name}")
            time.sleep(1)

    def stop(self) -> None:
        """Graceful stop (SIGTERM), then kill."""
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.out.close()


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` and its live descendants (server workers)."""
    import psutil  # locust's own dependency

    root = psutil.Process(pid)
    total = 0.0
    for proc in [root, *root.children(recursive=True)]:
        try:
            times = proc.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


def run_locust(base: str, op: str, users: int, seconds: int, env: dict[str, str],
               folder: Path, server_pid: int) -> dict[str, Any]:
    """Run one locust load in a separate process; return its aggregate for ``op``.

    Besides latency, reports CPU milliseconds per answer spent by the server (all workers) and
    by locust itself: both share the machine's cores, so the load generator's share is the
    server's loss.
    """
    prefix = folder / f"{op}-u{users}"
    cmd = [sys.executable, "-m", "locust", "-f", str(REPO / "bench" / "locustfile.py"),
           "--headless", "-u", str(users), "-r", str(users), "-t", f"{seconds}s", "--host", base,
           "--csv", str(prefix), "--only-summary", "--stop-timeout", "30", "--loglevel", "WARNING"]
    server_before = cpu_seconds(server_pid)
    children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(cmd, env={**env, "BENCH_OP": op}, capture_output=True, text=True,
                          timeout=seconds + 300)
    children_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    server_cpu = cpu_seconds(server_pid) - server_before
    locust_cpu = (children_after.ru_utime + children_after.ru_stime
                  - children_before.ru_utime - children_before.ru_stime)
    stats = Path(f"{prefix}_stats.csv")
    if not stats.is_file():
        raise SystemExit(f"locust wrote no stats ({done.returncode}): {done.stderr[-2000:]}")
    with stats.open(encoding="utf-8") as handle:
        row = next((r for r in csv.DictReader(handle) if r["Name"] == op), None)
    if row is None:  # not one answer inside the run (all slower than it): say so, go on
        return {"op": op, "users": users, "seconds": seconds, "loader": "locust",
                "requests": 0, "failures": 0,
                "p50_ms": float("nan"), "p95_ms": float("nan"), "p99_ms": float("nan"),
                "mean_ms": float("nan"), "rps": 0.0, "server_cpu_ms": float("nan"),
                "locust_cpu_ms": float("nan")}
    return {
        "op": op,
        "users": users,
        "seconds": seconds,
        "loader": "locust",
        "requests": int(row["Request Count"]),
        "failures": int(row["Failure Count"]),
        "p50_ms": float(row["50%"]),
        "p95_ms": float(row["95%"]),
        "p99_ms": float(row["99%"]),
        "mean_ms": round(float(row["Average Response Time"]), 1),
        "rps": round(float(row["Requests/s"]), 1),
        "server_cpu_ms": round(1000 * server_cpu / max(1, int(row["Request Count"])), 2),
        "locust_cpu_ms": round(1000 * locust_cpu / max(1, int(row["Request Count"])), 2),
    }


def request_lines(op: str, inputs: dict[str, Any], k: int = 3, lang: str = "en") -> list[str]:
    """The requests of ``op`` for ``bench/wrk_load.lua``, one per line (method, path, body).

    The same operations as ``bench/locustfile.py``: one line per sampled customer (a tag event
    per customer and tag value, a complaint text paired with each customer). An event body's
    ``@ID@`` becomes a fresh event id in wrk, so every event is recorded, never a duplicate.
    """
    rng = random.Random(0)
    query = urlencode({"domain": inputs["domain"], "k": k, "lang": lang})
    lines = []
    for customer in inputs["customers"]:
        if op == "predict":
            lines.append(f"GET\t/v1/customers/{customer}/prediction")
        elif op in ("explain", "recommend"):
            path = "explanation" if op == "explain" else "recommendations"
            lines.append(f"GET\t/v1/customers/{customer}/{path}?{query}")
        else:
            bodies: list[dict[str, Any]] = []
            if op == "event_tag":
                bodies = [{"kind": "tag_change", "tag": inputs["tag"], "value": value}
                          for value in inputs["tag_values"]]
            elif op == "event_text":
                text = rng.choice(inputs["texts"])
                bodies = [{"kind": "complaint_text", "text": text["text"],
                           "lang": text["lang"]}]
            else:
                raise SystemExit(f"unknown operation {op!r}")
            for body in bodies:
                full = {"event_id": "@ID@", "customer": customer, **body}
                lines.append(f"POST\t/v1/events?{urlencode({'k': k, 'lang': lang})}\t"
                             + json.dumps(full, ensure_ascii=True))
    return lines


def _start_wrk(op: str, users: int, seconds: int, env: dict[str, str], folder: Path,
               base: str, tag: str = "", pause_ms: int = 0) -> tuple[subprocess.Popen[str], Path]:
    """Start one wrk process (``bench/wrk_load.lua``) for ``op``; return it and its result file.

    ``pause_ms`` > 0: each connection waits that long after an answer before its next request.
    """
    if shutil.which("wrk") is None:
        raise SystemExit("--loader wrk needs wrk on PATH (Debian: apt-get install wrk)")
    inputs = json.loads(Path(env["BENCH_INPUTS"]).read_text(encoding="utf-8"))
    requests_file = folder / f"{op}.requests"
    requests_file.write_text("\n".join(request_lines(op, inputs)) + "\n", encoding="utf-8")
    result_file = folder / f"{op}-u{users}{tag}-wrk.json"
    result_file.unlink(missing_ok=True)
    cmd = ["wrk", "-t", "1", "-c", str(users), "-d", f"{seconds}s", "--timeout", "30s",
           "-s", str(REPO / "bench" / "wrk_load.lua"), base]
    proc = subprocess.Popen(cmd, env={**env, "BENCH_REQUESTS": str(requests_file),
                                      "BENCH_RESULT": str(result_file),
                                      "BENCH_PAUSE_MS": str(pause_ms)},
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    return proc, result_file


def _wrk_row(proc: subprocess.Popen[str], result_file: Path, seconds: int) -> dict[str, Any]:
    """Wait for a wrk process; its result file's numbers (SystemExit when it failed)."""
    try:
        _out, err = proc.communicate(timeout=seconds + 300)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise SystemExit(f"wrk did not finish within {seconds + 300} s") from None
    if proc.returncode != 0 or not result_file.is_file():
        raise SystemExit(f"wrk failed ({proc.returncode}): {err[-2000:]}")
    return dict(json.loads(result_file.read_text(encoding="utf-8")))


def _wrk_run(op: str, users: int, seconds: int, row: dict[str, Any], server_cpu: float,
             load_cpu: float, answers: int) -> dict[str, Any]:
    """One result row of a wrk load (CPU per answer over ``answers`` answers of the run)."""
    per = max(1, answers)
    return {
        "op": op, "users": users, "seconds": seconds, "loader": "wrk",
        "requests": int(row["requests"]), "failures": int(row["errors"]) + int(row["non2xx"]),
        "p50_ms": row["p50_ms"], "p95_ms": row["p95_ms"], "p99_ms": row["p99_ms"],
        "mean_ms": round(row["mean_ms"], 1), "rps": round(row["requests"] / row["seconds"], 1),
        "server_cpu_ms": round(1000 * server_cpu / per, 2),
        "locust_cpu_ms": round(1000 * load_cpu / per, 2),
    }


def run_wrk(base: str, op: str, users: int, seconds: int, env: dict[str, str],
            folder: Path, server_pid: int) -> dict[str, Any]:
    """Run one wrk load (``bench/wrk_load.lua``) in a separate process; same fields as locust.

    wrk keeps ``users`` connections, each a closed-loop client, on one thread. Its CPU per
    request is a small fraction of locust's, so it takes little from the server's two cores.
    """
    server_before = cpu_seconds(server_pid)
    children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc, result_file = _start_wrk(op, users, seconds, env, folder, base)
    row = _wrk_row(proc, result_file, seconds)
    children_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    server_cpu = cpu_seconds(server_pid) - server_before
    load_cpu = (children_after.ru_utime + children_after.ru_stime
                - children_before.ru_utime - children_before.ru_stime)
    return _wrk_run(op, users, seconds, row, server_cpu, load_cpu, int(row["requests"]))


def run_mixed(base: str, op: str, users: int, seconds: int, env: dict[str, str],
              folder: Path, server_pid: int, pause_ms: int = 0) -> list[dict[str, Any]]:
    """``users`` clients recommending while one more posts events, two wrk processes at once.

    ``pause_ms`` > 0: the event client waits that long after each answer (events at a rate
    set by the test, not by how fast they are answered: a faster event answer would otherwise
    mean more events, and more work taken from the readers).

    Returns two rows: ``recommend+events`` (the readers) and the event operation at 1 client.
    CPU per answer is the run's total over all answers of both (one server serves both).
    """
    event_op = MIXED[op]
    server_before = cpu_seconds(server_pid)
    children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    readers = _start_wrk("recommend", users, seconds, env, folder, base, tag="-mixed")
    writer = _start_wrk(event_op, 1, seconds, env, folder, base, tag="-mixed",
                        pause_ms=pause_ms)
    read_row = _wrk_row(*readers, seconds)
    event_row = _wrk_row(*writer, seconds)
    children_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    server_cpu = cpu_seconds(server_pid) - server_before
    load_cpu = (children_after.ru_utime + children_after.ru_stime
                - children_before.ru_utime - children_before.ru_stime)
    answers = int(read_row["requests"]) + int(event_row["requests"])
    return [_wrk_run("recommend+events", users, seconds, read_row, server_cpu, load_cpu,
                     answers),
            _wrk_run(event_op, 1, seconds, event_row, server_cpu, load_cpu, answers)
            | {"under_load": users, "pause_ms": pause_ms}]


def warm_up(base: str, key: str, inputs: dict[str, Any], ops: list[str]) -> None:
    """A few sequential requests per operation (loads the text linker, fills caches).

    ``main`` runs it on several connections at once, so every worker of ``--workers`` gets some
    (each loads its own text linker on its first complaint text).
    """
    headers = {"X-API-Key": key}
    with httpx.Client(base_url=base, headers=headers, timeout=600) as client:
        for op in ops:
            for i, customer in enumerate(inputs["customers"][:10]):
                if op == "predict":
                    answer = client.get(f"/v1/customers/{customer}/prediction")
                elif op in ("explain", "recommend"):
                    path = "explanation" if op == "explain" else "recommendations"
                    answer = client.get(f"/v1/customers/{customer}/{path}",
                                        params={"domain": inputs["domain"]})
                else:
                    body: dict[str, Any] = {"event_id": f"warm-{secrets.token_hex(8)}",
                                            "customer": customer}
                    if op == "event_tag":
                        body |= {"kind": "tag_change", "tag": inputs["tag"],
                                 "value": inputs["tag_values"][i % len(inputs["tag_values"])]}
                    else:
                        text = inputs["texts"][i]
                        body |= {"kind": "complaint_text", "text": text["text"],
                                 "lang": text["lang"]}
                    answer = client.post("/v1/events", json=body)
                if answer.status_code >= 300:
                    raise SystemExit(f"warm-up {op} failed: {answer.status_code} {answer.text}")


def machine() -> str:
    """One line describing the machine and its load."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return (f"{os.cpu_count()} cores ({cpu}), Python {platform.python_version()}, "
            f"load average at the end {load}")


def markdown(result: dict[str, Any]) -> str:
    """The results as a RESULTS.md section body (table rows per run)."""
    lines = [
        "| store | op | load | clients | requests | failures | p50 ms | p95 ms | p99 ms | req/s "
        "| server CPU ms/answer | load generator CPU ms/answer | target p95 |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for run in result["runs"]:
        target = TARGETS_MS.get(run["op"])
        measured_at = run.get("under_load", run["users"])
        verdict = "" if target is None or measured_at != result["users"] else (
            f"< {target:.0f}: {'met' if run['p95_ms'] < target else 'missed'}")
        op = run["op"]
        if "under_load" in run:
            paused = f", {run['pause_ms']} ms apart" if run.get("pause_ms") else ""
            op += f" (while {run['under_load']} read{paused})"
        lines.append(
            f"| {result['label']} | {op} | {run.get('loader', 'locust')} | "
            f"{run['users']} | {run['requests']} | "
            f"{run['failures']} | {run['p50_ms']:.0f} | {run['p95_ms']:.0f} | "
            f"{run['p99_ms']:.0f} | {run['rps']} | {run.get('server_cpu_ms', '')} | "
            f"{run.get('locust_cpu_ms', '')} | {verdict} |")
    return "\n".join(lines)


def main() -> None:
    """Parse arguments, run every load, print and save the results."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--store", required=True, help="sqlite:///PATH or neo4j (NEO4J_* exported)")
    p.add_argument("--copy-sqlite", action="store_true", help="run on a copy (events write)")
    p.add_argument("--model", required=True, type=Path, help="trained model artifact")
    p.add_argument("--data", required=True, type=Path, help="generator output folder")
    p.add_argument("--ontology", type=Path, default=REPO / "ontology")
    p.add_argument("--label", default=None, help="store name in the table")
    p.add_argument("--domain", default=None, help="domain (default: the model's first)")
    p.add_argument("--ops", default=",".join(OPS),
                   help="comma-separated operations; also mixed_tag, mixed_text (--loader wrk)")
    p.add_argument("--loader", default="locust",
                   help="load generator in the second process: locust, wrk (far less CPU per "
                        "request), or both in turn per operation (locust,wrk)")
    p.add_argument("--users", type=int, default=16, help="concurrent clients")
    p.add_argument("--workers", type=int, default=1, help="server worker processes")
    p.add_argument("--single", action="store_true", help="also run each op with 1 client")
    p.add_argument("--duration", type=int, default=60, help="seconds per operation")
    p.add_argument("--wait", type=float, default=0.0, help="think time per client (s)")
    p.add_argument("--event-pause", type=int, default=0, metavar="MS",
                   help="mixed ops: the event client's pause after each answer (0: none)")
    p.add_argument("--sample", type=int, default=5000, help="customers sampled")
    p.add_argument("--tag", default="tag.network.broadband.evening_latency_p95_ms")
    p.add_argument("--tag-values", type=float, nargs="+", default=[40.0, 230.0])
    p.add_argument("--ready-timeout", type=float, default=3600)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, default=None, help="JSON results file")
    p.add_argument("--append", type=Path, default=None, help="append a section to this file")
    args = p.parse_args()
    loaders = [name for name in args.loader.split(",") if name]
    if not loaders or set(loaders) - {"locust", "wrk"}:
        p.error(f"--loader {args.loader!r}: choose locust, wrk or locust,wrk")
    ops = [op for op in args.ops.split(",") if op]
    unknown = [op for op in ops if op not in OPS and op not in MIXED]
    if unknown:
        p.error(f"--ops: unknown operation {unknown[0]!r}; choose from "
                f"{', '.join([*OPS, *MIXED])}")
    if any(op in MIXED for op in ops) and "wrk" not in loaders:
        p.error("--ops mixed_tag/mixed_text run two wrk processes at once: add --loader wrk")
    warm_ops = sorted({MIXED.get(op, op) for op in ops} | (
        {"recommend"} if any(op in MIXED for op in ops) else set()))
    work = Path(tempfile.mkdtemp(prefix="needgraph-api-bench-"))
    store = copy_sqlite(args.store, work) if args.copy_sqlite else args.store
    admin = "bench-" + secrets.token_urlsafe(24)
    env = {**os.environ, "NEEDGRAPH_STORE": store, "NEEDGRAPH_MODEL": str(args.model),
           "NEEDGRAPH_ONTOLOGY": str(args.ontology), "NEEDGRAPH_ADMIN_KEY": admin,
           "NEEDGRAPH_API_DATA_DIR": str(work / "api"), "NEEDGRAPH_LOG_LEVEL": "WARNING",
           "NEEDGRAPH_PROGRESS": "0", "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
           "PYTHONPATH": str(REPO)}
    server = Server(env, work / "server.log", args.workers)
    try:
        ready_s = server.wait_ready(args.ready_timeout, args.workers)
        print(f"ready in {ready_s:.1f} s", flush=True)
        boot = {"X-API-Key": admin}
        info = httpx.get(f"{server.base}/v1/model", headers=boot, timeout=30).json()
        issued = httpx.post(f"{server.base}/v1/keys", headers=boot, timeout=30,
                            json={"name": "bench", "role": "engine"}).json()
        domain = args.domain or info["domains"][0]
        inputs = read_inputs(args, domain)
        (work / "inputs.json").write_text(json.dumps(inputs, ensure_ascii=False), "utf-8")
        with ThreadPoolExecutor(4 * args.workers) as pool:  # fresh connections: every worker
            list(pool.map(lambda _i: warm_up(server.base, issued["key"], inputs, warm_ops),
                          range(4 * args.workers)))
        load_env = {**os.environ, "BENCH_KEY": issued["key"],
                    "BENCH_INPUTS": str(work / "inputs.json"), "BENCH_WAIT": str(args.wait)}
        runs = []
        for op in ops:
            if op in MIXED:
                for run in run_mixed(server.base, op, args.users, args.duration, load_env, work,
                                     server.proc.pid, args.event_pause):
                    print(json.dumps(run), flush=True)
                    runs.append(run)
                continue
            for users in ([1] if args.single else []) + [args.users]:
                seconds = args.duration if users == args.users else max(15, args.duration // 2)
                for loader in loaders:
                    load = run_wrk if loader == "wrk" else run_locust
                    run = load(server.base, op, users, seconds, load_env, work,
                               server.proc.pid)
                    print(json.dumps(run), flush=True)
                    runs.append(run)
    finally:
        server.stop()
    result = {
        "label": args.label or store.split(":")[0], "store": store, "model": info["model_id"],
        "domain": domain, "users": args.users, "workers": args.workers, "wait_s": args.wait,
        "ready_s": round(ready_s, 1),
        "loaders": loaders, "machine": machine(),
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "command": "python " + shlex.join(sys.argv), "runs": runs,
    }
    table = markdown(result)
    print(table)
    if args.out:
        args.out.write_text(json.dumps(result, indent=2), encoding="utf-8")
    if args.append:
        with args.append.open("a", encoding="utf-8") as handle:
            handle.write(f"\n### {result['label']}, {result['date']}\n\n"
                         f"Command: `{result['command']}`  \nMachine: {result['machine']}; "
                         f"model {result['model']}, domain `{domain}`, server ready (model "
                         f"loaded, graph exported, full-graph pass cached) in "
                         f"{result['ready_s']} s.\n\n{table}\n")


if __name__ == "__main__":
    main()
