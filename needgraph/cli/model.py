"""``needgraph train`` and ``needgraph predict``: train a versioned model, score customers.

``train`` exports the configured store, trains on the labelled customers only (unlabelled ones
stay in the graph as message carriers and are scored later), and writes
``$NEEDGRAPH_MODEL_DIR/model-<model_id>.pt`` plus a ``latest`` pointer (or ``--out PATH``).
``predict`` opens a model with :meth:`~needgraph.reasoning.runtime.Reasoner.open` (``--model``,
else ``$NEEDGRAPH_MODEL``, else the newest in the model directory). torch loads only when a
command runs.

``train``'s defaults are the library's (:class:`~needgraph.reasoning.train.TrainConfig`: 5 bags,
up to 300 epochs - the settings measured best on Q1); ``--quick`` trades accuracy for minutes
on large demo graphs. See ``docs/model.md``.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from needgraph.cli.common import print_json
from needgraph.graph.factory import open_store

ARCHS = ("sage", "rgcn", "hgt", "gat", "mlp")
#: ``--quick``: one member, few epochs, a faster learning rate - minutes at 10k customers.
QUICK: dict[str, Any] = {"bags": 1, "max_epochs": 30, "patience": 8, "hidden": 32, "lr": 0.01}
T = TypeVar("T", int, float)
JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]


def train_command(
    domain: Annotated[
        list[str] | None,
        typer.Option("--domain", help="Train only this labelled domain (repeatable)."),
    ] = None,
    arch: Annotated[str, typer.Option("--arch", help="sage, rgcn, hgt, gat or mlp.")] = "sage",
    bags: Annotated[
        int | None,
        typer.Option("--bags", min=1, max=20, help="Ensemble members (cross-validation bags)."),
    ] = None,
    epochs: Annotated[
        int | None,
        typer.Option("--epochs", min=1, help="Maximum epochs per member (early stopping)."),
    ] = None,
    patience: Annotated[
        int | None, typer.Option("--patience", min=1, help="Epochs without improvement.")
    ] = None,
    lr: Annotated[float | None, typer.Option("--lr", min=1e-6, help="Learning rate.")] = None,
    hidden: Annotated[
        int | None, typer.Option("--hidden", min=4, help="Width of node states.")
    ] = None,
    quick: Annotated[
        bool,
        typer.Option(
            "--quick",
            help="Demo preset: 1 member, 30 epochs, hidden 32, lr 0.01 (explicit flags win).",
        ),
    ] = False,
    seed: Annotated[int, typer.Option("--seed", help="Seed of splits and initialisation.")] = 0,
    threads: Annotated[
        int | None, typer.Option("--threads", min=1, help="torch threads (default: all cores).")
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Artifact file (default: the model dir, with `latest`)."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Train a satisfaction model on the configured store and save a versioned artifact."""
    from needgraph.config import get_settings
    from needgraph.errors import ConfigError
    from needgraph.ingest.progress import make_progress
    from needgraph.reasoning.artifacts import save_model, save_versioned
    from needgraph.reasoning.model import ModelConfig
    from needgraph.reasoning.runtime import train_from_store
    from needgraph.reasoning.train import TrainConfig

    if arch not in ARCHS:
        raise ConfigError(
            f"--arch {arch!r} is not an architecture", hint=f"Use one of {', '.join(ARCHS)}."
        )
    base_m, base_t = ModelConfig(), TrainConfig()
    preset = QUICK if quick else {}
    model_config = ModelConfig(
        arch=arch,  # type: ignore[arg-type]
        hidden=_pick(hidden, preset.get("hidden"), base_m.hidden),
    )
    train_config = TrainConfig(
        max_epochs=_pick(epochs, preset.get("max_epochs"), base_t.max_epochs),
        patience=_pick(patience, preset.get("patience"), base_t.patience),
        lr=_pick(lr, preset.get("lr"), base_t.lr),
        bags=_pick(bags, preset.get("bags"), base_t.bags),
        seed=seed,
        threads=threads,
    )
    progress = make_progress("train", train_config.bags, "bags")
    t0 = time.perf_counter()

    def on_member(b: int, total: int, best_epoch: int) -> None:
        progress.advance(1, b + 1)

    try:
        with open_store() as store:
            model, info = train_from_store(
                store, domain or None, model_config, train_config, on_member=on_member
            )
    finally:
        progress.close()
    path = save_model(model, out, info) if out else save_versioned(
        model, get_settings().model_dir, info
    )
    seconds = time.perf_counter() - t0
    if as_json:
        print_json({**info.to_dict(), "seconds": round(seconds, 2)})
        return
    typer.echo(f"model {info.model_id} ({arch}, {train_config.bags} bags) saved to {path}")
    typer.echo(
        f"trained on {info.customers_trained:,} labelled customers in {seconds:.1f} s; "
        f"ontology version {info.ontology_version or 'none'}"
    )
    for d, m in info.metrics.items():
        typer.echo(f"  {d:<28} {_fmt_metrics(m)}")


def _pick(flag: T | None, preset: Any, default: T) -> T:
    """An explicit flag, else the preset's value, else the library default."""
    if flag is not None:
        return flag
    return preset if preset is not None else default


def _fmt_metrics(m: dict[str, float]) -> str:
    parts = [f"{k} {m[k]:.3f}" for k in ("mae", "auc", "macro_f1") if k in m]
    return "  ".join(parts) + f"  (validation n={int(m.get('n', 0))})"


def predict_command(
    customers: Annotated[list[str], typer.Argument(help="Customer ids.")],
    domain: Annotated[
        str | None, typer.Option("--domain", help="Only this domain (default: every one).")
    ] = None,
    model_path: Annotated[
        str | None,
        typer.Option("--model", help="Artifact (default: $NEEDGRAPH_MODEL, else the newest)."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Predicted satisfaction (1-5) and P(dissatisfied) of CUSTOMERS, per domain."""
    from needgraph.reasoning.runtime import Reasoner

    with open_store() as store:
        reasoner = Reasoner.open(store, model_path)
        found = reasoner.predict(customers, domain)
    if as_json:
        body: dict[str, Any] = {
            "model_id": reasoner.info.model_id,
            "domains": [domain] if domain else reasoner.domains,
            "predictions": [p.to_dict() for p in found],
        }
        print_json(body)
        return
    for p in found:
        for d in p.domains:
            known = f"  (observed {d.label:g})" if d.label is not None else ""
            typer.echo(
                f"{p.customer}  {d.domain:<28} score {d.score:.1f}  "
                f"P(dissatisfied) {d.p_dissatisfied:.2f}{known}"
            )
